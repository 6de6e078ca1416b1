"""The toy-GAN exercise check accepts right answers and catches typical mistakes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from ganbook_utils import losses
from ganbook_utils.exercises.gan import check_non_saturating_loss


def test_accepts_the_package_loss_and_a_numpy_answer(capsys):
    check_non_saturating_loss(losses.generator_loss_non_saturating)
    check_non_saturating_loss(lambda logits: np.mean(np.logaddexp(0.0, -np.asarray(logits))))
    assert capsys.readouterr().out.count("Right:") == 2


@pytest.mark.parametrize(
    ("wrong_answer", "hint"),
    [
        # log(sigmoid(-100)) underflows in float32.
        (lambda x: -keras.ops.mean(keras.ops.log(keras.ops.sigmoid(x))), "not finite"),
        (lambda x: keras.ops.sum(keras.ops.softplus(-x)), "mean over the batch"),
        (lambda x: keras.ops.mean(keras.ops.softplus(x)), "check the sign"),
        # Treating the logits as probabilities.
        (lambda x: -keras.ops.mean(keras.ops.log(x)), "log 2"),
        (lambda x: keras.ops.softplus(-x), "one number"),
    ],
)
def test_rejects_typical_mistakes_with_a_hint(wrong_answer, hint):
    with pytest.raises(AssertionError, match=hint):
        check_non_saturating_loss(wrong_answer)
