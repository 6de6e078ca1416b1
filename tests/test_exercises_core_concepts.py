"""The core-concepts chapter's checks accept right answers and reject typical wrong ones."""

import numpy as np
import pytest
import scipy.optimize
import scipy.stats

from ganbook_utils import divergences
from ganbook_utils.exercises import core_concepts as ex

# The reference solutions, as in the chapter's dropdowns.
LIKELIHOODS = {
    "GAN": "none",
    "VAE": "lower bound",
    "autoregressive": "exact",
    "normalizing flow": "exact",
    "diffusion": "lower bound",
}
ML_MEAN = 0.8 * -2.0 + 0.2 * 2.0
ML_VARIANCE = 0.25 + (0.8 * 4.0 + 0.2 * 4.0) - ML_MEAN**2


def test_reference_solutions_pass_strictly():
    assert ex.check_likelihoods(LIKELIHOODS, strict=True).status == "right"
    assert ex.check_maximum_likelihood_gaussian(ML_MEAN, ML_VARIANCE, strict=True)


@pytest.mark.parametrize(
    "answers", [dict.fromkeys(LIKELIHOODS, ...), {**LIKELIHOODS, "diffusion": ...}, ...]
)
def test_likelihood_stub_is_not_yet(answers, capsys):
    assert ex.check_likelihoods(answers).status == "not yet"
    assert capsys.readouterr().out.startswith("Not yet:")


@pytest.mark.parametrize(
    ("answers", "hint"),
    [
        # "Intractable" read as "a bound exists": a GAN has no density at all.
        ({**LIKELIHOODS, "GAN": "lower bound"}, "define a density"),
        # The ELBO taken for the likelihood.
        ({**LIKELIHOODS, "VAE": "exact"}, "maximise instead"),
        # The probability-flow ODE is not what training optimises.
        ({**LIKELIHOODS, "diffusion": "exact"}, "what does training optimise"),
        ({**LIKELIHOODS, "VAE": "elbo"}, "not one of"),
        ({k: v for k, v in LIKELIHOODS.items() if k != "diffusion"}, "missing: diffusion"),
    ],
)
def test_likelihood_wrong_answers(answers, hint):
    verdict = ex.check_likelihoods(answers)
    assert verdict.status == "wrong"
    assert hint in verdict.message


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


@pytest.mark.parametrize(("mean", "variance"), [(..., ...), (-1.2, ...)])
def test_maximum_likelihood_stub_is_not_yet(mean, variance):
    assert ex.check_maximum_likelihood_gaussian(mean, variance).status == "not yet"


@pytest.mark.parametrize(
    ("mean", "variance", "hint"),
    [
        (-1.2, 0.25, "one component"),  # one component's variance
        (0.0, 2.81, "Mean"),  # the unweighted mean of the component means
        (-1.2, 4.25, "total variance"),  # forgot to subtract the squared mean
        (-1.2, 2.56, "total variance"),  # forgot the components' own variance
    ],
)
def test_maximum_likelihood_wrong_answers(mean, variance, hint):
    verdict = ex.check_maximum_likelihood_gaussian(mean, variance)
    assert verdict.status == "wrong"
    assert hint in verdict.message
