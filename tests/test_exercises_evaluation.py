"""The evaluation chapter's checks accept right answers and reject the usual mistakes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

from ganbook_utils.exercises.evaluation import (
    check_diagonal_frechet_distance,
    check_inception_score,
)


def right_inception_score(p):
    marginal = p.mean(axis=0)
    kl = np.sum(scipy.special.xlogy(p, p) - scipy.special.xlogy(p, marginal), axis=1)
    return np.exp(kl.mean())


def test_inception_score_check_accepts_and_rejects():
    check_inception_score(right_inception_score)
    with pytest.raises(AssertionError, match="exponential"):
        check_inception_score(lambda p: np.log(right_inception_score(p)))
    with pytest.raises(AssertionError):
        check_inception_score(lambda p: 2.0)
    with pytest.raises(TypeError, match="function itself"):
        check_inception_score(3.0)


def test_diagonal_frechet_check_accepts_and_rejects():
    def right(mu1, var1, mu2, var2):
        return np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)

    check_diagonal_frechet_distance(right)
    with pytest.raises(AssertionError, match="square root"):
        check_diagonal_frechet_distance(lambda *a: np.sqrt(right(*a)))
    with pytest.raises(AssertionError, match="cross term"):
        check_diagonal_frechet_distance(
            lambda mu1, var1, mu2, var2: (
                np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * var1 * var2)
            )
        )
