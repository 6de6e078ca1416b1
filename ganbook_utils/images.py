"""The image container and the checks every image function shares.

:class:`ImageSet` holds a batch of uint8 images (N, H, W, C), channels last, with optional
labels, captions and attributes. The checks turn a bad batch (wrong dtype, rank, channel count,
range) into one line that names what is wrong and the fix.

This module is the bottom of the data layer: it imports only NumPy and
:mod:`ganbook_utils.checks`, so :mod:`ganbook_utils.shapes` (which makes image sets) and
:mod:`ganbook_utils.data` (which loads and preprocesses them) both build on it and data flows
one way: ``images`` -> ``shapes`` -> ``data``. ``ganbook_utils.data`` re-exports
:class:`ImageSet`, :func:`check_uint8_images` and :func:`check_unit_range`, the names the
chapters use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np


@dataclasses.dataclass
class ImageSet:
    """A set of images with optional per-image labels, captions and attributes.

    Attributes:
        images: uint8 array (N, H, W, C), channels last, C = 1 (grayscale) or 3 (RGB).
        labels: int array (N,) or None.
        captions: list of N strings or None.
        attributes: dict of arrays with N rows each (e.g. ``shape``, ``colour``) or None.
    """

    images: np.ndarray
    labels: np.ndarray | None = None
    captions: list[str] | None = None
    attributes: dict[str, np.ndarray] | None = None

    def __post_init__(self) -> None:
        check_uint8_images(self.images, "ImageSet.images")
        count = len(self.images)
        if self.labels is not None:
            self.labels = np.asarray(self.labels)
            if self.labels.shape != (count,) or not np.issubdtype(self.labels.dtype, np.integer):
                raise ValueError(
                    f"ImageSet.labels must be an int array of shape ({count},) (one per image); "
                    f"got dtype {self.labels.dtype}, shape {self.labels.shape}."
                )
        if self.captions is not None and len(self.captions) != count:
            raise ValueError(f"ImageSet has {count} images but {len(self.captions)} captions.")
        for key, values in (self.attributes or {}).items():
            if len(values) != count:
                raise ValueError(
                    f"ImageSet attribute {key!r} has {len(values)} rows for {count} images."
                )

    def __len__(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of one image."""
        return tuple(self.images.shape[1:])

    def subset(self, indices: np.ndarray | Sequence[int] | slice) -> ImageSet:
        """The images (and their labels, captions, attributes) at ``indices``: integer
        positions, a slice, or a boolean mask with one entry per image.

        Raises:
            ValueError: for a boolean mask of another length, or non-integer positions.
        """
        if isinstance(indices, slice):
            indices = np.arange(len(self))[indices]
        indices = np.asarray(indices)
        if indices.dtype == bool:
            if indices.shape != (len(self),):
                raise ValueError(
                    f"ImageSet.subset: a boolean mask needs one entry per image ({len(self)}); "
                    f"got shape {indices.shape}."
                )
            indices = np.flatnonzero(indices)
        elif indices.size and not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(
                f"ImageSet.subset: indices must be integer positions, a slice or a boolean "
                f"mask; got dtype {indices.dtype}."
            )
        indices = indices.astype(np.int64)
        return ImageSet(
            images=self.images[indices],
            labels=None if self.labels is None else self.labels[indices],
            captions=None if self.captions is None else [self.captions[i] for i in indices],
            attributes=None
            if self.attributes is None
            else {key: np.asarray(values)[indices] for key, values in self.attributes.items()},
        )


# ----------------------------------------------------------------------------------------------
# Checks shared by every image function: bad input raises, naming what was wrong and the fix
# ----------------------------------------------------------------------------------------------


def as_numeric_array(images: Any, what: str) -> np.ndarray:
    """``images`` (an array, a ``tf.Tensor``, nested lists) as a numeric NumPy array.

    Raises:
        TypeError: for an :class:`ImageSet` (pass its ``.images``) or a non-numeric dtype.
    """
    if hasattr(images, "numpy") and not isinstance(images, np.ndarray):
        images = images.numpy()  # a tf.Tensor
    if isinstance(images, ImageSet):
        raise TypeError(f"{what}: pass the array `image_set.images`, not the ImageSet itself.")
    array = np.asarray(images)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{what}: expected a numeric array of images; got dtype {array.dtype}.")
    return array


def check_batch_shape(array: np.ndarray, what: str) -> None:
    """Raise ValueError unless ``array`` is a non-empty batch (N, H, W, C) with C = 1 or 3."""
    if array.ndim != 4:
        hint = (
            " For one grayscale batch (N, H, W) add a channel axis: `images[..., None]`;"
            " for one image add a batch axis: `image[None]`."
            if array.ndim in (2, 3)
            else ""
        )
        raise ValueError(
            f"{what}: expected a batch of images shaped (N, H, W, C); got {array.ndim} "
            f"dimension(s), shape {array.shape}.{hint}"
        )
    if array.shape[0] == 0:
        raise ValueError(
            f"{what}: the batch is empty (shape {array.shape}); pass at least one image."
        )
    if array.shape[1] == 0 or array.shape[2] == 0:
        raise ValueError(f"{what}: images have zero height or width (shape {array.shape}).")
    if array.shape[3] not in (1, 3):
        raise ValueError(
            f"{what}: expected 1 (grayscale) or 3 (RGB) channels in the last axis, channels last; "
            f"got shape {array.shape}. Channels-first data needs `np.moveaxis(images, 1, -1)`."
        )


def check_uint8_images(images: Any, what: str = "images") -> np.ndarray:
    """Return ``images`` as a uint8 array (N, H, W, C), or raise saying what is wrong.

    Raises:
        TypeError: for a non-uint8 dtype (with the conversion to use).
        ValueError: for a wrong rank, an empty batch, or a channel count other than 1 or 3.
    """
    array = as_numeric_array(images, what)
    if array.dtype != np.uint8:
        raise TypeError(
            f"{what}: expected uint8 pixels in [0, 255]; got dtype {array.dtype}. "
            + (
                "Float images in [-1, 1] go back with `denormalize_images`."
                if np.issubdtype(array.dtype, np.floating)
                else "Convert with `np.clip(images, 0, 255).astype(np.uint8)`."
            )
        )
    check_batch_shape(array, what)
    return array


def check_images_any_dtype(images: Any, what: str) -> np.ndarray:
    """A batch (N, H, W, C) of uint8 pixels or finite floats (preprocessing keeps the dtype).

    Raises:
        TypeError: for a dtype other than uint8 or float.
        ValueError: for a wrong shape, or NaN/inf among float pixels.
    """
    array = as_numeric_array(images, what)
    check_batch_shape(array, what)
    if array.dtype != np.uint8 and not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"{what}: expected uint8 or float images; got dtype {array.dtype}. "
            "Convert integers with `.astype(np.uint8)`."
        )
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{what}: the images contain NaN or infinite values.")
    return array


def check_unit_range(
    array: np.ndarray, who: str, *, tolerance: float = 1e-3, pixels_fix: str = "pass them as uint8"
) -> tuple[float, float]:
    """Raise a clear ValueError unless float ``array`` is finite and within [-1, 1] ± tolerance.

    Returns (min, max). ``pixels_fix`` tells the reader what to do when the values look like
    [0, 255] pixels stored as floats, the most common mistake.
    """
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"{who}: {int(np.sum(~np.isfinite(array)))} values are NaN or infinite "
            "(a diverged model?); fix them first."
        )
    low, high = float(array.min()), float(array.max())
    if low < -1.0 - tolerance or high > 1.0 + tolerance:
        hint = (
            f" They look like pixels in [0, 255]: {pixels_fix}."
            if low >= 0.0 and high > 1.5
            else " Rescale them to [-1, 1] (the range of a tanh output)."
        )
        raise ValueError(
            f"{who} expects values in [-1, 1]; got values in [{low:.4g}, {high:.4g}].{hint}"
        )
    return low, high
