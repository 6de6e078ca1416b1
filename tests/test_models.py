"""Tests of ganbook_utils.models: DCGAN builders, the seed's model as published and fixed."""

from __future__ import annotations

import numpy as np
import pytest

from ganbook_utils import models


@pytest.mark.parametrize("name", sorted(models.DCGAN_IMAGE_SHAPES))
def test_dcgan_shapes_and_ranges(name):
    generator, discriminator = models.build_dcgan(name, latent_dim=8, width=4)
    z = np.random.default_rng(0).standard_normal((3, 8)).astype("float32")
    images = np.asarray(generator(z, training=False))
    assert images.shape == (3, *models.DCGAN_IMAGE_SHAPES[name])
    assert np.all(images >= -1.0) and np.all(images <= 1.0)
    logits = np.asarray(discriminator(images, training=False))
    assert logits.shape == (3, 1)
    assert np.all(np.isfinite(logits))


def test_generator_width_sets_the_channels():
    generator = models.build_dcgan_generator((64, 64, 3), latent_dim=100, width=64)
    # The seed's widths: 256 channels on the 8x8 grid, then 128, 64, 3.
    assert generator.get_layer("reshape").output.shape[1:] == (8, 8, 256)
    assert generator.get_layer("up1").output.shape[1:] == (16, 16, 128)
    assert generator.get_layer("up2").output.shape[1:] == (32, 32, 64)
    assert generator.output.shape[1:] == (64, 64, 3)


def test_layer_norm_discriminator_scores_each_image_independently():
    # WGAN-GP needs per-image scores: changing image 1 must not change image 0's score.
    discriminator = models.build_dcgan_discriminator((28, 28, 1), width=4, normalization="layer")
    batch = np.random.default_rng(1).uniform(-1, 1, (2, 28, 28, 1)).astype("float32")
    changed = batch.copy()
    changed[1] = -changed[1]
    first = np.asarray(discriminator(batch, training=True))[0]
    second = np.asarray(discriminator(changed, training=True))[0]
    np.testing.assert_allclose(first, second, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: models.build_dcgan_generator((30, 30, 1)), "Unsupported image shape"),
        (lambda: models.build_dcgan_generator((28, 28, 1), latent_dim=0), "latent_dim"),
        (lambda: models.build_dcgan_discriminator((28, 28, 1), width=-2), "width"),
        (lambda: models.build_dcgan_discriminator((28, 28, 1), normalization="group"), "batch"),
        (lambda: models.build_dcgan_discriminator((28, 28, 1), dropout=1.0), "dropout"),
        (lambda: models.build_dcgan("dcgan128"), "dcgan28"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_seed_generator_fails_without_reshape():
    z = np.zeros((2, 100), dtype="float32")
    with pytest.raises(ValueError, match="ndim"):
        models.SeedGenerator()(z)


@pytest.mark.filterwarnings("ignore:.*(unbuilt state|build\\(\\)):UserWarning")
def test_seed_discriminator_is_cut_off():
    images = np.zeros((2, 64, 64, 3), dtype="float32")
    with pytest.raises(NotImplementedError):
        models.SeedDiscriminator()(images)


def test_fixed_seed_model_matches_the_builders():
    z = np.random.default_rng(2).standard_normal((2, 100)).astype("float32")
    generator = models.FixedSeedGenerator()
    images = np.asarray(generator(z))
    assert images.shape == (2, 64, 64, 3)
    assert np.all(np.abs(images) <= 1.0)
    discriminator = models.FixedSeedDiscriminator()
    assert np.asarray(discriminator(images)).shape == (2, 1)
    assert generator.count_params() == models.build_dcgan_generator((64, 64, 3)).count_params()
    assert (
        discriminator.count_params() == models.build_dcgan_discriminator((64, 64, 3)).count_params()
    )


def test_pretrained_generator_missing_name_raises():
    with pytest.raises(ValueError, match="dcgan28_mnist"):
        models.load_pretrained_generator("no_such_weights")


def _shipped_samples(name, model):
    """64 samples of a shipped generator, after checking that it loads and matches its record."""
    loaded = models.load_pretrained_generator(name)
    assert loaded is not None, f"ganbook_utils/weights/{name}.* are missing"
    generator, provenance = loaded
    assert provenance["architecture"]["model"] == model
    assert provenance["steps"] > 0 and provenance["wall_time_s"] > 0
    assert generator.count_params() == provenance["generator_parameters"]
    z = np.random.default_rng(0).standard_normal((64, 100)).astype("float32")
    return np.asarray(generator(z, training=False)), provenance


def test_shipped_mnist_generator_loads_and_draws_digit_like_images():
    images, _ = _shipped_samples("dcgan28_mnist", "dcgan28")
    assert images.shape == (64, 28, 28, 1) and np.all(np.isfinite(images))
    # MNIST digits are white strokes on a black background: most pixels near -1, some near +1.
    # An untrained generator outputs values near 0 everywhere.
    assert np.mean(images < -0.9) > 0.6
    assert np.mean(images > 0.5) > 0.05


def test_shipped_shapes64_generator_draws_coloured_shapes_on_black():
    images, provenance = _shipped_samples("dcgan64_shapes", "dcgan64")
    assert provenance["data"]["name"] == "shapes64"
    assert images.shape == (64, 64, 64, 3) and np.all(np.isfinite(images))
    # Shapes on a black background: most pixels near -1 in every channel; an untrained
    # generator outputs values near 0 everywhere. Most images hold a bright, coloured shape.
    brightest = images.max(axis=-1)
    assert np.mean(brightest < -0.8) > 0.7
    lit = np.mean(brightest > 0.0, axis=(1, 2)) > 0.01
    assert lit.mean() > 0.5
    # Coloured, not grey: in lit pixels the channels differ (the palette has one white only).
    pixels = images[brightest > 0.0]
    assert np.mean(pixels.max(axis=-1) - pixels.min(axis=-1) > 0.5) > 0.5


def test_shipped_weights_are_small():
    """Each file a few MB (the issues' limit); all together small for a quick Colab install."""
    sizes = {path.name: path.stat().st_size for path in models.WEIGHTS_DIR.glob("*.h5")}
    for name, size in sizes.items():
        assert size < 5 * 2**20, f"{name} takes {size / 2**20:.1f} MB; keep each file a few MB"
    total = sum(sizes.values())
    assert total < 30 * 2**20, f"shipped weights take {total / 2**20:.1f} MB in all (limit 30 MB)"


@pytest.mark.parametrize("name", sorted(models.DCGAN_IMAGE_SHAPES))
def test_resize_upsampling_makes_the_same_shapes(name):
    shape = models.DCGAN_IMAGE_SHAPES[name]
    generator = models.build_dcgan_generator(shape, latent_dim=8, width=4, upsampling="resize")
    z = np.random.default_rng(3).standard_normal((2, 8)).astype("float32")
    images = np.asarray(generator(z, training=False))
    assert images.shape == (2, *shape) and np.all(np.abs(images) <= 1.0)
    layer_types = {type(layer).__name__ for layer in generator.layers}
    assert "UpSampling2D" in layer_types and "Conv2DTranspose" not in layer_types


def test_unknown_upsampling_is_refused():
    with pytest.raises(ValueError, match="upsampling must be one of"):
        models.build_dcgan_generator((28, 28, 1), upsampling="bilinear")


def test_resize_then_convolve_cannot_draw_a_checkerboard_from_a_constant_grid():
    # A nearest-neighbour resize copies each pixel to a 2x2 block and a 3x3 convolution treats
    # every position alike, so a constant input stays constant inside (borders aside); a
    # transposed convolution of stride 2 uses different kernel taps for even and odd pixels.
    import keras

    grid = np.ones((1, 8, 8, 4), dtype="float32")
    keras.utils.set_random_seed(0)
    resize = keras.Sequential(
        [keras.layers.UpSampling2D(2), keras.layers.Conv2D(1, 3, padding="same")]
    )
    transposed = keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same")
    inner = (slice(None), slice(2, -2), slice(2, -2))
    resized = np.asarray(resize(grid))[inner]
    strided = np.asarray(transposed(grid))[inner]
    assert np.ptp(resized) < 1e-5
    assert np.ptp(strided) > 1e-3


def test_checkerboard_amplitude_closed_forms():
    board = np.indices((4, 4)).sum(axis=0) % 2 * 2.0 - 1.0  # -1/+1 alternating
    images = np.repeat(board[None, :, :, None], 3, axis=-1)
    assert models.checkerboard_amplitude(images) == pytest.approx(0.5)
    ramp = np.linspace(-1, 1, 4)[None, :, None, None] * np.ones((2, 4, 4, 1))
    assert models.checkerboard_amplitude(ramp) == pytest.approx(0.0, abs=1e-12)
    assert models.checkerboard_amplitude(np.zeros((1, 4, 4, 1))) == 0.0
    with pytest.raises(ValueError, match="even H and W"):
        models.checkerboard_amplitude(np.zeros((1, 5, 4, 1)))
