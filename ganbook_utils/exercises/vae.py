"""Checks for the exercises of "Variational autoencoders".

Each check calls the student's function on fixed random inputs and compares it with the
closed form (or with :mod:`ganbook_utils.vae`), naming the usual mistake when it sees one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def _call(function: Callable, *args: object) -> np.ndarray:
    if not callable(function):
        raise TypeError(
            f"Pass your function itself (not its result); got {type(function).__name__}."
        )
    result = function(*args)
    if hasattr(result, "numpy"):
        result = result.numpy()
    return np.asarray(result, dtype=np.float64)


def check_reparameterize(reparameterize: Callable) -> None:
    """Check ``reparameterize(mean, log_variance, noise)`` -> z, all NumPy arrays (N, D).

    Raises:
        AssertionError: with a hint, when a value or the shape is wrong.
    """
    rng = np.random.default_rng(0)
    mean, log_variance, noise = rng.normal(size=(3, 6, 4))
    answer = _call(reparameterize, mean, log_variance, noise)
    expected = mean + np.exp(0.5 * log_variance) * noise
    assert answer.shape == expected.shape, (
        f"Return one code per row: shape {expected.shape}, not {answer.shape}."
    )
    if np.allclose(answer, mean + np.exp(log_variance) * noise):
        raise AssertionError(
            "You scaled the noise by the variance; scale it by the standard deviation, "
            "exp(log_variance / 2)."
        )
    if np.allclose(answer, mean + log_variance * noise):
        raise AssertionError("log_variance is a logarithm: exponentiate it (and halve it first).")
    assert np.allclose(answer, expected), (
        "Not z = mean + standard deviation * noise. Use the noise you are given (so the answer "
        "is a deterministic, differentiable function of mean and log_variance)."
    )
    print("Right: z = mean + exp(log_variance / 2) * noise.")


def check_bernoulli_reconstruction(reconstruction_loss: Callable) -> None:
    """Check ``reconstruction_loss(images, logits)`` -> -log p(x|z), one value per image.

    ``images`` are (N, H, W, C) in [-1, 1] (the book's convention), ``logits`` the same shape.

    Raises:
        AssertionError: with a hint, when a value or the shape is wrong.
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
    if np.allclose(answer, cross_entropy((images + 1.0) / 2.0).mean(axis=1)):
        raise AssertionError(
            "You averaged over pixels: log p(x|z) of an image is the SUM of its pixels' log "
            "probabilities (an average changes the balance with the KL term)."
        )
    if np.allclose(answer, cross_entropy(images).sum(axis=1)):
        raise AssertionError(
            "Targets of a Bernoulli must lie in [0, 1]: map the images with (x + 1) / 2 first."
        )
    assert np.allclose(answer, expected, rtol=1e-5), (
        "Not the summed binary cross-entropy. Per pixel it is "
        "-(t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))) with t = (x + 1) / 2, l the logit."
    )
    print("Right: the Bernoulli negative log-likelihood, summed over pixels.")


def check_latent_direction(latent_direction: Callable) -> None:
    """Check ``latent_direction(codes, attribute)`` -> unit vector (D,) along which it grows.

    ``codes`` (N, D) are encoder means, ``attribute`` (N,) a measured property (e.g. radius).
    The answer must be the normalised least-squares slope of attribute on codes (with an
    intercept), pointing the way the attribute increases.

    Raises:
        AssertionError: with a hint, when the direction is wrong.
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
    if cosine < -0.99:
        raise AssertionError(
            "Your direction points the wrong way: the attribute decreases along it."
        )
    covariance = (codes - codes.mean(0)).T @ (attribute - attribute.mean())
    if abs(float(answer @ covariance) / np.linalg.norm(covariance)) > 0.999 and cosine < 0.99:
        raise AssertionError(
            "That is the covariance of each coordinate with the attribute; with correlated "
            "coordinates you need the regression slope (solve the least-squares problem)."
        )
    assert cosine > 0.99, (
        f"Your direction has cosine {cosine:.3f} with the least-squares slope. Fit "
        "attribute ~ codes @ w + b (e.g. np.linalg.lstsq with a column of ones) and return "
        "w / |w|."
    )
    print(f"Right: the direction has cosine {cosine:.4f} with the least-squares slope.")
