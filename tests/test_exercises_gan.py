"""Toy-GAN chapter exercise: the reference passes, a stub is "not yet", mistakes get hints."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from ganbook_utils import losses
from ganbook_utils.exercises.gan import check_non_saturating_loss


def reference_solution(fake_logits):
    """The solution in the chapter's dropdown."""
    return keras.ops.mean(keras.ops.softplus(-fake_logits))


def stub(fake_logits): ...  # the exercise cell as the student finds it


def test_the_reference_solution_and_equivalent_answers_are_right(capsys):
    assert check_non_saturating_loss(reference_solution, strict=True)
    assert check_non_saturating_loss(losses.generator_loss_non_saturating, strict=True)
    numpy_answer = lambda logits: np.mean(np.logaddexp(0.0, -np.asarray(logits)))  # noqa: E731
    assert check_non_saturating_loss(numpy_answer, strict=True)
    assert capsys.readouterr().out.count("Right:") == 3


@pytest.mark.parametrize("answer", [stub, ..., None])
def test_a_stub_is_not_yet_and_does_not_raise(answer, capsys):
    verdict = check_non_saturating_loss(answer)
    assert verdict.status == "not yet"
    assert capsys.readouterr().out.startswith("Not yet:")


def test_not_implemented_is_not_yet():
    def unanswered(fake_logits):
        raise NotImplementedError

    assert check_non_saturating_loss(unanswered).status == "not yet"


@pytest.mark.parametrize(
    ("wrong_answer", "hint"),
    [
        # The formula as written on paper: log(sigmoid(-100)) underflows in float32.
        (lambda x: -keras.ops.mean(keras.ops.log(keras.ops.sigmoid(x))), "not finite"),
        (lambda x: keras.ops.sum(keras.ops.softplus(-x)), "mean over the batch"),
        (lambda x: keras.ops.mean(keras.ops.softplus(x)), "check the sign"),
        # The minimax loss instead of the non-saturating one.
        (lambda x: -keras.ops.mean(keras.ops.softplus(x)), "log 2"),
        # Treating the logits as probabilities.
        (lambda x: -keras.ops.mean(keras.ops.log(x)), "log 2"),
        (lambda x: keras.ops.softplus(-x), "one number"),
    ],
)
def test_typical_mistakes_are_wrong_with_a_hint(wrong_answer, hint, capsys):
    verdict = check_non_saturating_loss(wrong_answer)
    assert verdict.status == "wrong"
    assert hint in verdict.message
    assert capsys.readouterr().out.startswith("Not quite:")
    with pytest.raises(AssertionError, match=hint):
        check_non_saturating_loss(wrong_answer, strict=True)
