"""Steady-state time of a Keras ``fit``: one call, a timestamp at the end of every execution.

Both throughput benchmarks time the plain loop's steps 2..N (the first step only starts the
clock). ``fit`` is timed the same way inside *one* call: :class:`StepClock` records
``perf_counter()`` after each training execution, and steps 2..N are the span from the first
stamp to the last. The callback reads no logs (reading them would wait for the step's
result, which the plain loop does only after its last step).

Why not the difference of two ``fit`` calls (the method before 2026-12-03): measured in one
process on an idle machine, 200-step rounds of dcgan28, it read 0.85x the plain loop with
rounds split between ~1,700 and ~1,260 img/s, while the stamps of the same ``fit`` read
1.00x in every round: the start of a ``fit`` call (a new iterator and its prefetch threads)
costs a varying amount, and the difference of two calls carries that variation into the
steady state instead of cancelling it. What starting a call costs is reported on its own.
"""

from __future__ import annotations

import time

import keras


class StepClock(keras.callbacks.Callback):
    """Records ``time.perf_counter()`` at the end of every training execution."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[float] = []

    def on_train_begin(self, logs=None) -> None:
        self.stamps = []

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.stamps.append(time.perf_counter())


def time_fit(model: keras.Model, dataset, steps: int) -> tuple[float, float]:
    """``(seconds for steps 2..steps, seconds of fixed cost of the call)`` of one ``fit``.

    With ``steps_per_execution = k`` the call runs ``k * ceil(steps / k)`` steps, stamped every
    ``k``; the stamped span is scaled to ``steps - 1`` steps. The fixed cost is the call's wall
    time minus its steps at the steady rate.
    """
    unit = model.steps_per_execution
    executions = max(2, -(-steps // unit))
    clock = StepClock()
    start = time.perf_counter()
    model.fit(
        dataset,
        epochs=1,
        steps_per_epoch=executions * unit,
        verbose=0,
        callbacks=[clock],
        shuffle=False,
    )
    total = time.perf_counter() - start
    per_step = (clock.stamps[-1] - clock.stamps[0]) / ((len(clock.stamps) - 1) * unit)
    return per_step * (steps - 1), total - per_step * executions * unit
