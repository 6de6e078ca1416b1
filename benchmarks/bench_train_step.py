"""Images per second: the package's ``GAN.fit`` vs a plain tf.function + GradientTape loop.

The baseline is the TensorFlow DCGAN tutorial's loop (one ``@tf.function`` step with two tapes,
iterated over a ``tf.data`` pipeline in Python), on the same architecture, batch and data.
Rounds alternate between the two so that load from other processes hits both alike; the
median round is reported. Each round times steps 2..N (steady state; for ``fit``, inside one
``fit`` call, by the timestamps of ``fit_clock.StepClock``, whose docstring says why not by the
difference of two calls). The fixed cost of starting a ``fit`` call, paid once per call
(``fit_resumable`` makes one call per run), is reported separately.

Usage: python benchmarks/bench_train_step.py [--model dcgan28 dcgan64] [--batch-size 64]
       [--steps 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from fit_clock import time_fit
from rows import emit_row

from ganbook_utils import models, training


def make_dataset(image_shape: tuple[int, int, int], batch_size: int) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (16 * batch_size, *image_shape)).astype("float32")
    return (
        tf.data.Dataset.from_tensor_slices(images)
        .batch(batch_size, drop_remainder=True)
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )


def tutorial_loop(model: str, width: int, latent_dim: int, batch_size: int, dataset):
    """The TF tutorial's style: returns run(steps) that trains ``steps`` steps."""
    generator, discriminator = models.build_dcgan(model, latent_dim=latent_dim, width=width)
    g_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(images):
        noise = tf.random.normal([batch_size, latent_dim])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            generated = generator(noise, training=True)
            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated, training=True)
            g_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            d_loss = cross_entropy(tf.ones_like(real_output), real_output) + cross_entropy(
                tf.zeros_like(fake_output), fake_output
            )
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables, strict=True))
        d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables, strict=True))
        return d_loss, g_loss

    iterator = iter(dataset)

    def run(steps: int) -> float:
        """Seconds for steps 2..steps (the first one only starts the clock)."""
        float(train_step(next(iterator))[0])
        start = time.perf_counter()
        for _ in range(steps - 1):
            losses = train_step(next(iterator))
        float(losses[0])  # wait for the last step to finish
        return time.perf_counter() - start

    return run


def package_fit(model: str, width: int, latent_dim: int, dataset, setup_seconds: list):
    gan = training.build_gan(model, width=width, latent_dim=latent_dim)

    def run(steps: int) -> float:
        """Seconds for steps 2..steps of one ``fit`` call (its start-up cost noted aside)."""
        steady, setup = time_fit(gan, dataset, steps)
        setup_seconds.append(setup)
        return steady

    return run


def compare(model: str, width: int | None, batch_size: int, steps: int, rounds: int) -> None:
    """Time both loops on one model; print the result and its table row."""
    width = width or training.DCGAN_RECIPES[model]["width"]
    latent_dim = training.DCGAN_RECIPES[model]["latent_dim"]
    dataset = make_dataset(models.DCGAN_IMAGE_SHAPES[model], batch_size)
    setup_seconds: list[float] = []
    contenders = {
        "tf.function + GradientTape loop (TF tutorial)": tutorial_loop(
            model, width, latent_dim, batch_size, dataset
        ),
        "ganbook_utils GAN.fit": package_fit(model, width, latent_dim, dataset, setup_seconds),
    }
    for run in contenders.values():
        run(3)  # trace and warm up
    setup_seconds.clear()
    seconds = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            seconds[name].append(run(steps))

    print(
        f"{model} (width {width}), batch {batch_size}, {rounds} rounds of "
        f"{steps} steps, TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"devices: {[d.device_type for d in tf.config.list_physical_devices()]}"
    )
    rates = {}
    for name, times in seconds.items():
        rates[name] = (steps - 1) * batch_size / statistics.median(times)
        print(f"  {name:48s} {rates[name]:8.0f} images/s (median round, steady state)")
    baseline, ours = rates.values()
    print(f"  speed-up of GAN.fit over the plain loop: {ours / baseline:.2f}x")
    print(
        f"  fixed cost of starting one fit call (paid once per call): "
        f"{statistics.median(setup_seconds):.2f} s"
    )
    emit_row(
        f"bench_train_step.py: {model} (width {width}), batch {batch_size}, steady state",
        ours=ours,
        baseline=baseline,
        unit="img/s",
        # Parity is the goal (fit adds callbacks and metrics); 5 % is the noise between rounds.
        goal=">= 0.95",
        ours_label="GAN.fit",
        baseline_label="TF-tutorial tf.function loop",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model",
        nargs="+",
        default=["dcgan28", "dcgan64"],
        choices=sorted(models.DCGAN_IMAGE_SHAPES),
    )
    parser.add_argument("--width", type=int, default=None, help="default: each recipe's")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=40, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.steps < 2:
        parser.error("--steps must be at least 2 (the first step of a round starts the clock)")
    for model in args.model:
        compare(model, args.width, args.batch_size, args.steps, args.rounds)


if __name__ == "__main__":
    main()
