"""Quality per CPU minute: the package's DCGAN recipe vs the TensorFlow tutorial's, equal time.

Both train on the same offline MNIST digits (``data.load_dataset("mnist", seed=0)``: the
domain classifier's split, so its 1,000 held-out digits were seen by neither GAN nor the
classifier) for the same budget, then both are scored as the evaluation chapter does: FID on
the book's classifier features (``features.mnist_classifier``), N generated images (default
2,000, the cpu profile's ``fid_samples``) against the held-out digits, and IS on its logits;
mean and standard deviation over ``--draws`` independent draws.

* ours: ``training.build_gan("dcgan28")`` (the cpu recipe of ``DCGAN_RECIPES``: width, Adam,
  generator weight averaging) trained by ``GAN.fit`` on ``data.make_pipeline``, batch of the
  cpu profile;
* baseline: the TensorFlow DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan): its
  generator and discriminator, Adam(1e-4) for both, batch 256, cross-entropy, written as its
  plain ``tf.function`` step over a shuffled ``tf.data`` pipeline.

The budget (``--budget``): ``wall`` gives each side ``--minutes`` of wall-clock training time;
``cpu`` gives each side the CPU time that many minutes of all this machine's cores hold
(``--minutes`` x 60 x cores seconds of process CPU time), so that what other processes take
from the machine does not change what each side gets. In both, training alternates between the
sides in slices of ``--slice-seconds`` (on the side's own clock) within one process, so that
changes of the load fall on all sides alike; each side's wall and CPU seconds are reported.
A slice's fixed costs (a ``fit`` call starting, a new iterator) count against the side that
pays them.

``--arms`` compares variants of the recipe instead (the DCGAN chapter's measurements): each
arm is ``recipe`` or comma-separated overrides such as ``width=64,learning_rate=5e-4`` of the
keys in ``RECIPE_KEYS``, or ``tutorial``; ``--record FILE --record-key KEY`` stores the result
under KEY in a JSON file (the chapter reads ``ganbook_utils/recorded/dcgan28_recipe.json``).

Usage: python benchmarks/bench_quality.py [--minutes 10] [--budget wall|cpu] [--samples 2000]
       [--arms recipe width=64 ...] [--record FILE --record-key KEY] [--out _build/bench]
The default of --minutes is GANBOOK_BENCH_MINUTES when set (`make bench BENCH_MINUTES=3`).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
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


# The recipe's settings an arm may override (``--arms``), with their parsers.
RECIPE_KEYS = {
    "width": int,
    "learning_rate": float,
    "beta_1": float,
    "batch_size": int,
    "generator_ema": lambda text: {"true": True, "false": False}[text.lower()],
    "ema_momentum": float,
    "loss": str,
    "pipeline": str,  # "package" (data.make_pipeline) or "tutorial" (the tutorial's tf.data)
}


class Clock:
    """The seconds a side is charged: wall-clock (``perf_counter``) or process CPU time."""

    def __init__(self, kind: str) -> None:
        if kind not in ("wall", "cpu"):
            raise ValueError(f"budget must be 'wall' or 'cpu'; got {kind!r}.")
        self.kind = kind
        self.now = time.perf_counter if kind == "wall" else time.process_time


class Contender:
    """One side: trains in slices against its own clock, then draws samples."""

    name = ""
    batch_size = 0

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.seconds = 0.0  # on the budget's clock
        self.wall_seconds = 0.0
        self.cpu_seconds = 0.0
        self.steps = 0

    def train_for(self, seconds: float) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        start = self.clock.now()
        self._train_until(start + seconds)
        self.seconds += self.clock.now() - start
        self.wall_seconds += time.perf_counter() - wall
        self.cpu_seconds += time.process_time() - cpu

    def _train_until(self, deadline: float) -> None:
        raise NotImplementedError

    def sample(self, n: int, seed: int) -> np.ndarray:
        raise NotImplementedError

    def record(self) -> dict:
        return {
            "name": self.name,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "images_seen": self.steps * self.batch_size,
            "train_seconds": round(self.seconds, 1),
            "wall_seconds": round(self.wall_seconds, 1),
            "cpu_seconds": round(self.cpu_seconds, 1),
        }


def parse_arm(text: str) -> dict:
    """``recipe`` -> {}; ``width=64,learning_rate=5e-4`` -> overrides; ValueError otherwise."""
    if text in ("recipe", ""):
        return {}
    overrides = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        if key not in RECIPE_KEYS or not value:
            raise ValueError(
                f"Arm {text!r}: {item!r} is not KEY=VALUE with KEY one of {', '.join(RECIPE_KEYS)}."
            )
        overrides[key] = RECIPE_KEYS[key](value)
    return overrides


def tutorial_pipeline(images: np.ndarray, batch_size: int, repeat: bool) -> tf.data.Dataset:
    """The tutorial's input pipeline: float images in memory, shuffle, batch (no prefetch)."""
    scaled = (images.astype("float32") - 127.5) / 127.5
    dataset = tf.data.Dataset.from_tensor_slices(scaled).shuffle(len(scaled), seed=0)
    return dataset.repeat().batch(batch_size) if repeat else dataset.batch(batch_size)


class Recipe(Contender):
    """The package's dcgan28 recipe (with ``overrides``), trained by ``GAN.fit``."""

    def __init__(
        self, train_images: np.ndarray, batch_size: int, clock: Clock, overrides: dict
    ) -> None:
        super().__init__(clock)
        overrides = dict(overrides)
        self.batch_size = overrides.pop("batch_size", batch_size)
        pipeline = overrides.pop("pipeline", "package")
        recipe = {**training.DCGAN_RECIPES["dcgan28"], "loss": "non_saturating"}
        recipe["ema_momentum"] = training.GENERATOR_EMA_MOMENTUM
        self.settings = {**recipe, **overrides, "batch_size": self.batch_size}
        self.settings["pipeline"] = pipeline
        ema = self.settings["generator_ema"]
        self.name = (
            f"dcgan28 width {self.settings['width']}, Adam({self.settings['learning_rate']:g}, "
            f"beta_1={self.settings['beta_1']:g}), {self.settings['loss']} loss, weight "
            f"average {self.settings['ema_momentum'] if ema else 'off'}, batch "
            f"{self.batch_size}, {pipeline} pipeline"
        )
        self.gan = training.build_gan(
            "dcgan28",
            loss=self.settings["loss"],
            width=self.settings["width"],
            learning_rate=self.settings["learning_rate"],
            beta_1=self.settings["beta_1"],
            generator_ema=ema,
            ema_momentum=self.settings["ema_momentum"],
        )
        if pipeline == "package":
            self.dataset = data.make_pipeline(train_images, self.batch_size, repeat=True, seed=0)
        elif pipeline == "tutorial":
            self.dataset = tutorial_pipeline(train_images, self.batch_size, repeat=True)
        else:
            raise ValueError(f"pipeline must be 'package' or 'tutorial'; got {pipeline!r}.")

    def _train_until(self, deadline: float) -> None:
        contender = self

        class StopAtDeadline(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                contender.steps += 1
                if contender.clock.now() >= deadline:
                    self.model.stop_training = True

        self.gan.fit(
            self.dataset,
            epochs=1,
            steps_per_epoch=10**9,
            verbose=0,
            shuffle=False,  # the pipeline shuffles
            callbacks=[StopAtDeadline()],
        )

    def sample(self, n: int, seed: int) -> np.ndarray:
        return self.gan.sample(n, seed=seed)

    def record(self) -> dict:
        return {**super().record(), "settings": self.settings}


class Tutorial(Contender):
    """The TF tutorial: its models, Adam(1e-4), batch 256, a plain tf.function step."""

    def __init__(self, train_images: np.ndarray, clock: Clock, batch_size: int = 256) -> None:
        super().__init__(clock)
        self.name = f"TF tutorial DCGAN (Adam(1e-4), batch {batch_size}, tf.function loop)"
        self.batch_size = batch_size
        self.generator = tutorial_generator()
        self.discriminator = tutorial_discriminator()
        g_optimizer = keras.optimizers.Adam(1e-4)
        d_optimizer = keras.optimizers.Adam(1e-4)
        cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
        generator, discriminator = self.generator, self.discriminator
        self.dataset = tutorial_pipeline(train_images, batch_size, repeat=False)
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

    def _train_until(self, deadline: float) -> None:
        while self.clock.now() < deadline:
            try:
                batch = next(self.iterator)
            except StopIteration:  # the tutorial's epochs: a new shuffle each
                self.iterator = iter(self.dataset)
                batch = next(self.iterator)
            float(self.train_step(batch))  # wait for the step: the clock must see its cost
            self.steps += 1

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


def record_result(path: Path, key: str, summary: dict) -> None:
    """Store ``summary`` under ``key`` in the JSON file ``path`` (other keys are kept)."""
    records = json.loads(path.read_text()) if path.exists() else {}
    records[key] = summary
    path.write_text(json.dumps(records, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--minutes",
        type=float,
        default=float(os.environ.get("GANBOOK_BENCH_MINUTES", "10")),
        help="training budget of each side (wall minutes, or minutes of all cores' CPU time)",
    )
    parser.add_argument("--budget", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--samples", type=int, default=profiles.get_profile("cpu").fid_samples)
    parser.add_argument("--draws", type=int, default=3, help="independent draws scored")
    parser.add_argument("--slice-seconds", type=float, default=30.0)
    parser.add_argument(
        "--arms", nargs="+", default=None, help="recipe variants to compare (see the docstring)"
    )
    parser.add_argument("--seed", type=int, default=0, help="weights and noise of every arm")
    parser.add_argument("--record", type=Path, default=None, help="JSON file to store results")
    parser.add_argument("--record-key", default=None)
    parser.add_argument("--out", type=Path, default=Path("_build/bench"))
    args = parser.parse_args()
    if (args.record is None) != (args.record_key is None):
        parser.error("--record and --record-key go together")
    try:
        arms = [None if a == "tutorial" else parse_arm(a) for a in args.arms or []]
    except ValueError as error:
        parser.error(str(error))
    cpu = profiles.get_profile("cpu")
    cores = os.cpu_count() or 1
    clock = Clock(args.budget)
    keras.utils.set_random_seed(args.seed)

    extractor = features.mnist_classifier()
    held_out = features.mnist_classifier_provenance()["data"]["val_images"]
    # The classifier's own split (features.train_and_export_mnist_classifier): held-out digits.
    splits = data.load_dataset("mnist", val_size=held_out, seed=0)
    real_features = extractor.features(splits.val.images)
    train_images = splits.train.images

    if args.arms is None:
        contenders = {
            "ours": Recipe(train_images, cpu.batch_size, clock, {}),
            "baseline": Tutorial(train_images, clock),
        }
    else:
        contenders = {
            text: Tutorial(train_images, clock)
            if overrides is None
            else Recipe(train_images, cpu.batch_size, clock, overrides)
            for text, overrides in zip(args.arms, arms, strict=True)
        }
    budget = args.minutes * 60 * (cores if args.budget == "cpu" else 1)
    budget_text = (
        f"{args.minutes:g} min of wall-clock training each"
        if args.budget == "wall"
        else f"{budget:.0f} s of process CPU time each ({args.minutes:g} min x {cores} cores)"
    )
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    start = time.perf_counter()
    while any(c.seconds < budget - 1e-6 for c in contenders.values()):
        for contender in contenders.values():
            left = budget - contender.seconds
            if left > 0:
                contender.train_for(min(args.slice_seconds, left))
    load_after = os.getloadavg()
    wall = time.perf_counter() - start

    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "date": started,
        "budget": args.budget,
        "budget_text": budget_text,
        "minutes": args.minutes,
        "budget_seconds_each": round(budget, 1),
        "cores": cores,
        "slice_seconds": args.slice_seconds,
        "wall_s": round(wall, 1),
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "data": splits.description,
        "real": f"{len(real_features)} held-out digits",
        "samples": args.samples,
        "draws": args.draws,
        "seed": args.seed,
        "extractor": extractor.description,
        "command": "python benchmarks/bench_quality.py " + shlex.join(sys.argv[1:]),
        "contenders": {},
    }
    print(
        f"Quality per CPU minute: {budget_text} (slices of {args.slice_seconds:g} s, "
        f"alternating), {args.samples} samples x {args.draws} draws vs {len(real_features)} "
        f"held-out digits; load average {load_before[0]:.1f} -> {load_after[0]:.1f}; "
        f"{wall / 60:.1f} min in all"
    )
    scores = {}
    for index, (key, contender) in enumerate(contenders.items()):
        scores[key] = score(contender, extractor, real_features, args.samples, args.draws)
        grid = args.out / f"quality_{key if args.arms is None else index}.png"
        save_grid(contender, grid)
        summary["contenders"][key] = {
            **contender.record(),
            "scores": scores[key],
            "grid": str(grid),
        }
        fid, inception = scores[key]["fid"], scores[key]["inception_score"]
        print(
            f"  [{key}] {contender.name}\n    {contender.steps:,} steps "
            f"({contender.steps * contender.batch_size:,} images) in {contender.seconds:.0f} s "
            f"(wall {contender.wall_seconds:.0f} s, CPU {contender.cpu_seconds:.0f} s): "
            f"FID {fid['mean']:.1f} ± {fid['std']:.1f}, IS {inception['mean']:.2f} ± "
            f"{inception['std']:.2f}, KID {scores[key]['kid']['mean']:.4f}"
        )
    (args.out / "bench_quality.json").write_text(json.dumps(summary, indent=2) + "\n")
    if args.record is not None:
        record_result(args.record, args.record_key, summary)
    if args.arms is not None:
        return
    ratio = scores["ours"]["fid"]["mean"] / scores["baseline"]["fid"]["mean"]
    print(f"  FID ratio ours / tutorial: {ratio:.2f} (goal <= 0.5, aim 0.25)")
    what = f"{args.minutes:g} min {'wall' if args.budget == 'wall' else 'of CPU time'}"
    emit_row(
        f"bench_quality.py: FID after {what} of training each (lower is better)",
        ours=scores["ours"]["fid"]["mean"],
        baseline=scores["baseline"]["fid"]["mean"],
        unit="FID",
        goal="<= 0.5",
        ours_label="dcgan28 recipe",
        baseline_label="TF tutorial",
    )
    emit_row(
        f"bench_quality.py: IS after {what} of training each (higher is better)",
        ours=scores["ours"]["inception_score"]["mean"],
        baseline=scores["baseline"]["inception_score"]["mean"],
        unit="IS",
        goal=">= 1",
        ours_label="dcgan28 recipe",
        baseline_label="TF tutorial",
    )


if __name__ == "__main__":
    main()
