"""Checks for the exercises of the chapter "A GAN you can watch"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ganbook_utils.exercises import answer_of, exercise_check

# Logits that probe the regimes that matter: fakes confidently rejected (very negative, where a
# naive log(sigmoid(x)) underflows), undecided (0) and confidently accepted (positive).
_PROBE_LOGITS = np.array([-100.0, -8.0, -1.5, 0.0, 0.7, 4.0, 30.0], dtype=np.float32)


def _expected_non_saturating(logits: np.ndarray) -> float:
    # -log(sigmoid(x)) = softplus(-x) = log(1 + exp(-x)), written to stay finite for any x.
    return float(np.mean(np.logaddexp(0.0, -logits.astype(np.float64))))


def _as_float(value: Any, what: str) -> float:
    array = np.asarray(value)
    assert array.size == 1, (
        f"{what} should return one number (the mean over the batch); got an array of shape "
        f"{array.shape}. Average over the examples, e.g. with keras.ops.mean."
    )
    return float(array.reshape(()))


@exercise_check(
    "write the non-saturating generator loss: the batch mean of -log(sigmoid(fake_logits)), "
    "computed so that it stays finite for a logit of -100."
)
def check_non_saturating_loss(generator_loss: Callable[[Any], Any]) -> str:
    """Check a student's non-saturating generator loss ``-E[log D(G(z))]`` computed from logits.

    Prints and returns a :class:`~ganbook_utils.exercises.Verdict`: "not yet" for a stub, a hint
    when the value at logits 0, its sign, its averaging or its stability for confidently
    rejected fakes is wrong, "right" otherwise.
    """

    def loss_of(logits: np.ndarray) -> float:
        return _as_float(answer_of(generator_loss, logits), "Your loss")

    one = loss_of(np.full((1, 1), 2.0, np.float32))
    many = loss_of(np.full((8, 1), 2.0, np.float32))
    assert abs(one - many) < 1e-5, (
        f"The same logit gave {one:.4f} for a batch of 1 and {many:.4f} for a batch of 8: "
        "take the mean over the batch, not the sum."
    )
    at_zero = loss_of(np.zeros((4, 1), np.float32))
    assert abs(at_zero - np.log(2.0)) < 1e-4, (
        f"At logits 0 (D = 1/2) the loss should be log 2 = {np.log(2.0):.4f}; got {at_zero:.4f}. "
        "Remember the loss takes logits: D(G(z)) = sigmoid(logit)."
    )
    rejected = loss_of(np.full((1, 1), -8.0, np.float32))
    accepted = loss_of(np.full((1, 1), 8.0, np.float32))
    assert rejected > accepted, (
        f"Rejected fakes (logit -8) must cost more than accepted ones (logit 8); got {rejected:.4f}"
        f" and {accepted:.4f}. The generator minimises -log D(G(z)): check the sign."
    )
    answer = loss_of(_PROBE_LOGITS[:, None])
    assert np.isfinite(answer), (
        "Your loss is not finite for a logit of -100: log(sigmoid(-100)) underflows to log(0). "
        "Use the identity -log(sigmoid(x)) = softplus(-x)."
    )
    expected = _expected_non_saturating(_PROBE_LOGITS)
    assert abs(answer - expected) < 1e-3 * max(1.0, abs(expected)), (
        f"For logits {_PROBE_LOGITS.tolist()} the loss should be {expected:.4f}; got {answer:.4f}."
    )
    return "your non-saturating loss matches -mean(log sigmoid(logits)), stably."
