"""The VAE chapter's exercise checks accept right answers and reject the usual wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from ganbook_utils.exercises.vae import (
    check_bernoulli_reconstruction,
    check_latent_direction,
    check_reparameterize,
)
from ganbook_utils.vae import bernoulli_negative_log_likelihood


def test_check_reparameterize():
    check_reparameterize(lambda mean, log_variance, noise: mean + np.exp(log_variance / 2) * noise)
    with pytest.raises(AssertionError, match="standard deviation"):
        check_reparameterize(lambda mean, log_variance, noise: mean + np.exp(log_variance) * noise)
    with pytest.raises(AssertionError, match="noise you are given"):
        check_reparameterize(
            lambda mean, log_variance, noise: (
                mean + np.exp(log_variance / 2) * np.random.default_rng(5).normal(size=mean.shape)
            )
        )
    with pytest.raises(TypeError, match="function itself"):
        check_reparameterize(np.zeros(3))


def test_check_bernoulli_reconstruction():
    check_bernoulli_reconstruction(bernoulli_negative_log_likelihood)

    def averaged(images, logits):
        targets = (images + 1) / 2
        per_pixel = np.logaddexp(0, logits) - targets * logits
        return per_pixel.reshape(len(images), -1).mean(1)

    with pytest.raises(AssertionError, match="SUM"):
        check_bernoulli_reconstruction(averaged)

    def unmapped(images, logits):
        per_pixel = np.logaddexp(0, logits) - images * logits
        return per_pixel.reshape(len(images), -1).sum(1)

    with pytest.raises(AssertionError, match=r"\(x \+ 1\) / 2"):
        check_bernoulli_reconstruction(unmapped)


def test_check_latent_direction():
    def least_squares(codes, attribute):
        design = np.column_stack([codes, np.ones(len(codes))])
        slope = np.linalg.lstsq(design, attribute, rcond=None)[0][:-1]
        return slope / np.linalg.norm(slope)

    check_latent_direction(least_squares)
    with pytest.raises(AssertionError, match="wrong way"):
        check_latent_direction(lambda codes, attribute: -least_squares(codes, attribute))
    with pytest.raises(AssertionError, match="length 1"):
        check_latent_direction(lambda codes, attribute: 2 * least_squares(codes, attribute))

    def covariance(codes, attribute):
        direction = (codes - codes.mean(0)).T @ (attribute - attribute.mean())
        return direction / np.linalg.norm(direction)

    with pytest.raises(AssertionError, match="regression slope"):
        check_latent_direction(covariance)
