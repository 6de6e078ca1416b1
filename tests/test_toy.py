"""The toy 2-D GAN: ring mixture, mode-coverage metrics, training that moves samples to the data."""

from __future__ import annotations

import math

import keras
import matplotlib
import numpy as np
import pytest

from ganbook_utils import toy

matplotlib.use("Agg")


def test_ring_centers_lie_evenly_on_the_circle():
    centers = toy.ring_centers(8, radius=2.0)
    assert centers.shape == (8, 2) and centers.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 2.0, rtol=1e-6)
    neighbours = np.linalg.norm(centers - np.roll(centers, 1, axis=0), axis=1)
    np.testing.assert_allclose(neighbours, 2 * 2.0 * math.sin(math.pi / 8), rtol=1e-5)


def test_sample_ring_mixture_is_seeded_and_has_the_right_spread():
    points = toy.sample_ring_mixture(8_000, std=0.1, seed=0)
    assert points.shape == (8_000, 2) and points.dtype == np.float32
    np.testing.assert_array_equal(points, toy.sample_ring_mixture(8_000, std=0.1, seed=0))
    centers = toy.ring_centers()
    nearest = np.argmin(np.linalg.norm(points[:, None] - centers[None], axis=2), axis=1)
    offsets = points - centers[nearest]
    assert np.std(offsets) == pytest.approx(0.1, rel=0.05)
    assert np.bincount(nearest, minlength=8).min() > 0.8 * 8_000 / 8


def test_mode_coverage_of_the_data_itself_is_complete():
    coverage = toy.mode_coverage(toy.sample_ring_mixture(4_000, seed=1), toy.ring_centers(), 0.05)
    assert coverage.modes_covered == 8
    # P(|x| <= 3 std) for a 2-D isotropic Gaussian is 1 - exp(-9/2) = 0.9889.
    assert coverage.high_quality_fraction == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert coverage.samples_per_mode.sum() == pytest.approx(4_000 * (1 - math.exp(-4.5)), rel=0.01)
    assert str(coverage).startswith("8/8 modes covered")


def test_mode_coverage_detects_a_collapsed_sampler_and_stray_points():
    centers = toy.ring_centers()
    collapsed = np.repeat(centers[:1], 990, axis=0)
    stray = centers[1:3].repeat(5, axis=0)  # 5 points on two other modes: below 20 per 2,500
    coverage = toy.mode_coverage(np.concatenate([collapsed, stray]), centers, 0.05)
    assert coverage.modes_covered == 1
    # The default threshold, 20 per 2,500, is 8 per 1,000: 8 points on mode 1 count, 7 do not.
    for on_mode_one, covered in ((8, 2), (7, 1)):
        points = centers[[0] * (1000 - on_mode_one) + [1] * on_mode_one]
        assert toy.mode_coverage(points, centers, 0.05).modes_covered == covered
    spread = np.concatenate([collapsed[:976], centers[1:4].repeat(8, axis=0)])
    assert toy.mode_coverage(spread, centers, 0.05).modes_covered == 4
    assert coverage.high_quality_fraction == 1.0
    assert coverage.samples_per_mode.tolist() == [990, 5, 5, 0, 0, 0, 0, 0]
    far = np.zeros((100, 2))  # the ring's centre is 2 away from every mode
    assert toy.mode_coverage(far, centers, 0.05).high_quality_fraction == 0.0


@pytest.mark.parametrize(
    ("samples", "std", "message"),
    [
        (np.zeros((5, 3)), 0.05, r"shaped \(N, 2\)"),
        (np.full((5, 2), np.nan), 0.05, "NaN"),
        (np.zeros((5, 2)), 0.0, "std > 0"),
    ],
)
def test_mode_coverage_rejects_bad_input(samples, std, message):
    with pytest.raises(ValueError, match=message):
        toy.mode_coverage(samples, toy.ring_centers(), std)


def test_sliced_wasserstein_distance_has_known_values():
    points = toy.sample_ring_mixture(2_000, seed=2)
    assert toy.sliced_wasserstein_distance(points, points) == 0.0
    # Shifting by d along x moves every projection on direction theta by d |cos theta|,
    # whose mean over theta ~ U[0, pi] is 2 d / pi.
    shift = toy.sliced_wasserstein_distance(points, points + [0.5, 0.0], projections=4_000)
    assert shift == pytest.approx(2 * 0.5 / math.pi, rel=0.03)
    with pytest.raises(ValueError, match="same size"):
        toy.sliced_wasserstein_distance(points, points[:10])


def test_ring_helpers_reject_bad_arguments():
    with pytest.raises(ValueError, match="modes >= 1"):
        toy.ring_centers(0)
    with pytest.raises(ValueError, match="count >= 1"):
        toy.sample_ring_mixture(0)
    with pytest.raises(ValueError, match="must be >= 1"):
        toy.pack_points(np.zeros((4, 2)), 0)
    with pytest.raises(ValueError, match="Sizes must be positive"):
        toy.build_toy_mlp(2, 0)


def test_mlp_and_packing_shapes():
    generator = toy.build_toy_mlp(8, 2, hidden_units=16)
    assert tuple(generator(np.zeros((5, 8), np.float32)).shape) == (5, 2)
    packed = toy.pack_points(np.arange(16, dtype=np.float32).reshape(8, 2), 4)
    assert tuple(packed.shape) == (2, 8)
    np.testing.assert_array_equal(np.asarray(packed)[1], np.arange(8, 16))


def tiny_gan(loss: str, *, pack: int = 1, penalty: float = 0.0, seed: int = 0):
    keras.utils.set_random_seed(seed)
    generator = toy.build_toy_mlp(8, 2, hidden_units=64, name="generator")
    discriminator = toy.build_toy_mlp(2 * pack, 1, hidden_units=64, name="discriminator")
    step = toy.make_toy_train_step(
        generator,
        discriminator,
        loss,
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        gradient_penalty_weight=penalty,
        pack=pack,
    )
    return generator, discriminator, step


def test_a_few_hundred_steps_move_the_samples_toward_the_data():
    generator, discriminator, step = tiny_gan("non_saturating")
    data = toy.sample_ring_mixture(1_000, seed=9)
    run = toy.train_toy_gan(
        step,
        generator,
        discriminator,
        steps=300,
        batch_size=128,
        snapshot_steps=(0,),
        sample_count=1_000,
        progress=False,
    )
    before, after = (toy.sliced_wasserstein_distance(s.samples, data) for s in run.snapshots)
    # An untrained generator puts everything near the origin, about 2 away from the ring.
    assert before > 0.8
    assert after < 0.5 * before
    assert [s.step for s in run.snapshots] == [0, 300]
    assert run.losses["d_loss"].shape == (300,) and np.all(np.isfinite(run.losses["g_loss"]))
    assert run.final.surface.shape == (80, 80)


@pytest.mark.parametrize(("loss", "pack", "penalty"), [("wasserstein", 1, 10.0), ("hinge", 2, 0)])
def test_other_losses_and_packing_train_without_diverging(loss, pack, penalty):
    generator, _, step = tiny_gan(loss, pack=pack, penalty=penalty)
    run = toy.train_toy_gan(step, generator, steps=40, batch_size=64, progress=False)
    assert run.final.surface is None
    assert all(np.all(np.isfinite(values)) for values in run.losses.values())


def test_train_toy_gan_rejects_snapshots_outside_the_run():
    generator, discriminator, step = tiny_gan("minimax")
    with pytest.raises(ValueError, match="snapshot steps in"):
        toy.train_toy_gan(step, generator, steps=10, snapshot_steps=(20,))


def test_make_toy_train_step_rejects_an_unknown_loss():
    generator, discriminator, _ = tiny_gan("minimax")
    with pytest.raises(ValueError, match="Unknown GAN loss"):
        toy.make_toy_train_step(
            generator, discriminator, "vanilla", d_optimizer=None, g_optimizer=None
        )


def test_plots_have_one_panel_per_snapshot():
    generator, discriminator, step = tiny_gan("non_saturating")
    run = toy.train_toy_gan(
        step, generator, discriminator, steps=4, snapshot_steps=(0, 2), progress=False
    )
    figure = toy.plot_snapshots(run.snapshots, toy.sample_ring_mixture(200), title="t")
    assert len(figure.axes) == 3 + 1  # three panels and the colour bar
    assert figure.axes[0].get_title().startswith("step 0\n")
    curves = toy.plot_coverage_curves({"a": run, "b": run}, title="t")
    assert len(curves.axes[0].lines) == 2
    with pytest.raises(ValueError, match="at least one snapshot"):
        toy.plot_snapshots([], toy.sample_ring_mixture(10), title="t")
    titled = toy.plot_snapshots(
        run.snapshots[:1], toy.sample_ring_mixture(10), title="t", panel_titles=["minimax"]
    )
    assert titled.axes[0].get_title().startswith("minimax\n")
    with pytest.raises(ValueError, match="one each"):
        toy.plot_snapshots(run.snapshots, toy.sample_ring_mixture(10), title="t", panel_titles=[])
