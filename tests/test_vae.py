"""Tests of ganbook_utils.vae: the ELBO's terms against closed forms, the reparameterisation,
and a short training run that lowers the negative ELBO."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

from ganbook_utils.vae import (
    VAE,
    bernoulli_negative_log_likelihood,
    build_vae,
    build_vae_decoder,
    build_vae_encoder,
    gaussian_negative_log_likelihood,
    reparameterize,
)

IMAGE_SHAPE = (8, 8, 1)


def bar_images(count: int, seed: int = 0) -> np.ndarray:
    """(count, 8, 8, 1) images in [-1, 1]: one bright horizontal or vertical bar each."""
    rng = np.random.default_rng(seed)
    images = -np.ones((count, 8, 8, 1), np.float32)
    for image, position, vertical in zip(
        images, rng.integers(0, 8, count), rng.integers(0, 2, count), strict=True
    ):
        if vertical:
            image[:, position] = 1.0
        else:
            image[position, :] = 1.0
    return images


def tiny_vae(likelihood: str = "bernoulli", beta: float = 1.0, latent_dim: int = 2) -> VAE:
    keras.utils.set_random_seed(0)
    return build_vae(
        IMAGE_SHAPE,
        latent_dim,
        beta=beta,
        likelihood=likelihood,
        filters=(8,),
        hidden_units=16,
        seed=0,
    )


def closed_form_kl(mean: np.ndarray, log_variance: np.ndarray) -> np.ndarray:
    return 0.5 * np.sum(np.exp(log_variance) + mean**2 - 1.0 - log_variance, axis=-1)


def test_reparameterized_samples_have_requested_mean_and_variance():
    mean = np.array([1.0, -2.0, 0.0], np.float32)
    variance = np.array([0.25, 4.0, 1.0], np.float32)
    count = 200_000
    samples = reparameterize(
        np.tile(mean, (count, 1)), np.tile(np.log(variance), (count, 1)), seed=3
    ).numpy()
    # Standard errors: sqrt(var / n) for the mean, var * sqrt(2 / n) for the variance; 5 of them.
    np.testing.assert_allclose(samples.mean(0), mean, atol=5 * np.sqrt(variance.max() / count))
    np.testing.assert_allclose(samples.var(0), variance, rtol=5 * np.sqrt(2 / count))


def test_reparameterization_passes_gradients_to_mean_and_log_variance():
    mean = tf.Variable([[0.5, -1.0]])
    log_variance = tf.Variable([[0.0, 0.0]])
    with tf.GradientTape() as tape:
        latents = reparameterize(mean, log_variance, seed=0)
        total = tf.reduce_sum(latents)
    gradient_mean, gradient_log_variance = tape.gradient(total, [mean, log_variance])
    np.testing.assert_allclose(gradient_mean.numpy(), [[1.0, 1.0]])
    # d/d(log var) of mean + exp(log var / 2) * noise = noise / 2 at log var = 0.
    noise = (latents - mean).numpy()
    np.testing.assert_allclose(gradient_log_variance.numpy(), noise / 2, rtol=1e-5)


def test_reparameterize_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        reparameterize(np.zeros((2, 3)), np.zeros((2, 4)))


def test_kl_term_equals_gaussian_closed_form():
    vae = tiny_vae(latent_dim=3)
    images = bar_images(16)
    mean, log_variance = vae.encode(images)
    terms = vae.loss_terms(images, seed=0)
    np.testing.assert_allclose(
        float(terms["kl"]), closed_form_kl(mean, log_variance).mean(), rtol=1e-5
    )


def test_kl_term_matches_monte_carlo_estimate():
    # KL(q || p) = E_q[log q(z) - log p(z)], estimated with reparameterised samples of q.
    mean = np.array([0.8, -0.3, 1.5], np.float32)
    log_variance = np.array([-1.0, 0.5, -0.2], np.float32)
    count = 400_000
    samples = (
        reparameterize(np.tile(mean, (count, 1)), np.tile(log_variance, (count, 1)), seed=7)
        .numpy()
        .astype(np.float64)
    )
    std = np.exp(0.5 * log_variance)
    log_ratio = stats.norm.logpdf(samples, mean, std).sum(1) - stats.norm.logpdf(samples).sum(1)
    tolerance = 5 * log_ratio.std() / math.sqrt(count)
    vae = tiny_vae(latent_dim=3)
    # Feed the fixed (mean, log_variance) through the model's KL by swapping in a constant encoder.
    constant_encoder = keras.Model(
        vae.encoder.inputs,
        [
            keras.layers.Lambda(lambda x: keras.ops.zeros((keras.ops.shape(x)[0], 3)) + mean)(
                vae.encoder.inputs[0]
            ),
            keras.layers.Lambda(
                lambda x: keras.ops.zeros((keras.ops.shape(x)[0], 3)) + log_variance
            )(vae.encoder.inputs[0]),
        ],
    )
    model_kl = float(VAE(constant_encoder, vae.decoder).loss_terms(bar_images(4), seed=0)["kl"])
    assert abs(model_kl - log_ratio.mean()) < tolerance
    assert model_kl == pytest.approx(closed_form_kl(mean, log_variance), rel=1e-5)


def test_bernoulli_negative_log_likelihood_is_the_summed_cross_entropy():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (3, 4, 4, 1)).astype(np.float32)
    logits = rng.normal(size=(3, 4, 4, 1)).astype(np.float32)
    targets = (images + 1) / 2
    probabilities = 1 / (1 + np.exp(-logits))
    expected = -(targets * np.log(probabilities) + (1 - targets) * np.log(1 - probabilities))
    np.testing.assert_allclose(
        bernoulli_negative_log_likelihood(images, logits).numpy(),
        expected.reshape(3, -1).sum(1),
        rtol=1e-4,
    )


def test_gaussian_negative_log_likelihood_matches_scipy():
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, (2, 4, 4, 3)).astype(np.float32)
    means = rng.uniform(-1, 1, (2, 4, 4, 3)).astype(np.float32)
    expected = -stats.norm.logpdf(images, means, 0.3).reshape(2, -1).sum(1)
    np.testing.assert_allclose(
        gaussian_negative_log_likelihood(images, means, 0.3).numpy(), expected, rtol=1e-4
    )
    with pytest.raises(ValueError, match="observation_std"):
        gaussian_negative_log_likelihood(images, means, 0.0)


@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_loss_is_reconstruction_plus_beta_times_kl(beta):
    terms = tiny_vae(beta=beta).loss_terms(bar_images(8), seed=1)
    expected = float(terms["reconstruction"]) + beta * float(terms["kl"])
    assert float(terms["loss"]) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_short_training_lowers_negative_elbo(likelihood):
    vae = tiny_vae(likelihood)
    images = bar_images(256)
    before = vae.negative_elbo(images, seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = vae.fit(images, batch_size=32, epochs=6, verbose=0)
    after = vae.negative_elbo(images, seed=0)
    assert set(history.history) == {"loss", "reconstruction_loss", "kl_loss"}
    assert all(np.isfinite(v) for values in history.history.values() for v in values)
    # The bars are learnable: the bound must improve by far more than sampling noise.
    assert after["loss"] < 0.8 * before["loss"], (before, after)


def test_encode_decode_sample_shapes_ranges_and_seeds():
    vae = tiny_vae(latent_dim=3)
    images = bar_images(5)
    mean, log_variance = vae.encode(images)
    assert mean.shape == log_variance.shape == (5, 3)
    reconstructions = vae.reconstruct(images)
    assert reconstructions.shape == images.shape
    assert reconstructions.min() >= -1 and reconstructions.max() <= 1
    first, again, other = vae.sample(4, seed=9), vae.sample(4, seed=9), vae.sample(4, seed=10)
    assert first.shape == (4, *IMAGE_SHAPE)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    gaussian = tiny_vae("gaussian")
    assert np.abs(gaussian.sample(3, seed=0)).max() <= 1.0


def test_bad_arguments_raise_clear_errors():
    vae = tiny_vae(latent_dim=2)
    with pytest.raises(ValueError, match="divisible"):
        build_vae_encoder((28, 28, 1), 2, filters=(8, 8, 8))
    with pytest.raises(ValueError, match="latent_dim"):
        build_vae_decoder(0, (8, 8, 1))
    with pytest.raises(ValueError, match="likelihood"):
        build_vae(IMAGE_SHAPE, 2, likelihood="poisson")
    with pytest.raises(ValueError, match="beta"):
        build_vae(IMAGE_SHAPE, 2, beta=-1.0)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        vae.decode(np.zeros((3, 5)))
    with pytest.raises(TypeError, match="normalize_images"):
        vae.encode(np.zeros((2, 8, 8, 1), np.uint8))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        vae.sample(0)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda v: v.encode(np.full((2, 8, 8, 1), 200.0)), ValueError, r"\[0, 255\].*normalize"),
        (lambda v: v.encode(np.full((2, 8, 8, 1), np.nan)), ValueError, "NaN or infinite"),
        (lambda v: v.negative_elbo(np.full((2, 8, 8, 1), 3.0)), ValueError, "in \\[-1, 1\\]"),
        (lambda v: v.fit(np.full((16, 8, 8, 1), 255.0), epochs=1), ValueError, "normalize"),
        (lambda v: v.fit(np.zeros((16, 8, 8, 1), np.uint8), epochs=1), TypeError, "normalize"),
        (
            lambda v: v.fit(tf.data.Dataset.from_tensor_slices(np.zeros((8, 8, 8, 1))).batch(4)),
            None,
            None,
        ),
        (
            lambda v: v.fit(
                tf.data.Dataset.from_tensor_slices(np.full((8, 8, 8, 1), 9.0)).batch(4)
            ),
            ValueError,
            "make_pipeline",
        ),
        (lambda v: v.sample(2, seed=-1), ValueError, "seed must be a non-negative integer"),
        (lambda v: v.sample(2.0), ValueError, "n must be a positive integer; got 2.0"),
        (lambda v: v.encode(np.zeros((2, 8, 8, 1)), batch_size=0), ValueError, "batch_size"),
        (lambda v: build_vae((8.0, 8, 1), 2), ValueError, "positive integer sizes"),
        (lambda v: build_vae(None, 2), ValueError, "image_shape must be"),
        (lambda v: build_vae(IMAGE_SHAPE, None), ValueError, "latent_dim must be a positive"),
        (lambda v: build_vae(IMAGE_SHAPE, 2.0), ValueError, "latent_dim must be a positive"),
        (lambda v: build_vae(IMAGE_SHAPE, np.int64(2)), None, None),
        (lambda v: build_vae(IMAGE_SHAPE, 2, observation_std=0.0), ValueError, "observation_std"),
        (lambda v: build_vae(IMAGE_SHAPE, 2, seed=-3), ValueError, "seed must be a non-negative"),
    ],
)
def test_raw_data_and_bad_sizes_are_refused_in_one_line(call, error, message):
    vae = tiny_vae(latent_dim=2)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    if error is None:
        call(vae)  # accepted
        return
    with pytest.raises(error, match=message) as raised:
        call(vae)
    assert "\n" not in str(raised.value)


def test_compile_builds_the_optimizer_so_a_checkpoint_can_be_restored_before_training():
    vae = tiny_vae()
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    # Adam keeps two moments per trainable variable (plus its step counter and learning rate).
    assert len(vae.optimizer.variables) >= 2 * len(vae.trainable_variables)


def test_vae_trains_and_resumes_with_the_shared_training_loop(tmp_path):
    from ganbook_utils.training import fit_resumable

    dataset = tf.data.Dataset.from_tensor_slices(bar_images(64)).batch(16, drop_remainder=True)
    vae = tiny_vae()
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    first = fit_resumable(vae, dataset, 8, tmp_path, steps_per_epoch=4, progress=False)
    assert first["step"] == 8 and first["diverged"] is None
    assert len(list(tmp_path.glob("samples_epoch_*.png"))) == 2  # the grid uses VAE.sample
    resumed = tiny_vae()  # fresh weights: everything must come back from the checkpoint
    resumed.compile(optimizer=keras.optimizers.Adam(3e-3))
    second = fit_resumable(resumed, dataset, 8, tmp_path, steps_per_epoch=4, progress=False)
    assert second["step"] == 8  # nothing left to train: restored, not retrained
    for saved, restored in zip(vae.weights, resumed.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(restored))
