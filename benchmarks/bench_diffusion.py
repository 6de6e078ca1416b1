"""Diffusion: training images/s of ``Diffusion.fit`` vs a plain loop, and sampling images/s.

Training: the package's ``Diffusion`` model against a plain ``@tf.function`` + ``GradientTape``
loop of the same U-Net, objective (flow matching, or DDPM with ``--objective ddpm``), optimizer
and batch. Four contenders, so that the cost of each layer shows as its own row:

* the plain loop (no moving average of the weights);
* ``Diffusion.train_step`` in a ``tf.function``, called exactly like the plain loop (the step
  itself: keras.random noise and times, the loss tracker);
* ``Diffusion.fit`` (the step plus Keras's ``fit`` machinery: the iterator inside the graph,
  callbacks, logs);
* ``Diffusion.fit`` with the optimizer the shipped models train with (Adam with
  ``use_ema=True``): the moving average's cost, which the plain loop does not pay.

Rounds alternate between the contenders so that load from other processes hits all alike; the
median round is reported. As in ``bench_train_step.py``, ``fit``'s steady state is timed inside
one ``fit`` call by the timestamps of ``fit_clock.StepClock`` (steps 2..N, like the loops).
Sampling: images/s of ``sample`` for each number of steps (one network evaluation per step),
on the same U-Net.

Usage: python benchmarks/bench_diffusion.py [--width 16] [--batch-size 64] [--steps 30]
       [--rounds 3] [--objective flow] [--sample-steps 1 5 20] [--samples 256]
Prints a markdown table and one BENCH_ROW line for the training comparison.
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

from ganbook_utils import diffusion


def make_dataset(batch_size: int) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (16 * batch_size, 28, 28, 1)).astype("float32")
    return (
        tf.data.Dataset.from_tensor_slices(images)
        .batch(batch_size, drop_remainder=True)
        .repeat()
        .prefetch(tf.data.AUTOTUNE)
    )


def widths_of(width: int) -> tuple[int, int, int]:
    return (width, 2 * width, 4 * width)


def plain_loop(width: int, objective: str, dataset):
    """The TF-tutorial style: returns run(steps) that trains ``steps`` steps."""
    unet = diffusion.build_unet((28, 28, 1), widths_of(width))
    optimizer = keras.optimizers.Adam(1e-3)
    alpha_bars = tf.constant(diffusion.cosine_schedule().alpha_bars, tf.float32)

    @tf.function
    def train_step(x0):
        n = tf.shape(x0)[0]
        noise = tf.random.normal(tf.shape(x0))
        if objective == "ddpm":
            t = tf.random.uniform((n,), 0, 1000, dtype=tf.int32)
            a = tf.reshape(tf.gather(alpha_bars, t), (-1, 1, 1, 1))
            xt, time_input, target = (
                tf.sqrt(a) * x0 + tf.sqrt(1 - a) * noise,
                tf.cast(t, tf.float32) / 1000.0,
                noise,
            )
        else:
            time_input = tf.random.uniform((n,))
            t = tf.reshape(time_input, (-1, 1, 1, 1))
            xt, target = (1 - t) * x0 + t * noise, noise - x0
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(unet([xt, time_input], training=True) - target))
        gradients = tape.gradient(loss, unet.trainable_variables)
        optimizer.apply_gradients(zip(gradients, unet.trainable_variables, strict=True))
        return loss

    iterator = iter(dataset)

    def run(steps: int) -> float:
        float(train_step(next(iterator)))
        start = time.perf_counter()
        for _ in range(steps - 1):
            loss = train_step(next(iterator))
        float(loss)  # wait for the last step to finish
        return time.perf_counter() - start

    return run


def package_step(width: int, objective: str, dataset):
    """``Diffusion.train_step`` in a ``tf.function``, driven like the plain loop."""
    model = diffusion.build_diffusion(
        objective=objective, widths=widths_of(width), learning_rate=None
    )
    model.compile(keras.optimizers.Adam(1e-3))
    train_step = tf.function(model.train_step)
    iterator = iter(dataset)

    def run(steps: int) -> float:
        float(train_step(next(iterator))["loss"])
        start = time.perf_counter()
        for _ in range(steps - 1):
            logs = train_step(next(iterator))
        float(logs["loss"])
        return time.perf_counter() - start

    return run


def package_fit(
    width: int, objective: str, dataset, ema: bool = False, steps_per_execution: int = 1
):
    # Without ema, no moving average of the weights: the plain loop keeps none either.
    model = diffusion.build_diffusion(
        objective=objective, widths=widths_of(width), learning_rate=None
    )
    if ema:
        optimizer = keras.optimizers.Adam(
            1e-3, use_ema=True, ema_momentum=diffusion.DENOISER_EMA_MOMENTUM
        )
    else:
        optimizer = keras.optimizers.Adam(1e-3)
    model.compile(optimizer, steps_per_execution=steps_per_execution)

    def run(steps: int) -> float:
        return time_fit(model, dataset, steps)[0]

    return run, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--objective", default="flow", choices=diffusion.OBJECTIVES)
    parser.add_argument("--sample-steps", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument(
        "--steps-per-execution", type=int, default=10, help="of the fifth contender's compile"
    )
    args = parser.parse_args()

    dataset = make_dataset(args.batch_size)
    fit, model = package_fit(args.width, args.objective, dataset)
    fit_ema, _ = package_fit(args.width, args.objective, dataset, ema=True)
    fit_many, _ = package_fit(
        args.width, args.objective, dataset, steps_per_execution=args.steps_per_execution
    )
    contenders = {
        "plain tf.function + GradientTape loop": plain_loop(args.width, args.objective, dataset),
        "Diffusion.train_step in a tf.function": package_step(args.width, args.objective, dataset),
        "Diffusion.fit": fit,
        "Diffusion.fit, Adam with the weights' moving average (as shipped)": fit_ema,
        f"Diffusion.fit, steps_per_execution={args.steps_per_execution}": fit_many,
    }
    for run in contenders.values():
        run(3)  # trace and warm up
    seconds = {name: [] for name in contenders}
    for round_number in range(args.rounds):
        for name, run in contenders.items():
            seconds[name].append(run(args.steps))
            # Each round as it ends, so a run cut short by a time limit still reports.
            rate = (args.steps - 1) * args.batch_size / seconds[name][-1]
            print(f"round {round_number + 1}: {name}: {rate:,.1f} img/s", flush=True)
    rates = {
        name: (args.steps - 1) * args.batch_size / statistics.median(times)
        for name, times in seconds.items()
    }
    baseline, step, ours, ours_ema, ours_many = rates.values()

    sampling = []
    model.sample(args.samples, seed=0, steps=1)  # trace the network for this batch size
    for steps in args.sample_steps:
        start = time.perf_counter()
        model.sample(args.samples, seed=0, steps=steps)
        sampling.append((steps, args.samples / (time.perf_counter() - start)))

    print(
        f"U-Net widths {widths_of(args.width)} ({model.denoiser.count_params():,} parameters), "
        f"objective {args.objective}, batch {args.batch_size}, {args.rounds} rounds of "
        f"{args.steps} steps, TensorFlow {tf.__version__}, Keras {keras.__version__}\n"
    )
    print("| measurement | images/s |")
    print("|---|---:|")
    for name, rate in rates.items():
        print(f"| training, {name} | {rate:,.0f} |")
    print(f"| training, Diffusion.fit / plain loop | {ours / baseline:.2f}x |")
    print(
        f"| training, of which train_step / plain loop (the step itself) | {step / baseline:.2f}x |"
    )
    print(f"| training, of which fit / train_step (Keras's fit machinery) | {ours / step:.2f}x |")
    print(f"| training, moving average: with / without | {ours_ema / ours:.2f}x |")
    print(
        f"| training, fit with steps_per_execution={args.steps_per_execution} / plain loop "
        f"| {ours_many / baseline:.2f}x |"
    )
    for steps, rate in sampling:
        print(
            f"| sampling, {steps} step{'s' if steps > 1 else ''} ({args.samples} images) "
            f"| {rate:,.0f} |"
        )
    emit_row(
        f"bench_diffusion.py: U-Net width {args.width}, {args.objective}, batch "
        f"{args.batch_size}, steady state",
        ours=ours,
        baseline=baseline,
        unit="img/s",
        # Parity, within the 5 % that rounds scatter by (as bench_train_step.py's rows).
        goal=">= 0.95",
        ours_label="Diffusion.fit",
        baseline_label="plain tf.function loop",
    )
    emit_row(
        f"bench_diffusion.py: U-Net width {args.width}, {args.objective}, batch "
        f"{args.batch_size}, train_step alone",
        ours=step,
        baseline=baseline,
        unit="img/s",
        goal=">= 0.95",
        ours_label="Diffusion.train_step in a tf.function",
        baseline_label="plain tf.function loop",
    )


if __name__ == "__main__":
    main()
