"""The mathematics chapter's checks accept right answers and reject typical wrong ones."""

import numpy as np
import pytest

from ganbook_utils.exercises import mathematics as ex


def test_optimal_discriminator_check():
    ex.check_optimal_discriminator(lambda p, q: p / (p + q))
    with pytest.raises(AssertionError, match="REAL"):
        ex.check_optimal_discriminator(lambda p, q: q / (p + q))
    with pytest.raises(AssertionError, match="derivative"):
        ex.check_optimal_discriminator(lambda p, q: p / (2 * q))
    with pytest.raises(TypeError, match="function itself"):
        ex.check_optimal_discriminator(0.5)


def test_gaussian_kl_check():
    ex.check_gaussian_kl(
        lambda m, lv: 0.5 * np.sum(np.exp(lv) + m**2 - 1 - lv, axis=-1)
    )
    with pytest.raises(AssertionError, match="1/2"):
        ex.check_gaussian_kl(lambda m, lv: np.sum(np.exp(lv) + m**2 - 1 - lv, axis=-1))
    with pytest.raises(AssertionError, match="last"):
        ex.check_gaussian_kl(lambda m, lv: 0.5 * (np.exp(lv) + m**2 - 1 - lv))


def test_wasserstein_check():
    ex.check_wasserstein_1d(lambda a, b: np.mean(np.abs(np.sort(a) - np.sort(b))))
    with pytest.raises(AssertionError, match="sort both"):
        ex.check_wasserstein_1d(lambda a, b: np.mean(np.abs(a - b)))
    with pytest.raises(AssertionError, match="Not W1"):
        ex.check_wasserstein_1d(lambda a, b: abs(np.mean(a) - np.mean(b)))
