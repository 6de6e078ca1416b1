"""benchmarks/fit_clock.py: how the throughput benchmarks time ``fit``'s steady state."""

import itertools
import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import fit_clock  # noqa: E402


@pytest.mark.parametrize(("steps_per_execution", "executions"), [(1, 7), (3, 3)])
def test_time_fit_stamps_each_execution_and_scales_to_the_loops_steps(
    monkeypatch, steps_per_execution, executions
):
    # A clock that advances one second per reading: the start, one stamp per execution, the
    # end. So the steady span is executions - 1 seconds over (executions - 1) * k steps.
    ticks = itertools.count()
    monkeypatch.setattr(fit_clock, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", steps_per_execution=steps_per_execution)
    data = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(2).repeat()

    steady, setup = fit_clock.time_fit(model, dataset, steps=7)

    assert next(ticks) == executions + 2  # nothing else read this clock
    assert steady == pytest.approx(6 / steps_per_execution)  # 6 steps at 1/k s each
    assert setup == pytest.approx(1.0)  # the end reading less the steps at the steady rate
