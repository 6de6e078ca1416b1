"""Levers on how many dcgan28 samples are legible digits: one variant of the recipe per call.

The CLI's settings (seed 0, the cpu profile's batch and 4,000 offline MNIST digits, width 32,
Adam(5e-4, beta_1=0.5), non-saturating loss), trained for STEPS steps with one change, then
scored on 2,000 samples x 3 draws: FID on the book's classifier features against the 1,000
held-out digits, and the share of samples the classifier gives >= 90 % belief in one digit
("confident": the DCGAN chapter's measure of legibility; real held-out digits score 96 %).
Not part of ``make bench`` (not a ``bench_*.py``): a tool for searching the recipe; each call
appends one JSON line to ``--out``.

Changes (KEY=VALUE): ``dropout`` (after each discriminator block), ``smooth`` (one-sided label
smoothing: the real label of D's cross-entropy), ``decay_from`` (fraction of the run after which
both learning rates fall linearly to 0), ``dlr``/``glr`` (each player's learning rate),
``width``, ``init`` (a ``training.save_checkpoint`` file to continue from), ``train_size``
(train on the first N of the 4,000 digits: how much data limits legibility), ``r1`` (gamma of
the R1 penalty, gamma/2 * E||grad_x D(x)||^2 on real images: Mescheder et al. 2018).

Usage: python benchmarks/dcgan28_levers.py NAME STEPS [KEY=VALUE ...] [--out FILE]
"""

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from ganbook_utils import data, features, losses, metrics, models, training
from ganbook_utils.profiles import get_profile

KEYS = {"dropout", "smooth", "decay_from", "dlr", "glr", "width", "init", "train_size", "r1"}
LEARNING_RATE = 5e-4  # the dcgan28 recipe's


def discriminator_loss_smoothed(real_label: float):
    """D's cross-entropy with ``real_label`` (< 1: one-sided label smoothing) for real images."""

    def loss(real_logits, fake_logits):
        labels = tf.fill(tf.shape(real_logits), real_label)
        real = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=real_logits)
        return tf.reduce_mean(real) + tf.reduce_mean(tf.nn.softplus(fake_logits))

    return loss


class R1GAN(training.GAN):
    """The book's GAN with the R1 penalty on D's gradient at real images added to D's loss."""

    def __init__(self, *args, gamma: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.gamma = gamma

    def _discriminator_loss(self, real_images, fake_images):
        with tf.GradientTape() as tape:
            tape.watch(real_images)
            real_logits = self.discriminator(real_images, training=True)
        slopes = tape.gradient(real_logits, real_images)  # of their sum: one logit per image
        penalty = tf.reduce_mean(tf.reduce_sum(tf.square(slopes), axis=[1, 2, 3]))
        fake_logits = self.discriminator(fake_images, training=True)
        d_loss = self.d_loss_fn(real_logits, fake_logits) + self.gamma / 2 * penalty
        return d_loss, fake_logits


class LinearDecay(keras.callbacks.Callback):
    """Both learning rates fall linearly to 0 from step ``start`` to step ``steps``."""

    def __init__(self, gan: training.GAN, start: float, steps: int, rates: tuple[float, float]):
        super().__init__()
        self.gan, self.start, self.steps, self.rates = gan, start, steps, rates
        self.step = 0

    def on_train_batch_begin(self, batch, logs=None):
        if self.step >= self.start:
            left = 1 - (self.step - self.start) / max(1, self.steps - self.start)
            self.gan.d_optimizer.learning_rate.assign(self.rates[0] * left)
            self.gan.g_optimizer.learning_rate.assign(self.rates[1] * left)
        self.step += 1


def score(gan, classifier, real_features, samples=2000, draws=3) -> dict:
    """FID and confident share of the raw generator, mean over ``draws`` latent draws."""
    rows = []
    for seed in range(draws):
        z = np.random.default_rng(seed).standard_normal((samples, gan.latent_dim))
        images = np.asarray(gan.generator(z.astype("float32"), training=False))
        image_features, logits = classifier.features_and_logits(images)
        belief = tf.nn.softmax(logits).numpy().max(axis=1)
        fid = metrics.frechet_distance_from_features(real_features, image_features)
        rows.append((fid, float(np.mean(belief >= 0.9))))
    fids, shares = np.array(rows).T
    return {
        "fid": round(float(fids.mean()), 2),
        "fid_sd": round(float(fids.std()), 2),
        "confident": round(float(shares.mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("steps", type=int)
    parser.add_argument("changes", nargs="*", help="KEY=VALUE, KEY one of " + ", ".join(KEYS))
    parser.add_argument("--out", default="_build/bench/dcgan28_levers.jsonl")
    args = parser.parse_args()
    changes = dict(item.split("=", 1) for item in args.changes)
    if not set(changes) <= KEYS:
        parser.error(f"unknown change {sorted(set(changes) - KEYS)}; use {sorted(KEYS)}")

    profile = get_profile("cpu")
    keras.utils.set_random_seed(0)
    splits = data.load_dataset(
        "mnist", train_size=profile.train_size, val_size=profile.val_size, seed=0
    )
    train_images = splits.train.images[: int(changes.get("train_size", len(splits.train.images)))]
    pipeline = data.make_pipeline(train_images, profile.batch_size, seed=0)
    generator, discriminator = models.build_dcgan(
        "dcgan28",
        latent_dim=100,
        width=int(changes.get("width", 32)),
        dropout=float(changes.get("dropout", 0)),
    )
    gamma = float(changes.get("r1", 0))
    gan = (
        R1GAN(generator, discriminator, gamma=gamma)
        if gamma
        else training.GAN(generator, discriminator)
    )
    rates = (
        float(changes.get("dlr", LEARNING_RATE)),
        float(changes.get("glr", LEARNING_RATE)),
    )
    smooth = float(changes.get("smooth", 1.0))
    loss = (
        (discriminator_loss_smoothed(smooth), losses.generator_loss_non_saturating)
        if smooth < 1
        else "non_saturating"
    )
    # ema_momentum as build_gan sets it, so that a checkpoint of the CLI's runs loads (unused:
    # dcgan28 keeps no moving average).
    gan.compile(
        d_optimizer=keras.optimizers.Adam(rates[0], beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(
            rates[1], beta_1=0.5, ema_momentum=training.GENERATOR_EMA_MOMENTUM
        ),
        loss=loss,
    )
    if "init" in changes:
        training.load_checkpoint(gan, changes["init"])

    classifier = features.mnist_classifier()
    held_out = features.mnist_classifier_provenance()["data"]["val_images"]
    real = data.load_dataset(
        "mnist", val_size=min(profile.fid_samples, held_out), seed=0, verbose=False
    )
    real_features = classifier.features(real.val.images)

    start = float(changes.get("decay_from", 1.0)) * args.steps
    began = time.time()
    history = gan.fit(
        pipeline.repeat(),
        steps_per_epoch=args.steps,
        epochs=1,
        callbacks=[LinearDecay(gan, start, args.steps, rates)],
        verbose=0,
    )
    row = {
        "name": args.name,
        "steps": args.steps,
        "changes": changes,
        **score(gan, classifier, real_features),
        "d_loss": round(float(history.history["d_loss"][-1]), 3),
        "g_loss": round(float(history.history["g_loss"][-1]), 3),
        "wall_s": round(time.time() - began),
    }
    print(json.dumps(row), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as handle:
        handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
