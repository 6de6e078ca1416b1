"""The core-concepts chapter's checks accept right answers and reject typical wrong ones."""

import numpy as np
import pytest
import scipy.optimize
import scipy.stats

from ganbook_utils import divergences
from ganbook_utils.exercises import core_concepts as ex


def test_likelihood_check():
    right = {
        "GAN": "none", "VAE": "lower bound", "autoregressive": "exact", "diffusion": "lower bound"
    }
    ex.check_likelihoods(right)
    with pytest.raises(AssertionError, match="GAN"):
        ex.check_likelihoods({**right, "GAN": "exact"})
    with pytest.raises(AssertionError, match="missing: diffusion"):
        ex.check_likelihoods({k: v for k, v in right.items() if k != "diffusion"})
    with pytest.raises(AssertionError, match="not one of"):
        ex.check_likelihoods({**right, "VAE": "elbo"})


def test_mixture_moments_by_sampling():
    rng = np.random.default_rng(0)
    component = rng.random(400_000) < 0.8
    samples = np.where(component, rng.normal(-2.0, 0.5, component.size),
                       rng.normal(2.0, 0.5, component.size))
    mean, variance = ex.mixture_moments(**ex.EXERCISE_MIXTURE)
    assert mean == pytest.approx(-1.2)
    assert variance == pytest.approx(0.25 + 4.0 - 1.44)
    assert samples.mean() == pytest.approx(mean, abs=0.01)
    assert samples.var() == pytest.approx(variance, rel=0.01)


def test_moment_matching_is_the_forward_kl_minimiser():
    grid = np.linspace(-9.0, 9.0, 4001)
    weights, means, stds = ex.EXERCISE_MIXTURE.values()
    mixture = sum(
        w * scipy.stats.norm.pdf(grid, m, s) for w, m, s in zip(weights, means, stds, strict=True)
    )

    def forward_kl(parameters):
        gaussian = scipy.stats.norm.pdf(grid, parameters[0], np.exp(parameters[1]))
        return divergences.kl_divergence_on_grid(mixture, gaussian, grid)

    fit = scipy.optimize.minimize(forward_kl, [0.0, 0.0], method="Nelder-Mead",
                                  options={"xatol": 1e-8, "fatol": 1e-12})
    mean, variance = ex.mixture_moments(weights, means, stds)
    assert fit.x[0] == pytest.approx(mean, abs=1e-3)
    assert np.exp(fit.x[1]) ** 2 == pytest.approx(variance, rel=2e-3)


def test_maximum_likelihood_check():
    ex.check_maximum_likelihood_gaussian(-1.2, 2.81)
    with pytest.raises(AssertionError, match="one component"):
        ex.check_maximum_likelihood_gaussian(-1.2, 0.25)
    with pytest.raises(AssertionError, match="Mean"):
        ex.check_maximum_likelihood_gaussian(0.0, 2.81)
    with pytest.raises(AssertionError, match="total variance|Var"):
        ex.check_maximum_likelihood_gaussian(-1.2, 4.25)
