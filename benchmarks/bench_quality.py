"""Quality per CPU minute: the package's DCGAN recipe vs the TensorFlow tutorial's, equal time.

Both train on the same offline MNIST digits (``data.load_dataset("mnist", seed=0)``: the
domain classifier's split, so its 1,000 held-out digits were seen by neither GAN nor the
classifier) for the same wall-clock budget, then both are scored as the evaluation chapter
does: FID on the book's classifier features (``features.mnist_classifier``), N generated
images (default 2,000, the cpu profile's ``fid_samples``) against the held-out digits, and
IS on its logits; mean and standard deviation over ``--draws`` independent draws.

* ours: ``training.build_gan("dcgan28")`` (the cpu recipe of ``DCGAN_RECIPES``: width, Adam,
  generator weight averaging) trained by ``GAN.fit`` on ``data.make_pipeline``, batch of the
  cpu profile;
* baseline: the TensorFlow DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan): its
  generator and discriminator, Adam(1e-4) for both, batch 256, cross-entropy, written as its
  plain ``tf.function`` step over a shuffled ``tf.data`` pipeline.

The machine is shared: training alternates between the two in slices of ``--slice-seconds``,
each side's clock counting only its own slices, so that load from other processes falls on
both alike. A slice's fixed costs (a ``fit`` call starting, a new iterator) count against the
side that pays them.

Usage: python benchmarks/bench_quality.py [--minutes 10] [--samples 2000] [--out _build/bench]
The default of --minutes is GANBOOK_BENCH_MINUTES when set (`make bench BENCH_MINUTES=3`).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from rows import emit_row

from ganbook_utils import data, features, metrics, profiles, training

LATENT_DIM = 100  # both: the tutorial's noise_dim and the recipe's latent_dim


def tutorial_generator() -> keras.Model:
    """make_generator_model() of the TensorFlow DCGAN tutorial."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
            layers.Dense(7 * 7 * 256, use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Reshape((7, 7, 256)),
            layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.LeakyReLU(),
            layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False),
            layers.Activation("tanh"),
        ],
        name="tutorial_generator",
    )


def tutorial_discriminator() -> keras.Model:
    """make_discriminator_model() of the TensorFlow DCGAN tutorial."""
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(64, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Conv2D(128, 5, strides=2, padding="same"),
            layers.LeakyReLU(),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(1),
        ],
        name="tutorial_discriminator",
    )


class Contender:
    """One side: trains in slices against its own clock, then draws samples."""

    name = ""
    batch_size = 0

    def __init__(self) -> None:
        self.seconds = 0.0
        self.steps = 0

    def train_for(self, seconds: float) -> None:
        raise NotImplementedError

    def sample(self, n: int, seed: int) -> np.ndarray:
        raise NotImplementedError


class Recipe(Contender):
    """The package's dcgan28 recipe, trained by ``GAN.fit``."""

    def __init__(self, train_images: np.ndarray, batch_size: int) -> None:
        super().__init__()
        recipe = training.DCGAN_RECIPES["dcgan28"]
        self.name = (
            f"ganbook dcgan28 recipe (width {recipe['width']}, Adam({recipe['learning_rate']:g}, "
            f"beta_1={recipe['beta_1']}), weight averaging {recipe['generator_ema']}, "
            f"batch {batch_size})"
        )
        self.batch_size = batch_size
        self.gan = training.build_gan("dcgan28")
        self.dataset = data.make_pipeline(train_images, batch_size, repeat=True, seed=0)

    def train_for(self, seconds: float) -> None:
        contender = self

        class StopAtDeadline(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                contender.steps += 1
                if time.perf_counter() >= deadline:
                    self.model.stop_training = True

        start = time.perf_counter()
        deadline = start + seconds
        self.gan.fit(
            self.dataset,
            epochs=1,
            steps_per_epoch=10**9,
            verbose=0,
            shuffle=False,  # the pipeline shuffles
            callbacks=[StopAtDeadline()],
        )
        self.seconds += time.perf_counter() - start

    def sample(self, n: int, seed: int) -> np.ndarray:
        return self.gan.sample(n, seed=seed)


class Tutorial(Contender):
    """The TF tutorial: its models, Adam(1e-4), batch 256, a plain tf.function step."""

    def __init__(self, train_images: np.ndarray, batch_size: int = 256) -> None:
        super().__init__()
        self.name = f"TF tutorial DCGAN (Adam(1e-4), batch {batch_size}, tf.function loop)"
        self.batch_size = batch_size
        self.generator = tutorial_generator()
        self.discriminator = tutorial_discriminator()
        g_optimizer = keras.optimizers.Adam(1e-4)
        d_optimizer = keras.optimizers.Adam(1e-4)
        cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
        generator, discriminator = self.generator, self.discriminator
        images = (train_images.astype("float32") - 127.5) / 127.5
        self.dataset = (
            tf.data.Dataset.from_tensor_slices(images)
            .shuffle(len(images), seed=0)
            .batch(batch_size)
        )
        self.iterator = iter(self.dataset)

        @tf.function
        def train_step(images):
            noise = tf.random.normal([batch_size, LATENT_DIM])
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
            d_optimizer.apply_gradients(
                zip(d_grads, discriminator.trainable_variables, strict=True)
            )
            return d_loss

        self.train_step = train_step

    def train_for(self, seconds: float) -> None:
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            try:
                batch = next(self.iterator)
            except StopIteration:  # the tutorial's epochs: a new shuffle each
                self.iterator = iter(self.dataset)
                batch = next(self.iterator)
            self.train_step(batch)
            self.steps += 1
        self.seconds += time.perf_counter() - start

    def sample(self, n: int, seed: int) -> np.ndarray:
        z = np.random.default_rng(seed).standard_normal((n, LATENT_DIM)).astype("float32")
        return np.concatenate(
            [np.asarray(self.generator(z[i : i + 256], training=False)) for i in range(0, n, 256)]
        )


def score(
    contender: Contender, extractor, real_features: np.ndarray, samples: int, draws: int
) -> dict[str, dict[str, float]]:
    """Mean and std of FID, IS, KID over ``draws`` independent draws of ``samples`` images."""
    results = []
    for seed in range(draws):
        fake_features, fake_logits = extractor.features_and_logits(
            contender.sample(samples, seed=seed)
        )
        results.append(
            metrics.evaluate_features(real_features, fake_features, fake_logits, seed=seed)
        )
    return {
        key: {
            "mean": float(np.mean([r[key] for r in results])),
            "std": float(np.std([r[key] for r in results])),
        }
        for key in results[0]
    }


def save_grid(contender: Contender, path: Path) -> None:
    from PIL import Image

    images = contender.sample(64, seed=0)
    pixels = np.squeeze(training.tile_images(images, columns=8))  # uint8 already
    Image.fromarray(pixels).resize((pixels.shape[1] * 3, pixels.shape[0] * 3)).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes",
        type=float,
        default=float(os.environ.get("GANBOOK_BENCH_MINUTES", "10")),
        help="training wall time of each side",
    )
    parser.add_argument("--samples", type=int, default=profiles.get_profile("cpu").fid_samples)
    parser.add_argument("--draws", type=int, default=3, help="independent draws scored")
    parser.add_argument("--slice-seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=Path("_build/bench"))
    args = parser.parse_args()
    cpu = profiles.get_profile("cpu")

    extractor = features.mnist_classifier()
    held_out = features.mnist_classifier_provenance()["data"]["val_images"]
    # The classifier's own split (features.train_and_export_mnist_classifier): held-out digits.
    splits = data.load_dataset("mnist", val_size=held_out, seed=0)
    real_features = extractor.features(splits.val.images)
    train_images = splits.train.images

    contenders = [Recipe(train_images, cpu.batch_size), Tutorial(train_images)]
    budget = args.minutes * 60
    load_before = os.getloadavg()
    start = time.perf_counter()
    while any(c.seconds < budget - 1e-6 for c in contenders):
        for contender in contenders:
            left = budget - contender.seconds
            if left > 0:
                contender.train_for(min(args.slice_seconds, left))
    load_after = os.getloadavg()

    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "minutes_each": args.minutes,
        "wall_s": round(time.perf_counter() - start, 1),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "data": splits.description,
        "real": f"{len(real_features)} held-out digits",
        "samples": args.samples,
        "draws": args.draws,
        "extractor": extractor.description,
        "contenders": {},
    }
    print(
        f"Quality per CPU minute: {args.minutes:g} min of training each (slices of "
        f"{args.slice_seconds:g} s, alternating), {args.samples} samples x {args.draws} draws "
        f"vs {len(real_features)} held-out digits; load average {load_before[0]:.1f} -> "
        f"{load_after[0]:.1f}"
    )
    scores = {}
    for key, contender in zip(("ours", "baseline"), contenders, strict=True):
        scores[key] = score(contender, extractor, real_features, args.samples, args.draws)
        save_grid(contender, args.out / f"quality_{key}.png")
        summary["contenders"][key] = {
            "name": contender.name,
            "steps": contender.steps,
            "images_seen": contender.steps * contender.batch_size,
            "train_seconds": round(contender.seconds, 1),
            "scores": scores[key],
            "grid": str(args.out / f"quality_{key}.png"),
        }
        fid, inception = scores[key]["fid"], scores[key]["inception_score"]
        print(
            f"  {contender.name}\n    {contender.steps:,} steps "
            f"({contender.steps * contender.batch_size:,} images) in {contender.seconds:.0f} s: "
            f"FID {fid['mean']:.1f} ± {fid['std']:.1f}, IS {inception['mean']:.2f} ± "
            f"{inception['std']:.2f}, KID {scores[key]['kid']['mean']:.4f}"
        )
    (args.out / "bench_quality.json").write_text(json.dumps(summary, indent=2) + "\n")
    ratio = scores["ours"]["fid"]["mean"] / scores["baseline"]["fid"]["mean"]
    print(f"  FID ratio ours / tutorial: {ratio:.2f} (goal <= 0.5, aim 0.25)")
    emit_row(
        f"bench_quality.py: FID after {args.minutes:g} min of training each (lower is better)",
        ours=scores["ours"]["fid"]["mean"],
        baseline=scores["baseline"]["fid"]["mean"],
        unit="FID",
        goal="<= 0.5",
        ours_label="dcgan28 recipe",
        baseline_label="TF tutorial",
    )
    emit_row(
        f"bench_quality.py: IS after {args.minutes:g} min of training each (higher is better)",
        ours=scores["ours"]["inception_score"]["mean"],
        baseline=scores["baseline"]["inception_score"]["mean"],
        unit="IS",
        goal=">= 1",
        ours_label="dcgan28 recipe",
        baseline_label="TF tutorial",
    )


if __name__ == "__main__":
    main()
