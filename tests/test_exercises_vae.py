"""The VAE chapter's exercise checks: the reference solutions pass (strict), stubs are "not yet",
and the usual wrong answers are "wrong" with a hint that names the mistake."""

from __future__ import annotations

import numpy as np
import pytest

from ganbook_utils.exercises.vae import (
    check_bernoulli_reconstruction,
    check_latent_direction,
    check_reparameterize,
)
from ganbook_utils.vae import bernoulli_negative_log_likelihood

# --- The reference solutions: the code of the chapter's solution dropdowns. -----------------


def reparameterize(mean, log_variance, noise):
    return mean + np.exp(0.5 * log_variance) * noise


def reconstruction_loss(images, logits):
    targets = 0.5 * (images + 1.0)  # pixels in [0, 1]
    per_pixel = np.logaddexp(0.0, logits) - targets * logits
    return per_pixel.reshape(len(images), -1).sum(axis=1)


def latent_direction(codes, attribute):
    centred_codes = codes - codes.mean(axis=0)
    slope = np.linalg.lstsq(centred_codes, attribute - attribute.mean(), rcond=None)[0]
    return slope / np.linalg.norm(slope)


def stub(*arguments): ...  # what the exercise cell holds before the student writes anything


def not_implemented(*arguments):
    raise NotImplementedError


CHECKS = [check_reparameterize, check_bernoulli_reconstruction, check_latent_direction]


@pytest.mark.parametrize(
    ("check", "solution"),
    [
        (check_reparameterize, reparameterize),
        (check_bernoulli_reconstruction, reconstruction_loss),
        (check_bernoulli_reconstruction, bernoulli_negative_log_likelihood),  # the package's
        (check_latent_direction, latent_direction),
    ],
)
def test_the_reference_solutions_pass(check, solution, capsys):
    assert check(solution, strict=True).status == "right"
    assert capsys.readouterr().out.startswith("Right:")


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("answer", [stub, not_implemented, ...])
def test_a_stub_is_not_yet(check, answer, capsys):
    assert check(answer).status == "not yet"
    assert capsys.readouterr().out.startswith("Not yet:")


def _wrong(check, answer, hint):
    verdict = check(answer)
    assert verdict.status == "wrong", verdict
    assert hint in verdict.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda mean, log_variance, noise: mean + np.exp(log_variance) * noise, "deviation"),
        (lambda mean, log_variance, noise: mean + log_variance * noise, "exponentiate"),
        (
            lambda mean, log_variance, noise: (
                mean + np.exp(log_variance / 2) * np.random.default_rng(5).normal(size=mean.shape)
            ),
            "noise you are given",
        ),
        (lambda mean, log_variance, noise: reparameterize(mean, log_variance, noise)[0], "shape"),
        (np.zeros(3), "function itself"),
    ],
)
def test_reparameterize_wrong_answers(answer, hint):
    _wrong(check_reparameterize, answer, hint)


def _averaged(images, logits):
    targets = (images + 1) / 2
    return (np.logaddexp(0, logits) - targets * logits).reshape(len(images), -1).mean(1)


def _unmapped(images, logits):
    return (np.logaddexp(0, logits) - images * logits).reshape(len(images), -1).sum(1)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_averaged, "SUM"),
        (_unmapped, "(x + 1) / 2"),
        (lambda images, logits: -reconstruction_loss(images, logits), "sign is flipped"),
        (lambda images, logits: reconstruction_loss(images, logits).sum(), "one loss per image"),
    ],
)
def test_reconstruction_wrong_answers(answer, hint):
    _wrong(check_bernoulli_reconstruction, answer, hint)


def _covariance(codes, attribute):
    direction = (codes - codes.mean(0)).T @ (attribute - attribute.mean())
    return direction / np.linalg.norm(direction)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda codes, attribute: -latent_direction(codes, attribute), "wrong way"),
        (lambda codes, attribute: 2 * latent_direction(codes, attribute), "length 1"),
        (_covariance, "regression slope"),
    ],
)
def test_latent_direction_wrong_answers(answer, hint):
    _wrong(check_latent_direction, answer, hint)


def test_strict_raises_on_a_wrong_answer():
    with pytest.raises(AssertionError, match="Not quite"):
        check_latent_direction(_covariance, strict=True)
