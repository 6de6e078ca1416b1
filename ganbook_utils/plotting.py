"""Figures: image grids, loss curves, GIFs, latent-space plots.

The only module (with ``widgets``) that imports matplotlib at import time.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ganbook_utils import checks

# Tolerance on the pixel range: float round-off of a tanh output may step just outside [-1, 1].
_RANGE_TOLERANCE = 1e-3


def _check_pixel_range(pixel_range: tuple[float, float] | None, dtype: np.dtype) -> tuple:
    if pixel_range is None:
        # Decided by the dtype, never guessed from the values: a [-1, 1] batch whose minimum
        # happens to be >= 0 (an all-white digit) must not be read as [0, 1].
        return (0.0, 255.0) if dtype == np.uint8 else (-1.0, 1.0)
    valid = isinstance(pixel_range, (tuple, list)) and len(pixel_range) == 2
    if not valid or not all(isinstance(v, (int, float, np.number)) for v in pixel_range):
        raise ValueError(f"pixel_range must be a (low, high) pair; got {pixel_range!r}.")
    low, high = float(pixel_range[0]), float(pixel_range[1])
    if not low < high:
        raise ValueError(f"pixel_range must have low < high; got {pixel_range!r}.")
    return low, high


def _to_unit_range(
    images: np.ndarray, pixel_range: tuple[float, float] | None = None, who: str = "image_grid"
) -> np.ndarray:
    """Map a batch (N, H, W, C) to floats in [0, 1] for display, refusing what it cannot show.

    ``pixel_range`` is the range the values are drawn from; default: (0, 255) for uint8, (-1, 1)
    (the book's convention) for floats. Pass (0, 1) for float images in [0, 1].
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(
            f"{who}: expected a non-empty batch of images shaped (N, H, W, C); got shape "
            f"{images.shape}."
        )
    if images.shape[-1] not in (1, 3):
        hint = (
            " Channels-first? Use np.moveaxis(images, 1, -1)." if images.shape[1] in (1, 3) else ""
        )
        raise ValueError(
            f"{who}: expected 1 (grayscale) or 3 (RGB) channels in the last axis; got shape "
            f"{images.shape}.{hint}"
        )
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"{who}: expected uint8 pixels or float images; got dtype {images.dtype}. "
            "Convert pixels with images.astype(np.uint8)."
        )
    low, high = _check_pixel_range(pixel_range, images.dtype)
    values = images.astype(np.float32)
    if not np.all(np.isfinite(values)):
        bad = int(np.sum(~np.isfinite(values)))
        everything = " (all of them)" if bad == values.size else ""
        raise ValueError(
            f"{who}: {bad} values are NaN or infinite{everything}; a diverged model? "
            "There is nothing meaningful to draw."
        )
    tolerance = _RANGE_TOLERANCE * (high - low)
    seen_low, seen_high = float(values.min()), float(values.max())
    if seen_low < low - tolerance or seen_high > high + tolerance:
        hint = (
            " They look like [0, 255] pixels stored as floats: pass them as uint8."
            if seen_low >= 0.0 and seen_high > 1.5
            else ""
        )
        raise ValueError(
            f"{who}: values lie in [{seen_low:.3g}, {seen_high:.3g}], outside pixel_range="
            f"({low:g}, {high:g}).{hint} Pass pixel_range=(low, high) for another range."
        )
    return np.clip((values - low) / (high - low), 0.0, 1.0)


def image_grid(
    images: np.ndarray,
    columns: int | None = None,
    padding: int = 1,
    pixel_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Tile ``images`` of shape (N, H, W, C) into one (rows*H, columns*W, C) array in [0, 1].

    ``pixel_range``: the range of the values, by default decided by the dtype: uint8 pixels are
    in (0, 255), floats in (-1, 1); pass ``(0, 1)`` for float images in [0, 1]. C must be 1 or
    3 (channels last); a single (N, H, W) grayscale batch is accepted. Empty cells stay white.
    Raises ValueError for NaN/inf, values outside the range, or a bad shape.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    images = _to_unit_range(images, pixel_range)
    count, height, width, channels = images.shape
    columns = math.ceil(math.sqrt(count)) if columns is None else columns
    columns = checks.integer(columns, "columns", who="image_grid")
    padding = checks.integer(padding, "padding", minimum=0, who="image_grid")
    rows = math.ceil(count / columns)
    grid = np.ones(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        dtype=np.float32,
    )
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        grid[top : top + height, left : left + width] = image
    return grid


def show_images(
    images: np.ndarray,
    title: str,
    columns: int | None = None,
    labels: list[str] | None = None,
    size: float = 6.0,
    pixel_range: tuple[float, float] | None = None,
):
    """Show a batch of images as one grid with a title; returns the matplotlib figure.

    With ``labels``, each image is drawn in its own axis with its label as a caption.
    ``pixel_range`` as for :func:`image_grid` (default: by dtype, uint8 (0, 255), float (-1, 1)).
    """
    images = np.asarray(images)
    if labels is None:
        grid = image_grid(images, columns, pixel_range=pixel_range)
        figure, axis = plt.subplots(figsize=(size, size * grid.shape[0] / grid.shape[1]))
        axis.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
        axis.set_axis_off()
    else:
        if len(labels) != len(images):
            raise ValueError(f"Got {len(labels)} labels for {len(images)} images; give one each.")
        unit = _to_unit_range(
            images if images.ndim == 4 else images[..., None], pixel_range, "show_images"
        )
        columns = math.ceil(math.sqrt(len(unit))) if columns is None else columns
        columns = checks.integer(columns, "columns", who="show_images")
        rows = math.ceil(len(unit) / columns)
        figure, axes = plt.subplots(rows, columns, figsize=(size, size * rows / columns))
        for axis in np.ravel(axes):
            axis.set_axis_off()
        for axis, image, label in zip(np.ravel(axes), unit, labels, strict=False):
            axis.imshow(
                image.squeeze(-1) if image.shape[-1] == 1 else image, cmap="gray", vmin=0, vmax=1
            )
            axis.set_title(label, fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_latent_map(images: np.ndarray, values: np.ndarray, title: str, size: float = 7.0):
    """Decoded images of a 2-D latent grid, drawn on latent-space axes; returns the figure.

    ``images`` (S*S, H, W, C) are the decodings of the grid points (z1, z2) with z1 = ``values``
    along each row and z2 = ``values[::-1]`` down the rows (top row: largest z2), ``values`` (S,).
    """
    values = np.asarray(values)
    steps = len(values)
    if len(images) != steps * steps:
        raise ValueError(
            f"Expected {steps}x{steps} = {steps * steps} images for {steps} grid values; "
            f"got {len(images)}."
        )
    grid = image_grid(images, columns=steps, padding=0)
    figure, axis = plt.subplots(figsize=(size, size))
    half = (values[1] - values[0]) / 2 if steps > 1 else 0.5
    extent = (values[0] - half, values[-1] + half, values[0] - half, values[-1] + half)
    axis.imshow(
        grid.squeeze(-1) if grid.shape[-1] == 1 else grid,
        cmap="gray",
        vmin=0,
        vmax=1,
        extent=extent,
    )
    axis.set_xlabel("$z_1$")
    axis.set_ylabel("$z_2$")
    axis.set_title(title)
    figure.tight_layout()
    return figure


def plot_latent_scatter(
    latents: np.ndarray,
    labels: np.ndarray,
    title: str,
    class_names: list[str] | None = None,
    size: float = 7.0,
):
    """Scatter of 2-D codes (N, 2) coloured by integer ``labels`` (N,); returns the figure."""
    latents, labels = np.asarray(latents), np.asarray(labels)
    if latents.ndim != 2 or latents.shape[1] != 2 or len(labels) != len(latents):
        raise ValueError(
            f"Expected latents (N, 2) and labels (N,); got {latents.shape} and {labels.shape}."
        )
    figure, axis = plt.subplots(figsize=(size, size))
    classes = np.unique(labels)
    colours = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    for index, label in enumerate(classes):
        chosen = labels == label
        name = class_names[int(label)] if class_names is not None else str(label)
        axis.scatter(*latents[chosen].T, s=6, alpha=0.7, color=colours(index), label=name)
    axis.legend(title="label", markerscale=3, loc="best", fontsize=8)
    axis.set_xlabel("$z_1$")
    axis.set_ylabel("$z_2$")
    axis.set_title(title)
    axis.set_aspect("equal")
    figure.tight_layout()
    return figure


def plot_pixel_histograms(
    panels: dict[str, np.ndarray],
    title: str,
    bins: int = 64,
    log_scale: bool = True,
    size: tuple[float, float] = (11.0, 3.6),
):
    """One histogram of pixel values per panel (name -> array of any shape); returns the figure.

    Each panel is annotated with its value range and mean. ``log_scale`` puts the y axis
    (fraction of pixels) on a log scale, so that rare values next to a large peak (the black
    background of MNIST) stay visible.
    """
    if not panels:
        raise ValueError("plot_pixel_histograms needs at least one panel (name -> values).")
    figure, axes = plt.subplots(1, len(panels), figsize=size, squeeze=False)
    for axis, (name, values) in zip(axes[0], panels.items(), strict=True):
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError(f"Panel {name!r} is empty or holds NaN/inf values.")
        counts, edges = np.histogram(values, bins=bins)
        axis.stairs(counts / values.size, edges, fill=True)
        if log_scale:
            axis.set_yscale("log")
        axis.set_title(name, fontsize=10)
        axis.set_xlabel("pixel value")
        axis.set_ylabel("fraction of pixels")
        axis.text(
            0.97,
            0.95,
            f"range [{values.min():.3g}, {values.max():.3g}]\nmean {values.mean():.3g}",
            transform=axis.transAxes,
            ha="right",
            va="top",
            fontsize=8,
        )
    figure.suptitle(title)
    figure.tight_layout()
    return figure
