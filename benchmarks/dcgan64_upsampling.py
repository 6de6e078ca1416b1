"""Checkerboard: transposed convolutions vs resize-then-convolve, 64x64 shapes, equal CPU time.

Two dcgan64 generators that differ only in how they double the grid
(``models.build_dcgan_generator(upsampling="transposed" | "resize")``, Odena et al. 2016),
the same discriminator, recipe (``training.DCGAN_RECIPES["dcgan64"]``), data (``shapes64``),
seed and batch, each trained for the same process CPU time (``--cpu-seconds``), alternating in
slices within one process as ``bench_quality.py`` does. Then, on ``--samples`` samples of
each and as many real images: ``models.checkerboard_amplitude`` (the DCGAN chapter's measure)
and the share of empty images (fewer than 1% of pixels brighter than half scale).

Not part of ``make bench`` (it is not a ``bench_*.py``): it records its result for the DCGAN
chapter, ``--record ganbook_utils/recorded/dcgan64_upsampling.json``.

Usage: python benchmarks/dcgan64_upsampling.py [--cpu-seconds 180] [--width 16]
       [--record ganbook_utils/recorded/dcgan64_upsampling.json]
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
from bench_quality import Clock
from PIL import Image

from ganbook_utils import data, models, profiles, training

UPSAMPLINGS = ("transposed", "resize")


def empty_share(images: np.ndarray) -> float:
    """Share of images with fewer than 1% of pixels brighter than half scale (any channel)."""
    brightness = (np.asarray(images).max(axis=-1) + 1) / 2
    bright = np.mean(brightness.reshape(len(images), -1) > 0.5, axis=1)
    return float(np.mean(bright < 0.01))


class Arm:
    """One generator variant, trained by ``GAN.fit`` in slices against the CPU clock."""

    def __init__(self, upsampling: str, width: int, images: np.ndarray, batch_size: int):
        self.upsampling = upsampling
        self.gan = training.build_gan("dcgan64", width=width, upsampling=upsampling)
        self.dataset = data.make_pipeline(images, batch_size, repeat=True, seed=0)
        self.clock = Clock("cpu")
        self.seconds = self.wall_seconds = 0.0
        self.steps = 0

    def train_for(self, seconds: float) -> None:
        arm, start, wall = self, self.clock.now(), time.perf_counter()
        deadline = start + seconds

        class StopAtDeadline(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                arm.steps += 1
                if arm.clock.now() >= deadline:
                    self.model.stop_training = True

        self.gan.fit(
            self.dataset,
            epochs=1,
            steps_per_epoch=10**9,
            verbose=0,
            shuffle=False,
            callbacks=[StopAtDeadline()],
        )
        self.seconds += self.clock.now() - start
        self.wall_seconds += time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-seconds", type=float, default=180.0, help="CPU time of each")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--slice-seconds", type=float, default=30.0)
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--train-size", type=int, default=4_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("_build/bench"))
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    batch_size = profiles.get_profile("cpu").batch_size
    shapes = data.load_dataset("shapes64", train_size=args.train_size, val_size=args.samples)
    arms = [Arm(u, args.width, shapes.train.images, batch_size) for u in UPSAMPLINGS]
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    while any(arm.seconds < args.cpu_seconds for arm in arms):
        for arm in arms:
            left = args.cpu_seconds - arm.seconds
            if left > 0:
                arm.train_for(min(args.slice_seconds, left))
    real = data.normalize_images(shapes.val.images)
    record = {
        "date": started,
        "command": "python benchmarks/dcgan64_upsampling.py " + shlex.join(sys.argv[1:]),
        "budget": f"{args.cpu_seconds:g} s of process CPU time each",
        "width": args.width,
        "batch_size": batch_size,
        "recipe": training.DCGAN_RECIPES["dcgan64"],
        "data": shapes.description,
        "samples": args.samples,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "real": {"checkerboard": models.checkerboard_amplitude(real), "empty": empty_share(real)},
        "arms": {},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"dcgan64 width {args.width}, {record['budget']}, load {load_before[0]:.1f}")
    print(f"  real images: checkerboard {record['real']['checkerboard']:.4f}")
    for arm in arms:
        fake = arm.gan.sample(args.samples, seed=0)
        record["arms"][arm.upsampling] = {
            "steps": arm.steps,
            "cpu_seconds": round(arm.seconds, 1),
            "wall_seconds": round(arm.wall_seconds, 1),
            "generator_parameters": int(arm.gan.generator.count_params()),
            "checkerboard": models.checkerboard_amplitude(fake),
            "empty": empty_share(fake),
        }
        grid = np.asarray(training.tile_images(fake[:16], columns=8))
        Image.fromarray(grid).save(args.out / f"dcgan64_{arm.upsampling}.png")
        result = record["arms"][arm.upsampling]
        print(
            f"  {arm.upsampling:10s} {arm.steps} steps in {arm.seconds:.0f} CPU s: checkerboard "
            f"{result['checkerboard']:.4f}, empty {100 * result['empty']:.0f}%"
        )
    if args.record is not None:
        args.record.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
