"""Tests of ganbook_utils.training: the GAN model, its callbacks, checkpoints and resumption."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganbook_utils import training

SHAPE = (4, 4, 1)
LATENT = 3


def tiny_models(seed: int = 0) -> tuple[keras.Model, keras.Model]:
    """A dense generator and discriminator on 4x4x1 'images': milliseconds per step."""
    keras.utils.set_random_seed(seed)
    z = keras.Input((LATENT,))
    x = keras.layers.Dense(8, activation="tanh")(z)
    x = keras.layers.Dense(int(np.prod(SHAPE)), activation="tanh", dtype="float32")(x)
    generator = keras.Model(z, keras.layers.Reshape(SHAPE)(x))
    images = keras.Input(SHAPE)
    h = keras.layers.Dense(8, activation="tanh")(keras.layers.Flatten()(images))
    discriminator = keras.Model(images, keras.layers.Dense(1, dtype="float32")(h))
    return generator, discriminator


def tiny_gan(seed: int = 0, learning_rate: float = 1e-2, **compile_kwargs) -> training.GAN:
    generator, discriminator = tiny_models(seed)
    gan = training.GAN(generator, discriminator)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
        **compile_kwargs,
    )
    return gan


def constant_images(value: float = 0.5, count: int = 64, batch_size: int = 8) -> tf.data.Dataset:
    """Real data: every image is ``value`` plus a little noise."""
    rng = np.random.default_rng(0)
    images = (value + 0.05 * rng.standard_normal((count, *SHAPE))).astype("float32")
    return tf.data.Dataset.from_tensor_slices(images).batch(batch_size, drop_remainder=True)


def optimizer_state(gan: training.GAN) -> list[np.ndarray]:
    return [np.asarray(v) for opt in (gan.d_optimizer, gan.g_optimizer) for v in opt.variables]


def test_compile_rejects_bad_arguments():
    generator, discriminator = tiny_models()
    gan = training.GAN(generator, discriminator)
    adam = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="same object"):
        gan.compile(d_optimizer=adam, g_optimizer=adam)
    with pytest.raises(TypeError, match="keras optimizer"):
        gan.compile(d_optimizer="adam", g_optimizer=keras.optimizers.Adam())
    with pytest.raises(ValueError, match="non_saturating"):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), loss="nonsaturating")
    with pytest.raises(ValueError, match="d_steps"):
        gan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), d_steps=0)
    with pytest.raises(TypeError, match="keras.Model"):
        training.GAN(generator, lambda x: x)


def test_sample_is_fixed_by_the_seed():
    gan = tiny_gan()
    first, again, other = gan.sample(5, seed=1), gan.sample(5, seed=1), gan.sample(5, seed=2)
    assert first.shape == (5, *SHAPE) and first.dtype == np.float32
    assert np.all(np.abs(first) <= 1.0)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    with pytest.raises(ValueError, match="shape"):
        gan.generate(np.zeros((2, LATENT + 1)))


@pytest.mark.parametrize("loss", ["non_saturating", "wasserstein"])
def test_training_moves_samples_toward_the_data(tmp_path, loss):
    # Real images are all ~0.5; the untrained generator's pixels average ~0.
    gan = tiny_gan(loss=loss, d_steps=2 if loss == "wasserstein" else 1)
    before = abs(float(gan.sample(256, seed=3).mean()) - 0.5)
    result = training.fit_resumable(
        gan,
        constant_images(),
        steps=150,
        directory=tmp_path,
        steps_per_epoch=50,
        sample_grid=False,
        progress=False,
    )
    after = abs(float(gan.sample(256, seed=3).mean()) - 0.5)
    assert result["diverged"] is None
    assert after < 0.5 * before, (before, after)
    assert result["history"]["step"] == [50, 100, 150]


def test_discriminator_loss_goes_down_with_a_frozen_generator():
    gan = tiny_gan(learning_rate=1e-2)
    gan.g_optimizer.learning_rate.assign(0.0)
    batch = next(iter(constant_images(batch_size=32)))
    step = tf.function(gan.train_step)
    losses = [float(step(batch)["d_loss"])]
    for _ in range(40):
        step(batch)
    gan.d_loss_tracker.reset_state()
    losses.append(float(step(batch)["d_loss"]))
    assert losses[1] < losses[0] - 0.3, losses


def test_samples_use_the_weights_moving_average_and_leave_the_weights_alone(tmp_path):
    generator, discriminator = tiny_models()
    gan = training.GAN(generator, discriminator)
    g_optimizer = keras.optimizers.Adam(1e-2, use_ema=True, ema_momentum=0.9)
    gan.compile(keras.optimizers.Adam(1e-2), g_optimizer)
    training.fit_resumable(
        gan, constant_images(), steps=10, directory=tmp_path, sample_grid=False, progress=False
    )
    z = gan.latent_vectors(8, seed=0)
    before = [np.asarray(v) for v in generator.weights]
    from_last_weights = np.asarray(generator(z))
    from_average = gan.generate(z)
    assert not np.allclose(from_last_weights, from_average)
    for value, after in zip(before, generator.weights, strict=True):
        np.testing.assert_array_equal(value, np.asarray(after))  # swapped back
    with gan.averaged_generator() as averaged:
        for variable, average in zip(
            averaged.trainable_variables, g_optimizer._model_variables_moving_average, strict=True
        ):
            np.testing.assert_array_equal(np.asarray(variable), np.asarray(average))
        np.testing.assert_allclose(np.asarray(averaged(z)), from_average, rtol=1e-6)


def test_before_the_first_step_samples_come_from_the_weights_not_the_zero_averages():
    generator, discriminator = tiny_models()
    gan = training.GAN(generator, discriminator)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2, use_ema=True))
    z = gan.latent_vectors(8, seed=0)
    from_weights = np.asarray(generator(z, training=False))
    assert np.std(from_weights) > 1e-3  # an untrained generator still varies with z
    np.testing.assert_allclose(gan.generate(z), from_weights, rtol=1e-6)


class _KillAfter(keras.callbacks.Callback):
    """Simulates a killed process: raises in the middle of an epoch."""

    def __init__(self, step: int):
        super().__init__()
        self.kill_step, self.step = step, 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step == self.kill_step:
            raise KeyboardInterrupt("simulated kill")


class _SnapshotOptimizers(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.snapshots = {}

    def on_epoch_end(self, epoch, logs=None):
        self.snapshots[epoch + 1] = optimizer_state(self.model)


def test_kill_and_resume_continues_with_identical_optimizer_state(tmp_path):
    snapshot = _SnapshotOptimizers()
    with pytest.raises(KeyboardInterrupt):
        training.fit_resumable(
            tiny_gan(seed=0),
            constant_images(),
            steps=12,
            directory=tmp_path,
            steps_per_epoch=4,
            sample_grid=False,
            progress=False,
            callbacks=[snapshot, _KillAfter(10)],
        )
    assert not list(tmp_path.glob("*.tmp")), "a temporary file was left behind"

    # A new process would build the model afresh (other initial weights) and restore.
    resumed = tiny_gan(seed=1)
    state = training.load_checkpoint(resumed, tmp_path / training.CHECKPOINT_FILE)
    assert state == {"step": 8, "epoch": 2, "steps_per_epoch": 4}
    restored = optimizer_state(resumed)
    assert len(restored) == len(snapshot.snapshots[2])
    for value, saved in zip(restored, snapshot.snapshots[2], strict=True):
        np.testing.assert_array_equal(value, saved)
    assert int(resumed.d_optimizer.iterations) == 8

    result = training.fit_resumable(
        tiny_gan(seed=1),
        constant_images(),
        steps=12,
        directory=tmp_path,
        steps_per_epoch=4,
        sample_grid=False,
        progress=False,
    )
    assert result["step"] == 12
    assert result["history"]["step"] == [4, 8, 12]  # epochs 1-2 from the first run, 3 resumed
    final = tiny_gan(seed=2)
    assert training.load_checkpoint(final, tmp_path / training.CHECKPOINT_FILE)["step"] == 12
    assert int(final.d_optimizer.iterations) == 12 and int(final.g_optimizer.iterations) == 12


def test_finished_run_is_not_repeated(tmp_path):
    kwargs = dict(steps=4, directory=tmp_path, steps_per_epoch=2, sample_grid=False, progress=False)
    training.fit_resumable(tiny_gan(), constant_images(), **kwargs)
    again = tiny_gan(seed=5)
    result = training.fit_resumable(again, constant_images(), **kwargs)
    assert result["step"] == 4 and int(again.d_optimizer.iterations) == 4
    with pytest.raises(ValueError, match="steps_per_epoch=2"):
        training.fit_resumable(tiny_gan(), constant_images(), **{**kwargs, "steps_per_epoch": 3})


def test_forced_nan_stops_and_keeps_a_loadable_checkpoint(tmp_path, capsys):
    images = np.full((64, *SHAPE), 0.5, dtype="float32")
    images[32:] = np.nan  # batches 5.. of 8 images are poisoned
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(8)
    result = training.fit_resumable(
        tiny_gan(),
        dataset,
        steps=16,
        directory=tmp_path,
        steps_per_epoch=2,
        sample_grid=False,
        progress=False,
    )
    assert result["diverged"] is not None
    assert "diverged" in result["diverged"] and "last good checkpoint" in result["diverged"]
    assert result["diverged"] in capsys.readouterr().out
    assert result["step"] == 5  # stopped at the first poisoned batch, not at step 16
    restored = tiny_gan(seed=3)
    state = training.load_checkpoint(restored, tmp_path / training.CHECKPOINT_FILE)
    assert state["step"] == 4
    assert all(np.all(np.isfinite(np.asarray(v))) for v in restored.weights)
    assert np.all(np.isfinite(restored.sample(4)))


def test_checkpoint_of_another_architecture_is_rejected(tmp_path):
    gan = tiny_gan()
    path = training.save_checkpoint(gan, tmp_path / "c.npz", {"step": 0})
    generator, _ = tiny_models()
    images = keras.Input(SHAPE)
    wider = keras.Model(
        images, keras.layers.Dense(1)(keras.layers.Dense(9)(keras.layers.Flatten()(images)))
    )
    other = training.GAN(generator, wider)
    other.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    with pytest.raises(ValueError, match="shape"):
        training.load_checkpoint(other, path)
    with pytest.raises(FileNotFoundError, match="No checkpoint"):
        training.load_checkpoint(gan, tmp_path / "missing.npz")


class _ConstantSampler(keras.Model):
    """Not a GAN: any model with `sample(n, seed)` works with the callbacks."""

    def sample(self, n, seed=None):
        return np.full((n, 6, 6, 3), -1.0 + 0.1 * self.calls, dtype="float32")

    calls = 0


def test_sample_grid_writes_a_png_per_epoch_and_a_gif(tmp_path):
    from PIL import Image

    model = _ConstantSampler()
    grid = training.SampleGrid(tmp_path, n=4, scale=1)
    grid.set_model(model)
    for epoch in range(3):
        model.calls = epoch
        grid.on_epoch_end(epoch)
    grid.on_train_end()
    frames = grid.frame_paths()
    assert [p.name for p in frames] == [f"samples_epoch_000{i}.png" for i in (1, 2, 3)]
    first = np.asarray(Image.open(frames[0]))
    assert first.shape == (2 * 7 + 1, 2 * 7 + 1, 3)  # 2x2 tiles of 6 pixels, 1-pixel padding
    gif = Image.open(grid.gif_path)
    assert gif.n_frames == 3


def test_tile_images_maps_range_to_uint8():
    grid = training.tile_images(np.stack([np.full((2, 2, 1), -1.0), np.full((2, 2, 1), 1.0)]))
    assert grid.dtype == np.uint8 and grid.shape == (4, 7, 1)
    assert grid[1, 1, 0] == 0 and grid[1, 4, 0] == 255


def test_mixed_precision_wraps_optimizers_and_trains():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        gan = tiny_gan()
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        logs = gan.train_step(next(iter(constant_images())))
        assert np.isfinite(float(logs["d_loss"])) and np.isfinite(float(logs["g_loss"]))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert training.configure_mixed_precision(False) == "float32"
    with pytest.raises(ValueError, match="auto"):
        training.configure_mixed_precision("yes")


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from ganbook_utils import training

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        gan = training.build_gan("dcgan28", latent_dim=8, width=4, generator_ema=True)
    images = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(8, drop_remainder=True)
    result = training.fit_resumable(gan, dataset, steps=4, directory=sys.argv[1],
                                    steps_per_epoch=2, sample_grid=False, progress=False)
    print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                      "history": result["history"],
                      "iterations": int(gan.g_optimizer.iterations.numpy()),
                      "samples_finite": bool(np.all(np.isfinite(gan.sample(4))))}))
    """
)


def test_mirrored_strategy_on_two_logical_cpus_trains(tmp_path):
    # A subprocess: logical devices must be configured before TensorFlow initializes.
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["samples_finite"]
    assert report["iterations"] == 4
    assert report["history"]["step"] == [2, 4]
    assert all(np.isfinite(report["history"]["d_loss"] + report["history"]["g_loss"]))
    assert (tmp_path / training.CHECKPOINT_FILE).exists()


# --- Reliability: resume, files written whole, arguments checked at the door ------------------


def run_kwargs(directory, **overrides):
    kwargs = dict(steps=8, directory=directory, steps_per_epoch=2, samples=4, progress=False)
    return {**kwargs, **overrides}


def test_resume_with_a_changed_learning_rate_is_refused_and_changes_nothing(tmp_path):
    training.fit_resumable(tiny_gan(), constant_images(), **run_kwargs(tmp_path, steps=4))
    path = tmp_path / training.CHECKPOINT_FILE
    before = path.read_bytes()
    other = tiny_gan(seed=4, learning_rate=0.05)
    weights = [np.asarray(v) for v in other.weights]
    with pytest.raises(training.ResumeMismatch) as error:
        training.fit_resumable(other, constant_images(), **run_kwargs(tmp_path))
    message = str(error.value)
    assert "learning_rate=0.01" in message and "learning_rate=0.05" in message
    assert "\n" not in message and error.value.setting == "learning_rate"
    assert path.read_bytes() == before
    for value, now in zip(weights, other.weights, strict=True):
        np.testing.assert_array_equal(value, np.asarray(now))  # nothing was assigned
    # The API refuses too, and a model compiled alike resumes.
    with pytest.raises(training.ResumeMismatch, match="beta_1=0.5"):
        generator, discriminator = tiny_models()
        gan = training.GAN(generator, discriminator)
        gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
        training.load_checkpoint(gan, path)
    assert training.load_checkpoint(tiny_gan(seed=5), path)["step"] == 4


def frames(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.glob("samples_epoch_*.png"))


def gif_frames(directory: Path) -> int:
    from PIL import Image

    with Image.open(directory / "samples.gif") as gif:
        return gif.n_frames


@pytest.mark.parametrize(
    "moment",
    [
        "after the checkpoint, before history.json",  # history.json one epoch behind
        "while writing history.json",  # history.json truncated
        "before the frame",  # checkpoint saved, frame of that epoch missing
        "while writing the frame",  # frame of the checkpoint's epoch truncated
        "while writing the GIF",  # stale samples.gif.tmp, no GIF
        "while writing an earlier frame",  # an old frame truncated (older versions)
    ],
)
def test_kill_and_resume_at_each_moment_ends_with_the_full_run(tmp_path, moment, capsys):
    from PIL import Image

    # The first run is "killed" after epoch 3 of 4: what it left is then damaged as a kill
    # at `moment` would have left it.
    with pytest.raises(KeyboardInterrupt):
        training.fit_resumable(
            tiny_gan(), constant_images(), **run_kwargs(tmp_path), callbacks=[_KillAfter(7)]
        )
    assert frames(tmp_path) == [f"samples_epoch_000{i}.png" for i in (1, 2, 3)]
    history_path, frame = tmp_path / training.HISTORY_FILE, tmp_path / "samples_epoch_0003.png"
    if moment == "after the checkpoint, before history.json":
        history = json.loads(history_path.read_text())
        history_path.write_text(json.dumps({k: v[:-1] for k, v in history.items()}))
    elif moment == "while writing history.json":
        history_path.write_text(history_path.read_text()[:10])
        (tmp_path / "history.json.tmp").write_text('{"st')
    elif moment == "before the frame":
        frame.unlink()
    elif moment == "while writing the frame":
        frame.write_bytes(frame.read_bytes()[:40])
    elif moment == "while writing the GIF":
        (tmp_path / "samples.gif.tmp").write_bytes(b"GIF89a")
    else:
        first = tmp_path / "samples_epoch_0001.png"
        first.write_bytes(first.read_bytes()[:40])
    # A frame drawn after the checkpoint by the killed run is not the resumed run's.
    Image.new("L", (3, 3)).save(tmp_path / "samples_epoch_0004.png")

    result = training.fit_resumable(tiny_gan(seed=1), constant_images(), **run_kwargs(tmp_path))
    assert result["step"] == 8 and result["history"]["step"] == [2, 4, 6, 8]
    assert json.loads(history_path.read_text()) == result["history"]
    assert not list(tmp_path.glob("*.tmp"))
    saved = training.read_checkpoint(tmp_path / training.CHECKPOINT_FILE)
    assert saved["state"]["step"] == 8 and saved["run"]["history"] == result["history"]
    assert result["wall_time_s"] == saved["run"]["wall_time_s"] > 0
    skipped = moment == "while writing an earlier frame"
    expected = [2, 3, 4] if skipped else [1, 2, 3, 4]
    assert frames(tmp_path) == [f"samples_epoch_000{i}.png" for i in expected]
    assert gif_frames(tmp_path) == len(expected) and result["gif"] == tmp_path / "samples.gif"
    with Image.open(tmp_path / "samples_epoch_0004.png") as last:
        assert last.size != (3, 3)  # redrawn by the resumed run
    assert ("GIF skips" in capsys.readouterr().out) == skipped
    assert result["notes"] == (
        [
            "samples_epoch_0001.png was unreadable (a run killed while writing it?); "
            "the GIF skips that epoch."
        ]
        if skipped
        else []
    )


def test_wall_time_is_summed_across_resumes(tmp_path):
    first = training.fit_resumable(tiny_gan(), constant_images(), **run_kwargs(tmp_path, steps=4))
    second = training.fit_resumable(tiny_gan(), constant_images(), **run_kwargs(tmp_path))
    again = training.fit_resumable(tiny_gan(), constant_images(), **run_kwargs(tmp_path))
    assert second["wall_time_s"] > first["wall_time_s"] > 0
    assert again["wall_time_s"] == second["wall_time_s"]  # nothing left to train


def test_a_diverged_fresh_run_reports_once_and_draws_nothing_of_the_diverged_model(
    tmp_path, capsys
):
    images = np.full((64, *SHAPE), 0.5, dtype="float32")
    images[24:] = np.nan  # step 4 is the first poisoned batch
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(8)
    result = training.fit_resumable(tiny_gan(), dataset, **run_kwargs(tmp_path, steps=16))
    assert result["diverged"] is not None and result["gif"] is None
    assert capsys.readouterr().out.count("Training diverged") == 1
    assert frames(tmp_path) == ["samples_epoch_0001.png"]  # the last good epoch only
    assert not (tmp_path / "samples.gif").exists()


def test_first_batch_must_be_floats_in_the_unit_range(tmp_path):
    pixels = np.full((16, *SHAPE), 200, dtype=np.uint8)
    with pytest.raises(TypeError, match=r"uint8 batches .*make_pipeline"):
        training.fit_resumable(
            tiny_gan(), tf.data.Dataset.from_tensor_slices(pixels).batch(8), **run_kwargs(tmp_path)
        )
    floats = tf.data.Dataset.from_tensor_slices(pixels.astype("float32")).batch(8)
    with pytest.raises(ValueError, match=r"values in \[200, 200\].*make_pipeline"):
        training.fit_resumable(tiny_gan(), floats, **run_kwargs(tmp_path))
    assert not (tmp_path / training.CHECKPOINT_FILE).exists()


def checkpoint_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "checkpoint.npz"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind in ("truncated", "cut in the middle"):
        training.save_checkpoint(tiny_gan(), path, {"step": 0})
        payload = path.read_bytes()
        path.write_bytes(payload[: 100 if kind == "truncated" else len(payload) // 2])
    elif kind == "foreign npz":
        np.savez(path, weights=np.zeros(3))
    elif kind == "single npy":
        with open(path, "wb") as handle:
            np.save(handle, np.zeros(3))
    elif kind == "pickled objects":
        np.savez(path, names=np.array([{"a": 1}], dtype=object), state=np.array("{}"))
    elif kind == "directory":
        path = tmp_path / "run"
        path.mkdir()
        (path / training.CHECKPOINT_FILE).write_bytes(b"x")
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "is empty (0 bytes)"),
        ("truncated", "truncated or damaged"),
        ("cut in the middle", "truncated or damaged"),
        ("foreign npz", "not a ganbook checkpoint (one written by training.save_checkpoint)"),
        ("single npy", "not a ganbook checkpoint"),
        ("pickled objects", "holds pickled Python objects"),
        ("directory", "is a directory, not a .npz file. Pass the file inside it"),
    ],
)
def test_load_checkpoint_explains_an_unusable_file_in_one_line(tmp_path, kind, message):
    path = checkpoint_file(tmp_path, kind)
    with pytest.raises(training.CheckpointError) as error:
        training.load_checkpoint(tiny_gan(), path)
    text = str(error.value)
    assert message in text and "\n" not in text
    assert "allow_pickle" not in text  # never suggest unsafe loading


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: training.build_gan(width=0), "width must be a positive integer; got 0"),
        (lambda: training.build_gan(latent_dim=0), "latent_dim must be a positive integer"),
        (lambda: training.build_gan(width=8.0), "width must be a positive integer; got 8.0"),
        (lambda: training.build_gan(learning_rate=0), r"learning_rate must be a number in \(0"),
        (lambda: training.build_gan(learning_rate=-1e-3), "learning_rate must be a number"),
        (lambda: training.build_gan(beta_1=1.0), r"beta_1 must be a number in \[0, 1\); got 1"),
        (lambda: training.build_gan(beta_1=-0.1), r"beta_1 must be a number in \[0, 1\)"),
        (lambda: training.build_gan(ema_momentum=1.0), r"ema_momentum must be a number in \(0"),
        (lambda: training.build_gan(upsampling="bilinear"), "upsampling must be one of"),
        (lambda: tiny_gan().latent_vectors(0), "n must be a positive integer"),
        (lambda: tiny_gan().latent_vectors(2, seed=-1), "seed must be a non-negative integer"),
        (lambda: tiny_gan().latent_vectors(None), "n must be a positive integer; got None"),
        (lambda: training.SampleGrid(".", n=0), "n must be a positive integer"),
        (lambda: training.Checkpoint(".", None, every_epochs=0), "every_epochs must be a positive"),
        (lambda: training.tile_images(np.zeros((2, 3, 3, 1), np.uint8)), "expects float images"),
        (lambda: training.tile_images(np.full((2, 3, 3, 1), np.nan)), "NaN or infinite"),
        (lambda: training.tile_images(np.zeros((2, 3, 4, 4))), "channels last"),
        (lambda: training.tile_images(np.zeros((2, 3, 3, 1)), columns=0), "columns must be"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"steps": 0}, "steps must be a positive integer; got 0"),
        ({"steps": 2.5}, "steps must be a positive integer; got 2.5"),
        ({"steps_per_epoch": 0}, "steps_per_epoch must be a positive integer; got 0"),
        ({"samples": 0}, "samples must be a positive integer"),
        ({"sample_seed": -1}, "sample_seed must be a non-negative integer"),
    ],
)
def test_fit_resumable_checks_its_arguments(tmp_path, overrides, message):
    with pytest.raises(ValueError, match=message):
        training.fit_resumable(tiny_gan(), constant_images(), **run_kwargs(tmp_path, **overrides))


def test_numpy_integers_are_accepted_as_sizes(tmp_path):
    gan = tiny_gan()
    assert gan.latent_vectors(np.int64(3), seed=np.int64(1)).shape == (3, LATENT)
    result = training.fit_resumable(
        gan,
        constant_images(),
        **run_kwargs(tmp_path, steps=np.int64(4), steps_per_epoch=np.int32(2)),
    )
    assert result["step"] == 4
    assert training.tile_images(np.zeros((4, 2, 2, 1)), columns=np.int64(2)).shape == (7, 7, 1)


def test_build_gan_passes_the_moving_average_and_the_upsampling_on():
    small = {"latent_dim": 8, "width": 4, "generator_ema": True}
    gan = training.build_gan("dcgan28", ema_momentum=0.9, **small)
    assert gan.g_optimizer.use_ema and gan.g_optimizer.ema_momentum == pytest.approx(0.9)
    default = training.build_gan("dcgan28", **small)
    assert default.g_optimizer.ema_momentum == pytest.approx(training.GENERATOR_EMA_MOMENTUM)
    resized = training.build_gan("dcgan64", latent_dim=8, width=4, upsampling="resize")
    names = [type(layer).__name__ for layer in resized.generator.layers]
    assert "UpSampling2D" in names and "Conv2DTranspose" not in names
