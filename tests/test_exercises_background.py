"""The background chapter's check: the reference answer passes, stubs and wrong ones do not."""

import pytest

from ganbook_utils.exercises import background as ex

# The reference solution, as in the chapter's dropdown.
SOLUTION = {
    "DALL·E": "image tokens",
    "Imagen": "text encoder",
    "Stable Diffusion": "text encoder",
    "DALL·E 3 in ChatGPT": "prompt rewriter",
}
STUB = dict.fromkeys(SOLUTION, ...)


def test_reference_solution_passes_strictly():
    verdict = ex.check_language_model_roles(SOLUTION, strict=True)
    assert verdict.status == "right"


@pytest.mark.parametrize("answers", [STUB, {**SOLUTION, "Imagen": ...}, ...])
def test_stub_is_not_yet(answers, capsys):
    verdict = ex.check_language_model_roles(answers)
    assert verdict.status == "not yet"
    assert capsys.readouterr().out.startswith("Not yet:")


@pytest.mark.parametrize(
    ("answers", "hint"),
    [
        # DALL·E read as "CLIP-conditioned": the usual confusion with DALL·E 2.
        ({**SOLUTION, "DALL·E": "text encoder"}, "DALL·E: not 'text encoder'"),
        # ChatGPT's language model taken for the text encoder of the image model.
        ({**SOLUTION, "DALL·E 3 in ChatGPT": "text encoder"}, "reads and what it writes"),
        ({**SOLUTION, "Stable Diffusion": "image tokens"}, "Stable Diffusion: not"),
        ({**SOLUTION, "Imagen": "T5"}, "not one of"),
        ({k: v for k, v in SOLUTION.items() if k != "Imagen"}, "missing: Imagen"),
    ],
)
def test_wrong_answers_get_a_hint(answers, hint):
    verdict = ex.check_language_model_roles(answers)
    assert verdict.status == "wrong"
    assert hint in verdict.message


def test_strict_raises_on_a_wrong_answer():
    with pytest.raises(AssertionError, match="Not quite"):
        ex.check_language_model_roles({**SOLUTION, "DALL·E": "prompt rewriter"}, strict=True)
