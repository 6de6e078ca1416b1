"""GAN losses against hand-computed values, their gradients, and the gradient penalty."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganbook_utils import losses

LOG2 = math.log(2.0)


def softplus(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(x))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def value(tensor) -> float:
    return float(keras.ops.convert_to_numpy(tensor))


@pytest.mark.parametrize(
    ("loss", "args", "expected"),
    [
        # Logits 0 mean D = 1/2 everywhere: each cross-entropy term is log 2.
        (losses.discriminator_loss_minimax, ([0.0, 0.0], [0.0, 0.0]), 2 * LOG2),
        (losses.generator_loss_minimax, ([0.0, 0.0],), -LOG2),
        (losses.generator_loss_non_saturating, ([0.0, 0.0],), LOG2),
        # Hinge: relu(1 - 2) = 0 and relu(1 - 0.5) = 0.5 -> 0.25; relu(1 + -3) = 0, relu(1 + 1) = 2
        # -> 1.0.
        (losses.discriminator_loss_hinge, ([2.0, 0.5], [-3.0, 1.0]), 0.25 + 1.0),
        (losses.generator_loss_hinge, ([-1.0, 3.0],), -1.0),
        # LSGAN: 1/2 mean((1-1)^2, (3-1)^2) + 1/2 mean(0^2, 2^2) = 1 + 1.
        (losses.discriminator_loss_least_squares, ([1.0, 3.0], [0.0, 2.0]), 2.0),
        (losses.generator_loss_least_squares, ([1.0, -1.0],), 1.0),
        # Wasserstein: mean(fake) - mean(real) = 0.5 - 2.
        (losses.critic_loss_wasserstein, ([1.0, 3.0], [0.0, 1.0]), -1.5),
        (losses.generator_loss_wasserstein, ([0.0, 1.0],), -0.5),
    ],
)
def test_losses_match_hand_computed_values(loss, args, expected):
    assert value(loss(*args)) == pytest.approx(expected, rel=1e-6)


def test_minimax_losses_match_cross_entropy_of_probabilities():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=8), rng.normal(size=8)
    expected_d = -np.mean(np.log(sigmoid(real))) - np.mean(np.log(1 - sigmoid(fake)))
    assert value(losses.discriminator_loss_minimax(real, fake)) == pytest.approx(expected_d, 1e-5)
    expected_g = np.mean(np.log(1 - sigmoid(fake)))
    assert value(losses.generator_loss_minimax(fake)) == pytest.approx(expected_g, rel=1e-5)
    expected_ns = -np.mean(np.log(sigmoid(fake)))
    assert value(losses.generator_loss_non_saturating(fake)) == pytest.approx(expected_ns, 1e-5)


def test_losses_are_stable_for_extreme_logits():
    # log(sigmoid(-200)) underflows to log(0) in float32; the softplus form stays finite.
    confident = np.array([-200.0, 200.0], dtype=np.float32)
    for loss in (losses.generator_loss_minimax, losses.generator_loss_non_saturating):
        assert np.isfinite(value(loss(confident)))
    assert value(losses.generator_loss_non_saturating([-200.0])) == pytest.approx(200.0, rel=1e-6)
    assert np.isfinite(value(losses.discriminator_loss_minimax(confident, confident)))


def test_minimax_generator_gradient_saturates_where_non_saturating_does_not():
    # The point of the non-saturating loss: when D rejects the fakes (logit -10), the minimax
    # gradient d/dlogit[-softplus(l)] = -sigmoid(l) ~ -4.5e-5, the non-saturating one ~ -1.
    logits = tf.Variable([-10.0])
    with tf.GradientTape(persistent=True) as tape:
        minimax = losses.generator_loss_minimax(logits)
        non_saturating = losses.generator_loss_non_saturating(logits)
    assert value(tape.gradient(minimax, logits)[0]) == pytest.approx(-sigmoid(-10.0), rel=1e-4)
    assert value(tape.gradient(non_saturating, logits)[0]) == pytest.approx(
        -sigmoid(10.0), rel=1e-4
    )


def test_losses_accept_column_logits_and_return_scalars():
    real = np.array([[0.3], [-1.2], [2.0]], dtype=np.float32)
    fake = np.array([[-0.7], [0.1], [1.5]], dtype=np.float32)
    for discriminator_loss, generator_loss in losses.GAN_LOSSES.values():
        d_value, g_value = discriminator_loss(real, fake), generator_loss(fake)
        assert tuple(d_value.shape) == () and tuple(g_value.shape) == ()
        assert value(d_value) == pytest.approx(value(discriminator_loss(real[:, 0], fake[:, 0])))
        assert value(g_value) == pytest.approx(value(generator_loss(fake[:, 0])))


def test_losses_work_inside_tf_function():
    compiled = tf.function(losses.discriminator_loss_minimax)
    assert value(compiled(tf.zeros([4, 1]), tf.zeros([4, 1]))) == pytest.approx(2 * LOG2)


def test_registry_pairs_losses_by_name():
    assert set(losses.GAN_LOSSES) == {
        "minimax",
        "non_saturating",
        "hinge",
        "least_squares",
        "wasserstein",
    }
    assert losses.get_gan_loss("non_saturating") == (
        losses.discriminator_loss_minimax,
        losses.generator_loss_non_saturating,
    )
    with pytest.raises(ValueError, match="Unknown GAN loss 'nonsaturating'"):
        losses.get_gan_loss("nonsaturating")


@pytest.mark.parametrize(
    ("real", "fake", "message"),
    [
        (np.zeros((4, 1)), np.zeros(4), "same layout"),
        (np.zeros((4, 2)), np.zeros((4, 2)), r"shaped \(N,\) or \(N, 1\)"),
        (np.zeros((4, 8, 8, 1)), np.zeros((4, 8, 8, 1)), "no sigmoid, no images"),
        (np.zeros(0), np.zeros(0), "empty"),
    ],
)
def test_bad_shapes_raise_clear_errors(real, fake, message):
    for discriminator_loss, _ in losses.GAN_LOSSES.values():
        with pytest.raises(ValueError, match=message):
            discriminator_loss(real, fake)


def test_generator_losses_reject_images():
    with pytest.raises(ValueError, match="fake_logits must hold one logit/score per example"):
        losses.generator_loss_non_saturating(np.zeros((2, 28, 28, 1)))


class LinearCritic(keras.Model):
    """f(x) = <w, x> + b: its input gradient is w everywhere, so the penalty is (||w|| - 1)^2."""

    def __init__(self, weights: np.ndarray):
        super().__init__()
        self.w = tf.constant(weights.reshape(1, -1), dtype=tf.float32)

    def call(self, inputs, training=False):
        flat = tf.reshape(inputs, [tf.shape(inputs)[0], -1])
        return tf.reduce_sum(flat * self.w, axis=1, keepdims=True) + 0.5


@pytest.mark.parametrize("weights", [np.array([3.0, 4.0]), np.array([0.6, 0.8]), np.zeros(2)])
def test_gradient_penalty_of_linear_critic_is_closed_form(weights):
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(16, 2)), rng.normal(size=(16, 2))
    penalty = value(losses.gradient_penalty(LinearCritic(weights), real, fake, seed=3))
    assert penalty == pytest.approx((np.linalg.norm(weights) - 1.0) ** 2, abs=1e-5)


def test_gradient_penalty_takes_the_norm_over_all_image_axes():
    weights = np.full(2 * 2 * 3, 0.5)  # ||w|| = sqrt(12 * 0.25) = sqrt(3)
    real = np.ones((5, 2, 2, 3), np.float32)
    penalty = value(losses.gradient_penalty(LinearCritic(weights), real, -real, seed=0))
    assert penalty == pytest.approx((math.sqrt(3.0) - 1.0) ** 2, rel=1e-5)


def test_gradient_penalty_equals_its_definition_on_a_quadratic_critic():
    # f(x) = sum(x^2): grad = 2 x_hat. With real == fake, x_hat = x whatever eps is drawn.
    def critic(inputs, training=False):
        return tf.reduce_sum(tf.square(inputs), axis=1)

    points = np.array([[0.5, 0.0], [1.0, 1.0], [0.0, 0.0]], np.float32)
    expected = np.mean((2.0 * np.linalg.norm(points, axis=1) - 1.0) ** 2)
    assert value(losses.gradient_penalty(critic, points, points)) == pytest.approx(expected, 1e-5)


def test_gradient_penalty_interpolates_between_real_and_fake():
    # f(x) = x^2 / 2 in 1-D: grad = x_hat = eps * 1 + (1 - eps) * 0 = eps, penalty = mean((eps-1)^2)
    # whose expectation over eps ~ U[0, 1] is 1/3.
    def critic(inputs, training=False):
        return 0.5 * tf.square(inputs[:, 0])

    ones = np.ones((20_000, 1), np.float32)
    penalty = value(losses.gradient_penalty(critic, ones, np.zeros_like(ones), seed=7))
    assert penalty == pytest.approx(1.0 / 3.0, abs=0.01)
    again = value(losses.gradient_penalty(critic, ones, np.zeros_like(ones), seed=7))
    assert again == pytest.approx(penalty)  # a fixed seed draws the same eps


def test_gradient_penalty_trains_a_critic_towards_unit_gradient_norm():
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    critic.layers[0].kernel.assign([[3.0], [4.0]])
    optimizer = keras.optimizers.SGD(0.1)  # ||w|| - 1 shrinks by 0.8 per step
    points = np.random.default_rng(2).normal(size=(32, 2)).astype(np.float32)
    for _ in range(50):
        with tf.GradientTape() as tape:
            penalty = losses.gradient_penalty(critic, points, -points, seed=0)
        optimizer.apply_gradients(
            zip(
                tape.gradient(penalty, critic.trainable_variables),
                critic.trainable_variables,
                strict=True,
            )
        )
    assert np.linalg.norm(critic.layers[0].kernel.numpy()) == pytest.approx(1.0, abs=1e-2)


def test_gradient_penalty_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="pass equal batches"):
        losses.gradient_penalty(LinearCritic(np.ones(2)), np.zeros((4, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="feature axis"):
        losses.gradient_penalty(LinearCritic(np.ones(1)), np.zeros(4), np.zeros(4))


def test_gradient_penalty_draws_fresh_interpolation_weights_inside_tf_function():
    def critic(inputs, training=False):
        return 0.5 * tf.square(inputs[:, 0])

    compiled = tf.function(lambda real, fake: losses.gradient_penalty(critic, real, fake))
    ones = tf.ones([64, 1])
    first, second = value(compiled(ones, 0 * ones)), value(compiled(ones, 0 * ones))
    assert first != second  # seed=None: a new eps per call, not one frozen at tracing
    assert 0.1 < first < 0.6 and 0.1 < second < 0.6  # around E[(eps - 1)^2] = 1/3
