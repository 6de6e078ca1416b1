"""Tests of ``ganbook_utils.diffusion``: schedules, forward process, U-Net, training, samplers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from ganbook_utils import data, diffusion, toy, training

# --- Schedules and the forward process ---------------------------------------------------------


@pytest.mark.parametrize("make", [diffusion.linear_schedule, diffusion.cosine_schedule])
@pytest.mark.parametrize("timesteps", [10, 1000])
def test_alpha_bar_is_decreasing_inside_the_unit_interval(make, timesteps):
    schedule = make(timesteps)
    alpha_bars = schedule.alpha_bars
    assert alpha_bars.shape == (timesteps,)
    assert np.all((alpha_bars > 0) & (alpha_bars < 1))
    assert np.all(np.diff(alpha_bars) < 0)
    np.testing.assert_allclose(np.cumprod(1 - schedule.betas), alpha_bars, rtol=1e-12)
    assert alpha_bars[-1] < 0.05  # the chain ends close to pure noise


def test_closed_form_matches_iterating_the_chain():
    schedule = diffusion.linear_schedule(50)
    rng = np.random.default_rng(0)
    x0 = np.array([[0.8, -0.5, 0.0]])
    draws = 200_000
    x = np.repeat(x0, draws, axis=0)
    t = 30
    for step in range(t + 1):
        beta = schedule.betas[step]
        x = np.sqrt(1 - beta) * x + np.sqrt(beta) * rng.standard_normal(x.shape)
    mean, variance = diffusion.q_mean_variance(x0, t, schedule)
    np.testing.assert_allclose(x.mean(axis=0), mean[0], atol=0.01)
    np.testing.assert_allclose(x.var(axis=0), variance[0], rtol=0.02)
    closed = diffusion.q_sample(np.repeat(x0, draws, 0), t, rng.standard_normal(x.shape), schedule)
    np.testing.assert_allclose(closed.mean(axis=0), mean[0], atol=0.01)
    np.testing.assert_allclose(closed.var(axis=0), variance[0], rtol=0.02)


def test_ddim_step_with_the_true_noise_recovers_x0_and_ddpm_posterior_is_eta_one():
    schedule = diffusion.cosine_schedule(100)
    rng = np.random.default_rng(1)
    x0 = rng.uniform(-1, 1, (4, 3))
    eps = rng.standard_normal(x0.shape)
    xt = diffusion.q_sample(x0, 60, eps, schedule).astype(np.float64)
    a_t = schedule.alpha_bars[60]
    recovered = diffusion.ddim_step(xt, eps, a_t, 1.0)
    np.testing.assert_allclose(recovered, x0, atol=1e-5)
    # DDIM with eta = 1 has the variance of the DDPM posterior q(x_prev | x_t, x_0).
    a_prev = schedule.alpha_bars[40]
    _, variance = diffusion.q_posterior_mean_variance(x0, xt, a_t, a_prev)
    noise = np.ones_like(xt)
    mean_part = diffusion.ddim_step(xt, eps, a_t, a_prev, eta=1.0, noise=0 * noise)
    with_noise = diffusion.ddim_step(xt, eps, a_t, a_prev, eta=1.0, noise=noise)
    np.testing.assert_allclose((with_noise - mean_part)[:, 0] ** 2, variance, rtol=1e-6)


def test_guidance_combination_convention():
    cond, uncond = np.array([1.0, 2.0]), np.array([0.0, 4.0])
    np.testing.assert_allclose(diffusion.guided_prediction(cond, uncond, 0.0), cond)
    guided = diffusion.guided_prediction(cond, uncond, 2.0)
    np.testing.assert_allclose(guided, 3 * cond - 2 * uncond)


# --- Networks ----------------------------------------------------------------------------------


def test_unet_shapes_with_and_without_a_condition():
    plain = diffusion.build_unet((28, 28, 1), widths=(4, 8, 8))
    out = plain([np.zeros((2, 28, 28, 1), np.float32), np.array([0.1, 0.9], np.float32)])
    assert tuple(out.shape) == (2, 28, 28, 1)
    labelled = diffusion.build_unet((32, 32, 3), widths=(4, 8), num_classes=10)
    out = labelled([np.zeros((3, 32, 32, 3)), np.zeros(3), np.array([0, 5, 10], np.int32)])
    assert tuple(out.shape) == (3, 32, 32, 3)
    vectors = diffusion.build_unet((32, 32, 3), widths=(4, 8), condition_dim=6)
    out = vectors([np.zeros((3, 32, 32, 3)), np.zeros(3), np.zeros((3, 6))])
    assert tuple(out.shape) == (3, 32, 32, 3)
    with pytest.raises(ValueError, match="divisible"):
        diffusion.build_unet((30, 30, 1), widths=(4, 8, 8))


# --- Training and sampling on tiny problems ----------------------------------------------------


def _ring_points(count: int, seed: int = 0) -> np.ndarray:
    # The book's ring mixture, scaled into [-1, 1] (the models' data range).
    return toy.sample_ring_mixture(count, seed=seed) / 2.5


def _fit_points(model: diffusion.Diffusion, points: np.ndarray, steps: int, labels=None):
    import tensorflow as tf

    elements = points if labels is None else (points, labels)
    dataset = tf.data.Dataset.from_tensor_slices(elements).shuffle(len(points), seed=0)
    model.fit(dataset.batch(256, drop_remainder=True).repeat(), steps_per_epoch=steps, verbose=0)


def _toy_model(objective: str, hidden_units: int = 64, **kwargs) -> diffusion.Diffusion:
    keras.utils.set_random_seed(0)
    num_classes = kwargs.get("num_classes")
    denoiser = diffusion.build_mlp_denoiser(2, hidden_units, num_classes=num_classes)
    model = diffusion.Diffusion(denoiser, objective=objective, timesteps=100, seed=0, **kwargs)
    model.compile(keras.optimizers.Adam(3e-3))
    return model


def test_a_short_run_lowers_the_loss():
    points = _ring_points(2048)
    model = _toy_model("ddpm")
    before = model.evaluate_loss(points[:512], seed=3)
    _fit_points(model, points, 150)
    after = model.evaluate_loss(points[:512], seed=3)
    assert after < 0.7 * before


@pytest.mark.parametrize("objective", ["flow", "ddpm"])
def test_a_toy_model_moves_samples_toward_the_data(objective):
    points = _ring_points(4096)
    model = _toy_model(objective, sampling_steps=20, hidden_units=128)
    _fit_points(model, points, 600)
    centers = toy.ring_centers() / 2.5

    def distance_to_data(samples):
        return np.mean(np.min(np.linalg.norm(samples[:, None] - centers[None], axis=-1), axis=1))

    noise = model.initial_noise(500, seed=1)
    samples = model.generate(noise)
    # The samples start as the noise; the model carries them most of the way to the modes.
    assert distance_to_data(samples) < 0.5 * distance_to_data(noise)


def test_ddim_with_eta_zero_is_deterministic_for_a_seed():
    model = _toy_model("ddpm", sampling_steps=5)
    first = model.sample(16, seed=4)
    np.testing.assert_array_equal(first, model.sample(16, seed=4))
    # eta = 0 adds no noise along the way: the per-step seed does not matter.
    noise = model.initial_noise(16, seed=4)
    np.testing.assert_allclose(model.generate(noise, seed=1), model.generate(noise, seed=2))
    assert not np.allclose(first, model.sample(16, seed=5))
    stochastic = model.generate(noise, sampler="ddpm", seed=1)
    assert not np.allclose(stochastic, model.generate(noise, sampler="ddpm", seed=2))


def test_guidance_zero_equals_the_conditional_model():
    points = _ring_points(1024)
    labels = np.arange(1024) % 4
    model = _toy_model("flow", num_classes=4, sampling_steps=4)
    _fit_points(model, points, 20, labels=labels)
    conditional = model.sample(8, seed=0, labels=np.arange(8) % 4)
    guided = model.sample(8, seed=0, labels=np.arange(8) % 4, guidance=0.0)
    np.testing.assert_allclose(guided, conditional, atol=1e-5)
    strongly = model.sample(8, seed=0, labels=np.arange(8) % 4, guidance=4.0)
    assert not np.allclose(strongly, conditional)


@pytest.mark.usefixtures("run_eagerly")
def test_fit_resumable_trains_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    model = diffusion.build_diffusion(
        (8, 8, 1), widths=(4, 8), num_classes=3, sampling_steps=2, learning_rate=1e-3
    )
    pixels = np.random.default_rng(0).integers(0, 256, (32, 8, 8, 1), dtype=np.uint8)
    pipeline = data.make_pipeline(pixels, 8, labels=np.arange(32) % 3)
    run = training.fit_resumable(
        model, pipeline, 4, tmp_path / "run", steps_per_epoch=2, samples=4, progress=False
    )
    assert run["step"] == 4 and run["diverged"] is None and run["gif"].exists()
    record = diffusion.architecture_record(model, (4, 8), 1)
    diffusion.save_weights(model, tmp_path / "d.weights.h5")
    copy = diffusion.build_from_record(record)
    copy.denoiser.load_weights(tmp_path / "d.weights.h5")
    with model.averaged_denoiser():
        np.testing.assert_allclose(copy.sample(3, seed=1), model.sample(3, seed=1), atol=1e-5)
    again = training.fit_resumable(
        model, pipeline, 4, tmp_path / "run", steps_per_epoch=2, samples=4, progress=False
    )
    assert again["step"] == 4  # nothing left to train: resumed from the checkpoint


# --- Bad input ---------------------------------------------------------------------------------


def test_every_bad_input_raises_its_message():
    schedule = diffusion.linear_schedule(10)
    x0 = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="timestep out of range"):
        diffusion.q_sample(x0, 10, np.zeros_like(x0), schedule)
    with pytest.raises(ValueError, match="timestep out of range"):
        diffusion.flow_sample(x0, 1.5, np.zeros_like(x0))
    with pytest.raises(ValueError, match=r"must be in \[-1, 1\]"):
        diffusion.q_sample(x0 + 3, 1, np.zeros_like(x0), schedule)
    with pytest.raises(TypeError, match="normalize_images"):
        diffusion.q_sample(np.zeros((2, 3), np.uint8), 1, np.zeros((2, 3)), schedule)
    with pytest.raises(ValueError, match="strictly decreasing"):
        diffusion.NoiseSchedule("bad", np.array([0.9, 0.95, 0.5]))
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        diffusion.check_alpha_bars([1.0, 0.5])
    plain = _toy_model("ddpm")
    with pytest.raises(ValueError, match="guidance needs a conditional model"):
        plain.sample(2, guidance=1.0)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        plain.sample(2, steps=0)
    with pytest.raises(ValueError, match="does not fit objective"):
        plain.sample(2, sampler="euler")
    labelled = _toy_model("flow", num_classes=4)
    with pytest.raises(ValueError, match="label out of range"):
        labelled.sample(2, labels=np.array([0, 4]))
    with pytest.raises(ValueError, match="Unknown schedule"):
        diffusion.make_schedule("square")


@pytest.mark.usefixtures("run_eagerly")
def test_nan_training_stops_with_the_guards_message(tmp_path):
    import tensorflow as tf

    model = diffusion.build_diffusion((8, 8, 1), widths=(4, 8), sampling_steps=1)
    images = np.full((16, 8, 8, 1), np.nan, np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(8, drop_remainder=True)
    run = training.fit_resumable(
        model, dataset, 4, tmp_path, steps_per_epoch=2, sample_grid=False, progress=False
    )
    assert run["diverged"] and "Training diverged" in run["diverged"]
    assert not (tmp_path / training.CHECKPOINT_FILE).exists()
