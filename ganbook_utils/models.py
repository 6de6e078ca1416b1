"""Generators and discriminators: DCGAN at 28x28x1, 32x32x3 and 64x64x3, and the seed's model.

The builders return functional Keras 3 models. A generator maps latent vectors (batch, latent_dim)
to images (batch, H, W, C) in [-1, 1] (tanh); a discriminator maps images to one **logit** per
image (no sigmoid: the losses in :mod:`ganbook_utils.losses` take logits, which is numerically
safer than probabilities).

The seed article's ``Generator``/``Discriminator`` classes are reproduced as :class:`SeedGenerator`
and :class:`SeedDiscriminator` (with their mistakes, for the chapter to show), next to
:class:`FixedSeedGenerator` and :class:`FixedSeedDiscriminator`, the same classes corrected.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
from keras import layers

from ganbook_utils import checks

# name -> image shape (height, width, channels). Height and width must be a power of two times
# the starting grid, which is 7 for MNIST's 28 (two upsamplings) and 4 or 8 otherwise (three).
DCGAN_IMAGE_SHAPES = {
    "dcgan28": (28, 28, 1),
    "dcgan32": (32, 32, 3),
    "dcgan64": (64, 64, 3),
}
_START_SIZE = {28: 7, 32: 4, 64: 8}
NORMALIZATIONS = ("batch", "layer", "none")
# How the generator doubles its grid: a transposed convolution (DCGAN, the seed), or a
# nearest-neighbour resize followed by a 3x3 convolution (Odena et al. 2016), which cannot
# draw the checkerboard of unequal even/odd kernel taps.
UPSAMPLINGS = ("transposed", "resize")


def _check_image_shape(image_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    supported = ", ".join(str(s) for s in DCGAN_IMAGE_SHAPES.values())
    if not isinstance(image_shape, (tuple, list)) or not all(
        checks.is_integer(d) for d in image_shape
    ):
        raise ValueError(
            f"image_shape must be a (height, width, channels) tuple of integers, one of "
            f"{supported}; got {image_shape!r}."
        )
    image_shape = tuple(int(d) for d in image_shape)
    square = len(image_shape) == 3 and image_shape[0] == image_shape[1]
    if not square or image_shape[0] not in _START_SIZE:
        raise ValueError(
            f"Unsupported image shape {image_shape}: the DCGAN builders make square images of "
            f"shape {supported} (height, width, channels)."
        )
    if image_shape[2] < 1:
        raise ValueError(f"Image shape {image_shape} needs at least one channel.")
    return image_shape


def _check_positive(name: str, value: int) -> int:
    return checks.integer(value, name)


def _normalization(kind: str, name: str) -> layers.Layer | None:
    if kind == "batch":
        return layers.BatchNormalization(name=name)
    if kind == "layer":
        return layers.LayerNormalization(name=name)
    if kind == "none":
        return None
    raise ValueError(f"normalization must be one of {NORMALIZATIONS}; got {kind!r}.")


def _upsample(filters: int, upsampling: str, name: str, **conv_kwargs: Any) -> Callable:
    """A layer (or two) that doubles the grid and outputs ``filters`` channels."""
    if upsampling == "transposed":
        return layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", name=name, **conv_kwargs
        )
    resize = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_resize")
    convolve = layers.Conv2D(filters, 3, padding="same", name=name, **conv_kwargs)
    return lambda x: convolve(resize(x))


def build_dcgan_generator(
    image_shape: tuple[int, int, int] = (28, 28, 1),
    latent_dim: int = 100,
    width: int = 64,
    name: str = "generator",
    upsampling: str = "transposed",
) -> keras.Model:
    """DCGAN generator: Dense -> Reshape -> [BatchNorm, ReLU, Conv2DTranspose stride 2] x n -> tanh.

    Args:
        image_shape: (28, 28, 1), (32, 32, 3) or (64, 64, 3).
        latent_dim: length of the latent vector z (input shape (batch, latent_dim)).
        width: channels of the last hidden layer; each earlier layer doubles it. The seed's
            64x64x3 model is ``width=64`` (256 -> 128 -> 64 -> 3 channels).
        upsampling: ``"transposed"`` (a 4x4 transposed convolution of stride 2, DCGAN's and the
            seed's) or ``"resize"`` (nearest-neighbour resize by 2, then a 3x3 convolution).

    Returns an uncompiled model whose outputs are (batch, *image_shape) in [-1, 1].
    Raises ValueError for an unsupported shape, a non-positive size or an unknown upsampling.
    """
    height, _, channels = _check_image_shape(image_shape)
    latent_dim = _check_positive("latent_dim", latent_dim)
    width = _check_positive("width", width)
    if upsampling not in UPSAMPLINGS:
        raise ValueError(f"upsampling must be one of {UPSAMPLINGS}; got {upsampling!r}.")
    start = _START_SIZE[height]
    upsamplings = {7: 2, 4: 3, 8: 3}[start]
    filters = width * 2 ** (upsamplings - 1)

    z = keras.Input(shape=(latent_dim,), name="z")
    # No bias before BatchNorm: its shift (beta) already plays that role.
    x = layers.Dense(start * start * filters, use_bias=False, name="project")(z)
    x = layers.Reshape((start, start, filters), name="reshape")(x)
    x = layers.BatchNormalization(name="project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    for index in range(1, upsamplings):
        filters //= 2
        x = _upsample(filters, upsampling, f"up{index}", use_bias=False)(x)
        x = layers.BatchNormalization(name=f"up{index}_bn")(x)
        x = layers.ReLU(name=f"up{index}_relu")(x)
    x = _upsample(channels, upsampling, f"up{upsamplings}")(x)
    # float32 output even under mixed precision: images leave the model in full precision.
    images = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model(z, images, name=name)


def build_dcgan_discriminator(
    image_shape: tuple[int, int, int] = (28, 28, 1),
    width: int = 64,
    normalization: str = "batch",
    dropout: float = 0.0,
    name: str = "discriminator",
) -> keras.Model:
    """DCGAN discriminator: [Conv2D stride 2, norm, LeakyReLU(0.2)] x n -> Flatten -> Dense(1).

    Args:
        image_shape: (28, 28, 1), (32, 32, 3) or (64, 64, 3); inputs in [-1, 1].
        width: channels of the first convolution; each later one doubles it.
        normalization: ``"batch"`` (DCGAN), ``"layer"`` (for WGAN-GP, whose gradient penalty is
            per image and so must not mix images through batch statistics) or ``"none"``.
        dropout: dropout rate after each block (0 disables it).

    Returns an uncompiled model with outputs (batch, 1): logits, not probabilities.
    Raises ValueError for an unsupported shape, size, normalization or dropout rate.
    """
    image_shape = _check_image_shape(image_shape)
    height = image_shape[0]
    width = _check_positive("width", width)
    dropout = checks.number(dropout, "dropout", low=0, high=1, high_open=True)
    _normalization(normalization, "check")  # validates the name before building anything
    downsamplings = 2 if height == 28 else 3

    images = keras.Input(shape=image_shape, name="images")
    x = images
    for index in range(1, downsamplings + 1):
        x = layers.Conv2D(
            width * 2 ** (index - 1), 4, strides=2, padding="same", name=f"down{index}"
        )(x)
        # DCGAN leaves the first block unnormalized: it sees raw pixels of real and fake images.
        norm = _normalization(normalization, f"down{index}_norm") if index > 1 else None
        if norm is not None:
            x = norm(x)
        x = layers.LeakyReLU(0.2, name=f"down{index}_lrelu")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"down{index}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    logits = layers.Dense(1, dtype="float32", name="logit")(x)
    return keras.Model(images, logits, name=name)


def build_dcgan(
    model: str = "dcgan28",
    latent_dim: int = 100,
    width: int = 64,
    normalization: str = "batch",
    dropout: float = 0.0,
    upsampling: str = "transposed",
) -> tuple[keras.Model, keras.Model]:
    """(generator, discriminator) for a model name of :data:`DCGAN_IMAGE_SHAPES`.

    Raises ValueError for an unknown name (the message lists the known ones).
    """
    if model not in DCGAN_IMAGE_SHAPES:
        raise ValueError(f"Unknown model {model!r}; choose one of {', '.join(DCGAN_IMAGE_SHAPES)}.")
    shape = DCGAN_IMAGE_SHAPES[model]
    generator = build_dcgan_generator(
        shape, latent_dim=latent_dim, width=width, upsampling=upsampling
    )
    discriminator = build_dcgan_discriminator(
        shape, width=width, normalization=normalization, dropout=dropout
    )
    return generator, discriminator


def checkerboard_amplitude(images: Any) -> float:
    """Mean amplitude of the 2x2 alternating (checkerboard) pattern, in [0, 1] brightness units.

    ``images`` are (N, H, W, C) floats in [-1, 1] with even H and W. Each 2x2 block of the grey
    image (the channel mean, scaled to [0, 1]) contributes ``|a - b - c + d| / 4`` for its
    pixels ``[[a, b], [c, d]]``: 0 for any smooth ramp or edge-aligned stripe, 0.5 for a
    black-and-white checkerboard. The mean over all blocks and images is returned.
    Raises ValueError for another shape.
    """
    import numpy as np

    array = np.asarray(images, dtype="float64")
    if array.ndim != 4 or array.shape[1] % 2 or array.shape[2] % 2 or not len(array):
        raise ValueError(
            f"checkerboard_amplitude expects images (N, H, W, C) with even H and W; "
            f"got shape {array.shape}."
        )
    grey = (array.mean(axis=-1) + 1) / 2
    pattern = grey[:, 0::2, 0::2] - grey[:, 0::2, 1::2] - grey[:, 1::2, 0::2] + grey[:, 1::2, 1::2]
    return float(np.mean(np.abs(pattern)) / 4)


# --- Pretrained weights shipped with the package. -------------------------------------------------

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# name -> what it is; each has NAME.weights.h5 (generator weights) and NAME.json (provenance).
PRETRAINED_GENERATORS = {
    "dcgan28_mnist": "DCGAN generator for 28x28x1 MNIST digits",
    "dcgan64_shapes": "the seed's 64x64x3 generator (DCGAN layers) for the procedural shapes",
}


def pretrained_provenance(name: str) -> dict[str, Any] | None:
    """The provenance record (command, data, steps, wall time, losses, ...) of shipped weights.

    Returns None when the weights of this name are not shipped (e.g. not yet trained).
    Raises ValueError for a name not in :data:`PRETRAINED_GENERATORS`.
    """
    if name not in PRETRAINED_GENERATORS:
        raise ValueError(
            f"Unknown pretrained weights {name!r}; "
            f"choose one of {', '.join(PRETRAINED_GENERATORS)}."
        )
    record, weights = WEIGHTS_DIR / f"{name}.json", WEIGHTS_DIR / f"{name}.weights.h5"
    if not (record.exists() and weights.exists()):
        return None
    return json.loads(record.read_text())


def load_pretrained_generator(name: str) -> tuple[keras.Model, dict[str, Any]] | None:
    """(generator with the shipped weights, provenance), or None if they are not shipped.

    The generator is rebuilt from the provenance's ``architecture`` record
    (``build_dcgan_generator`` arguments) and then loaded. Raises ValueError for an unknown name.
    """
    provenance = pretrained_provenance(name)
    if provenance is None:
        return None
    architecture = provenance["architecture"]
    generator = build_dcgan_generator(
        DCGAN_IMAGE_SHAPES[architecture["model"]],
        latent_dim=architecture["latent_dim"],
        width=architecture["width"],
        upsampling=architecture.get("upsampling", "transposed"),
    )
    generator.load_weights(WEIGHTS_DIR / f"{name}.weights.h5")
    return generator, provenance


# --- The seed article's model, as published (section 4), and the same classes fixed. -----------


class SeedGenerator(keras.Model):
    """The seed's generator as published. It does not run: see :class:`FixedSeedGenerator`.

    Its mistakes: ``Dense`` outputs a flat (batch, 16384) vector and no ``Reshape`` turns it into
    an 8x8x256 grid, so the first ``Conv2DTranspose`` fails; one ``BatchNormalization`` and one
    activation serve the Dense layer while the transposed convolutions get neither.
    """

    def __init__(self):
        super().__init__()
        self.fc = layers.Dense(256 * 8 * 8)
        self.bn = layers.BatchNormalization()
        self.leaky_relu = layers.LeakyReLU(negative_slope=0.2)  # the seed's `alpha=0.2`
        self.deconv1 = layers.Conv2DTranspose(128, kernel_size=4, strides=2, padding="same")
        self.deconv2 = layers.Conv2DTranspose(64, kernel_size=4, strides=2, padding="same")
        self.deconv3 = layers.Conv2DTranspose(
            3, kernel_size=4, strides=2, padding="same", activation="tanh"
        )

    def call(self, x):
        x = self.fc(x)
        x = self.bn(x)
        x = self.leaky_relu(x)
        x = self.deconv1(x)
        x = self.deconv2(x)
        x = self.deconv3(x)
        return x


class SeedDiscriminator(keras.Model):
    """The seed's discriminator as published: cut off after its third layer, with no ``call``."""

    def __init__(self):
        super().__init__()
        self.conv1 = layers.Conv2D(64, kernel_size=4, strides=2, padding="same")
        self.conv2 = layers.Conv2D(128, kernel_size=4, strides=2, padding="same")
        self.bn1 = layers.BatchNormalization()  # the seed stops here: `tf.keras.layers.BatchNorm`


class FixedSeedGenerator(keras.Model):
    """The seed's generator, fixed: 100-d z -> 64x64x3 images in [-1, 1].

    Fixes: a ``Reshape`` to (8, 8, 256) after the Dense layer; BatchNorm + LeakyReLU after every
    hidden layer, not once; no bias before a BatchNorm. Same layers as
    ``build_dcgan_generator((64, 64, 3))`` except LeakyReLU (the seed's choice) for ReLU.
    """

    def __init__(self, latent_dim: int = 100):
        super().__init__()
        self.latent_dim = _check_positive("latent_dim", latent_dim)
        self.fc = layers.Dense(256 * 8 * 8, use_bias=False)
        self.reshape = layers.Reshape((8, 8, 256))
        self.bn0 = layers.BatchNormalization()
        self.deconv1 = layers.Conv2DTranspose(128, 4, strides=2, padding="same", use_bias=False)
        self.bn1 = layers.BatchNormalization()
        self.deconv2 = layers.Conv2DTranspose(64, 4, strides=2, padding="same", use_bias=False)
        self.bn2 = layers.BatchNormalization()
        self.deconv3 = layers.Conv2DTranspose(3, 4, strides=2, padding="same", activation="tanh")
        self.leaky_relu = layers.LeakyReLU(negative_slope=0.2)  # stateless: safe to reuse

    def call(self, z, training=False):
        x = self.reshape(self.fc(z))
        x = self.leaky_relu(self.bn0(x, training=training))
        x = self.leaky_relu(self.bn1(self.deconv1(x), training=training))
        x = self.leaky_relu(self.bn2(self.deconv2(x), training=training))
        return self.deconv3(x)


class FixedSeedDiscriminator(keras.Model):
    """The seed's discriminator, completed: 64x64x3 images -> one logit per image.

    Completes the cut-off class the way DCGAN does: three stride-2 convolutions (64, 128, 256),
    BatchNorm after all but the first, LeakyReLU(0.2), then Flatten and Dense(1) with no sigmoid.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = layers.Conv2D(64, kernel_size=4, strides=2, padding="same")
        self.conv2 = layers.Conv2D(128, kernel_size=4, strides=2, padding="same")
        self.bn1 = layers.BatchNormalization()
        self.conv3 = layers.Conv2D(256, kernel_size=4, strides=2, padding="same")
        self.bn2 = layers.BatchNormalization()
        self.leaky_relu = layers.LeakyReLU(negative_slope=0.2)
        self.flatten = layers.Flatten()
        self.logit = layers.Dense(1)

    def call(self, images, training=False):
        x = self.leaky_relu(self.conv1(images))
        x = self.leaky_relu(self.bn1(self.conv2(x), training=training))
        x = self.leaky_relu(self.bn2(self.conv3(x), training=training))
        return self.logit(self.flatten(x))
