"""Checks for the exercises of "Variational autoencoders".

Each check calls the student's function on fixed random inputs and compares it with the
closed form (or with :mod:`ganbook_utils.vae`), naming the usual mistake when it sees one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ganbook_utils.exercises import answer_of, exercise_check


def _call(function: Callable, *args: object) -> np.ndarray:
    assert callable(function), (
        f"Pass your function itself (not its result); got {type(function).__name__}."
    )
    result = answer_of(function, *args)
    if hasattr(result, "numpy"):
        result = result.numpy()
    return np.asarray(result, dtype=np.float64)


@exercise_check("write z = mean + (standard deviation) * noise, with the noise you are given.")
def check_reparameterize(reparameterize: Callable) -> str:
    """Check ``reparameterize(mean, log_variance, noise)`` -> z, all NumPy arrays (N, D)."""
    rng = np.random.default_rng(0)
    mean, log_variance, noise = rng.normal(size=(3, 6, 4))
    answer = _call(reparameterize, mean, log_variance, noise)
    expected = mean + np.exp(0.5 * log_variance) * noise
    assert answer.shape == expected.shape, (
        f"Return one code per row: shape {expected.shape}, not {answer.shape}."
    )
    assert not np.allclose(answer, mean + np.exp(log_variance) * noise), (
        "You scaled the noise by the variance; scale it by the standard deviation, "
        "exp(log_variance / 2)."
    )
    assert not np.allclose(answer, mean + log_variance * noise), (
        "log_variance is a logarithm: exponentiate it (and halve it first)."
    )
    assert np.allclose(answer, expected), (
        "Not z = mean + standard deviation * noise. Use the noise you are given (so the answer "
        "is a deterministic, differentiable function of mean and log_variance)."
    )
    return "z = mean + exp(log_variance / 2) * noise."


@exercise_check("write the binary cross-entropy of targets (x + 1) / 2, summed over pixels.")
def check_bernoulli_reconstruction(reconstruction_loss: Callable) -> str:
    """Check ``reconstruction_loss(images, logits)`` -> -log p(x|z), one value per image.

    ``images`` are (N, H, W, C) in [-1, 1] (the book's convention), ``logits`` the same shape.
    """
    rng = np.random.default_rng(1)
    images = rng.uniform(-1.0, 1.0, size=(5, 4, 4, 1))
    logits = rng.normal(size=(5, 4, 4, 1))

    def cross_entropy(targets: np.ndarray) -> np.ndarray:
        per_pixel = np.logaddexp(0.0, logits) - targets * logits  # stable -log Bernoulli
        return per_pixel.reshape(len(images), -1)

    expected = cross_entropy((images + 1.0) / 2.0).sum(axis=1)
    answer = _call(reconstruction_loss, images, logits)
    assert answer.shape == expected.shape, (
        f"Return one loss per image (sum over pixels): shape {expected.shape}, not {answer.shape}."
    )
    assert not np.allclose(answer, cross_entropy((images + 1.0) / 2.0).mean(axis=1)), (
        "You averaged over pixels: log p(x|z) of an image is the SUM of its pixels' log "
        "probabilities (an average changes the balance with the KL term)."
    )
    assert not np.allclose(answer, cross_entropy(images).sum(axis=1)), (
        "Targets of a Bernoulli must lie in [0, 1]: map the images with (x + 1) / 2 first."
    )
    assert not np.allclose(answer, -expected, rtol=1e-5), (
        "The sign is flipped: return the NEGATIVE log-likelihood, a positive number of nats."
    )
    assert np.allclose(answer, expected, rtol=1e-5), (
        "Not the summed binary cross-entropy. Per pixel it is "
        "-(t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))) with t = (x + 1) / 2, l the logit."
    )
    return "the Bernoulli negative log-likelihood, summed over pixels."


@exercise_check("fit attribute ~ codes @ w + b by least squares and return w / |w|.")
def check_latent_direction(latent_direction: Callable) -> str:
    """Check ``latent_direction(codes, attribute)`` -> unit vector (D,) along which it grows.

    ``codes`` (N, D) are encoder means, ``attribute`` (N,) a measured property (e.g. radius).
    The answer must be the normalised least-squares slope of attribute on codes (with an
    intercept), pointing the way the attribute increases.
    """
    rng = np.random.default_rng(2)
    # Correlated codes: the regression slope differs from the per-coordinate correlations.
    mixing = rng.normal(size=(5, 5))
    codes = rng.normal(size=(400, 5)) @ mixing + 3.0
    true_slope = np.array([1.0, -2.0, 0.0, 0.5, 0.0])
    attribute = codes @ true_slope + 7.0 + 0.1 * rng.normal(size=400)
    design = np.column_stack([codes, np.ones(len(codes))])
    slope = np.linalg.lstsq(design, attribute, rcond=None)[0][:-1]
    expected = slope / np.linalg.norm(slope)
    answer = _call(latent_direction, codes, attribute)
    assert answer.shape == expected.shape, (
        f"Return one direction of shape {expected.shape}, not {answer.shape}."
    )
    assert np.isclose(np.linalg.norm(answer), 1.0, atol=1e-6), (
        f"Normalise the direction to length 1 (it has length {np.linalg.norm(answer):.3g})."
    )
    cosine = float(answer @ expected)
    assert cosine > -0.99, "Your direction points the wrong way: the attribute decreases along it."
    covariance = (codes - codes.mean(0)).T @ (attribute - attribute.mean())
    along_covariance = abs(float(answer @ covariance) / np.linalg.norm(covariance)) > 0.999
    assert not (along_covariance and cosine < 0.99), (
        "That is the covariance of each coordinate with the attribute; with correlated "
        "coordinates you need the regression slope (solve the least-squares problem)."
    )
    assert cosine > 0.99, (
        f"Your direction has cosine {cosine:.3f} with the least-squares slope. Fit "
        "attribute ~ codes @ w + b (e.g. np.linalg.lstsq with a column of ones) and return "
        "w / |w|."
    )
    return f"the direction has cosine {cosine:.4f} with the least-squares slope."
