"""benchmarks/dcgan28_levers.py: the label smoothing and learning-rate decay it measures."""

import sys
import types

import numpy as np
import tensorflow as tf
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import dcgan28_levers  # noqa: E402

from ganbook_utils import losses  # noqa: E402


def test_label_one_is_the_plain_discriminator_loss_and_smoothing_raises_it_for_confident_d():
    real = tf.constant([[4.0], [3.0], [5.0]])
    fake = tf.constant([[-2.0], [-1.0], [0.5]])
    plain = float(losses.discriminator_loss_minimax(real, fake))
    assert np.isclose(float(dcgan28_levers.discriminator_loss_smoothed(1.0)(real, fake)), plain)
    # With target 0.9, a D sure that reals are real (logits 3-5) pays for the excess belief.
    assert float(dcgan28_levers.discriminator_loss_smoothed(0.9)(real, fake)) > plain + 0.2


def test_linear_decay_holds_the_rates_until_start_then_falls_linearly_toward_zero():
    gan = types.SimpleNamespace(
        d_optimizer=types.SimpleNamespace(learning_rate=tf.Variable(1.0)),
        g_optimizer=types.SimpleNamespace(learning_rate=tf.Variable(1.0)),
    )
    decay = dcgan28_levers.LinearDecay(gan, start=5, steps=10, rates=(4e-4, 2e-4))
    seen = []
    for step in range(10):
        decay.on_train_batch_begin(step)
        seen.append((float(gan.d_optimizer.learning_rate), float(gan.g_optimizer.learning_rate)))
    assert seen[4] == (1.0, 1.0)  # untouched before `start`
    assert np.allclose(seen[5], (4e-4, 2e-4))
    assert np.allclose(seen[9], (4e-4 * 0.2, 2e-4 * 0.2))
    assert all(a[0] > b[0] for a, b in zip(seen[5:], seen[6:], strict=False))


def test_r1_adds_gamma_half_the_squared_slope_at_real_images():
    # A linear D, D(x) = sum(w * x): its slope at every image is w, so R1 = gamma/2 * ||w||^2.
    import keras

    inputs = keras.Input((2, 2, 1))
    discriminator = keras.Model(
        inputs, keras.layers.Dense(1, use_bias=False)(keras.layers.Flatten()(inputs))
    )
    weights = np.array([[1.0], [-2.0], [0.5], [3.0]], dtype="float32")
    discriminator.layers[-1].set_weights([weights])
    generator = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4), keras.layers.Reshape((2, 2, 1))]
    )
    real = tf.random.normal((5, 2, 2, 1), seed=1)
    fake = tf.random.normal((5, 2, 2, 1), seed=2)
    gan = dcgan28_levers.R1GAN(generator, discriminator, gamma=0.4)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(), g_optimizer=keras.optimizers.Adam(), loss="minimax"
    )
    with_r1, _ = gan._discriminator_loss(real, fake)
    plain = losses.discriminator_loss_minimax(discriminator(real), discriminator(fake))
    assert np.isclose(float(with_r1), float(plain) + 0.2 * float(np.sum(weights**2)), rtol=1e-5)
