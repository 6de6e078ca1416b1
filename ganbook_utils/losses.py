"""GAN losses: minimax, non-saturating, hinge, least-squares, Wasserstein and gradient penalty.

Every function takes the discriminator's *raw* outputs (logits or critic scores, one per
example, shaped ``(N,)`` or ``(N, 1)``), never probabilities, and returns a scalar: the mean
over the batch. Working with logits lets the log-sigmoid terms be computed stably with
``softplus`` instead of ``log(sigmoid(x))``, which underflows to ``log(0)`` for large ``|x|``.

Sign convention: every loss is *minimised* by the player it belongs to. ``GAN_LOSSES`` maps a
name to its ``(discriminator_loss, generator_loss)`` pair so training code can take a loss by
name. The functions use ``keras.ops`` and run eagerly, inside ``tf.function`` and under a
``tf.distribute`` strategy; only :func:`gradient_penalty` needs TensorFlow itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

# The gradient-penalty weight lambda of Gulrajani et al. (2017); the caller multiplies by it.
GRADIENT_PENALTY_WEIGHT = 10.0


def _as_scores(name: str, values: Any) -> Any:
    """``values`` as a float tensor of per-example scores, shaped (N,) or (N, 1).

    Raises:
        ValueError: if the tensor has another shape (e.g. images or probabilities per class).
    """
    values = ops.convert_to_tensor(values)
    shape = tuple(values.shape)
    if len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] not in (1, None)):
        raise ValueError(
            f"{name} must hold one logit/score per example, shaped (N,) or (N, 1); got shape "
            f"{shape}. Pass the discriminator's raw output for a batch (no sigmoid, no images)."
        )
    if shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {shape}); pass at least one example.")
    # Losses are accumulated in float32 even when the model runs in mixed precision.
    return ops.cast(ops.reshape(values, (-1,)), "float32")


def _as_score_pair(real: Any, fake: Any, kind: str) -> tuple[Any, Any]:
    """Both score tensors, checked to have the same layout, (N,) or (N, 1).

    ``kind`` names the arguments in errors (``real_<kind>``, ``fake_<kind>``); the batch sizes
    may differ (each term is its own mean).
    """
    real_name, fake_name = f"real_{kind}", f"fake_{kind}"
    real, fake = ops.convert_to_tensor(real), ops.convert_to_tensor(fake)
    if len(real.shape) != len(fake.shape):
        raise ValueError(
            f"{real_name} has shape {tuple(real.shape)} but {fake_name} has shape "
            f"{tuple(fake.shape)}; give both the same layout, (N,) or (N, 1)."
        )
    return _as_scores(real_name, real), _as_scores(fake_name, fake)


# --- Minimax and non-saturating (Goodfellow et al., 2014) ---------------------------------------


def discriminator_loss_minimax(real_logits: Any, fake_logits: Any) -> Any:
    """Binary cross-entropy of the discriminator: ``-E[log D(x)] - E[log(1 - D(G(z)))]``.

    With ``D = sigmoid(logit)``: ``-log D = softplus(-logit)``, ``-log(1 - D) = softplus(logit)``.
    The two terms are summed (not averaged), as in the original paper's value function, so at
    logits 0 (D = 1/2 everywhere) the loss is ``2 log 2``. Shared by minimax and non-saturating.
    """
    real_logits, fake_logits = _as_score_pair(real_logits, fake_logits, "logits")
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


def generator_loss_minimax(fake_logits: Any) -> Any:
    """The saturating generator loss of the minimax game: ``E[log(1 - D(G(z)))]`` (minimised).

    Equals ``-softplus(logit)``. Its gradient vanishes when the discriminator confidently rejects
    the fakes (logit -> -inf), which is exactly the situation early in training.
    """
    return -ops.mean(ops.softplus(_as_scores("fake_logits", fake_logits)))


def generator_loss_non_saturating(fake_logits: Any) -> Any:
    """The non-saturating generator loss ``-E[log D(G(z))] = E[softplus(-logit)]``.

    Same fixed point as the minimax loss, but a strong gradient when the fakes are rejected.
    """
    return ops.mean(ops.softplus(-_as_scores("fake_logits", fake_logits)))


# --- Hinge (Lim & Ye, 2017; Miyato et al., 2018) ------------------------------------------------


def discriminator_loss_hinge(real_logits: Any, fake_logits: Any) -> Any:
    """Hinge loss of the discriminator: ``E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]``."""
    real_logits, fake_logits = _as_score_pair(real_logits, fake_logits, "logits")
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


def generator_loss_hinge(fake_logits: Any) -> Any:
    """Hinge loss of the generator: ``-E[D(G(z))]`` (raise the fakes' scores)."""
    return -ops.mean(_as_scores("fake_logits", fake_logits))


# --- Least squares (Mao et al., 2017, with targets a=0, b=1, c=1) -------------------------------


def discriminator_loss_least_squares(real_outputs: Any, fake_outputs: Any) -> Any:
    """LSGAN discriminator loss ``1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]`` on raw outputs."""
    real_outputs, fake_outputs = _as_score_pair(real_outputs, fake_outputs, "outputs")
    return 0.5 * ops.mean(ops.square(real_outputs - 1.0)) + 0.5 * ops.mean(ops.square(fake_outputs))


def generator_loss_least_squares(fake_outputs: Any) -> Any:
    """LSGAN generator loss ``1/2 E[(D(G(z)) - 1)^2]``."""
    return 0.5 * ops.mean(ops.square(_as_scores("fake_outputs", fake_outputs) - 1.0))


# --- Wasserstein (Arjovsky et al., 2017) and gradient penalty (Gulrajani et al., 2017) ----------


def critic_loss_wasserstein(real_scores: Any, fake_scores: Any) -> Any:
    """Wasserstein critic loss ``E[f(G(z))] - E[f(x)]``; minus it estimates W1 if f is 1-Lipschitz.

    The Lipschitz constraint is not in this loss: add ``GRADIENT_PENALTY_WEIGHT *
    gradient_penalty(...)`` (WGAN-GP) or clip the weights (the original WGAN).
    """
    real_scores, fake_scores = _as_score_pair(real_scores, fake_scores, "scores")
    return ops.mean(fake_scores) - ops.mean(real_scores)


def generator_loss_wasserstein(fake_scores: Any) -> Any:
    """Wasserstein generator loss ``-E[f(G(z))]``."""
    return -ops.mean(_as_scores("fake_scores", fake_scores))


def gradient_penalty(
    critic: Callable[..., Any],
    real_images: Any,
    fake_images: Any,
    *,
    seed: int | keras.random.SeedGenerator | None = None,
) -> Any:
    """WGAN-GP penalty ``E[(||grad_x f(x_hat)||_2 - 1)^2]``, *unweighted*.

    ``x_hat = eps * x + (1 - eps) * G(z)`` with one ``eps ~ U[0, 1]`` per example. The caller
    multiplies the result by lambda (``GRADIENT_PENALTY_WEIGHT`` = 10 in the paper) and adds it
    to :func:`critic_loss_wasserstein`. The gradient norm is taken over all non-batch axes.

    Args:
        critic: a ``keras.Model`` (or a callable taking ``training=``) mapping a batch to
            scores shaped (N,) or (N, 1), called as ``critic(x, training=True)``. Each score
            must depend only on its own example (no batch norm).
        real_images, fake_images: batches of the same shape (N, ...).
        seed: int or ``keras.random.SeedGenerator`` for ``eps``; None draws a fresh one.

    Raises:
        ValueError: if the two batches differ in shape or are empty.
    """
    import tensorflow as tf

    real_images = tf.cast(tf.convert_to_tensor(real_images), tf.float32)
    fake_images = tf.cast(tf.convert_to_tensor(fake_images), tf.float32)
    if not real_images.shape.is_compatible_with(fake_images.shape):
        raise ValueError(
            f"real_images has shape {tuple(real_images.shape)} but fake_images has shape "
            f"{tuple(fake_images.shape)}; the penalty interpolates pairs, so pass equal batches."
        )
    if real_images.shape.rank is None or real_images.shape.rank < 2:
        raise ValueError(
            f"Expected batches shaped (N, ...) with at least one feature axis; got shape "
            f"{tuple(real_images.shape)}. Add a feature axis, e.g. x[:, None]."
        )
    if real_images.shape[0] == 0:
        raise ValueError("real_images is empty; pass at least one example.")
    rank = real_images.shape.rank
    if seed is None:
        # TensorFlow's stateful generator creates no variable, so this also works inside a
        # tf.function traced per replica of a tf.distribute strategy (Keras' global seed
        # generator would create its state variable there).
        epsilon = tf.random.uniform(tf.shape(real_images)[:1], dtype=tf.float32)
    else:
        epsilon = keras.random.uniform(tf.shape(real_images)[:1], dtype="float32", seed=seed)
    epsilon = tf.reshape(epsilon, [-1] + [1] * (rank - 1))
    interpolated = epsilon * real_images + (1.0 - epsilon) * fake_images
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = tf.cast(critic(interpolated, training=True), tf.float32)
        # Summing is safe because each score depends only on its own example: the gradient of
        # the sum w.r.t. example i is the gradient of score i.
        total = tf.reduce_sum(scores)
    gradients = tape.gradient(total, interpolated)
    feature_axes = list(range(1, rank))
    # The epsilon avoids the undefined derivative of sqrt at 0 (a critic flat at x_hat).
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=feature_axes) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


LossPair = tuple[Callable[[Any, Any], Any], Callable[[Any], Any]]

# name -> (discriminator/critic loss(real, fake), generator loss(fake)).
GAN_LOSSES: dict[str, LossPair] = {
    "minimax": (discriminator_loss_minimax, generator_loss_minimax),
    "non_saturating": (discriminator_loss_minimax, generator_loss_non_saturating),
    "hinge": (discriminator_loss_hinge, generator_loss_hinge),
    "least_squares": (discriminator_loss_least_squares, generator_loss_least_squares),
    "wasserstein": (critic_loss_wasserstein, generator_loss_wasserstein),
}


def get_gan_loss(name: str) -> LossPair:
    """The ``(discriminator_loss, generator_loss)`` pair registered under ``name``.

    Raises:
        ValueError: if ``name`` is not a key of ``GAN_LOSSES``.
    """
    if name not in GAN_LOSSES:
        raise ValueError(f"Unknown GAN loss {name!r}; choose one of {', '.join(GAN_LOSSES)}.")
    return GAN_LOSSES[name]
