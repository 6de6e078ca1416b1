"""The mathematics chapter's checks: reference solutions pass, stubs are "not yet", and
typical wrong answers get a hint that names the mistake."""

import numpy as np
import pytest

from ganbook_utils import divergences
from ganbook_utils.exercises import mathematics as ex


# The reference solutions, as in the chapter's dropdowns.
def optimal_discriminator_solution(p_data, p_model):
    return p_data / (p_data + p_model)


def gaussian_kl_solution(mean, log_variance):
    return 0.5 * np.sum(np.exp(log_variance) + mean**2 - 1.0 - log_variance, axis=-1)


def wasserstein_solution(samples_a, samples_b):
    return np.mean(np.abs(np.sort(samples_a) - np.sort(samples_b)))


def stub(*args):
    ...


def not_implemented(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("check", "solution"),
    [
        (ex.check_optimal_discriminator, optimal_discriminator_solution),
        (ex.check_gaussian_kl, gaussian_kl_solution),
        (ex.check_wasserstein_1d, wasserstein_solution),
    ],
)
def test_reference_solution_passes_strictly_and_stubs_are_not_yet(check, solution, capsys):
    assert check(solution, strict=True).status == "right"
    for unanswered in (stub, not_implemented, ...):
        assert check(unanswered).status == "not yet"
    assert "Not yet:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda p, q: q / (p + q), "REAL"),  # the probability of "fake"
        (lambda p, q: p / (2 * q), "derivative"),
        (lambda p, q: p / (p + q + 1.0), "derivative"),
        (lambda p, q: np.mean(p / (p + q)), "one value per point"),
        (0.5, "function itself"),
    ],
)
def test_optimal_discriminator_wrong_answers(answer, hint):
    verdict = ex.check_optimal_discriminator(answer)
    assert verdict.status == "wrong"
    assert hint in verdict.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda m, lv: np.sum(np.exp(lv) + m**2 - 1 - lv, axis=-1), "1/2"),
        (lambda m, lv: 0.5 * (np.exp(lv) + m**2 - 1 - lv), "last"),
        # log_variance taken for the variance.
        (lambda m, lv: 0.5 * np.sum(lv + m**2 - 1 - np.log(np.abs(lv)), axis=-1), "exp("),
        (lambda m, lv: 0.5 * np.sum(np.exp(lv) + m**2 - 1 - lv, axis=0), "last"),
    ],
)
def test_gaussian_kl_wrong_answers(answer, hint):
    verdict = ex.check_gaussian_kl(answer)
    assert verdict.status == "wrong"
    assert hint in verdict.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda a, b: np.mean(np.abs(a - b)), "sort both"),
        (lambda a, b: abs(np.mean(a) - np.mean(b)), "Not W1"),
        (lambda a, b: np.sqrt(np.mean((np.sort(a) - np.sort(b)) ** 2)), "Not W1"),  # W2
    ],
)
def test_wasserstein_wrong_answers(answer, hint):
    verdict = ex.check_wasserstein_1d(answer)
    assert verdict.status == "wrong"
    assert hint in verdict.message


def test_exercise_4_solution_statements():
    """The dropdown of exercise 4 says: same mean, roughly half the variance, still far
    above the reparameterised estimator's 4 sigma^2."""
    mu, sigma, samples = 1.5, 0.8, 400_000
    plain = divergences.score_function_gradients(np.square, mu, sigma, samples, seed=3)
    centred = divergences.score_function_gradients(
        np.square, mu, sigma, samples, seed=3, baseline=mu**2 + sigma**2
    )
    assert plain.mean() == pytest.approx(2 * mu, abs=0.05)
    assert centred.mean() == pytest.approx(2 * mu, abs=0.05)
    assert 1.7 < plain.var() / centred.var() < 2.4
    assert centred.var() > 5 * 4 * sigma**2
