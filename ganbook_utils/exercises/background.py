"""Checks for the exercises of the Background chapter."""

from __future__ import annotations

ROLES = ("image tokens", "text encoder", "prompt rewriter")

_LANGUAGE_MODEL_ROLES = {
    "DALL·E": "image tokens",
    "Imagen": "text encoder",
    "Stable Diffusion": "text encoder",
    "DALL·E 3 in ChatGPT": "prompt rewriter",
}


def check_language_model_roles(answers: dict[str, str]) -> None:
    """Check which role a language model plays in each text-to-image system.

    Raises:
        AssertionError: naming the first wrong or missing answer, with a hint.
    """
    missing = sorted(set(_LANGUAGE_MODEL_ROLES) - set(answers))
    assert not missing, f"Give an answer for every system; missing: {', '.join(missing)}."
    for system, expected in _LANGUAGE_MODEL_ROLES.items():
        answer = str(answers[system]).strip().lower()
        assert answer in ROLES, f"{system}: {answer!r} is not one of {ROLES}."
        assert answer == expected, (
            f"{system}: not {answer!r}. Re-read the section on how language models meet "
            "image generators: what does the language model read, and what does it write?"
        )
    print(f"All {len(_LANGUAGE_MODEL_ROLES)} answers are right.")
