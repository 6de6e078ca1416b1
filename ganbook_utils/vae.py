"""Variational autoencoders: a convolutional encoder and decoder, and the ``VAE`` Keras model.

The encoder maps an image to the mean and log-variance of a diagonal Gaussian q(z|x); a latent
code is drawn with the reparameterisation z = mean + exp(log_variance / 2) * noise, so gradients
flow through the sampling; the decoder maps z to the parameters of p(x|z). Training minimises the
negative evidence lower bound (ELBO), per image and in nats:

    reconstruction (= -log p(x|z))  +  beta * KL(q(z|x) || N(0, I)).

Images enter and leave in [-1, 1], the book's convention (``data.normalize_images``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ganbook_utils import checks
from ganbook_utils.data import check_first_batch, check_unit_range
from ganbook_utils.divergences import gaussian_kl_divergence

LIKELIHOODS = ("bernoulli", "gaussian")


def _check_image_shape(
    image_shape: tuple[int, int, int], downsamplings: int
) -> tuple[int, int, int]:
    valid = isinstance(image_shape, (tuple, list)) and len(image_shape) == 3
    if not valid or not all(checks.is_integer(size) and size >= 1 for size in image_shape):
        raise ValueError(
            f"image_shape must be (height, width, channels) with positive integer sizes; got "
            f"{image_shape!r}."
        )
    factor = 2**downsamplings
    if image_shape[0] % factor or image_shape[1] % factor:
        raise ValueError(
            f"Height and width {image_shape[:2]} must be divisible by 2**len(filters) = {factor}, "
            "because each convolution halves them; use fewer filters or resize the images."
        )
    return tuple(int(size) for size in image_shape)


def _check_likelihood(likelihood: str) -> None:
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"Unknown likelihood {likelihood!r}; choose one of {LIKELIHOODS}.")


def build_vae_encoder(
    image_shape: tuple[int, int, int],
    latent_dim: int,
    filters: tuple[int, ...] = (32, 64),
    hidden_units: int = 128,
) -> keras.Model:
    """Convolutional encoder: images (N, H, W, C) in [-1, 1] -> [mean, log_variance], each (N, D).

    Each entry of ``filters`` is one stride-2 convolution, so H and W must be divisible by
    ``2 ** len(filters)``. Raises ValueError on a bad shape or a non-positive ``latent_dim``.
    """
    latent_dim = checks.integer(latent_dim, "latent_dim", who="build_vae_encoder")
    hidden_units = checks.integer(hidden_units, "hidden_units", who="build_vae_encoder")
    image_shape = _check_image_shape(image_shape, len(filters))
    images = keras.Input(shape=image_shape, name="images")
    features = images
    for count in filters:
        features = keras.layers.Conv2D(count, 4, strides=2, padding="same")(features)
        features = keras.layers.LeakyReLU(0.2)(features)
    features = keras.layers.Flatten()(features)
    features = keras.layers.Dense(hidden_units)(features)
    features = keras.layers.LeakyReLU(0.2)(features)
    mean = keras.layers.Dense(latent_dim, name="mean")(features)
    # Zero-initialised, so training starts from q(z|x) with unit variance, not a random one.
    log_variance = keras.layers.Dense(latent_dim, kernel_initializer="zeros", name="log_variance")(
        features
    )
    return keras.Model(images, [mean, log_variance], name="vae_encoder")


def build_vae_decoder(
    latent_dim: int,
    image_shape: tuple[int, int, int],
    filters: tuple[int, ...] = (64, 32),
    hidden_units: int = 128,
    likelihood: str = "bernoulli",
) -> keras.Model:
    """Convolutional decoder: latents (N, D) -> parameters of p(x|z), shaped like the images.

    For ``likelihood="bernoulli"`` it outputs logits (any real number); for ``"gaussian"`` the
    mean in [-1, 1] (tanh). Each entry of ``filters`` is one stride-2 transposed convolution.
    """
    latent_dim = checks.integer(latent_dim, "latent_dim", who="build_vae_decoder")
    hidden_units = checks.integer(hidden_units, "hidden_units", who="build_vae_decoder")
    _check_likelihood(likelihood)
    image_shape = _check_image_shape(image_shape, len(filters))
    height, width, channels = image_shape
    factor = 2 ** len(filters)
    latents = keras.Input(shape=(latent_dim,), name="latents")
    features = keras.layers.Dense(hidden_units)(latents)
    features = keras.layers.LeakyReLU(0.2)(features)
    features = keras.layers.Dense((height // factor) * (width // factor) * filters[0])(features)
    features = keras.layers.LeakyReLU(0.2)(features)
    features = keras.layers.Reshape((height // factor, width // factor, filters[0]))(features)
    for count in filters:
        features = keras.layers.Conv2DTranspose(count, 4, strides=2, padding="same")(features)
        features = keras.layers.LeakyReLU(0.2)(features)
    activation = None if likelihood == "bernoulli" else "tanh"
    outputs = keras.layers.Conv2D(channels, 3, padding="same", activation=activation)(features)
    return keras.Model(latents, outputs, name="vae_decoder")


def reparameterize(mean, log_variance, seed=None):
    """Draw z ~ N(mean, exp(log_variance)) as mean + exp(log_variance / 2) * noise.

    ``mean`` and ``log_variance`` have the same shape (N, D); ``seed`` is an int (reproducible),
    a ``keras.random.SeedGenerator`` (fresh noise each call, also inside ``tf.function``) or None.
    The noise carries no parameters, so gradients reach ``mean`` and ``log_variance``.
    """
    mean = keras.ops.convert_to_tensor(mean, dtype="float32")
    log_variance = keras.ops.convert_to_tensor(log_variance, dtype="float32")
    if tuple(mean.shape) != tuple(log_variance.shape):
        raise ValueError(
            f"mean and log_variance must have the same shape; got {tuple(mean.shape)} and "
            f"{tuple(log_variance.shape)}."
        )
    noise = keras.random.normal(keras.ops.shape(mean), seed=seed)
    return mean + keras.ops.exp(0.5 * log_variance) * noise


def bernoulli_negative_log_likelihood(images, logits):
    """-log p(x|z) per image, summed over pixels, for a Bernoulli decoder.

    ``images`` (N, H, W, C) in [-1, 1] are mapped to [0, 1] targets; ``logits`` have the same
    shape. Grey levels are treated as probabilities (the usual cross-entropy), which is not a
    normalised density for non-binary pixels: compare its values across models, not with Gaussians.
    """
    targets = (keras.ops.convert_to_tensor(images, dtype="float32") + 1.0) / 2.0
    logits = keras.ops.convert_to_tensor(logits, dtype="float32")
    per_pixel = keras.ops.binary_crossentropy(targets, logits, from_logits=True)
    return keras.ops.sum(keras.ops.reshape(per_pixel, (keras.ops.shape(per_pixel)[0], -1)), axis=1)


def gaussian_negative_log_likelihood(images, means, observation_std: float):
    """-log p(x|z) per image, summed over pixels, for N(x; means, observation_std**2 I).

    ``images`` and ``means`` are (N, H, W, C) in [-1, 1]; ``observation_std`` > 0 is the fixed
    pixel noise. A smaller std weights reconstruction more against the KL term.
    """
    observation_std = checks.number(observation_std, "observation_std", low=0, low_open=True)
    images = keras.ops.convert_to_tensor(images, dtype="float32")
    means = keras.ops.convert_to_tensor(means, dtype="float32")
    per_pixel = 0.5 * keras.ops.square((images - means) / observation_std) + (
        math.log(observation_std) + 0.5 * math.log(2.0 * math.pi)
    )
    return keras.ops.sum(keras.ops.reshape(per_pixel, (keras.ops.shape(per_pixel)[0], -1)), axis=1)


class VAE(keras.Model):
    """A VAE whose ``fit`` minimises reconstruction + beta * KL, reported as three metrics.

    Args:
        encoder: images (N, H, W, C) in [-1, 1] -> [mean, log_variance], each (N, D).
        decoder: latents (N, D) -> logits (Bernoulli) or means in [-1, 1] (Gaussian).
        beta: weight of the KL term (1 is the ELBO; > 1 is a beta-VAE).
        likelihood: ``"bernoulli"`` or ``"gaussian"``.
        observation_std: pixel noise of the Gaussian likelihood (ignored for Bernoulli).
        seed: seed of the reparameterisation noise used in training.

    ``fit`` reports ``loss`` (the objective), ``reconstruction_loss`` and ``kl_loss``, all means
    over images in nats; with beta = 1, ``loss`` is the negative ELBO.
    """

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        beta: float = 1.0,
        likelihood: str = "bernoulli",
        observation_std: float = 0.1,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_likelihood(likelihood)
        beta = checks.number(beta, "beta", low=0, who="VAE")
        observation_std = checks.number(
            observation_std, "observation_std", low=0, low_open=True, who="VAE"
        )
        seed = checks.seed(seed, who="VAE")
        self.encoder = encoder
        self.decoder = decoder
        self.beta = float(beta)
        self.likelihood = likelihood
        self.observation_std = float(observation_std)
        self.latent_dim = int(encoder.outputs[0].shape[-1])
        self.noise_seed = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def compile(self, optimizer="adam", **kwargs) -> None:
        """Set the optimizer (``keras.optimizers.Adam(1e-3)`` works well) and build its state.

        Building now (not at the first step) makes the optimizer's variables exist for a
        checkpoint restored before training resumes (``training.fit_resumable``).
        """
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.trainable_variables)

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit``, after checking that the first batch is float images in [-1, 1].

        Raw pixels (uint8, or floats in [0, 255]) would train to meaningless numbers; they are
        refused with the fix (``data.make_pipeline`` or ``data.normalize_images``).
        """
        _check_training_data(x)
        return super().fit(x, *args, **kwargs)

    def call(self, images, training=False):
        """Reconstruct ``images``: decode the mean code (no sampling); output in [-1, 1]."""
        mean, _ = self.encoder(images, training=training)
        return self._decoder_output_to_images(self.decoder(mean, training=training))

    def _decoder_output_to_images(self, decoder_output):
        if self.likelihood == "bernoulli":
            return 2.0 * keras.ops.sigmoid(decoder_output) - 1.0
        return decoder_output

    def _reconstruction_loss(self, images, decoder_output):
        if self.likelihood == "bernoulli":
            return bernoulli_negative_log_likelihood(images, decoder_output)
        return gaussian_negative_log_likelihood(images, decoder_output, self.observation_std)

    def loss_terms(self, images, seed=None, training: bool = False) -> dict:
        """Mean over the batch of ``reconstruction``, ``kl`` and ``loss`` (recon + beta * KL).

        ``seed`` (int) fixes the reparameterisation noise; by default the model's own stream.
        """
        images = keras.ops.convert_to_tensor(images, dtype="float32")
        mean, log_variance = self.encoder(images, training=training)
        latents = reparameterize(mean, log_variance, seed=self.noise_seed if seed is None else seed)
        decoder_output = self.decoder(latents, training=training)
        reconstruction = keras.ops.mean(self._reconstruction_loss(images, decoder_output))
        kl = keras.ops.mean(gaussian_kl_divergence(mean, log_variance))
        return {"reconstruction": reconstruction, "kl": kl, "loss": reconstruction + self.beta * kl}

    def _update_trackers(self, terms: dict) -> dict:
        self.loss_tracker.update_state(terms["loss"])
        self.reconstruction_tracker.update_state(terms["reconstruction"])
        self.kl_tracker.update_state(terms["kl"])
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        images = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            terms = self.loss_terms(images, training=True)
        gradients = tape.gradient(terms["loss"], self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._update_trackers(terms)

    def test_step(self, data):
        images = data[0] if isinstance(data, (tuple, list)) else data
        return self._update_trackers(self.loss_terms(images))

    def negative_elbo(self, images, seed: int = 0, batch_size: int = 256) -> dict:
        """Mean ``reconstruction``, ``kl`` and ``loss`` (floats, nats) over ``images`` (N, H, W, C).

        One reparameterised sample per image with a fixed ``seed``, so two calls agree.
        """
        images = _as_image_batch(images, "VAE.negative_elbo")
        batch_size = checks.integer(batch_size, "batch_size", who="VAE.negative_elbo")
        totals = {"reconstruction": 0.0, "kl": 0.0, "loss": 0.0}
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            terms = self.loss_terms(batch, seed=seed + start)
            for name, value in terms.items():
                totals[name] += float(value) * len(batch)
        return {name: value / len(images) for name, value in totals.items()}

    def encode(self, images, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Images (N, H, W, C) in [-1, 1] -> (mean, log_variance) of q(z|x), numpy (N, D) each."""
        images = _as_image_batch(images, "VAE.encode")
        batch_size = checks.integer(batch_size, "batch_size", who="VAE.encode")
        means, log_variances = [], []
        for start in range(0, len(images), batch_size):
            mean, log_variance = self.encoder(images[start : start + batch_size], training=False)
            means.append(keras.ops.convert_to_numpy(mean))
            log_variances.append(keras.ops.convert_to_numpy(log_variance))
        return np.concatenate(means), np.concatenate(log_variances)

    def decode(self, latents, batch_size: int = 256) -> np.ndarray:
        """Latents (N, D) -> the decoder's mean images (N, H, W, C) in [-1, 1], numpy."""
        batch_size = checks.integer(batch_size, "batch_size", who="VAE.decode")
        latents = np.asarray(latents, dtype=np.float32)
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected latents shaped (N, {self.latent_dim}); got shape {latents.shape}."
            )
        outputs = [
            keras.ops.convert_to_numpy(
                self._decoder_output_to_images(
                    self.decoder(latents[start : start + batch_size], training=False)
                )
            )
            for start in range(0, len(latents), batch_size)
        ]
        return np.concatenate(outputs)

    def reconstruct(self, images, batch_size: int = 256) -> np.ndarray:
        """Decode the mean code of each image: (N, H, W, C) in [-1, 1] -> same shape, numpy."""
        mean, _ = self.encode(images, batch_size)
        return self.decode(mean, batch_size)

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` new images (n, H, W, C) in [-1, 1]: decode z ~ N(0, I) drawn with ``seed``."""
        n = checks.integer(n, "n", who="VAE.sample")
        seed = checks.seed(seed, who="VAE.sample")
        latents = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        return self.decode(latents.astype(np.float32))


def _as_image_batch(images, who: str = "VAE") -> np.ndarray:
    """Float32 images (N, H, W, C) in [-1, 1], or a one-line error saying how to get them."""
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(
            f"{who}: expected a non-empty batch of images shaped (N, H, W, C); got shape "
            f"{images.shape}."
        )
    if not np.issubdtype(images.dtype, np.floating):
        raise TypeError(
            f"{who}: got {images.dtype} images; the VAE expects floats in [-1, 1]. "
            "Use data.normalize_images(images) first."
        )
    images = images.astype(np.float32)
    check_unit_range(images, who, pixels_fix="use data.normalize_images(uint8_images) first")
    return images


def _check_training_data(x) -> None:
    """The first batch of what ``VAE.fit`` is given must be float images in [-1, 1]."""
    if isinstance(x, tf.data.Dataset):
        check_first_batch(x, who="VAE.fit")
        return
    if isinstance(x, (tuple, list)) and x:
        x = x[0]
    if isinstance(x, np.ndarray) or tf.is_tensor(x):
        _as_image_batch(np.asarray(x[:256]), "VAE.fit")


def build_vae(
    image_shape: tuple[int, int, int],
    latent_dim: int,
    beta: float = 1.0,
    likelihood: str = "bernoulli",
    filters: tuple[int, ...] = (32, 64),
    hidden_units: int = 128,
    observation_std: float = 0.1,
    seed: int | None = None,
) -> VAE:
    """A ``VAE`` with a convolutional encoder (``filters``) and a mirrored decoder.

    ``image_shape`` (H, W, C) needs H and W divisible by ``2 ** len(filters)``
    (28x28 with two filters, 64x64 with up to six). Compile it with an optimizer and ``fit`` it.
    """
    encoder = build_vae_encoder(image_shape, latent_dim, filters, hidden_units)
    decoder = build_vae_decoder(
        latent_dim, image_shape, tuple(reversed(filters)), hidden_units, likelihood
    )
    return VAE(
        encoder,
        decoder,
        beta=beta,
        likelihood=likelihood,
        observation_std=observation_std,
        seed=seed,
        name="vae",
    )


# --- Shipped weights: trained once by ``python -m ganbook_utils train --model vae``. ----------

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
PRETRAINED_VAES = ("vae_mnist", "vae_mnist2d", "vae_shapes32")


def build_vae_from_record(architecture: dict[str, Any]) -> VAE:
    """A fresh ``VAE`` from a provenance ``architecture`` record (``build_vae`` arguments)."""
    vae = build_vae(
        tuple(architecture["image_shape"]),
        architecture["latent_dim"],
        beta=architecture.get("beta", 1.0),
        likelihood=architecture["likelihood"],
        filters=tuple(architecture.get("filters", (32, 64))),
        hidden_units=architecture.get("hidden_units", 128),
        observation_std=architecture.get("observation_std") or 0.1,  # None: not Gaussian
        seed=0,
    )
    vae(np.zeros((1, *architecture["image_shape"]), np.float32))  # build it: (load|save)_weights
    return vae


def load_pretrained(name: str = "vae_mnist") -> tuple[VAE, dict[str, Any]] | None:
    """(VAE with the shipped weights, provenance), or None when they are not shipped.

    ``name`` is one of :data:`PRETRAINED_VAES` (``vae_mnist``: the VAE chapter's 16-d MNIST
    model). The model is rebuilt from the provenance's ``architecture`` and loaded; it is not
    compiled (compile it to train further). Raises ValueError for an unknown name.
    """
    if name not in PRETRAINED_VAES:
        raise ValueError(
            f"Unknown pretrained VAE {name!r}; choose one of {', '.join(PRETRAINED_VAES)}."
        )
    record, weights = WEIGHTS_DIR / f"{name}.json", WEIGHTS_DIR / f"{name}.weights.h5"
    if not (record.exists() and weights.exists()):
        return None
    provenance = json.loads(record.read_text())
    vae = build_vae_from_record(provenance["architecture"])
    vae.load_weights(weights)
    return vae, provenance


def save_weights(vae: VAE, path: str | Path) -> None:
    """Write the encoder's and decoder's weights (no optimizer state) to ``path`` (.weights.h5).

    What :func:`load_pretrained` reads: a fresh copy of the model is built, given the trained
    weights and saved, so the file does not depend on how the model was compiled.
    """
    architecture = {
        "image_shape": list(vae.encoder.inputs[0].shape[1:]),
        "latent_dim": vae.latent_dim,
        "likelihood": vae.likelihood,
        "observation_std": vae.observation_std,
        "beta": vae.beta,
    }
    copy = build_vae_from_record(architecture)
    copy.encoder.set_weights(vae.encoder.get_weights())
    copy.decoder.set_weights(vae.decoder.get_weights())
    copy.save_weights(path)


def load_or_train(
    name: str,
    images: np.ndarray,
    steps: int,
    directory: str | Path,
    *,
    latent_dim: int,
    likelihood: str = "bernoulli",
    observation_std: float = 0.1,
    batch_size: int = 64,
    progress: bool = True,
) -> tuple[VAE, dict[str, Any]]:
    """The shipped VAE ``name`` if it was trained for at least ``steps`` steps, else train one.

    "Load if present, else train": a chapter asks for the budget it needs (its profile's
    steps); the shipped weights serve whenever they are at least that well trained, otherwise
    a VAE of the given architecture is trained here on ``images`` (uint8, NHWC) with the
    recipe of ``python -m ganbook_utils train --model vae`` (Adam 1e-3, resumable fit in
    ``directory``). Returns ``(vae, record)``: the provenance of the shipped weights, or
    ``{"trained_here": True, "steps": ..., "train_images": ...}``.
    """
    shipped = load_pretrained(name)
    if shipped is not None and shipped[1]["steps"] >= steps:
        return shipped
    from ganbook_utils import data, training  # higher-level modules: imported only to train

    vae = build_vae(
        images.shape[1:],
        latent_dim,
        likelihood=likelihood,
        observation_std=observation_std,
        seed=0,
    )
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    run = training.fit_resumable(
        vae,
        data.make_pipeline(images, batch_size),
        steps=steps,
        directory=directory,
        sample_grid=False,
        progress=progress,
    )
    if run["diverged"]:
        raise RuntimeError(run["diverged"])
    return vae, {"trained_here": True, "steps": run["step"], "train_images": len(images)}
