"""Divergences and distances between distributions, and the gradient estimators of a VAE.

What the mathematics chapter derives and checks numerically:

* :func:`gaussian_kl_divergence` -- the VAE's KL term, KL(N(mean, exp(log_variance)) || N(0, I)),
  in TensorFlow ops so a ``train_step`` can differentiate it;
* :func:`kl_between_gaussians` (closed form) and :func:`monte_carlo_kl` (sampling estimate);
* :func:`optimal_discriminator`, :func:`gan_value` and :func:`jensen_shannon_divergence` for
  1-D densities on a grid (the GAN's optimal discriminator and its Jensen-Shannon connection);
* :func:`kl_divergence_on_grid` -- KL(p || q) for 1-D densities on a grid;
* :func:`wasserstein_1d` -- the earth mover's (and the 2-) distance between two 1-D samples;
* :func:`reparameterization_gradients` and :func:`score_function_gradients` -- per-sample
  gradient estimates of d/d(parameter) E_{z ~ N(mean, std^2)}[f(z)], whose variances differ.

NumPy functions compute in float64. TensorFlow is imported lazily, only by the functions
that use it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ganbook_utils import checks

LOG_2 = float(np.log(2.0))
# NumPy 2 renamed trapz to trapezoid; accept both (pyproject allows numpy>=1.26).
_trapezoid = getattr(np, "trapezoid", None) or np.trapz


def _as_float_array(values: Any, name: str) -> np.ndarray:
    """``values`` as a float64 array; raises if it is not numeric or holds NaN/inf."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`{name}` must be numeric (an array or a number); got {values!r}."
        ) from error
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` contains NaN or infinite values; pass finite numbers.")
    return array


def _require_positive(array: np.ndarray, name: str) -> None:
    if np.any(array <= 0.0):
        raise ValueError(
            f"`{name}` must be strictly positive (it is a variance or a standard deviation); "
            f"its smallest value is {array.min():.3g}."
        )


# --------------------------------------------------------------------------------------------
# Kullback-Leibler divergences between Gaussians
# --------------------------------------------------------------------------------------------


def gaussian_kl_divergence(mean: Any, log_variance: Any) -> Any:
    """KL(N(mean, diag(exp(log_variance))) || N(0, I)), summed over the last axis.

    The closed form 0.5 * sum(exp(log_variance) + mean**2 - 1 - log_variance) is the VAE's
    regulariser. Written in TensorFlow ops so gradients flow in a ``train_step``; NumPy
    arrays are accepted too (they are converted; float64 stays float64).

    Args:
        mean: encoder means, shape (..., latent_dim).
        log_variance: encoder log-variances, same shape as ``mean``.

    Returns:
        A ``tf.Tensor`` of shape (...,): one non-negative KL per example.

    Raises:
        ValueError: if the shapes differ or the inputs are scalars.
    """
    import tensorflow as tf

    mean = tf.convert_to_tensor(mean)
    if not mean.dtype.is_floating:
        mean = tf.cast(mean, tf.float32)
    log_variance = tf.cast(tf.convert_to_tensor(log_variance), mean.dtype)
    if mean.shape.rank == 0 or log_variance.shape.rank == 0:
        raise ValueError(
            "gaussian_kl_divergence needs vectors: `mean` and `log_variance` shaped "
            "(..., latent_dim); got scalars. Wrap a single value as [value]."
        )
    if not mean.shape.is_compatible_with(log_variance.shape):
        raise ValueError(
            f"`mean` and `log_variance` must have the same shape; got {mean.shape} and "
            f"{log_variance.shape}. Both come from the encoder's last layer(s)."
        )
    return 0.5 * tf.reduce_sum(tf.exp(log_variance) + tf.square(mean) - 1.0 - log_variance, axis=-1)


def kl_between_gaussians(mean1: Any, var1: Any, mean2: Any, var2: Any) -> np.ndarray | float:
    """KL(N(mean1, diag(var1)) || N(mean2, diag(var2))) in closed form, summed over the last axis.

    Arguments broadcast against each other; variances (not standard deviations) must be > 0.
    Scalars describe 1-D Gaussians and give a float.

    Raises:
        ValueError: if a variance is not positive or the shapes do not broadcast.
    """
    mean1, var1 = _as_float_array(mean1, "mean1"), _as_float_array(var1, "var1")
    mean2, var2 = _as_float_array(mean2, "mean2"), _as_float_array(var2, "var2")
    _require_positive(var1, "var1")
    _require_positive(var2, "var2")
    try:
        mean1, var1, mean2, var2 = np.broadcast_arrays(mean1, var1, mean2, var2)
    except ValueError as error:
        raise ValueError(
            f"Shapes do not broadcast: mean1 {mean1.shape}, var1 {var1.shape}, "
            f"mean2 {mean2.shape}, var2 {var2.shape}."
        ) from error
    per_dimension = 0.5 * (
        var1 / var2 + (mean2 - mean1) ** 2 / var2 - 1.0 + np.log(var2) - np.log(var1)
    )
    if per_dimension.ndim == 0:
        return float(per_dimension)
    return per_dimension.sum(axis=-1)


def diagonal_gaussian_log_density(x: Any, mean: Any, var: Any) -> np.ndarray:
    """log N(x; mean, diag(var)) summed over the last axis; ``x`` shaped (..., dim).

    Raises:
        ValueError: if a variance is not positive.
    """
    x, mean, var = (_as_float_array(a, n) for a, n in ((x, "x"), (mean, "mean"), (var, "var")))
    _require_positive(var, "var")
    per_dimension = -0.5 * (np.log(2.0 * np.pi * var) + (x - mean) ** 2 / var)
    return per_dimension.sum(axis=-1)


@dataclasses.dataclass(frozen=True)
class MonteCarloEstimate:
    """A sample mean with its standard error (standard deviation / sqrt(sample count))."""

    value: float
    standard_error: float
    num_samples: int

    def __str__(self) -> str:
        return f"{self.value:.5f} ± {self.standard_error:.5f} (n={self.num_samples})"


def monte_carlo_kl(
    samples_from_p: Any,
    log_density_p: Callable[[np.ndarray], np.ndarray],
    log_density_q: Callable[[np.ndarray], np.ndarray],
) -> MonteCarloEstimate:
    """Estimate KL(p || q) = E_{x~p}[log p(x) - log q(x)] by averaging over samples of p.

    Args:
        samples_from_p: N samples drawn from p, shape (N,) or (N, dim).
        log_density_p, log_density_q: functions mapping the samples to N log-densities.

    Returns:
        The estimate and its standard error: the closed form should lie within a few of them.

    Raises:
        ValueError: if fewer than two samples are given or a density returns the wrong shape.
    """
    samples = _as_float_array(samples_from_p, "samples_from_p")
    if samples.ndim == 0 or samples.shape[0] < 2:
        raise ValueError(
            "monte_carlo_kl needs at least two samples along the first axis of "
            f"`samples_from_p`; got shape {samples.shape}."
        )
    log_ratio = np.asarray(log_density_p(samples), np.float64) - np.asarray(
        log_density_q(samples), np.float64
    )
    if log_ratio.shape != (samples.shape[0],):
        raise ValueError(
            f"The log-density functions must return one value per sample, shape "
            f"({samples.shape[0]},); got {log_ratio.shape}. Sum over the feature axis."
        )
    return MonteCarloEstimate(
        value=float(log_ratio.mean()),
        standard_error=float(log_ratio.std(ddof=1) / np.sqrt(log_ratio.size)),
        num_samples=int(log_ratio.size),
    )


# --------------------------------------------------------------------------------------------
# The GAN's optimal discriminator and the Jensen-Shannon divergence (1-D densities on a grid)
# --------------------------------------------------------------------------------------------


def _densities_on_grid(
    p: Any, q: Any, grid: Any, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate two densities sampled on the same increasing grid; normalise them to 1."""
    grid = _as_float_array(grid, "grid")
    if grid.ndim != 1 or grid.size < 3 or np.any(np.diff(grid) <= 0):
        raise ValueError(
            "`grid` must be a strictly increasing 1-D array of at least 3 points, e.g. "
            "np.linspace(-5, 5, 2001)."
        )
    densities = []
    for values, name in ((p, names[0]), (q, names[1])):
        values = _as_float_array(values, name)
        if values.shape != grid.shape:
            raise ValueError(
                f"`{name}` must hold one density value per grid point, shape {grid.shape}; "
                f"got {values.shape}."
            )
        if np.any(values < 0):
            raise ValueError(f"`{name}` is a density: its values must be >= 0.")
        total = _trapezoid(values, grid)
        if total <= 0:
            raise ValueError(f"`{name}` integrates to 0 on the grid; widen the grid.")
        densities.append(values / total)
    return densities[0], densities[1], grid


def optimal_discriminator(p_data: Any, p_model: Any) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_model(x)), the best discriminator for a fixed generator.

    Where both densities are 0 every value of D is optimal; 0.5 is returned there.

    Args:
        p_data, p_model: density values at the same points (same shape), >= 0.

    Raises:
        ValueError: if the shapes differ or a density is negative.
    """
    p_data, p_model = _as_float_array(p_data, "p_data"), _as_float_array(p_model, "p_model")
    if p_data.shape != p_model.shape:
        raise ValueError(
            f"`p_data` and `p_model` must be evaluated at the same points (same shape); "
            f"got {p_data.shape} and {p_model.shape}."
        )
    if np.any(p_data < 0) or np.any(p_model < 0):
        raise ValueError("`p_data` and `p_model` are densities: their values must be >= 0.")
    total = p_data + p_model
    safe_total = np.where(total > 0, total, 1.0)
    return np.where(total > 0, p_data / safe_total, 0.5)


def _xlogy_ratio(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """p * log(p / q) with the convention 0 * log(0 / q) = 0."""
    positive = p > 0
    safe_p, safe_q = np.where(positive, p, 1.0), np.where(positive, q, 1.0)
    return np.where(positive, p * np.log(safe_p / safe_q), 0.0)


def jensen_shannon_divergence(p: Any, q: Any, grid: Any) -> float:
    """JS(p, q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2, in nats (0 <= JS <= log 2).

    ``p`` and ``q`` are density values on ``grid`` (a 1-D increasing grid); each is
    renormalised to integrate to 1 there (trapezoidal rule), so truncation at the grid's
    ends does not bias the result.

    Raises:
        ValueError: if the grid is not increasing, shapes differ, or a density is negative.
    """
    p, q, grid = _densities_on_grid(p, q, grid, ("p", "q"))
    mixture = 0.5 * (p + q)
    value = 0.5 * _trapezoid(_xlogy_ratio(p, mixture), grid) + 0.5 * _trapezoid(
        _xlogy_ratio(q, mixture), grid
    )
    return float(np.clip(value, 0.0, LOG_2))


def kl_divergence_on_grid(p: Any, q: Any, grid: Any) -> float:
    """KL(p || q) = integral of p log(p / q), for 1-D densities sampled on ``grid`` (in nats).

    Both densities are renormalised on the grid as in :func:`jensen_shannon_divergence`.
    Infinite when q vanishes where p does not (a model that misses data gets no finite score).

    Raises:
        ValueError: if the grid is not increasing, shapes differ, or a density is negative.
    """
    p, q, grid = _densities_on_grid(p, q, grid, ("p", "q"))
    if np.any((p > 0) & (q <= 0)):
        return float("inf")
    return float(max(_trapezoid(_xlogy_ratio(p, q), grid), 0.0))


def gan_value(p_data: Any, p_model: Any, discriminator: Any, grid: Any) -> float:
    """V(D, G) = E_{p_data}[log D(x)] + E_{p_model}[log(1 - D(x))] for 1-D densities on a grid.

    ``discriminator`` holds D(x) in [0, 1] at the grid points. With D = D* the value equals
    -log 4 + 2 JS(p_data, p_model).

    Raises:
        ValueError: on a bad grid or densities, or D outside [0, 1].
    """
    p_data, p_model, grid = _densities_on_grid(p_data, p_model, grid, ("p_data", "p_model"))
    discriminator = _as_float_array(discriminator, "discriminator")
    if discriminator.shape != grid.shape:
        raise ValueError(
            f"`discriminator` must hold D(x) at each grid point, shape {grid.shape}; "
            f"got {discriminator.shape}."
        )
    if np.any(discriminator < 0) or np.any(discriminator > 1):
        raise ValueError("`discriminator` values are probabilities: they must lie in [0, 1].")
    # 0 * log 0 = 0: where a density vanishes its term does not count, even if D is 0 or 1.
    with np.errstate(divide="ignore"):
        real_term = np.where(p_data > 0, p_data * np.log(discriminator), 0.0)
        fake_term = np.where(p_model > 0, p_model * np.log1p(-discriminator), 0.0)
    return float(_trapezoid(real_term + fake_term, grid))


# --------------------------------------------------------------------------------------------
# The 1-D Wasserstein-1 (earth mover's) distance
# --------------------------------------------------------------------------------------------


def wasserstein_1d(samples_a: Any, samples_b: Any, order: float = 1.0) -> float:
    """Wasserstein-p distance between the empirical distributions of two 1-D samples.

    In 1-D the optimal transport plan matches quantiles, so
    W_p^p = integral over t in [0, 1] of |F_a^{-1}(t) - F_b^{-1}(t)|^p dt, where the
    empirical quantile functions are step functions of the sorted samples. With equal
    sample sizes this is the mean of |sorted(a) - sorted(b)|^p. ``order=1`` (the default) is
    the earth mover's distance of WGAN; ``order=2`` between two Gaussians is the 1-D FID.

    Raises:
        ValueError: if a sample is empty or not 1-D, or ``order`` < 1.
    """
    if not (np.isfinite(order) and order >= 1):
        raise ValueError(f"`order` must be a number >= 1 (1 for W1, 2 for W2); got {order!r}.")
    a = np.sort(_as_float_array(samples_a, "samples_a"))
    b = np.sort(_as_float_array(samples_b, "samples_b"))
    for array, name in ((a, "samples_a"), (b, "samples_b")):
        if array.ndim != 1 or array.size == 0:
            raise ValueError(
                f"`{name}` must be a non-empty 1-D array of samples; got shape {array.shape}. "
                "Flatten it with .ravel() if it holds scalar samples."
            )
    if a.size == b.size:
        cost = np.mean(np.abs(a - b) ** order)
    else:
        # Quantile levels where either step function jumps; between two consecutive levels
        # both quantile functions are constant, read off at the interval's midpoint.
        levels = np.union1d(np.arange(1, a.size + 1) / a.size, np.arange(1, b.size + 1) / b.size)
        widths = np.diff(levels, prepend=0.0)
        midpoints = levels - widths / 2
        quantiles_a = a[np.minimum((midpoints * a.size).astype(int), a.size - 1)]
        quantiles_b = b[np.minimum((midpoints * b.size).astype(int), b.size - 1)]
        cost = np.sum(widths * np.abs(quantiles_a - quantiles_b) ** order)
    return float(cost ** (1.0 / order))


# --------------------------------------------------------------------------------------------
# Gradient estimators: reparameterisation vs score function (REINFORCE)
# --------------------------------------------------------------------------------------------

_PARAMETERS = ("mean", "std")


def _check_estimator_arguments(mean: float, std: float, num_samples: int, parameter: str) -> None:
    if parameter not in _PARAMETERS:
        raise ValueError(f"`parameter` must be 'mean' or 'std'; got {parameter!r}.")
    if not np.isfinite(mean):
        raise ValueError(f"`mean` must be a finite number; got {mean!r}.")
    if not (np.isfinite(std) and std > 0):
        raise ValueError(f"`std` must be a positive number; got {std!r}.")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int | np.integer):
        raise TypeError(f"`num_samples` must be an int; got {type(num_samples).__name__}.")
    if num_samples < 2:
        raise ValueError(f"`num_samples` must be at least 2; got {num_samples}.")


def reparameterization_gradients(
    function: Callable[[Any], Any],
    mean: float,
    std: float,
    num_samples: int,
    parameter: str = "mean",
    seed: int = 0,
) -> np.ndarray:
    """Per-sample reparameterisation estimates of d/d(parameter) E_{z~N(mean, std^2)}[f(z)].

    Writes z = mean + std * eps with eps ~ N(0, 1), so the expectation is over eps and the
    gradient moves inside it: each sample contributes d f(mean + std * eps_i) / d(parameter),
    computed by TensorFlow's autodiff. Their average is unbiased; their spread is the
    estimator's variance.

    Args:
        function: f, written in TensorFlow ops, applied elementwise to a float64 tensor.
        mean, std: the Gaussian's parameters (std > 0).
        num_samples: how many per-sample estimates to return (>= 2).
        parameter: ``"mean"`` or ``"std"``: which derivative.
        seed: seed of the NumPy generator drawing eps.

    Returns:
        Array of shape (num_samples,).

    Raises:
        ValueError / TypeError: on a non-positive std, too few samples, an unknown parameter.
    """
    import tensorflow as tf

    _check_estimator_arguments(mean, std, num_samples, parameter)
    noise = tf.constant(np.random.default_rng(checks.seed(seed)).standard_normal(num_samples))
    # One copy of the parameter per sample, so the gradient of the sum is per sample.
    means = tf.Variable(tf.fill([num_samples], tf.constant(float(mean), tf.float64)))
    stds = tf.Variable(tf.fill([num_samples], tf.constant(float(std), tf.float64)))
    with tf.GradientTape() as tape:
        values = function(means + stds * noise)
        total = tf.reduce_sum(values)
    gradient = tape.gradient(total, means if parameter == "mean" else stds)
    if gradient is None:
        raise ValueError(
            "`function` is not differentiable by TensorFlow (no gradient flowed); write it "
            "in TensorFlow ops, e.g. tf.square(z) rather than np.square(z)."
        )
    return gradient.numpy()


def score_function_gradients(
    function: Callable[[np.ndarray], Any],
    mean: float,
    std: float,
    num_samples: int,
    parameter: str = "mean",
    seed: int = 0,
    baseline: float = 0.0,
) -> np.ndarray:
    """Per-sample score-function (REINFORCE) estimates of d/d(parameter) E_{z~N(mean,std^2)}[f(z)].

    Uses d/d(theta) E[f(z)] = E[(f(z) - b) * d log N(z; mean, std^2) / d(theta)]: f is only
    evaluated, never differentiated (it may be a black box), at the price of a larger
    variance. A constant baseline b leaves the mean unchanged and can reduce the variance.

    Args:
        function: f, applied elementwise to a float64 NumPy array (TensorFlow ops work too).
        mean, std, num_samples, parameter, seed: as in :func:`reparameterization_gradients`
            (the same seed draws the same z).
        baseline: the constant b subtracted from f(z).

    Returns:
        Array of shape (num_samples,).

    Raises:
        ValueError / TypeError: on a non-positive std, too few samples, an unknown parameter,
            or an f that does not return one value per sample.
    """
    _check_estimator_arguments(mean, std, num_samples, parameter)
    noise = np.random.default_rng(checks.seed(seed)).standard_normal(num_samples)
    samples = mean + std * noise
    values = np.asarray(function(samples), dtype=np.float64)
    if values.shape != (num_samples,):
        raise ValueError(
            f"`function` must return one value per sample, shape ({num_samples},); got "
            f"{values.shape}."
        )
    if parameter == "mean":
        score = (samples - mean) / std**2
    else:
        score = (samples - mean) ** 2 / std**3 - 1.0 / std
    return (values - baseline) * score
