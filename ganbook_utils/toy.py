"""A GAN you can watch: 2-D mixtures of Gaussians, tiny MLP GANs and mode-coverage metrics.

The data is the classic benchmark of mode collapse (Metz et al., 2017): ``modes`` Gaussians
of standard deviation ``std`` evenly spaced on a ring. Everything here is small enough to train
in seconds on a CPU. matplotlib is imported lazily, inside the plotting functions only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ganbook_utils import checks
from ganbook_utils.losses import get_gan_loss, gradient_penalty

RING_MODES = 8
RING_RADIUS = 2.0
RING_STD = 0.05


def ring_centers(modes: int = RING_MODES, radius: float = RING_RADIUS) -> np.ndarray:
    """Centres of ``modes`` Gaussians evenly spaced on a circle, shaped (modes, 2), float32.

    Raises:
        ValueError: if ``modes`` < 1 or ``radius`` <= 0.
    """
    if int(modes) < 1 or radius <= 0:
        raise ValueError(f"Need modes >= 1 and radius > 0; got modes={modes}, radius={radius}.")
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def sample_ring_mixture(
    count: int,
    *,
    modes: int = RING_MODES,
    radius: float = RING_RADIUS,
    std: float = RING_STD,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """``count`` points from an equal-weight mixture of Gaussians on a ring, shaped (count, 2).

    Raises:
        ValueError: if ``count`` < 1 or ``std`` <= 0.
    """
    if int(count) < 1 or std <= 0:
        raise ValueError(f"Need count >= 1 and std > 0; got count={count}, std={std}.")
    rng = np.random.default_rng(checks.seed(seed))
    centers = ring_centers(modes, radius)
    chosen = rng.integers(0, modes, size=int(count))
    return (centers[chosen] + std * rng.standard_normal((int(count), 2))).astype(np.float32)


def _as_points(name: str, points: Any) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        raise ValueError(
            f"{name} must be a non-empty array of 2-D points shaped (N, 2); got {points.shape}."
        )
    if not np.all(np.isfinite(points)):
        raise ValueError(f"{name} contains NaN or infinite values (did training diverge?).")
    return points


@dataclasses.dataclass(frozen=True)
class ModeCoverage:
    """How well samples cover the modes of a mixture.

    Attributes:
        modes_covered: modes that received at least ``min_fraction`` of the samples as
            high-quality samples.
        modes: number of modes of the mixture.
        high_quality_fraction: fraction of samples within ``quality_radius`` std of a centre.
        samples_per_mode: high-quality samples assigned to each mode, shaped (modes,).
    """

    modes_covered: int
    modes: int
    high_quality_fraction: float
    samples_per_mode: np.ndarray

    def __str__(self) -> str:
        return (
            f"{self.modes_covered}/{self.modes} modes covered, "
            f"{100 * self.high_quality_fraction:.1f}% high-quality samples"
        )


def mode_coverage(
    samples: Any,
    centers: Any,
    std: float,
    *,
    quality_radius: float = 3.0,
    min_fraction: float = 20 / 2500,
) -> ModeCoverage:
    """Modes covered and fraction of high-quality samples (Srivastava et al., 2017).

    A sample is *high quality* when it lies within ``quality_radius * std`` of its nearest
    centre. A mode is *covered* when at least ``min_fraction * N`` high-quality samples fall
    on it: by default 20 per 2,500 samples, the threshold of the VEEGAN and PacGAN
    experiments, so that a few stray points do not count as a mode learned.

    Args:
        samples: generated points, shaped (N, 2).
        centers: mixture centres, shaped (modes, 2), e.g. :func:`ring_centers`.
        std: the standard deviation of each mixture component (> 0).

    Raises:
        ValueError: on badly shaped or non-finite input, or a non-positive ``std``.
    """
    samples, centers = _as_points("samples", samples), _as_points("centers", centers)
    if std <= 0 or quality_radius <= 0 or not 0 < min_fraction <= 1:
        raise ValueError(
            f"Need std > 0, quality_radius > 0 and 0 < min_fraction <= 1; got std={std}, "
            f"quality_radius={quality_radius}, min_fraction={min_fraction}."
        )
    distances = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=2)
    nearest = np.argmin(distances, axis=1)
    high_quality = distances[np.arange(len(samples)), nearest] <= quality_radius * std
    per_mode = np.bincount(nearest[high_quality], minlength=len(centers))
    return ModeCoverage(
        modes_covered=int(np.sum(per_mode >= min_fraction * len(samples))),
        modes=len(centers),
        high_quality_fraction=float(np.mean(high_quality)),
        samples_per_mode=per_mode,
    )


def sliced_wasserstein_distance(
    first: Any, second: Any, *, projections: int = 128, seed: int = 0
) -> float:
    """Sliced Wasserstein-1 distance between two equally sized sets of 2-D points.

    The mean, over ``projections`` random directions, of the 1-D Wasserstein distance of the
    projected points (in 1-D it is the mean gap between sorted values). Zero for identical sets.

    Raises:
        ValueError: if the sets are badly shaped or differ in size.
    """
    first, second = _as_points("first", first), _as_points("second", second)
    if len(first) != len(second):
        raise ValueError(
            f"Both point sets must have the same size; got {len(first)} and {len(second)}."
        )
    angles = np.random.default_rng(checks.seed(seed)).uniform(0.0, np.pi, size=projections)
    directions = np.stack([np.cos(angles), np.sin(angles)])
    projected_first = np.sort(first @ directions, axis=0)
    projected_second = np.sort(second @ directions, axis=0)
    return float(np.mean(np.abs(projected_first - projected_second)))


# --- Tiny GANs ---------------------------------------------------------------------------------


def build_toy_mlp(
    input_dim: int,
    output_dim: int,
    *,
    hidden_units: int = 128,
    hidden_layers: int = 2,
    name: str | None = None,
) -> Any:
    """A ReLU multilayer perceptron ``input_dim -> hidden_layers x hidden_units -> output_dim``.

    With ``output_dim=2`` it is a toy generator; with ``output_dim=1`` a discriminator whose
    output is a logit (no sigmoid: the losses take logits).

    Raises:
        ValueError: if a size is smaller than 1 (``hidden_layers`` may be 0).
    """
    import keras

    if min(input_dim, output_dim, hidden_units) < 1 or hidden_layers < 0:
        raise ValueError(
            "Sizes must be positive (hidden_layers >= 0); got "
            f"input_dim={input_dim}, output_dim={output_dim}, hidden_units={hidden_units}, "
            f"hidden_layers={hidden_layers}."
        )
    layers = [keras.Input((input_dim,))]
    layers += [keras.layers.Dense(hidden_units, activation="relu") for _ in range(hidden_layers)]
    layers.append(keras.layers.Dense(output_dim))
    return keras.Sequential(layers, name=name)


def pack_points(points: Any, pack: int) -> Any:
    """Group ``pack`` consecutive points into one example, (N, 2) -> (N / pack, 2 * pack).

    PacGAN (Lin et al., 2018): a discriminator that sees several samples at once can tell
    a collapsed generator (all samples alike) from the data (samples spread over the modes).

    Raises:
        ValueError: if ``pack`` < 1.
    """
    import tensorflow as tf

    if pack < 1:
        raise ValueError(f"pack must be >= 1; got {pack}.")
    return tf.reshape(points, [-1, 2 * pack])


def make_toy_train_step(
    generator: Any,
    discriminator: Any,
    loss: str = "non_saturating",
    *,
    d_optimizer: Any,
    g_optimizer: Any,
    gradient_penalty_weight: float = 0.0,
    pack: int = 1,
) -> Callable[[Any, Any], dict[str, Any]]:
    """One alternating GAN update as a ``tf.function``: ``step(real_points, noise) -> losses``.

    The discriminator takes one step on ``real_points`` (N, 2) against ``generator(noise)``,
    then the generator takes one step against the updated discriminator with the same noise.
    ``loss`` names a pair of :data:`ganbook_utils.losses.GAN_LOSSES`; a positive
    ``gradient_penalty_weight`` adds WGAN-GP's penalty; ``pack`` > 1 feeds the discriminator
    ``pack`` points at a time (N must then be a multiple of ``pack``).

    Raises:
        ValueError: if ``loss`` is unknown or the penalty weight is negative.
    """
    import tensorflow as tf

    d_loss_fn, g_loss_fn = get_gan_loss(loss)
    if gradient_penalty_weight < 0:
        raise ValueError(f"gradient_penalty_weight must be >= 0; got {gradient_penalty_weight}.")

    @tf.function
    def train_step(real_points, noise):
        real_packed = pack_points(real_points, pack)
        with tf.GradientTape() as tape:
            fake_packed = pack_points(generator(noise, training=True), pack)
            d_loss = d_loss_fn(discriminator(real_packed), discriminator(fake_packed))
            if gradient_penalty_weight > 0:
                penalty = gradient_penalty(discriminator, real_packed, fake_packed)
                d_loss += gradient_penalty_weight * penalty
        d_variables = discriminator.trainable_variables
        d_optimizer.apply(tape.gradient(d_loss, d_variables), d_variables)
        with tf.GradientTape() as tape:
            fake_packed = pack_points(generator(noise, training=True), pack)
            g_loss = g_loss_fn(discriminator(fake_packed))
        g_variables = generator.trainable_variables
        g_optimizer.apply(tape.gradient(g_loss, g_variables), g_variables)
        return {"d_loss": d_loss, "g_loss": g_loss}

    return train_step


@dataclasses.dataclass(frozen=True)
class ToySnapshot:
    """The state of a toy GAN at one step: samples, their coverage, the discriminator's map.

    ``surface`` holds the discriminator's raw outputs on a ``resolution x resolution`` grid
    over ``[-extent, extent]^2`` (rows follow y), or None when it was not recorded.
    """

    step: int
    samples: np.ndarray
    coverage: ModeCoverage
    surface: np.ndarray | None
    extent: float


@dataclasses.dataclass(frozen=True)
class ToyRun:
    """What :func:`train_toy_gan` returns: per-step losses and the snapshots taken."""

    losses: dict[str, np.ndarray]
    snapshots: list[ToySnapshot]
    seconds: float

    @property
    def final(self) -> ToySnapshot:
        return self.snapshots[-1]


def discriminator_surface(discriminator: Any, *, extent: float = 3.0, resolution: int = 80) -> Any:
    """Raw discriminator outputs on a grid over ``[-extent, extent]^2``, shaped (res, res)."""
    axis = np.linspace(-extent, extent, resolution, dtype=np.float32)
    grid_x, grid_y = np.meshgrid(axis, axis)
    grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)
    outputs = discriminator(grid, training=False)
    return np.asarray(outputs, dtype=np.float32).reshape(resolution, resolution)


def train_toy_gan(
    train_step: Callable[[Any, Any], dict[str, Any]],
    generator: Any,
    discriminator: Any | None = None,
    *,
    steps: int,
    batch_size: int = 256,
    snapshot_steps: Sequence[int] = (),
    sample_count: int = 2_000,
    std: float = RING_STD,
    extent: float = 3.0,
    seed: int = 0,
    progress: bool = True,
) -> ToyRun:
    """Train a toy GAN on the ring mixture with ``train_step(real_points, noise)``.

    Takes a snapshot (``sample_count`` samples from a fixed noise batch, their mode coverage
    and, when ``discriminator`` is given, its decision surface) at each of ``snapshot_steps``
    (0 is before training) and always at the last step. Shows one tqdm progress bar.

    Raises:
        ValueError: if ``steps`` < 1 or a snapshot step lies outside [0, steps].
    """
    import time

    from tqdm.auto import tqdm

    if steps < 1 or any(not 0 <= s <= steps for s in snapshot_steps):
        raise ValueError(
            f"Need steps >= 1 and snapshot steps in [0, {steps}]; got steps={steps}, "
            f"snapshot_steps={list(snapshot_steps)}."
        )
    rng = np.random.default_rng(checks.seed(seed))
    latent_dim = int(generator.input_shape[-1])
    fixed_noise = np.random.default_rng(seed + 1).standard_normal((sample_count, latent_dim))
    fixed_noise = fixed_noise.astype(np.float32)
    centers = ring_centers()
    wanted = sorted(set(snapshot_steps) | {steps})
    snapshots: list[ToySnapshot] = []

    def snapshot(step: int) -> None:
        samples = np.asarray(generator(fixed_noise, training=False))
        surface = None
        if discriminator is not None:
            surface = discriminator_surface(discriminator, extent=extent)
        if np.all(np.isfinite(samples)):
            coverage = mode_coverage(samples, centers, std)
        else:
            coverage = ModeCoverage(0, len(centers), 0.0, np.zeros(len(centers), np.int64))
        snapshots.append(ToySnapshot(step, samples, coverage, surface, extent))

    history: dict[str, list[float]] = {}
    start = time.perf_counter()
    if 0 in wanted:
        snapshot(0)
    for step in tqdm(range(1, steps + 1), desc="training", disable=not progress, mininterval=1):
        real = sample_ring_mixture(batch_size, std=std, seed=rng)
        noise = rng.standard_normal((batch_size, latent_dim)).astype(np.float32)
        for name, value in train_step(real, noise).items():
            history.setdefault(name, []).append(float(value))
        if step in wanted:
            snapshot(step)
    seconds = time.perf_counter() - start
    return ToyRun({k: np.asarray(v) for k, v in history.items()}, snapshots, seconds)


# --- Figures (matplotlib is imported here, lazily) ---------------------------------------------


def plot_snapshots(
    snapshots: Sequence[ToySnapshot],
    real_points: Any,
    *,
    title: str,
    panel_titles: Sequence[str] | None = None,
    logits: bool = True,
    panel_size: float = 3.0,
    surface_label: str = "raw output D(x)",
) -> Any:
    """A row of panels, one per snapshot: data (grey), samples (orange), decision surface.

    The background shows ``sigmoid(D(x))`` (``logits=True``), the probability the
    discriminator gives to "real", or the raw output otherwise (a logit or a critic's score,
    on one colour scale symmetric about 0, labelled ``surface_label``). Each panel is titled
    with ``panel_titles`` (default: its step) and its mode coverage. Returns the figure.

    Raises:
        ValueError: if ``snapshots`` is empty or ``panel_titles`` has another length.
    """
    import matplotlib.pyplot as plt

    if not snapshots:
        raise ValueError("Pass at least one snapshot (see train_toy_gan's snapshot_steps).")
    if panel_titles is None:
        panel_titles = [f"step {shot.step}" for shot in snapshots]
    if len(panel_titles) != len(snapshots):
        raise ValueError(
            f"Got {len(panel_titles)} panel titles for {len(snapshots)} snapshots; give one each."
        )
    real_points = _as_points("real_points", real_points)
    figure, axes = plt.subplots(
        1,
        len(snapshots),
        figsize=(panel_size * len(snapshots) + 0.8, panel_size + 0.6),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    image = None
    surfaces = [np.abs(shot.surface).max() for shot in snapshots if shot.surface is not None]
    raw_limit = float(max(surfaces, default=1.0)) or 1.0
    for axis, shot, panel_title in zip(axes[0], snapshots, panel_titles, strict=True):
        if shot.surface is not None:
            values = 1.0 / (1.0 + np.exp(-shot.surface)) if logits else shot.surface
            image = axis.imshow(
                values,
                extent=(-shot.extent, shot.extent, -shot.extent, shot.extent),
                origin="lower",
                cmap="RdBu_r",
                vmin=0.0 if logits else -raw_limit,
                vmax=1.0 if logits else raw_limit,
                alpha=0.75,
            )
        axis.scatter(*real_points.T, s=2, c="0.35", label="data")
        axis.scatter(*shot.samples.T, s=2, c="tab:orange", alpha=0.5, label="generated")
        axis.set_xlim(-shot.extent, shot.extent)
        axis.set_ylim(-shot.extent, shot.extent)
        axis.set_aspect("equal")
        axis.set_title(
            f"{panel_title}\n{shot.coverage.modes_covered}/{shot.coverage.modes} modes, "
            f"{100 * shot.coverage.high_quality_fraction:.0f}% HQ",
            fontsize=10,
        )
        axis.set_xlabel("$x_1$")
    axes[0, 0].set_ylabel("$x_2$")
    axes[0, 0].legend(loc="lower left", fontsize=8, markerscale=4)
    if image is not None:
        label = "sigmoid(D(x)) = P(real)" if logits else surface_label
        figure.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label=label)
    figure.suptitle(title)
    return figure


def plot_coverage_curves(runs: dict[str, ToyRun], *, title: str) -> Any:
    """Modes covered and high-quality fraction against training step, one line per run."""
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError("Pass at least one run, e.g. {'non-saturating': run}.")
    figure, (modes_axis, quality_axis) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for name, run in runs.items():
        steps = [shot.step for shot in run.snapshots]
        modes_axis.plot(steps, [s.coverage.modes_covered for s in run.snapshots], "o-", label=name)
        quality_axis.plot(
            steps, [100 * s.coverage.high_quality_fraction for s in run.snapshots], "o-", label=name
        )
    modes = next(iter(runs.values())).final.coverage.modes
    modes_axis.set(xlabel="training step", ylabel="modes covered", ylim=(-0.3, modes + 0.3))
    modes_axis.set_title("Modes covered")
    quality_axis.set(xlabel="training step", ylabel="high-quality samples (%)", ylim=(-3, 103))
    quality_axis.set_title("High-quality samples")
    modes_axis.legend(fontsize=9)
    figure.suptitle(title)
    return figure
