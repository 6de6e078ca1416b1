"""A text-conditioned GAN: a conditional DCGAN generator and a projection discriminator.

The condition is the **frozen** text encoder's embedding of a caption (64 numbers,
``text.load_pretrained("clip_shapes32")``), so the GAN never sees words, only vectors.

* :func:`build_text_generator` -- noise z and the embedding -> a 32x32x3 image in [-1, 1].
  The embedding is compressed by one learned layer (GAN-INT-CLS's "text projection") and
  enters twice: *concatenated* to z, so the first 4x4 grid (where a shape's position and size
  are laid out) depends on it, and through *conditional batch normalization* after every
  hidden layer (a per-channel gain and shift predicted from it), so every scale can be
  coloured by it -- colour is exactly a per-channel affine change.
* :func:`build_projection_discriminator` -- ``D(x, e) = psi(phi(x)) + <V e, phi(x)>``
  (Miyato & Koyama, 2018): image features ``phi``, an unconditional score ``psi`` and the
  inner product of the features with a linear map of the embedding. ``phi`` keeps the 4x4
  layout (Flatten, not global pooling: a shape's position is one of the attributes to check).
  Every layer is spectrally normalized (Miyato et al., 2018) and there is no batch norm, so a
  score depends on its own image alone and the three kinds of pairs can share one pass.
* :class:`TextConditionalGAN` -- a :class:`ganbook_utils.training.GAN` whose ``train_step``
  takes ``(images, embeddings)`` batches and adds GAN-INT-CLS's negatives (Reed et al., 2016):
  a real image paired with *another* image's caption counts as fake for the discriminator, so
  it must check that picture and caption agree, not only that the picture looks real.
  Optimizers, loss names, the generator's moving average and checkpoints are the parent's.
* :func:`train_cli` -- ``python -m ganbook_utils train --model gan_text --out DIR --export
  gan_text_shapes32``; :func:`load_pretrained` -- the shipped generator.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

from ganbook_utils import checks, training

EMBEDDING_DIM = 64  # the text encoder's (ganbook_utils.text.EMBEDDING_DIM)
IMAGE_SHAPE = (32, 32, 3)
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
PRETRAINED_TEXT_GANS = {
    "gan_text_shapes32": "text-conditioned GAN generator, captioned shapes 32x32x3",
}
# The recipe of the shipped model (what `train --model gan_text` uses unless told otherwise).
TEXT_GAN_RECIPE: dict[str, Any] = {
    "latent_dim": 64,
    "width": 32,
    "condition_dim": 128,
    "feature_dim": 256,
    # 2e-4 (DCGAN's) drew grey noise after 200 steps on 2 busy cores; as for dcgan64 (see
    # training.DCGAN_RECIPES), 5e-4 to get somewhere within the ~1,000 steps a CPU affords.
    "learning_rate": 5e-4,
    "beta_1": 0.5,
    "loss": "hinge",
    # The generator's moving average over ~1 / (1 - 0.99) = 100 steps: the package's 0.995
    # (200 steps) still averaged in the first steps' noise after 200 steps of a short run.
    "ema_momentum": 0.99,
}
LOSSES = ("hinge", "non_saturating")


# --- The generator ------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="ganbook")
class ConditionalBatchNorm(layers.Layer):
    """Batch norm whose gain and shift are predicted from a condition vector.

    ``y = BN(x) * (1 + gamma(c)) + beta(c)`` per channel, with ``gamma`` and ``beta`` linear
    in ``c`` and initialised to zero (so training starts from plain batch norm). Called as
    ``layer([x, c])`` with x (N, H, W, C) and c (N, d).
    """

    def build(self, input_shape):
        x_shape, c_shape = input_shape
        channels = x_shape[-1]
        self.norm = layers.BatchNormalization(center=False, scale=False, name="norm")
        self.norm.build(x_shape)
        self.gain = layers.Dense(channels, kernel_initializer="zeros", name="gain")
        self.gain.build(c_shape)
        self.shift = layers.Dense(channels, kernel_initializer="zeros", name="shift")
        self.shift.build(c_shape)
        super().build(input_shape)

    def call(self, inputs, training=None):
        x, condition = inputs
        x = self.norm(x, training=training)
        gain = self.gain(condition)[:, None, None, :]
        shift = self.shift(condition)[:, None, None, :]
        return x * (1.0 + gain) + shift

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def build_text_generator(
    latent_dim: int = TEXT_GAN_RECIPE["latent_dim"],
    embedding_dim: int = EMBEDDING_DIM,
    width: int = TEXT_GAN_RECIPE["width"],
    condition_dim: int = TEXT_GAN_RECIPE["condition_dim"],
    name: str = "text_generator",
) -> keras.Model:
    """Conditional DCGAN generator: ``[z (N, latent_dim), e (N, embedding_dim)]`` -> (N, 32, 32, 3).

    ``c = LeakyReLU(Dense(e))``; ``[z, c]`` -> Dense -> 4x4x(4 width) -> three stride-2
    transposed convolutions (4 width -> 2 width -> width -> 3) with conditional batch norm
    (on ``c``) and ReLU between them -> tanh. Raises ValueError for a non-positive size.
    """
    latent_dim = checks.integer(latent_dim, "latent_dim", who="build_text_generator")
    embedding_dim = checks.integer(embedding_dim, "embedding_dim", who="build_text_generator")
    width = checks.integer(width, "width", who="build_text_generator")
    condition_dim = checks.integer(condition_dim, "condition_dim", who="build_text_generator")
    z = keras.Input(shape=(latent_dim,), name="z")
    embedding = keras.Input(shape=(embedding_dim,), name="embedding")
    condition = layers.Dense(condition_dim, name="text_projection")(embedding)
    condition = layers.LeakyReLU(0.2, name="text_projection_lrelu")(condition)
    x = layers.Concatenate(name="z_and_text")([z, condition])
    filters = 4 * width
    x = layers.Dense(4 * 4 * filters, use_bias=False, name="project")(x)
    x = layers.Reshape((4, 4, filters), name="reshape")(x)
    x = ConditionalBatchNorm(name="project_cbn")([x, condition])
    x = layers.ReLU(name="project_relu")(x)
    for index in (1, 2):
        filters //= 2
        x = layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", use_bias=False, name=f"up{index}"
        )(x)
        x = ConditionalBatchNorm(name=f"up{index}_cbn")([x, condition])
        x = layers.ReLU(name=f"up{index}_relu")(x)
    x = layers.Conv2DTranspose(3, 4, strides=2, padding="same", name="up3")(x)
    images = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    return keras.Model([z, embedding], images, name=name)


# --- The projection discriminator ------------------------------------------------------------


def _maybe_spectral(layer: layers.Layer, spectral_norm: bool) -> layers.Layer:
    return layers.SpectralNormalization(layer, name=layer.name + "_sn") if spectral_norm else layer


def build_projection_discriminator(
    embedding_dim: int = EMBEDDING_DIM,
    width: int = TEXT_GAN_RECIPE["width"],
    feature_dim: int = TEXT_GAN_RECIPE["feature_dim"],
    spectral_norm: bool = True,
    name: str = "projection_discriminator",
) -> keras.Model:
    """``[images (N, 32, 32, 3) in [-1, 1], e (N, embedding_dim)]`` -> logits (N, 1).

    ``phi(x)``: three stride-2 convolutions (width, 2 width, 4 width) with LeakyReLU(0.2),
    Flatten, Dense(feature_dim) + LeakyReLU (layer ``"features"``); ``psi``: Dense(1) (layer
    ``"unconditional"``); ``V``: Dense(feature_dim, no bias) of e (layer ``"projection"``);
    the logit is ``psi(phi(x)) + sum(V e * phi(x))``. With ``spectral_norm`` every weight
    layer is wrapped in ``keras.layers.SpectralNormalization`` (names end in ``_sn``).
    """
    embedding_dim = checks.integer(embedding_dim, "embedding_dim", who="build_discriminator")
    width = checks.integer(width, "width", who="build_discriminator")
    feature_dim = checks.integer(feature_dim, "feature_dim", who="build_discriminator")
    images = keras.Input(shape=IMAGE_SHAPE, name="images")
    embedding = keras.Input(shape=(embedding_dim,), name="embedding")
    x = images
    for index in (1, 2, 3):
        conv = layers.Conv2D(
            width * 2 ** (index - 1), 4, strides=2, padding="same", name=f"down{index}"
        )
        x = _maybe_spectral(conv, spectral_norm)(x)
        x = layers.LeakyReLU(0.2, name=f"down{index}_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    x = _maybe_spectral(layers.Dense(feature_dim, name="dense"), spectral_norm)(x)
    features = layers.LeakyReLU(0.2, name="features")(x)
    unconditional = _maybe_spectral(
        layers.Dense(1, dtype="float32", name="unconditional"), spectral_norm
    )(features)
    projected = _maybe_spectral(
        layers.Dense(feature_dim, use_bias=False, name="projection"), spectral_norm
    )(embedding)
    agreement = layers.Dot(axes=-1, name="agreement")([projected, features])
    logits = layers.Add(dtype="float32", name="logit")([unconditional, agreement])
    return keras.Model([images, embedding], logits, name=name)


def projection_parts(discriminator: keras.Model, images: Any, embeddings: Any) -> dict:
    """The pieces of ``D(x, e)`` for a batch: ``features`` phi(x) (N, F), ``unconditional``
    psi(phi(x)) (N, 1), ``projection_matrix`` V (embedding_dim, F) and ``logits`` (N, 1)."""
    probe = keras.Model(
        discriminator.inputs,
        [
            discriminator.get_layer("features").output,
            _layer(discriminator, "unconditional").output,
            discriminator.output,
        ],
    )
    features, unconditional, logits = (
        np.asarray(t) for t in probe([np.asarray(images), np.asarray(embeddings)], training=False)
    )
    projection = _layer(discriminator, "projection")
    inner = getattr(projection, "layer", projection)  # under spectral norm: the wrapped Dense
    return {
        "features": features,
        "unconditional": unconditional,
        "projection_matrix": np.asarray(inner.kernel),
        "logits": logits,
    }


def _layer(model: keras.Model, name: str) -> layers.Layer:
    names = {layer.name for layer in model.layers}
    return model.get_layer(name if name in names else name + "_sn")


def _projection_pieces(discriminator: keras.Model) -> tuple | None:
    """(phi: images -> features, psi layer, V layer) of a :func:`build_projection_discriminator`
    model, or None for another discriminator."""
    names = {layer.name for layer in discriminator.layers}
    wanted = ("features", "unconditional", "projection")
    if not all(n in names or n + "_sn" in names for n in wanted):
        return None
    phi = keras.Model(
        discriminator.inputs[0], discriminator.get_layer("features").output, name="phi"
    )
    return phi, _layer(discriminator, "unconditional"), _layer(discriminator, "projection")


def _input_count(model: Any) -> int:
    """How many inputs a model declares (0 for an unbuilt one, or not a model at all)."""
    try:
        return len(model.inputs or [])
    except (AttributeError, TypeError, ValueError):
        return 0


# --- Mismatched captions (GAN-INT-CLS) ------------------------------------------------------


def mismatched(embeddings: Any, shift: Any) -> Any:
    """Each row's caption replaced by another row's: ``embeddings`` rolled by ``shift``.

    A roll by ``shift`` in 1 .. N-1 moves every row, so no image keeps its own caption (a
    derangement); pairs stay mismatched as long as the batch's captions are distinct.
    """
    import tensorflow as tf

    return tf.roll(embeddings, shift=shift, axis=0)


def mismatch_shift(batch_size: Any) -> Any:
    """A random roll for :func:`mismatched`: uniform in 1 .. batch_size - 1 (0 for a batch of
    one, which has no other caption to borrow)."""
    import tensorflow as tf

    batch_size = tf.cast(batch_size, tf.int32)
    shift = tf.random.uniform((), 1, tf.maximum(batch_size, 2), dtype=tf.int32)
    return shift % batch_size


# --- The model ------------------------------------------------------------------------------


class TextConditionalGAN(training.GAN):
    """A GAN whose generator and discriminator both take the caption's text embedding.

    Args:
        generator: ``[z, e]`` -> images (e.g. :func:`build_text_generator`).
        discriminator: ``[images, e]`` -> logits (e.g. :func:`build_projection_discriminator`).
        latent_dim, embedding_dim: read from the generator's inputs when omitted.
        preview_labels: optional fixed embeddings (k, embedding_dim) that :meth:`sample` cycles
            through when called without ``labels`` -- only so that the training sample grid
            (which calls ``sample(n, seed)``) shows fixed captions; None: labels are required.

    ``fit`` takes ``(images, embeddings)`` batches, images in [-1, 1]. Each step the
    discriminator scores, in one pass, real images with their captions (real), the same
    images with the captions rolled by a random shift (fake: a mismatch) and generated images
    with the captions they were made from (fake); its loss is the compiled loss on the real
    logits against the two fake kinds together, i.e. each fake kind weighted 1/2 as in Reed et
    al. The generator's loss is the compiled one on its images' logits.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int | None = None,
        embedding_dim: int | None = None,
        preview_labels: Any = None,
        name: str = "text_conditional_gan",
        **kwargs: Any,
    ):
        for role, model in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(model, keras.Model) or _input_count(model) != 2:
                raise TypeError(
                    f"{role} must be a keras.Model with two inputs (images or z, and the text "
                    f"embedding); got {type(model).__name__} with {_input_count(model)} inputs."
                )
        if latent_dim is None:
            latent_dim = generator.inputs[0].shape[-1]
        super().__init__(generator, discriminator, latent_dim=latent_dim, name=name, **kwargs)
        if embedding_dim is None:
            embedding_dim = generator.inputs[1].shape[-1]
        self.embedding_dim = checks.integer(embedding_dim, "embedding_dim", who=name)
        # Mean logits per kind of pair: a discriminator that ignores the caption scores
        # "real image, wrong caption" like "real"; one that reads it scores it like a fake.
        self.real_score_tracker = keras.metrics.Mean(name="d_real")
        self.wrong_score_tracker = keras.metrics.Mean(name="d_mismatched")
        self.fake_score_tracker = keras.metrics.Mean(name="d_fake")
        self.preview_labels = (
            None if preview_labels is None else self.check_labels(preview_labels, None)
        )
        self._projection = _projection_pieces(discriminator)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """:meth:`GAN.compile`; refuses a gradient penalty (its interpolation ignores captions)."""
        super().compile(*args, **kwargs)
        if self.gradient_penalty_weight:
            raise ValueError(
                "TextConditionalGAN does not take a gradient penalty (the Wasserstein loss's): "
                f"use loss 'hinge' or 'non_saturating' (got gradient_penalty_weight="
                f"{self.gradient_penalty_weight:g})."
            )

    def call(self, inputs: Any, training: bool = False) -> Any:
        """Images for ``[z (N, latent_dim), embeddings (N, embedding_dim)]``."""
        return self.generator(inputs, training=training)

    def _scores(self, real_images: Any, fake_images: Any, embeddings: Any, shift: Any):
        """Logits of (real, right caption), (real, wrong caption), (fake, right caption).

        For a projection discriminator ``phi`` runs once per image (the real images' features
        serve both of their captions); any other two-input discriminator scores the three
        kinds of pairs in one pass.
        """
        import tensorflow as tf

        wrong = mismatched(embeddings, shift)
        if self._projection is None:
            logits = self.discriminator(
                [
                    tf.concat([real_images, real_images, fake_images], axis=0),
                    tf.concat([embeddings, wrong, embeddings], axis=0),
                ],
                training=True,
            )
            return tf.split(logits, 3, axis=0)
        phi, psi, projection = self._projection
        real_features, fake_features = tf.split(
            phi(tf.concat([real_images, fake_images], axis=0), training=True), 2, axis=0
        )
        features = tf.concat([real_features, real_features, fake_features], axis=0)
        captions = tf.concat([embeddings, wrong, embeddings], axis=0)
        logits = psi(features, training=True) + tf.reduce_sum(
            projection(captions, training=True) * features, axis=-1, keepdims=True
        )
        return tf.split(tf.cast(logits, "float32"), 3, axis=0)

    def train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        if not isinstance(data, (tuple, list)) or len(data) < 2:
            raise ValueError(
                "TextConditionalGAN.fit needs (images, embeddings) batches; got images alone. "
                "Use text_gan.make_caption_pipeline(images, embeddings, batch_size)."
            )
        real_images = tf.cast(data[0], "float32")
        embeddings = tf.cast(data[1], "float32")
        batch_size = tf.shape(real_images)[0]
        replica_scale = 1.0 / tf.distribute.get_strategy().num_replicas_in_sync

        def discriminator_loss(fake_images):
            shift = mismatch_shift(batch_size)
            real, wrong, fake = self._scores(real_images, fake_images, embeddings, shift)
            # Both kinds of fakes in one term: each counts half, as in GAN-INT-CLS.
            return self.d_loss_fn(real, tf.concat([wrong, fake], axis=0)), real, wrong, fake

        for _ in range(self.d_steps - 1):
            z = tf.random.normal((batch_size, self.latent_dim))
            with tf.GradientTape() as d_tape:
                fake_images = self.generator([z, embeddings], training=True)
                d_loss = discriminator_loss(fake_images)[0]
                scaled = self.d_optimizer.scale_loss(d_loss * replica_scale)
            d_grads = d_tape.gradient(scaled, self.discriminator.trainable_variables)
            self.d_optimizer.apply_gradients(
                zip(d_grads, self.discriminator.trainable_variables, strict=True)
            )

        z = tf.random.normal((batch_size, self.latent_dim))
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake_images = self.generator([z, embeddings], training=True)
            d_loss, real, wrong, fake = discriminator_loss(fake_images)
            g_loss = self.g_loss_fn(fake)
            d_scaled = self.d_optimizer.scale_loss(d_loss * replica_scale)
            g_scaled = self.g_optimizer.scale_loss(g_loss * replica_scale)
        d_grads = d_tape.gradient(d_scaled, self.discriminator.trainable_variables)
        g_grads = g_tape.gradient(g_scaled, self.generator.trainable_variables)
        self.d_optimizer.apply_gradients(
            zip(d_grads, self.discriminator.trainable_variables, strict=True)
        )
        self.g_optimizer.apply_gradients(
            zip(g_grads, self.generator.trainable_variables, strict=True)
        )
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.real_score_tracker.update_state(tf.reduce_mean(real))
        self.wrong_score_tracker.update_state(tf.reduce_mean(wrong))
        self.fake_score_tracker.update_state(tf.reduce_mean(fake))
        return {metric.name: metric.result() for metric in self.metrics}

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.real_score_tracker,
            self.wrong_score_tracker,
            self.fake_score_tracker,
        ]

    # -- sampling --

    def check_labels(self, labels: Any, n: int | None) -> np.ndarray:
        """``labels`` as float32 (n, embedding_dim) text embeddings, else a one-line ValueError."""
        if labels is None:
            raise ValueError(
                "This GAN is text-conditioned: pass labels=<(n, "
                f"{self.embedding_dim}) text embeddings>, e.g. "
                "encoder.encode_text(prompts) (or use text_to_image.TextToImage)."
            )
        try:
            vectors = np.asarray(labels, dtype=np.float32)
        except (TypeError, ValueError):
            raise ValueError(
                f"labels must be a float array of text embeddings shaped (n, {self.embedding_dim})"
                f"; got {type(labels).__name__}."
            ) from None
        rows = "n" if n is None else str(n)
        if vectors.ndim != 2 or vectors.shape[1] != self.embedding_dim or len(vectors) == 0:
            raise ValueError(
                f"labels must be text embeddings shaped ({rows}, {self.embedding_dim}); got shape "
                f"{vectors.shape}. Encode prompts with encoder.encode_text(prompts)."
            )
        if n is not None and len(vectors) != n:
            raise ValueError(
                f"labels must be text embeddings shaped ({n}, {self.embedding_dim}), one per "
                f"image; got {len(vectors)} rows for n={n}."
            )
        if not np.all(np.isfinite(vectors)):
            raise ValueError("labels hold NaN or infinite values; pass finite text embeddings.")
        return vectors

    def generate(self, z: Any, labels: Any = None, batch_size: int = 256) -> np.ndarray:
        """Images (n, 32, 32, 3) in [-1, 1], float32, for latents z (n, latent_dim) and
        ``labels`` (n, embedding_dim) text embeddings; the generator's moving average is used
        when there is one. Raises ValueError for missing labels or wrong shapes."""
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (n, {self.latent_dim}); got {z.shape}.")
        labels = self.check_labels(labels, len(z))
        batch_size = checks.integer(batch_size, "batch_size", who="generate")
        with self.averaged_generator() as generator:
            chunks = [
                np.asarray(
                    generator([z[i : i + batch_size], labels[i : i + batch_size]], training=False),
                    dtype="float32",
                )
                for i in range(0, len(z), batch_size)
            ]
        return np.clip(np.concatenate(chunks), -1.0, 1.0)

    def sample(self, n: int, seed: int = 0, labels: Any = None) -> np.ndarray:
        """``n`` images (n, 32, 32, 3) in [-1, 1] for ``labels`` (n, embedding_dim) text
        embeddings; the same seed gives the same z (and so the same images).

        Without ``labels`` the :attr:`preview_labels` are cycled if set, else ValueError.
        """
        if labels is None and self.preview_labels is not None:
            n = checks.integer(n, "n", who="sample")
            labels = self.preview_labels[np.arange(n) % len(self.preview_labels)]
        return self.generate(self.latent_vectors(n, seed), labels)


def build_text_gan(
    loss: str = TEXT_GAN_RECIPE["loss"],
    latent_dim: int | None = None,
    width: int | None = None,
    embedding_dim: int = EMBEDDING_DIM,
    condition_dim: int | None = None,
    feature_dim: int | None = None,
    spectral_norm: bool = True,
    learning_rate: float | None = None,
    beta_1: float | None = None,
    generator_ema: bool = True,
    preview_labels: Any = None,
) -> TextConditionalGAN:
    """A compiled :class:`TextConditionalGAN` (:data:`TEXT_GAN_RECIPE` for what is not given).

    Adam for both players (DCGAN's beta_1 = 0.5), the generator's with a moving average of its
    weights (momentum ``TEXT_GAN_RECIPE["ema_momentum"]``) that :meth:`sample` uses.
    Raises ValueError for a loss not in :data:`LOSSES` or a bad size or rate.
    """
    if loss not in LOSSES:
        raise ValueError(f"Unknown loss {loss!r} for the text GAN; choose one of {LOSSES}.")
    recipe = {
        key: TEXT_GAN_RECIPE[key] if value is None else value
        for key, value in {
            "latent_dim": latent_dim,
            "width": width,
            "condition_dim": condition_dim,
            "feature_dim": feature_dim,
            "learning_rate": learning_rate,
            "beta_1": beta_1,
        }.items()
    }
    rate = checks.number(recipe["learning_rate"], "learning_rate", low=0, low_open=True)
    beta = checks.number(recipe["beta_1"], "beta_1", low=0, high=1, high_open=True)
    generator = build_text_generator(
        recipe["latent_dim"], embedding_dim, recipe["width"], recipe["condition_dim"]
    )
    discriminator = build_projection_discriminator(
        embedding_dim, recipe["width"], recipe["feature_dim"], spectral_norm=spectral_norm
    )
    gan = TextConditionalGAN(generator, discriminator, preview_labels=preview_labels)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(rate, beta_1=beta),
        g_optimizer=keras.optimizers.Adam(
            rate,
            beta_1=beta,
            use_ema=generator_ema,
            ema_momentum=TEXT_GAN_RECIPE["ema_momentum"],
        ),
        loss=loss,
    )
    return gan


def make_caption_pipeline(images: Any, embeddings: Any, batch_size: int, seed: int = 0):
    """A ``tf.data.Dataset`` of ``(images in [-1, 1], embeddings)`` batches, shuffled together.

    ``images`` uint8 (N, 32, 32, 3); ``embeddings`` float (N, d), one per image (its caption's).
    Built on ``data.make_pipeline`` (the image index rides along as the label and picks the
    embedding). Raises ValueError for mismatched lengths or shapes.
    """
    import tensorflow as tf

    from ganbook_utils import data

    embeddings = np.asarray(embeddings, dtype=np.float32)
    if embeddings.ndim != 2 or len(embeddings) != len(images):
        raise ValueError(
            f"make_caption_pipeline: embeddings must be shaped ({len(images)}, d), one per image; "
            f"got {embeddings.shape}."
        )
    table = tf.constant(embeddings)
    pipeline = data.make_pipeline(images, batch_size, labels=np.arange(len(images)), seed=seed)
    return pipeline.map(lambda x, index: (x, tf.gather(table, index)))


# --- Shipped weights --------------------------------------------------------------------------


def architecture_record(gan: TextConditionalGAN, width: int, condition_dim: int) -> dict:
    """What :func:`load_pretrained` needs to rebuild the generator (kept in the provenance)."""
    return {
        "image_shape": list(IMAGE_SHAPE),
        "latent_dim": gan.latent_dim,
        "embedding_dim": gan.embedding_dim,
        "width": width,
        "condition_dim": condition_dim,
    }


def load_pretrained(
    name: str = "gan_text_shapes32",
) -> tuple[TextConditionalGAN, dict[str, Any]] | None:
    """(a :class:`TextConditionalGAN` holding the shipped generator, provenance), or None when
    the weights are not shipped. Only ``sample``/``generate`` are meaningful (the
    discriminator is not shipped). Raises ValueError for an unknown name."""
    if name not in PRETRAINED_TEXT_GANS:
        raise ValueError(
            f"Unknown pretrained text GAN {name!r}; choose one of "
            f"{', '.join(PRETRAINED_TEXT_GANS)}."
        )
    record, weights = WEIGHTS_DIR / f"{name}.json", WEIGHTS_DIR / f"{name}.weights.h5"
    if not (record.exists() and weights.exists()):
        return None
    provenance = json.loads(record.read_text())
    architecture = provenance["architecture"]
    generator = build_text_generator(
        architecture["latent_dim"],
        architecture["embedding_dim"],
        architecture["width"],
        architecture["condition_dim"],
    )
    generator.load_weights(weights)
    discriminator = build_projection_discriminator(architecture["embedding_dim"], width=4)
    return TextConditionalGAN(generator, discriminator), provenance


# --- Evaluation and the CLI's trainer ---------------------------------------------------------

# Six training-grammar captions of seen compositions: the columns of the training sample grid.
PREVIEW_CAPTIONS = (
    "a large red circle in the center",
    "a small blue square in the top left corner",
    "a medium-sized green triangle in the bottom right corner",
    "a large yellow square in the middle of the left side",
    "a small white diamond in the top middle",
    "a medium-sized purple circle in the bottom left corner",
)


def evaluation_record(
    gan: TextConditionalGAN,
    encoder: Any,
    judge: Any,
    splits: Any,
    *,
    seed: int = 0,
    kid_subsets: int = 50,
) -> dict[str, Any]:
    """The judge's reading of samples for each evaluation set's captions (one image each).

    Returns ``{"adherence": {set name: judge.adherence(...) without counts, ...,
    "shuffled control": the seen samples scored against other images' attributes},
    "fid_judge_features": {"seen": {fid, kid, kid_std} samples vs the real seen images,
    "real_vs_real": the floor at the same n}}``.
    """
    from ganbook_utils import judge as judge_module
    from ganbook_utils import shapes

    adherence: dict[str, Any] = {}
    seen_samples = None
    for offset, (name, image_set) in enumerate(splits.evaluation_sets().items()):
        embeddings = encoder.encode_text(list(image_set.captions))
        samples = gan.sample(len(image_set), seed=seed + offset, labels=embeddings)
        score = judge_module.adherence(judge.read(samples), image_set)
        adherence[name] = _rounded(score)
        if name == "seen":
            seen_samples = samples
    seen = splits.seen
    # The control: the same samples judged against a derangement of the captions' attributes.
    order = np.roll(np.arange(len(seen)), 1)
    requested = {a: seen.attributes[a][order] for a in judge_module.ATTRIBUTES}
    adherence["shuffled control"] = _rounded(
        judge_module.adherence(judge.read(seen_samples), requested)
    )
    distances = judge_module.feature_distances(
        judge, seen.images, seen_samples, kid_subsets=kid_subsets, seed=seed
    )
    baseline = judge_module.real_vs_real_baseline(
        judge, len(seen), compositions=shapes.seen_compositions(), kid_subsets=kid_subsets
    )
    return {
        "adherence": adherence,
        "fid_judge_features": {
            "seen": {k: round(v, 4) for k, v in distances.items()},
            "real_vs_real": {
                k: round(v, 4) if isinstance(v, float) else v for k, v in baseline.items()
            },
            "samples": len(seen),
        },
    }


def _rounded(score: dict[str, Any]) -> dict[str, Any]:
    keep = ("count", "shape", "colour", "size", "position", "all_four", "chance")
    return {
        key: (
            round(value, 4)
            if isinstance(value, float)
            else {k: round(v, 5) for k, v in value.items()}
            if isinstance(value, dict)
            else value
        )
        for key, value in score.items()
        if key in keep
    }


def _weights_digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_text_encoder(name: str = "clip_shapes32") -> tuple[Any, dict[str, Any], str]:
    """(frozen text encoder, its provenance, sha256 of its weights file) of a shipped encoder.

    Raises FileNotFoundError when it is not shipped (train it first).
    """
    from ganbook_utils import text

    loaded = text.load_pretrained(name)
    if loaded is None:
        raise FileNotFoundError(
            f"The text encoder {name!r} is not shipped; train it first with `python -m "
            f"ganbook_utils train --model clip --out DIR --export ganbook_utils/weights/{name}`."
        )
    encoder, provenance = loaded
    return encoder, provenance, _weights_digest(text.WEIGHTS_DIR / f"{name}.weights.h5")


def train_cli(args: Any) -> int:
    """``python -m ganbook_utils train --model gan_text --out DIR [--export PREFIX]``.

    Trains the text-conditioned GAN on the frozen ``clip_shapes32`` embeddings of
    ``shapes.caption_splits(train_size, ...).train`` (seed 0: no held-out composition or
    phrasing), resumable from DIR's checkpoint (``--learning-rate``, ``--beta-1`` and
    ``--steps-per-epoch`` are kept on resume). ``--loss`` hinge or non_saturating; ``--width``
    and ``--latent-dim`` size the networks. The provenance records the command, profile, data,
    steps, wall time, final losses, the text encoder (name, sha256, its provenance's command)
    and, when the judge is shipped, adherence per evaluation set and FID/KID on the judge's
    features. Returns the exit status.
    """
    from ganbook_utils import cli, shapes

    profile = cli._train_profile(args)
    out = cli._run_directory(args)
    if args.loss not in LOSSES:
        raise cli.UsageError(
            f"--loss {args.loss} does not fit the text GAN; choose one of {', '.join(LOSSES)}."
        )
    steps = cli._default(args.steps, profile.conditional_gan_steps)
    batch_size = cli._default(args.batch_size, profile.batch_size)
    train_size = cli._default(args.train_size, profile.conditional_gan_train_size)
    if batch_size > train_size:
        raise cli.UsageError(f"--batch-size {batch_size} exceeds --train-size {train_size}.")
    width = cli._default(args.width, TEXT_GAN_RECIPE["width"])
    latent_dim = cli._default(args.latent_dim, TEXT_GAN_RECIPE["latent_dim"])
    settings = cli._resumed_settings(
        args, cli._saved_run(out), {**TEXT_GAN_RECIPE, "steps_per_epoch": max(1, steps // 20)}
    )
    try:
        encoder, encoder_provenance, encoder_digest = load_text_encoder()
    except FileNotFoundError as error:
        raise cli.UsageError(str(error)) from None
    keras.utils.set_random_seed(args.seed)
    splits = shapes.caption_splits(train_size, profile.conditional_gan_eval_size, seed=0)
    embeddings = encoder.encode_text(list(splits.train.captions))
    gan = build_text_gan(
        loss=args.loss,
        latent_dim=latent_dim,
        width=width,
        embedding_dim=embeddings.shape[1],
        learning_rate=settings["learning_rate"],
        beta_1=settings["beta_1"],
        preview_labels=encoder.encode_text(list(PREVIEW_CAPTIONS)),
    )
    pipeline = make_caption_pipeline(splits.train.images, embeddings, batch_size, seed=args.seed)
    result = cli._fit(training, gan, pipeline, steps, out, settings, args)
    if result["diverged"]:
        return 1  # the DivergenceGuard has printed why
    weights = out / "generator.weights.h5"
    # The moving average of the weights, the ones `sample` uses, are the ones to ship.
    with gan.averaged_generator() as generator:
        cli._save_weights_atomic(generator.save_weights, weights)
    history = result["history"]
    ran = training.optimizer_settings(gan)["d_optimizer"]
    provenance: dict[str, Any] = {
        "command": "python -m ganbook_utils " + shlex.join(args.argv),
        "profile": profile.name,
        "model": "gan_text",
        "architecture": architecture_record(gan, width, TEXT_GAN_RECIPE["condition_dim"]),
        "discriminator": {
            "kind": "projection (Miyato & Koyama 2018), spectral norm on every layer",
            "feature_dim": TEXT_GAN_RECIPE["feature_dim"],
            "width": width,
        },
        "conditioning": "embedding -> Dense(128) + LeakyReLU; concatenated to z and "
        "conditional batch norm after every hidden generator layer",
        "mismatched_captions": "real image + another image's caption (batch rolled by a random "
        "shift) scored as fake, weight 1/2 with the generated images (GAN-INT-CLS)",
        "loss": args.loss,
        "learning_rate": ran["learning_rate"],
        "beta_1": ran["beta_1"],
        "batch_size": batch_size,
        "steps_per_epoch": settings["steps_per_epoch"],
        "generator_ema_momentum": TEXT_GAN_RECIPE["ema_momentum"],
        "text_encoder": {
            "name": "clip_shapes32",
            "weights_sha256": encoder_digest,
            "command": encoder_provenance.get("command"),
            "steps": encoder_provenance.get("steps"),
            "frozen": True,
        },
        "data": {
            "name": "shapes32 captions",
            "source": "ganbook_utils.shapes.caption_splits (procedural, seed 0)",
            "description": "caption_splits(...).train: seen (shape, colour) pairs and training "
            "phrasings only; evaluated on fresh seen / held-out-phrasing / held-out-composition "
            "sets",
            "train_images": train_size,
            "eval_images_per_set": profile.conditional_gan_eval_size,
            "held_out_compositions": [list(pair) for pair in shapes.HELD_OUT_COMPOSITIONS],
            "held_out_caption_templates": list(shapes.HELD_OUT_CAPTION_TEMPLATES),
        },
        "steps": result["step"],
        "seed": args.seed,
        "wall_time_s": round(result["wall_time_s"], 1),
        "final_losses": {k: v[-1] for k, v in history.items() if k != "step" and v},
        # The per-epoch training curve (fit_resumable's history), for the chapter's plot.
        "history": {k: [round(float(x), 5) for x in v] for k, v in history.items()},
        "generator_parameters": int(gan.generator.count_params()),
    }
    judge = _load_judge()
    if judge is None:
        provenance["evaluation"] = "the judge (judge_shapes32) is not shipped: not evaluated"
    else:
        provenance["evaluation"] = evaluation_record(
            gan, encoder, judge, splits, seed=0, kid_subsets=profile.kid_subsets
        )
        seen = provenance["evaluation"]["adherence"]["seen"]
        print(
            f"Judge on seen captions: shape {seen['shape']:.1%}, colour {seen['colour']:.1%}, "
            f"size {seen['size']:.1%}, position {seen['position']:.1%}, all four "
            f"{seen['all_four']:.1%}"
        )
    print(f"Trained {result['step']} steps in {result['wall_time_s']:.0f} s; outputs in {out}/")
    cli._write_outputs(out, provenance, weights, args.export)
    return 0


def _load_judge() -> Any:
    try:
        from ganbook_utils import judge
    except ImportError:
        return None
    return judge.load_judge()
