"""Diffusion and flow matching: schedules, the forward process, a U-Net, samplers, guidance.

Two ways to turn noise into images with one network, both trained by regression:

* **DDPM** (Ho et al., 2020): a Markov chain adds Gaussian noise in ``T`` steps,
  q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I) in closed form; the network
  predicts the noise ``eps`` of x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps.
  Sampled by DDPM's ancestral steps or by DDIM (Song et al., 2021), which takes any number of
  steps and, with ``eta = 0``, is deterministic.
* **Flow matching / rectified flow** (Lipman et al., 2023; Liu et al., 2023): the straight path
  x_t = (1 - t) x_0 + t eps, t in [0, 1]; the network predicts the velocity eps - x_0, and an
  Euler ODE solver integrates from t = 1 (noise) to t = 0 (data).

Timesteps: DDPM's are integers 0 .. T-1 (index into the schedule); flow matching's are floats
in [0, 1]. The network always receives a float "time" in [0, 1] (``t / T`` for DDPM).

Classifier-free guidance (Ho & Salimans, 2022) with this book's convention for ``w``:

    prediction = cond + w * (cond - uncond) = (1 + w) * cond - w * uncond,

so ``w = 0`` is the plain conditional model (the paper's convention; libraries such as
diffusers use ``guidance_scale = 1 + w``, so their 1 is our 0).

A condition is either a class label (``num_classes`` given: ints 0 .. K-1; the label K is the
learned "no condition") or a vector (``condition_dim`` given: the zero vector is "no
condition"), which is how the text-to-image chapter passes text embeddings. Images are in
[-1, 1], channels last (N, H, W, C); any array of points (N, D) works with an MLP denoiser.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ganbook_utils import checks
from ganbook_utils.training import moving_average_swapped_in

OBJECTIVES = ("ddpm", "flow")
SCHEDULES = ("linear", "cosine")
SAMPLERS = {"ddpm": ("ddpm", "ddim"), "flow": ("euler",)}
DEFAULT_TIMESTEPS = 1000
# Momentum of the moving average of the denoiser's weights that sampling uses: about the last
# 1 / (1 - 0.995) = 200 steps, short enough for a run of a few thousand steps (the average
# starts from the random initial weights and forgets them as 0.995 ** steps).
DENOISER_EMA_MOMENTUM = 0.995


# --- Noise schedules and the forward process ---------------------------------------------------


def check_alpha_bars(alpha_bars: Any) -> np.ndarray:
    """``alpha_bars`` as float64 if it is strictly decreasing and inside (0, 1), else ValueError."""
    values = np.asarray(alpha_bars, dtype=np.float64)
    if values.ndim != 1 or len(values) < 1:
        raise ValueError(f"alpha_bar must be a 1-D array of T >= 1 values; got {values.shape}.")
    if not np.all(np.isfinite(values)) or values.min() <= 0 or values.max() >= 1:
        raise ValueError(
            f"alpha_bar must lie in (0, 1); got values in [{values.min():.4g}, {values.max():.4g}]."
        )
    if np.any(np.diff(values) >= 0):
        step = int(np.argmax(np.diff(values) >= 0))
        raise ValueError(
            f"alpha_bar must be strictly decreasing (each step adds noise); it does not decrease "
            f"at t = {step + 1} ({values[step]:.6g} -> {values[step + 1]:.6g})."
        )
    return values


@dataclasses.dataclass(frozen=True)
class NoiseSchedule:
    """A DDPM schedule: ``betas`` (T,), ``alphas = 1 - betas``, ``alpha_bars = cumprod(alphas)``."""

    name: str
    alpha_bars: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "alpha_bars", check_alpha_bars(self.alpha_bars))

    @property
    def timesteps(self) -> int:
        return len(self.alpha_bars)

    @property
    def alphas(self) -> np.ndarray:
        return self.alpha_bars / np.concatenate([[1.0], self.alpha_bars[:-1]])

    @property
    def betas(self) -> np.ndarray:
        return 1.0 - self.alphas

    def alpha_bar(self, t: Any) -> np.ndarray:
        """alpha_bar at integer timesteps ``t`` in [0, T-1]; ``t = -1`` gives 1 (no noise)."""
        t = check_timesteps(t, self.timesteps, allow_minus_one=True)
        return np.where(t < 0, 1.0, self.alpha_bars[np.maximum(t, 0)])


def linear_schedule(
    timesteps: int = DEFAULT_TIMESTEPS, beta_start: float = 1e-4, beta_end: float = 0.02
) -> NoiseSchedule:
    """DDPM's schedule: betas rising linearly from ``beta_start`` to ``beta_end`` (Ho et al.).

    The defaults are the paper's for T = 1000; for another T they are rescaled by 1000 / T so
    that the chain ends as noisy (capped at 0.999). Raises ValueError unless
    0 < beta_start <= beta_end < 1.
    """
    timesteps = checks.integer(timesteps, "timesteps", who="linear_schedule")
    start = checks.number(beta_start, "beta_start", low=0, low_open=True, high=1)
    end = checks.number(beta_end, "beta_end", low=start, high=1, high_open=True)
    scale = 1000.0 / timesteps
    start, end = min(start * scale, 0.999), min(end * scale, 0.999)
    betas = np.linspace(start, end, timesteps, dtype=np.float64)
    return NoiseSchedule("linear", np.cumprod(1.0 - betas))


def cosine_schedule(timesteps: int = DEFAULT_TIMESTEPS, offset: float = 0.008) -> NoiseSchedule:
    """Nichol & Dhariwal's cosine schedule: alpha_bar(t) = cos^2(pi/2 (t/T + s) / (1 + s)).

    Betas are clipped at 0.999 (the paper's choice) so the last step does not divide by zero.
    """
    timesteps = checks.integer(timesteps, "timesteps", who="cosine_schedule")
    offset = checks.number(offset, "offset", low=0, who="cosine_schedule")
    steps = np.arange(timesteps + 1, dtype=np.float64) / timesteps
    f = np.cos((steps + offset) / (1 + offset) * math.pi / 2) ** 2
    betas = np.clip(1.0 - f[1:] / f[:-1], 0.0, 0.999)
    return NoiseSchedule("cosine", np.cumprod(1.0 - betas))


def make_schedule(name: str | NoiseSchedule, timesteps: int = DEFAULT_TIMESTEPS) -> NoiseSchedule:
    """A schedule by name (``"linear"`` or ``"cosine"``), or the given one unchanged."""
    if isinstance(name, NoiseSchedule):
        return name
    if name == "linear":
        return linear_schedule(timesteps)
    if name == "cosine":
        return cosine_schedule(timesteps)
    raise ValueError(f"Unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}.")


def check_timesteps(t: Any, timesteps: int, allow_minus_one: bool = False) -> np.ndarray:
    """Integer timesteps in [0, T-1] (or -1 when allowed) as an int array, else ValueError."""
    array = np.asarray(t)
    if not np.issubdtype(array.dtype, np.integer):
        if np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            array = array.astype(np.int64)
        else:
            raise ValueError(
                f"DDPM timesteps must be integers in [0, {timesteps - 1}]; got {array.dtype} "
                "values (flow-matching times in [0, 1] belong to objective='flow')."
            )
    low = -1 if allow_minus_one else 0
    if array.size and (array.min() < low or array.max() > timesteps - 1):
        raise ValueError(
            f"timestep out of range: got values in [{array.min()}, {array.max()}], the schedule "
            f"has T = {timesteps} steps, so t must be in [0, {timesteps - 1}]."
        )
    return array.astype(np.int64)


def check_flow_times(t: Any) -> np.ndarray:
    """Flow-matching times in [0, 1] as float64, else ValueError."""
    array = np.asarray(t, dtype=np.float64)
    if array.size and (not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1):
        raise ValueError(
            f"timestep out of range: flow-matching times must be in [0, 1]; got values in "
            f"[{np.nanmin(array):.4g}, {np.nanmax(array):.4g}]."
        )
    return array


def check_images(images: Any, who: str) -> np.ndarray:
    """Float data in [-1, 1] (images or points), as float32; a clear error otherwise."""
    array = np.asarray(images)
    if array.dtype == np.uint8 or not np.issubdtype(array.dtype, np.number):
        raise TypeError(
            f"{who}: got {array.dtype} values; diffusion models take floats in [-1, 1] "
            "(use data.normalize_images(images) for uint8 pixels)."
        )
    array = array.astype(np.float32)
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(f"{who}: expected a non-empty batch (N, ...); got shape {array.shape}.")
    if not np.all(np.isfinite(array)) or array.min() < -1 - 1e-3 or array.max() > 1 + 1e-3:
        raise ValueError(
            f"{who}: images must be in [-1, 1]; got values in [{np.nanmin(array):.4g}, "
            f"{np.nanmax(array):.4g}] (use data.normalize_images for uint8 pixels)."
        )
    return array


def _per_example(values: np.ndarray, ndim: int) -> np.ndarray:
    """Broadcast per-example values (N,) against data of ``ndim`` dimensions."""
    return np.reshape(values, (-1,) + (1,) * (ndim - 1))


def q_sample(
    x0: Any, t: Any, noise: Any, schedule: NoiseSchedule, check: bool = True
) -> np.ndarray:
    """Draw x_t ~ q(x_t | x_0) in closed form: sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps.

    ``x0`` (N, ...) in [-1, 1]; ``t`` integer timesteps (N,) or one int, in [0, T-1];
    ``noise`` standard normal, shaped like ``x0``. Raises ValueError for out-of-range input.
    """
    x0 = check_images(x0, "q_sample") if check else np.asarray(x0, np.float32)
    noise = np.asarray(noise, dtype=np.float64)
    if noise.shape != x0.shape:
        raise ValueError(f"noise must have the shape of x0 {x0.shape}; got {noise.shape}.")
    t = np.broadcast_to(check_timesteps(t, schedule.timesteps), (len(x0),))
    alpha_bar = _per_example(schedule.alpha_bars[t], x0.ndim)
    return (np.sqrt(alpha_bar) * x0 + np.sqrt(1.0 - alpha_bar) * noise).astype(np.float32)


def q_mean_variance(x0: Any, t: Any, schedule: NoiseSchedule) -> tuple[np.ndarray, np.ndarray]:
    """Mean (like x0) and variance (per example, (N,)) of q(x_t | x_0)."""
    x0 = check_images(x0, "q_mean_variance").astype(np.float64)
    t = np.broadcast_to(check_timesteps(t, schedule.timesteps), (len(x0),))
    alpha_bar = schedule.alpha_bars[t]
    return np.sqrt(_per_example(alpha_bar, x0.ndim)) * x0, 1.0 - alpha_bar


def q_posterior_mean_variance(
    x0: Any, xt: Any, alpha_bar_t: Any, alpha_bar_prev: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the reverse step q(x_prev | x_t, x_0), for any two noise levels.

    With alpha = alpha_bar_t / alpha_bar_prev and beta = 1 - alpha (one DDPM step when the
    levels are neighbours; a strided step otherwise):
    mean = sqrt(alpha_bar_prev) beta / (1 - alpha_bar_t) x0
           + sqrt(alpha) (1 - alpha_bar_prev) / (1 - alpha_bar_t) xt,
    variance = (1 - alpha_bar_prev) / (1 - alpha_bar_t) beta  (per example).
    """
    x0, xt = np.asarray(x0, np.float64), np.asarray(xt, np.float64)
    a_t = _per_example(np.asarray(alpha_bar_t, np.float64) * np.ones(len(xt)), xt.ndim)
    a_prev = _per_example(np.asarray(alpha_bar_prev, np.float64) * np.ones(len(xt)), xt.ndim)
    alpha = a_t / a_prev
    beta = 1.0 - alpha
    mean = np.sqrt(a_prev) * beta / (1 - a_t) * x0 + np.sqrt(alpha) * (1 - a_prev) / (1 - a_t) * xt
    variance = (1 - a_prev) / (1 - a_t) * beta
    return mean, variance.reshape(-1)


def flow_sample(x0: Any, t: Any, noise: Any) -> np.ndarray:
    """The flow-matching path x_t = (1 - t) x_0 + t eps, ``t`` in [0, 1] (per example or one)."""
    x0 = check_images(x0, "flow_sample")
    t = np.broadcast_to(check_flow_times(t), (len(x0),))
    t = _per_example(t, x0.ndim)
    return ((1 - t) * x0 + t * np.asarray(noise, np.float64)).astype(np.float32)


def ddim_step(
    xt: Any, eps: Any, alpha_bar_t: Any, alpha_bar_prev: Any, eta: float = 0.0, noise: Any = None
) -> np.ndarray:
    """One DDIM update from noise level ``alpha_bar_t`` to ``alpha_bar_prev`` (> alpha_bar_t).

    x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t);
    sigma = eta sqrt((1 - a_prev) / (1 - a_t)) sqrt(1 - a_t / a_prev);
    x_prev = sqrt(a_prev) x0_hat + sqrt(1 - a_prev - sigma^2) eps + sigma z.
    ``eta = 0`` is deterministic; ``eta = 1`` is DDPM's ancestral step. ``alpha_bar_prev = 1``
    (the last step) returns x0_hat.
    """
    xt, eps = np.asarray(xt, np.float64), np.asarray(eps, np.float64)
    a_t = _per_example(np.asarray(alpha_bar_t, np.float64) * np.ones(len(xt)), xt.ndim)
    a_prev = _per_example(np.asarray(alpha_bar_prev, np.float64) * np.ones(len(xt)), xt.ndim)
    x0_hat = (xt - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t)
    sigma = eta * np.sqrt((1 - a_prev) / (1 - a_t)) * np.sqrt(np.maximum(1 - a_t / a_prev, 0))
    x_prev = np.sqrt(a_prev) * x0_hat + np.sqrt(np.maximum(1 - a_prev - sigma**2, 0)) * eps
    if eta > 0:
        if noise is None:
            raise ValueError("ddim_step with eta > 0 needs `noise` (standard normal, like xt).")
        x_prev = x_prev + sigma * np.asarray(noise, np.float64)
    return x_prev


def guided_prediction(conditional: Any, unconditional: Any, guidance: float) -> Any:
    """Classifier-free guidance ``cond + w (cond - uncond)``; ``w = 0`` is the conditional model."""
    return conditional + guidance * (conditional - unconditional)


# --- Networks: a small U-Net for images and an MLP for points ----------------------------------


class SinusoidalEmbedding(keras.layers.Layer):
    """Time in [0, 1] -> (N, dim) sines and cosines of 1000 t at geometric frequencies."""

    def __init__(self, dim: int, scale: float = 1000.0, **kwargs: Any):
        super().__init__(**kwargs)
        if dim < 2 or dim % 2:
            raise ValueError(f"dim must be an even integer >= 2; got {dim}.")
        self.dim, self.scale = dim, scale

    def call(self, time):
        half = self.dim // 2
        frequencies = keras.ops.exp(
            -math.log(10_000.0) * keras.ops.arange(half, dtype="float32") / max(half - 1, 1)
        )
        angles = keras.ops.reshape(keras.ops.cast(time, "float32"), (-1, 1)) * self.scale
        angles = angles * frequencies[None, :]
        return keras.ops.concatenate([keras.ops.sin(angles), keras.ops.cos(angles)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "scale": self.scale}


def _condition_inputs(
    embedding_dim: int, num_classes: int | None, condition_dim: int | None
) -> tuple[list, Any]:
    """The condition's Input (if any) and its embedding (N, embedding_dim), or ([], None)."""
    if num_classes is not None and condition_dim is not None:
        raise ValueError("Give num_classes (labels) or condition_dim (vectors), not both.")
    if num_classes is not None:
        num_classes = checks.integer(num_classes, "num_classes", who="build_unet")
        labels = keras.Input(shape=(), dtype="int32", name="labels")
        # Row num_classes is the learned "no condition" used by classifier-free guidance.
        embedded = keras.layers.Embedding(num_classes + 1, embedding_dim, name="label_embedding")(
            labels
        )
        return [labels], embedded
    if condition_dim is not None:
        condition_dim = checks.integer(condition_dim, "condition_dim", who="build_unet")
        vectors = keras.Input(shape=(condition_dim,), name="condition")
        return [vectors], keras.layers.Dense(embedding_dim, name="condition_embedding")(vectors)
    return [], None


def _residual_block(x, embedding, channels: int, groups: int, name: str):
    """GroupNorm-swish-conv, plus the (time + condition) embedding, twice; a 1x1 skip if needed."""
    skip = x
    h = keras.layers.GroupNormalization(math.gcd(groups, x.shape[-1]), name=f"{name}_norm1")(x)
    h = keras.layers.Activation("swish")(h)
    h = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv1")(h)
    shift = keras.layers.Dense(channels, name=f"{name}_embedding")(embedding)
    h = h + keras.layers.Reshape((1, 1, channels))(shift)
    h = keras.layers.GroupNormalization(math.gcd(groups, channels), name=f"{name}_norm2")(h)
    h = keras.layers.Activation("swish")(h)
    h = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv2")(h)
    if skip.shape[-1] != channels:
        skip = keras.layers.Conv2D(channels, 1, name=f"{name}_skip")(skip)
    return keras.layers.Add()([skip, h])


def build_unet(
    image_shape: tuple[int, int, int] = (28, 28, 1),
    widths: tuple[int, ...] = (32, 64, 64),
    blocks_per_level: int = 1,
    num_classes: int | None = None,
    condition_dim: int | None = None,
    groups: int = 8,
    name: str = "unet",
) -> keras.Model:
    """A small U-Net: [images (N,H,W,C), time (N,) in [0,1] (, condition)] -> (N,H,W,C).

    One level per entry of ``widths`` (channels), each with ``blocks_per_level`` residual
    blocks (GroupNorm, swish, 3x3 convs) and a stride-2 downsampling between levels; the
    decoder mirrors it with skip connections (concatenation). The sinusoidal time embedding
    passes through a 2-layer MLP; a condition (labels with ``num_classes``, the label
    ``num_classes`` meaning "none", or vectors of ``condition_dim``) is embedded and added to
    it. H and W must be divisible by ``2 ** (len(widths) - 1)`` (28 and 32 are, for 3 levels).
    The output layer starts at zero, so training starts from "predict 0".
    """
    if len(image_shape) != 3 or min(image_shape) < 1:
        raise ValueError(f"image_shape must be (H, W, C); got {image_shape}.")
    factor = 2 ** (len(widths) - 1)
    if image_shape[0] % factor or image_shape[1] % factor:
        raise ValueError(
            f"H and W {image_shape[:2]} must be divisible by 2 ** (len(widths) - 1) = {factor}."
        )
    widths = tuple(checks.integer(w, "widths", who="build_unet") for w in widths)
    blocks_per_level = checks.integer(blocks_per_level, "blocks_per_level", who="build_unet")
    embedding_dim = 4 * widths[0]
    images = keras.Input(shape=image_shape, name="images")
    time = keras.Input(shape=(), name="time")
    embedding = SinusoidalEmbedding(widths[0], name="time_sinusoids")(time)
    embedding = keras.layers.Dense(embedding_dim, activation="swish", name="time_mlp1")(embedding)
    embedding = keras.layers.Dense(embedding_dim, name="time_mlp2")(embedding)
    condition_inputs, condition = _condition_inputs(embedding_dim, num_classes, condition_dim)
    if condition is not None:
        embedding = keras.layers.Add(name="time_plus_condition")([embedding, condition])
    embedding = keras.layers.Activation("swish")(embedding)

    h = keras.layers.Conv2D(widths[0], 3, padding="same", name="stem")(images)
    skips = [h]
    for level, channels in enumerate(widths):
        for block in range(blocks_per_level):
            h = _residual_block(h, embedding, channels, groups, f"down{level}_{block}")
            skips.append(h)
        if level < len(widths) - 1:
            h = keras.layers.Conv2D(
                channels, 3, strides=2, padding="same", name=f"downsample{level}"
            )(h)
            skips.append(h)
    h = _residual_block(h, embedding, widths[-1], groups, "middle")
    for level in reversed(range(len(widths))):
        for block in range(blocks_per_level + 1):
            h = keras.layers.Concatenate()([h, skips.pop()])
            h = _residual_block(h, embedding, widths[level], groups, f"up{level}_{block}")
        if level > 0:
            h = keras.layers.UpSampling2D(2, name=f"upsample{level}")(h)
            h = keras.layers.Conv2D(widths[level - 1], 3, padding="same", name=f"up_conv{level}")(h)
    h = keras.layers.GroupNormalization(math.gcd(groups, widths[0]), name="out_norm")(h)
    h = keras.layers.Activation("swish")(h)
    outputs = keras.layers.Conv2D(
        image_shape[-1], 3, padding="same", kernel_initializer="zeros", name="out"
    )(h)
    return keras.Model([images, time, *condition_inputs], outputs, name=name)


def build_mlp_denoiser(
    dim: int = 2,
    hidden_units: int = 128,
    hidden_layers: int = 3,
    num_classes: int | None = None,
    condition_dim: int | None = None,
    name: str = "mlp_denoiser",
) -> keras.Model:
    """[points (N, dim), time (N,) (, condition)] -> (N, dim): a denoiser for toy 2-D data.

    The time (and condition) embedding is concatenated to the points, then swish MLP layers.
    """
    dim = checks.integer(dim, "dim", who="build_mlp_denoiser")
    points = keras.Input(shape=(dim,), name="points")
    time = keras.Input(shape=(), name="time")
    embedding = SinusoidalEmbedding(32, name="time_sinusoids")(time)
    condition_inputs, condition = _condition_inputs(32, num_classes, condition_dim)
    if condition is not None:
        embedding = keras.layers.Add()([embedding, condition])
    h = keras.layers.Concatenate()([points, embedding])
    for layer in range(hidden_layers):
        h = keras.layers.Dense(hidden_units, activation="swish", name=f"hidden{layer}")(h)
    outputs = keras.layers.Dense(dim, name="out")(h)
    return keras.Model([points, time, *condition_inputs], outputs, name=name)


# --- The model: training step and samplers -----------------------------------------------------


def _denoise(denoiser: keras.Model, inputs: Any) -> Any:
    """The denoiser's prediction in inference mode (what sampling traces once per model)."""
    return denoiser(inputs, training=False)


class Diffusion(keras.Model):
    """A denoising network trained by ``fit`` as a DDPM (noise) or flow-matching (velocity) model.

    Args:
        denoiser: a keras.Model ``[x_t, time (N,) in [0, 1]]`` (unconditional) or
            ``[x_t, time, condition]`` -> a tensor shaped like x_t (``build_unet``,
            ``build_mlp_denoiser`` or your own).
        objective: ``"ddpm"`` (predict eps) or ``"flow"`` (predict the velocity eps - x_0).
        schedule: ``"cosine"``, ``"linear"`` or a :class:`NoiseSchedule` (DDPM only).
        timesteps: T of a named schedule.
        num_classes / condition_dim: the condition the denoiser takes (labels 0..K-1, or vectors);
            neither for an unconditional model.
        label_dropout: fraction of training examples whose condition is replaced by "none",
            so one network is both conditional and unconditional (classifier-free guidance).
        sampling_steps: the default ``steps`` of :meth:`sample` (callbacks and metrics use it).
        guidance: the default guidance weight ``w`` of :meth:`sample` for a conditional model.

    ``fit`` takes batches of data (or ``(data, labels)`` pairs) in [-1, 1] and reports ``loss``,
    the mean squared error of the prediction.
    """

    def __init__(
        self,
        denoiser: keras.Model,
        objective: str = "flow",
        schedule: str | NoiseSchedule = "cosine",
        timesteps: int = DEFAULT_TIMESTEPS,
        num_classes: int | None = None,
        condition_dim: int | None = None,
        label_dropout: float = 0.1,
        sampling_steps: int = 50,
        guidance: float | None = None,
        seed: int | None = None,
        name: str = "diffusion",
        **kwargs: Any,
    ):
        super().__init__(name=name, **kwargs)
        if not isinstance(denoiser, keras.Model):
            raise TypeError(f"denoiser must be a keras.Model; got {type(denoiser).__name__}.")
        if objective not in OBJECTIVES:
            raise ValueError(f"Unknown objective {objective!r}; choose one of {OBJECTIVES}.")
        if num_classes is not None and condition_dim is not None:
            raise ValueError("Give num_classes (labels) or condition_dim (vectors), not both.")
        self.denoiser = denoiser
        self.objective = objective
        self.schedule = make_schedule(schedule, timesteps)
        self.num_classes = checks.optional_integer(num_classes, "num_classes", who="Diffusion")
        self.condition_dim = checks.optional_integer(
            condition_dim, "condition_dim", who="Diffusion"
        )
        expected_inputs = 3 if self.conditional else 2
        if len(denoiser.inputs) != expected_inputs:
            raise ValueError(
                f"The denoiser takes {len(denoiser.inputs)} inputs; a "
                f"{'conditional' if self.conditional else 'unconditional'} model needs "
                f"{expected_inputs} ([x_t, time{', condition' if self.conditional else ''}])."
            )
        self.label_dropout = checks.number(
            label_dropout, "label_dropout", low=0, high=1, who="Diffusion"
        )
        self.sampling_steps = checks.integer(sampling_steps, "sampling_steps", who="Diffusion")
        self.guidance = None if guidance is None else checks.number(guidance, "guidance", low=0)
        self.data_shape = tuple(denoiser.inputs[0].shape[1:])
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self._network = None
        self.built = True

    @property
    def conditional(self) -> bool:
        return self.num_classes is not None or self.condition_dim is not None

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker]

    def compile(self, optimizer: Any = None, **kwargs: Any) -> None:
        """Set the optimizer (default: Adam 2e-4 with a moving average of the weights) and build it.

        Building now makes its variables exist for a checkpoint restored before training
        resumes (``training.fit_resumable``).
        """
        if optimizer is None:
            optimizer = keras.optimizers.Adam(
                2e-4, use_ema=True, ema_momentum=DENOISER_EMA_MOMENTUM
            )
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.denoiser.trainable_variables)

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.denoiser(inputs, training=training)

    # -- training --

    def null_condition(self, n: Any) -> Any:
        """The "no condition" input for ``n`` examples: label ``num_classes`` or zero vectors."""
        if self.num_classes is not None:
            return keras.ops.full((n,), self.num_classes, dtype="int32")
        return keras.ops.zeros((n, self.condition_dim))

    def _drop_condition(self, condition: Any, n: Any) -> Any:
        keep = keras.random.uniform((n,), seed=self.noise_seed) >= self.label_dropout
        if self.num_classes is not None:
            return keras.ops.where(keep, keras.ops.cast(condition, "int32"), self.num_classes)
        return condition * keras.ops.cast(keep, condition.dtype)[:, None]

    def loss_terms(self, data: Any, condition: Any = None, seed: Any = None, training=False):
        """Mean squared error of the prediction on a batch (a scalar tensor).

        Draws the timesteps and the noise from ``seed`` (an int for a fixed value, default the
        model's own stream); drops the condition for ``label_dropout`` of the examples when
        ``training``.
        """
        import tensorflow as tf

        seed = self.noise_seed if seed is None else seed
        x0 = tf.cast(data, "float32")
        n = tf.shape(x0)[0]
        ones = [1] * (len(x0.shape) - 1)
        noise = keras.random.normal(tf.shape(x0), seed=seed)
        if isinstance(seed, int):
            seed = seed + 1  # another stream for the times
        if self.objective == "ddpm":
            steps = keras.random.randint((n,), 0, self.schedule.timesteps, seed=seed)
            alpha_bar = tf.gather(tf.constant(self.schedule.alpha_bars, "float32"), steps)
            alpha_bar = tf.reshape(alpha_bar, [-1, *ones])
            xt = tf.sqrt(alpha_bar) * x0 + tf.sqrt(1.0 - alpha_bar) * noise
            time = tf.cast(steps, "float32") / self.schedule.timesteps
            target = noise
        else:
            time = keras.random.uniform((n,), seed=seed)
            t = tf.reshape(time, [-1, *ones])
            xt = (1.0 - t) * x0 + t * noise
            target = noise - x0
        inputs = [xt, time]
        if self.conditional:
            if condition is None:
                condition = self.null_condition(n)
            elif training and self.label_dropout > 0:
                condition = self._drop_condition(condition, n)
            inputs.append(condition)
        prediction = tf.cast(self.denoiser(inputs, training=training), "float32")
        return tf.reduce_mean(tf.square(prediction - target))

    def train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        if isinstance(data, (tuple, list)):
            x0, condition = data[0], (data[1] if len(data) > 1 else None)
        else:
            x0, condition = data, None
        if not self.conditional:
            condition = None
        with tf.GradientTape() as tape:
            loss = self.loss_terms(x0, condition, training=True)
        variables = self.denoiser.trainable_variables
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply(gradients, variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def evaluate_loss(self, data: Any, condition: Any = None, seed: int = 0) -> float:
        """The objective on ``data`` (in [-1, 1]) with noise and times fixed by ``seed``."""
        data = check_images(data, "evaluate_loss")
        if condition is not None:
            condition = self._check_condition(condition, len(data))
        return float(self.loss_terms(data, condition, seed=int(seed)))

    # -- sampling --

    @contextlib.contextmanager
    def averaged_denoiser(self) -> Iterator[keras.Model]:
        """The denoiser with its weights' moving average swapped in, for the ``with`` block.

        Without an optimizer that keeps one (``use_ema``), the denoiser as it is.
        """
        with moving_average_swapped_in(getattr(self, "optimizer", None), self.denoiser):
            yield self.denoiser

    def _predict(self, x: np.ndarray, time: float, condition: Any, guidance: float | None):
        """The network's prediction at one time for a batch, guided when ``guidance`` is set."""
        import tensorflow as tf

        if self._network is None:
            # A partial, not a lambda: TensorFlow counts retracing per code object, so every
            # model's lambda would share one count and warn about the others' batch sizes.
            self._network = tf.function(
                functools.partial(_denoise, self.denoiser), reduce_retracing=True
            )
        n = len(x)
        times = np.full((n,), time, np.float32)
        if not self.conditional:
            return np.asarray(self._network([x.astype(np.float32), times]), np.float64)
        if guidance is None:
            return np.asarray(self._network([x.astype(np.float32), times, condition]), np.float64)
        both = np.concatenate([x, x]).astype(np.float32)
        null = np.asarray(self.null_condition(n))
        conditions = np.concatenate([condition, null.astype(condition.dtype)])
        output = np.asarray(self._network([both, np.concatenate([times, times]), conditions]))
        return guided_prediction(output[:n], output[n:], guidance).astype(np.float64)

    def _check_condition(self, condition: Any, n: int) -> np.ndarray:
        if not self.conditional:
            raise ValueError(
                "This model is unconditional (no num_classes / condition_dim); it takes no "
                "labels or condition."
            )
        if self.num_classes is not None:
            labels = np.asarray(condition)
            if labels.ndim == 0:
                labels = np.full((n,), labels)
            if not np.issubdtype(labels.dtype, np.integer) or labels.shape != (n,):
                raise ValueError(f"labels must be {n} integers; got {labels.dtype} {labels.shape}.")
            if labels.min() < 0 or labels.max() >= self.num_classes:
                raise ValueError(
                    f"label out of range: got labels in [{labels.min()}, {labels.max()}]; this "
                    f"model knows {self.num_classes} classes, 0 .. {self.num_classes - 1}."
                )
            return labels.astype(np.int32)
        vectors = np.asarray(condition, np.float32)
        if vectors.shape != (n, self.condition_dim):
            raise ValueError(f"condition must have shape ({n}, {self.condition_dim}).")
        return vectors

    def _check_sampling(self, sampler: str | None, steps: Any, guidance: Any, eta: float):
        sampler = sampler or ("ddim" if self.objective == "ddpm" else "euler")
        if sampler not in SAMPLERS[self.objective]:
            raise ValueError(
                f"sampler {sampler!r} does not fit objective {self.objective!r}; choose one of "
                f"{', '.join(SAMPLERS[self.objective])}."
            )
        if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)):
            raise ValueError(f"steps must be an integer >= 1; got {steps!r}.")
        if steps < 1:
            raise ValueError(f"steps must be >= 1 (sampling steps); got {steps}.")
        if self.objective == "ddpm" and steps > self.schedule.timesteps:
            raise ValueError(
                f"steps must be <= T = {self.schedule.timesteps} for a DDPM model; got {steps}."
            )
        if guidance is not None:
            if not self.conditional:
                raise ValueError(
                    "guidance needs a conditional model (trained with num_classes or "
                    "condition_dim and label dropout); this one is unconditional."
                )
            guidance = checks.number(guidance, "guidance", low=0, who="sample")
        eta = checks.number(eta, "eta", low=0, who="sample")
        return sampler, int(steps), guidance, eta

    def default_labels(self, n: int) -> np.ndarray | None:
        """Labels 0, 1, ..., K-1, 0, 1, ... for ``n`` samples of a label model (else None)."""
        return None if self.num_classes is None else np.arange(n) % self.num_classes

    def generate(
        self,
        noise: Any,
        labels: Any = None,
        steps: int | None = None,
        sampler: str | None = None,
        guidance: float | None = None,
        eta: float = 0.0,
        seed: int = 0,
        unconditional: bool = False,
        return_path: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, list[np.ndarray]]:
        """Denoise ``noise`` (N, ...) into samples in [-1, 1], float32.

        Args:
            labels: labels (N,) / one label, or condition vectors (N, d), for a conditional
                model; default :meth:`default_labels` (a balanced cycle of the classes).
            steps: network evaluations (default ``sampling_steps``), >= 1.
            sampler: ``"ddim"`` (default) or ``"ddpm"`` for objective ``ddpm``; ``"euler"`` for
                ``flow``.
            guidance: classifier-free guidance weight w >= 0 (``cond + w (cond - uncond)``;
                0 equals the conditional model); default the model's ``guidance``.
            eta: DDIM's noise (0: deterministic; 1: DDPM's variance).
            seed: seed of the noise added along the way (``ddpm``, or ``ddim`` with eta > 0).
            unconditional: sample a conditional model with its "no condition" input.
            return_path: also return the list of intermediate x (steps + 1 arrays).

        Raises ValueError for steps < 1, a guidance weight on an unconditional model, a label
        out of range or a sampler that does not fit the objective.
        """
        steps = self.sampling_steps if steps is None else steps
        if guidance is None and not unconditional and labels is None:
            guidance = self.guidance
        sampler, steps, guidance, eta = self._check_sampling(sampler, steps, guidance, eta)
        x = np.asarray(noise, np.float64)
        if x.shape[1:] != self.data_shape or len(x) < 1:
            raise ValueError(f"noise must have shape (n, {', '.join(map(str, self.data_shape))}).")
        n = len(x)
        condition = None
        if self.conditional:
            if unconditional:
                if guidance is not None:
                    raise ValueError("guidance needs labels; unconditional=True has none.")
                condition = np.asarray(self.null_condition(n))
            else:
                if labels is None:
                    labels = self.default_labels(n)
                    if labels is None:
                        raise ValueError("a condition-vector model needs `labels` (vectors).")
                condition = self._check_condition(labels, n)
        elif labels is not None:
            self._check_condition(labels, n)
        rng = np.random.default_rng(checks.seed(seed, who="generate"))
        path = [x.astype(np.float32)]
        with self.averaged_denoiser():
            if self.objective == "flow":
                times = np.linspace(1.0, 0.0, steps + 1)
                for t, t_next in zip(times[:-1], times[1:], strict=True):
                    velocity = self._predict(x, t, condition, guidance)
                    x = x + (t_next - t) * velocity
                    path.append(x.astype(np.float32))
            else:
                schedule = self.schedule
                grid = np.unique(np.round(np.linspace(0, schedule.timesteps - 1, steps)))
                grid = grid.astype(np.int64)[::-1]
                for i, t in enumerate(grid):
                    t_prev = grid[i + 1] if i + 1 < len(grid) else -1
                    a_t = schedule.alpha_bars[t]
                    a_prev = 1.0 if t_prev < 0 else schedule.alpha_bars[t_prev]
                    eps = self._predict(x, t / schedule.timesteps, condition, guidance)
                    # Clip the predicted x0 to the data range, and use the eps that matches it.
                    x0_hat = np.clip((x - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t), -1, 1)
                    eps = (x - np.sqrt(a_t) * x0_hat) / np.sqrt(1 - a_t)
                    z = rng.standard_normal(x.shape) if t_prev >= 0 else np.zeros_like(x)
                    if sampler == "ddpm":
                        mean, variance = q_posterior_mean_variance(x0_hat, x, a_t, a_prev)
                        x = mean + np.sqrt(_per_example(variance, x.ndim)) * z
                    else:
                        x = ddim_step(x, eps, a_t, a_prev, eta=eta, noise=z)
                    path.append(x.astype(np.float32))
        samples = np.clip(x, -1.0, 1.0).astype(np.float32)
        return (samples, path) if return_path else samples

    def initial_noise(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` standard normal starting points (n, ...), float32, fixed by ``seed``."""
        n = checks.integer(n, "n", who="initial_noise")
        rng = np.random.default_rng(checks.seed(seed, who="initial_noise"))
        return rng.standard_normal((n, *self.data_shape)).astype(np.float32)

    def sample(self, n: int, seed: int = 0, **kwargs: Any) -> np.ndarray:
        """``n`` samples in [-1, 1]; the same ``seed`` gives the same samples.

        ``kwargs`` go to :meth:`generate` (``labels``, ``steps``, ``sampler``, ``guidance``,
        ``eta``, ``unconditional``). A label model draws the classes in turn by default.
        """
        seed = checks.seed(seed, who="sample")
        kwargs.setdefault("seed", 1_000_003 + (seed or 0))
        return self.generate(self.initial_noise(n, seed), **kwargs)


# --- Building from a record, shipped weights -------------------------------------------------

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
PRETRAINED_DIFFUSION = {
    "diffusion_mnist": "unconditional MNIST U-Net",
    "diffusion_mnist_cond": "class-conditional MNIST U-Net, DDPM objective (guidance)",
    "diffusion_mnist_cond_flow": "class-conditional MNIST U-Net, flow matching (guidance)",
}


def build_diffusion(
    image_shape: tuple[int, int, int] = (28, 28, 1),
    objective: str = "flow",
    widths: tuple[int, ...] = (32, 64, 64),
    blocks_per_level: int = 1,
    num_classes: int | None = None,
    schedule: str = "cosine",
    timesteps: int = DEFAULT_TIMESTEPS,
    label_dropout: float = 0.1,
    sampling_steps: int = 50,
    guidance: float | None = None,
    learning_rate: float | None = 2e-4,
    seed: int | None = None,
) -> Diffusion:
    """A U-Net :class:`Diffusion` model, compiled with Adam at ``learning_rate`` (None: not)."""
    unet = build_unet(image_shape, widths, blocks_per_level, num_classes=num_classes)
    model = Diffusion(
        unet,
        objective=objective,
        schedule=schedule,
        timesteps=timesteps,
        num_classes=num_classes,
        label_dropout=label_dropout,
        sampling_steps=sampling_steps,
        guidance=guidance,
        seed=seed,
    )
    if learning_rate is not None:
        model.compile(
            keras.optimizers.Adam(learning_rate, use_ema=True, ema_momentum=DENOISER_EMA_MOMENTUM)
        )
    return model


def architecture_record(model: Diffusion, widths, blocks_per_level: int) -> dict[str, Any]:
    """What :func:`build_from_record` needs to rebuild ``model`` (for provenance JSON)."""
    return {
        "image_shape": list(model.data_shape),
        "widths": list(widths),
        "blocks_per_level": blocks_per_level,
        "num_classes": model.num_classes,
        "objective": model.objective,
        "schedule": model.schedule.name,
        "timesteps": model.schedule.timesteps,
        "label_dropout": model.label_dropout,
        "sampling_steps": model.sampling_steps,
        "guidance": model.guidance,
    }


def build_from_record(architecture: dict[str, Any]) -> Diffusion:
    """An uncompiled :class:`Diffusion` from an :func:`architecture_record`."""
    return build_diffusion(
        tuple(architecture["image_shape"]),
        objective=architecture["objective"],
        widths=tuple(architecture["widths"]),
        blocks_per_level=architecture["blocks_per_level"],
        num_classes=architecture.get("num_classes"),
        schedule=architecture.get("schedule", "cosine"),
        timesteps=architecture.get("timesteps", DEFAULT_TIMESTEPS),
        label_dropout=architecture.get("label_dropout", 0.1),
        sampling_steps=architecture.get("sampling_steps", 50),
        guidance=architecture.get("guidance"),
        learning_rate=None,
    )


def save_weights(model: Diffusion, path: str | Path) -> None:
    """Write the denoiser's weights (their moving average, if kept) to ``path`` (.weights.h5)."""
    with model.averaged_denoiser() as denoiser:
        denoiser.save_weights(path)


def load_pretrained(name: str = "diffusion_mnist") -> tuple[Diffusion, dict[str, Any]] | None:
    """(model with the shipped weights, provenance), or None when they are not shipped.

    Raises ValueError for a name not in :data:`PRETRAINED_DIFFUSION`.
    """
    if name not in PRETRAINED_DIFFUSION:
        raise ValueError(
            f"Unknown pretrained diffusion model {name!r}; choose one of "
            f"{', '.join(PRETRAINED_DIFFUSION)}."
        )
    record, weights = WEIGHTS_DIR / f"{name}.json", WEIGHTS_DIR / f"{name}.weights.h5"
    if not (record.exists() and weights.exists()):
        return None
    provenance = json.loads(record.read_text())
    model = build_from_record(provenance["architecture"])
    model.denoiser.load_weights(weights)
    return model, provenance
