"""Checks for the exercises of "The mathematics of GANs and VAEs".

Each check calls the student's function on random inputs and compares it with the package's
tested implementation in :mod:`ganbook_utils.divergences`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ganbook_utils import divergences
from ganbook_utils.exercises import NotYet, answer_of, exercise_check


def _call(function: Callable, *args: object) -> np.ndarray:
    assert callable(function), (
        f"Pass your function itself (not its result); got {type(function).__name__}."
    )
    try:
        result = answer_of(function, *args)
    except NotYet:
        raise NotYet() from None  # an empty message: the check's own "not yet" line
    return np.asarray(result, dtype=np.float64)


@exercise_check("write my_optimal_discriminator(p_data, p_model): D*(x), elementwise.")
def check_optimal_discriminator(optimal_discriminator: Callable) -> str:
    """Check ``optimal_discriminator(p_data, p_model)`` -> D*(x), elementwise, for arrays."""
    rng = np.random.default_rng(0)
    p_data, p_model = rng.uniform(0.01, 2.0, size=(2, 50))
    answer = _call(optimal_discriminator, p_data, p_model)
    expected = divergences.optimal_discriminator(p_data, p_model)
    assert answer.shape == expected.shape, (
        f"Return one value per point: shape {expected.shape}, not {answer.shape}."
    )
    assert not np.allclose(answer, 1.0 - expected, atol=1e-6), (
        "You returned 1 - D*: D* is the probability that x is REAL, so p_data goes on top."
    )
    assert np.allclose(answer, expected, atol=1e-6), (
        "Not D*. Maximise p_data(x) log D + p_model(x) log(1 - D) over D for one x: set the "
        "derivative to zero."
    )
    return "D*(x) = p_data(x) / (p_data(x) + p_model(x))."


@exercise_check("write my_gaussian_kl(mean, log_variance): one KL to N(0, I) per row.")
def check_gaussian_kl(gaussian_kl: Callable) -> str:
    """Check ``gaussian_kl(mean, log_variance)`` -> KL(N(mean, exp(log_variance)) || N(0, I)).

    Inputs are NumPy arrays shaped (batch, latent_dim); the answer is one KL per row.
    """
    rng = np.random.default_rng(1)
    mean, log_variance = rng.normal(size=(2, 8, 3))
    answer = _call(gaussian_kl, mean, log_variance)
    expected = divergences.gaussian_kl_divergence(mean, log_variance).numpy()
    assert answer.shape == expected.shape, (
        f"Sum over the latent (last) axis: expected shape {expected.shape}, got {answer.shape}."
    )
    assert not np.allclose(answer, 2.0 * expected, rtol=1e-6), (
        "Twice the KL: the closed form has a factor 1/2 in front."
    )
    assert np.allclose(answer, expected, rtol=1e-6), (
        "Not the KL. Per dimension it is (variance + mean^2 - 1 - log variance) / 2, with "
        "variance = exp(log_variance)."
    )
    return "the closed-form KL to the standard normal prior."


@exercise_check("write my_wasserstein(samples_a, samples_b): W1 of two equal-size samples.")
def check_wasserstein_1d(wasserstein: Callable) -> str:
    """Check ``wasserstein(samples_a, samples_b)`` -> W1 for two 1-D samples of equal size."""
    rng = np.random.default_rng(2)
    # Different spreads: the CDFs cross, so W1 differs from the difference of the means.
    a, b = rng.normal(0.0, 1.0, 300), rng.normal(0.5, 2.5, 300)
    answer = float(_call(wasserstein, a, b))
    expected = divergences.wasserstein_1d(a, b)
    unsorted = float(np.mean(np.abs(a - b)))
    assert not (np.isclose(answer, unsorted, rtol=1e-9) and not np.isclose(unsorted, expected)), (
        "You paired the samples in the order given. The optimal 1-D transport pairs them "
        "by rank: sort both first."
    )
    assert np.isclose(answer, expected, rtol=1e-9), (
        "Not W1. Sort both samples and average the absolute differences of matched pairs."
    )
    return "in 1-D, optimal transport matches sorted samples."
