"""Checks for the exercises of the "Core concepts" chapter."""

from __future__ import annotations

import numpy as np

LIKELIHOOD_KINDS = ("exact", "lower bound", "none")

_LIKELIHOODS = {
    "GAN": "none",
    "VAE": "lower bound",
    "autoregressive": "exact",
    "diffusion": "lower bound",
}

# The mixture of the exercise: weights, means and standard deviations of its two components.
EXERCISE_MIXTURE = {"weights": (0.8, 0.2), "means": (-2.0, 2.0), "stds": (0.5, 0.5)}


def check_likelihoods(answers: dict[str, str]) -> None:
    """Check what each model family gives for log p(x): ``exact``, ``lower bound`` or ``none``.

    Raises:
        AssertionError: naming the first wrong or missing answer, with a hint.
    """
    missing = sorted(set(_LIKELIHOODS) - set(answers))
    assert not missing, f"Give an answer for every family; missing: {', '.join(missing)}."
    for family, expected in _LIKELIHOODS.items():
        answer = str(answers[family]).strip().lower()
        assert answer in LIKELIHOOD_KINDS, f"{family}: {answer!r} is not one of {LIKELIHOOD_KINDS}."
        assert answer == expected, (
            f"{family}: not {answer!r}. Ask what the model is trained on: the likelihood itself "
            "(chain rule), a bound on it (ELBO), or only samples judged by a discriminator?"
        )
    print(f"All {len(_LIKELIHOODS)} answers are right.")


def mixture_moments(weights, means, stds) -> tuple[float, float]:
    """Mean and variance of a 1-D Gaussian mixture (law of total variance)."""
    weights, means, stds = (np.asarray(a, dtype=np.float64) for a in (weights, means, stds))
    mean = float(np.sum(weights * means))
    variance = float(np.sum(weights * (stds**2 + means**2)) - mean**2)
    return mean, variance


def check_maximum_likelihood_gaussian(mean: float, variance: float) -> None:
    """Check the Gaussian N(mean, variance) that minimises KL(mixture || Gaussian).

    The mixture is ``EXERCISE_MIXTURE``: 0.8 N(-2, 0.5^2) + 0.2 N(2, 0.5^2).

    Raises:
        AssertionError: with a hint, when the mean or the variance is off by more than 1e-6.
    """
    expected_mean, expected_variance = mixture_moments(**EXERCISE_MIXTURE)
    assert abs(float(mean) - expected_mean) < 1e-6, (
        f"Mean {mean} is not right. Forward KL matches moments: the best mean is the mixture's "
        "mean, the weighted average of the component means."
    )
    if abs(float(variance) - 0.25) < 1e-6:
        raise AssertionError(
            "0.25 is one component's variance. The Gaussian must also cover the spread "
            "between the components: use the law of total variance."
        )
    assert abs(float(variance) - expected_variance) < 1e-6, (
        f"Variance {variance} is not right: it is E[component variance] + Var[component mean]."
    )
    print(f"Right: N({expected_mean:g}, {expected_variance:g}) covers both modes.")
