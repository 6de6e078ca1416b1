"""Checks for the exercises of the "Core concepts" chapter."""

from __future__ import annotations

import numpy as np

from ganbook_utils.exercises import NotYet, exercise_check, is_stub

LIKELIHOOD_KINDS = ("exact", "lower bound", "none")

# What each family's training objective optimises.
_LIKELIHOODS = {
    "GAN": "none",
    "VAE": "lower bound",
    "autoregressive": "exact",
    "normalizing flow": "exact",
    "diffusion": "lower bound",
}

# A question per family that points at the answer without giving it.
_QUESTIONS = {
    "GAN": "Does a deterministic generator G(z) from 100 numbers to 784 pixels define a "
    "density over images at all?",
    "VAE": "The integral over z cannot be computed: what does the VAE maximise instead?",
    "autoregressive": "The chain rule writes p(x) as a product of conditionals the network "
    "outputs: is anything approximated?",
    "normalizing flow": "An invertible network and the change-of-variables formula: is "
    "anything approximated?",
    "diffusion": "Its loss is derived like the VAE's, from a hierarchy of latent variables: "
    "what does training optimise?",
}

# The mixture of the exercise: weights, means and standard deviations of its components.
EXERCISE_MIXTURE = {"weights": (0.8, 0.2), "means": (-2.0, 2.0), "stds": (0.5, 0.5)}


@exercise_check('replace each ... by "exact", "lower bound" or "none".')
def check_likelihoods(answers: dict[str, str]) -> str:
    """Check what each family's training objective optimises for log p(x):
    ``exact``, ``lower bound`` or ``none``."""
    assert isinstance(answers, dict), (
        f"Answer with a dict family -> kind, as in the cell; got {type(answers).__name__}."
    )
    missing = sorted(set(_LIKELIHOODS) - set(answers))
    assert not missing, f"Give an answer for every family; missing: {', '.join(missing)}."
    unanswered = [family for family in _LIKELIHOODS if is_stub(answers[family])]
    if unanswered:
        raise NotYet(f"replace the ... for {', '.join(unanswered)} with one of "
                     f"{LIKELIHOOD_KINDS}.")
    for family, expected in _LIKELIHOODS.items():
        answer = str(answers[family]).strip().lower()
        assert answer in LIKELIHOOD_KINDS, (
            f"{family}: {answer!r} is not one of {LIKELIHOOD_KINDS}."
        )
        assert answer == expected, f"{family}: not {answer!r}. {_QUESTIONS[family]}"
    return (
        f"all {len(_LIKELIHOODS)} are right. (A trained diffusion model's exact likelihood "
        "can still be computed through the probability-flow ODE.)"
    )


def mixture_moments(weights, means, stds) -> tuple[float, float]:
    """Mean and variance of a 1-D Gaussian mixture (law of total variance)."""
    weights, means, stds = (np.asarray(a, dtype=np.float64) for a in (weights, means, stds))
    mean = float(np.sum(weights * means))
    variance = float(np.sum(weights * (stds**2 + means**2)) - mean**2)
    return mean, variance


@exercise_check("set ml_mean and ml_variance: the moments of the mixture.")
def check_maximum_likelihood_gaussian(mean: float, variance: float | None = None) -> str:
    """Check the Gaussian N(mean, variance) that minimises KL(mixture || Gaussian).

    The mixture is ``EXERCISE_MIXTURE``: 0.8 N(-2, 0.5^2) + 0.2 N(2, 0.5^2).
    """
    if is_stub(variance):
        raise NotYet("now set ml_variance too: use the law of total variance.")
    expected_mean, expected_variance = mixture_moments(**EXERCISE_MIXTURE)
    assert abs(float(mean) - expected_mean) < 1e-6, (
        f"Mean {mean} is not right. Forward KL matches moments: the best mean is the "
        "mixture's mean, the weighted average of the component means."
    )
    assert abs(float(variance) - 0.25) > 1e-6, (
        "0.25 is one component's variance. The Gaussian must also cover the spread "
        "between the components: use the law of total variance."
    )
    assert abs(float(variance) - expected_variance) < 1e-6, (
        f"Variance {variance} is not right: it is E[component variance] + "
        "Var[component mean] (law of total variance)."
    )
    return f"N({expected_mean:g}, {expected_variance:g}) covers both modes."
