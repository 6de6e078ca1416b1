"""Checks for the exercises of the Background chapter."""

from __future__ import annotations

from ganbook_utils.exercises import NotYet, exercise_check, is_stub

ROLES = ("image tokens", "text encoder", "prompt rewriter")

_LANGUAGE_MODEL_ROLES = {
    "DALL·E": "image tokens",
    "Imagen": "text encoder",
    "Stable Diffusion": "text encoder",
    "DALL·E 3 in ChatGPT": "prompt rewriter",
}

# What the language model does in each system: the hint for a wrong answer.
_WHY = {
    "DALL·E": "one transformer models the text tokens and then the image tokens, as GPT-3 "
    "models text: the language-model architecture itself generates the image.",
    "Imagen": "a frozen T5 language model reads the prompt; a separate diffusion model "
    "draws, conditioned on T5's embeddings.",
    "Stable Diffusion": "a CLIP text encoder reads the prompt; its token embeddings reach the "
    "denoiser through cross-attention.",
    "DALL·E 3 in ChatGPT": "a large language model writes a detailed caption from the "
    "user's short prompt before the image model sees it.",
}


@exercise_check(
    'fill in my_answers: for each system, "image tokens", "text encoder" or "prompt rewriter".'
)
def check_language_model_roles(answers: dict[str, str]) -> str:
    """Check which role a language model plays in each text-to-image system.

    ``answers`` maps each system of the exercise to one of :data:`ROLES`.
    """
    assert isinstance(answers, dict), (
        f"Answer with a dict system -> role, as in the cell; got {type(answers).__name__}."
    )
    missing = sorted(set(_LANGUAGE_MODEL_ROLES) - set(answers))
    assert not missing, f"Give an answer for every system; missing: {', '.join(missing)}."
    unanswered = [system for system in _LANGUAGE_MODEL_ROLES if is_stub(answers[system])]
    if unanswered:
        raise NotYet(f"replace the ... for {', '.join(unanswered)} with one of {ROLES}.")
    for system, expected in _LANGUAGE_MODEL_ROLES.items():
        answer = str(answers[system]).strip().lower()
        assert answer in ROLES, f"{system}: {answer!r} is not one of {ROLES}."
        assert answer == expected, (
            f"{system}: not {answer!r}. Ask what its language model reads and what it writes "
            "(see 'How language models actually meet image generators')."
        )
    return f"all {len(_LANGUAGE_MODEL_ROLES)} roles are right. " + " ".join(
        f"{system}: {why}" for system, why in _WHY.items()
    )
