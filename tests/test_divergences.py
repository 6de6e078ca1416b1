"""Closed-form values, references (scipy) and bad-input errors of ganbook_utils.divergences."""

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
import tensorflow as tf

from ganbook_utils import divergences as dv

GRID = np.linspace(-12.0, 12.0, 4001)


def normal_pdf(x, mean, std):
    return scipy.stats.norm.pdf(x, mean, std)


# ---- KL ------------------------------------------------------------------------------------


def test_gaussian_kl_is_zero_at_the_prior_and_matches_the_general_closed_form():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(5, 3))
    log_variance = rng.normal(size=(5, 3))
    kl = dv.gaussian_kl_divergence(mean, log_variance)
    assert isinstance(kl, tf.Tensor) and kl.shape == (5,) and kl.dtype == tf.float64
    expected = dv.kl_between_gaussians(mean, np.exp(log_variance), 0.0, 1.0)
    np.testing.assert_allclose(kl.numpy(), expected, rtol=1e-12)
    assert np.all(kl.numpy() > 0)
    zero = dv.gaussian_kl_divergence(np.zeros((2, 4), np.float32), np.zeros((2, 4), np.float32))
    assert zero.dtype == tf.float32
    np.testing.assert_allclose(zero.numpy(), 0.0, atol=1e-7)


def test_gaussian_kl_known_value_and_gradient():
    # KL(N(1, e) || N(0, 1)) = 0.5 * (e + 1 - 1 - 1) = 0.5 * (e - 1) per dimension.
    mean = tf.Variable([[1.0, 1.0]], dtype=tf.float64)
    log_variance = tf.Variable([[1.0, 1.0]], dtype=tf.float64)
    with tf.GradientTape() as tape:
        kl = dv.gaussian_kl_divergence(mean, log_variance)
    np.testing.assert_allclose(kl.numpy(), [np.e - 1.0], rtol=1e-12)
    grad_mean, grad_log_variance = tape.gradient(kl, [mean, log_variance])
    np.testing.assert_allclose(grad_mean.numpy(), [[1.0, 1.0]])  # d/dm = m
    np.testing.assert_allclose(grad_log_variance.numpy(), 0.5 * (np.e - 1.0) * np.ones((1, 2)))


def test_gaussian_kl_runs_inside_tf_function_with_unknown_batch():
    @tf.function(input_signature=[tf.TensorSpec([None, 2]), tf.TensorSpec([None, 2])])
    def kl(mean, log_variance):
        return dv.gaussian_kl_divergence(mean, log_variance)

    np.testing.assert_allclose(kl(tf.zeros([3, 2]), tf.zeros([3, 2])).numpy(), np.zeros(3))


def test_gaussian_kl_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same shape"):
        dv.gaussian_kl_divergence(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="scalars"):
        dv.gaussian_kl_divergence(0.0, 0.0)


def test_kl_between_gaussians_values_and_errors():
    assert dv.kl_between_gaussians(0.0, 1.0, 0.0, 1.0) == 0.0
    # 1-D: log(s2/s1) + (s1^2 + (m1-m2)^2) / (2 s2^2) - 1/2
    expected = np.log(2.0 / 1.0) + (1.0 + 9.0) / (2 * 4.0) - 0.5
    assert dv.kl_between_gaussians(3.0, 1.0, 0.0, 4.0) == pytest.approx(expected, rel=1e-12)
    # Not symmetric.
    assert dv.kl_between_gaussians(0.0, 4.0, 3.0, 1.0) != pytest.approx(expected)
    with pytest.raises(ValueError, match="strictly positive"):
        dv.kl_between_gaussians(0.0, -1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="broadcast"):
        dv.kl_between_gaussians(np.zeros(3), np.ones(2), 0.0, 1.0)
    with pytest.raises(TypeError, match="numeric"):
        dv.kl_between_gaussians("a", 1.0, 0.0, 1.0)


def test_monte_carlo_kl_agrees_with_closed_form_within_four_standard_errors():
    mean1, var1, mean2, var2 = np.array([0.5, -1.0]), np.array([0.5, 2.0]), 0.0, 1.0
    samples = np.random.default_rng(1).normal(mean1, np.sqrt(var1), size=(50_000, 2))
    estimate = dv.monte_carlo_kl(
        samples,
        lambda x: dv.diagonal_gaussian_log_density(x, mean1, var1),
        lambda x: dv.diagonal_gaussian_log_density(x, mean2, var2),
    )
    closed_form = dv.kl_between_gaussians(mean1, var1, mean2, var2)
    assert estimate.num_samples == 50_000
    assert 0 < estimate.standard_error < 0.02
    assert abs(estimate.value - closed_form) < 4 * estimate.standard_error


def test_monte_carlo_kl_errors():
    with pytest.raises(ValueError, match="at least two"):
        dv.monte_carlo_kl(np.zeros(1), lambda x: x, lambda x: x)
    with pytest.raises(ValueError, match="one value per sample"):
        dv.monte_carlo_kl(np.zeros((4, 2)), lambda x: x, lambda x: x)


def test_diagonal_gaussian_log_density_matches_scipy():
    x = np.array([[0.3, -1.2]])
    expected = scipy.stats.norm.logpdf(0.3, 1.0, 2.0) + scipy.stats.norm.logpdf(-1.2, 0.0, 0.5)
    value = dv.diagonal_gaussian_log_density(x, [1.0, 0.0], [4.0, 0.25])
    np.testing.assert_allclose(value, [expected], rtol=1e-12)


# ---- optimal discriminator, JS, GAN value --------------------------------------------------


def test_optimal_discriminator_formula_and_errors():
    np.testing.assert_allclose(
        dv.optimal_discriminator([1.0, 3.0, 0.0], [1.0, 1.0, 2.0]), [0.5, 0.75, 0.0]
    )
    assert dv.optimal_discriminator(0.0, 0.0) == 0.5  # undefined where both vanish
    with pytest.raises(ValueError, match="same shape"):
        dv.optimal_discriminator(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match=">= 0"):
        dv.optimal_discriminator([-1.0], [1.0])


def test_jensen_shannon_limits_and_scipy_reference():
    p, q = normal_pdf(GRID, 0.0, 1.0), normal_pdf(GRID, 1.5, 0.7)
    assert dv.jensen_shannon_divergence(p, p, GRID) == pytest.approx(0.0, abs=1e-12)
    disjoint = dv.jensen_shannon_divergence(
        normal_pdf(GRID, -8.0, 0.3), normal_pdf(GRID, 8.0, 0.3), GRID
    )
    assert disjoint == pytest.approx(np.log(2.0), abs=1e-9)
    value = dv.jensen_shannon_divergence(p, q, GRID)
    # scipy returns the square root of JS, for probability vectors (here p dx on the grid).
    reference = scipy.spatial.distance.jensenshannon(p, q) ** 2
    assert value == pytest.approx(reference, rel=1e-3)
    assert value == pytest.approx(dv.jensen_shannon_divergence(q, p, GRID), rel=1e-12)


def test_gan_value_at_optimal_discriminator_is_minus_log4_plus_twice_js():
    p_data, p_model = normal_pdf(GRID, 0.0, 1.0), normal_pdf(GRID, 2.0, 1.5)
    best = dv.optimal_discriminator(p_data, p_model)
    value = dv.gan_value(p_data, p_model, best, GRID)
    js = dv.jensen_shannon_divergence(p_data, p_model, GRID)
    assert value == pytest.approx(-np.log(4.0) + 2.0 * js, abs=1e-6)
    # Any other discriminator does worse; D = 1/2 scores exactly -log 4.
    assert dv.gan_value(p_data, p_model, np.full_like(GRID, 0.5), GRID) == pytest.approx(
        -np.log(4.0), abs=1e-9
    )
    assert dv.gan_value(p_data, p_model, np.clip(best + 0.05, 0, 1), GRID) < value


def test_kl_on_grid_matches_closed_form_and_is_infinite_off_support():
    p, q = normal_pdf(GRID, 0.5, 0.8), normal_pdf(GRID, -1.0, 1.7)
    expected = dv.kl_between_gaussians(0.5, 0.8**2, -1.0, 1.7**2)
    assert dv.kl_divergence_on_grid(p, q, GRID) == pytest.approx(expected, rel=1e-5)
    uniform = ((GRID > 0) & (GRID < 1)).astype(float)
    assert dv.kl_divergence_on_grid(p, uniform, GRID) == float("inf")
    assert np.isfinite(dv.kl_divergence_on_grid(uniform, p, GRID))


def test_grid_validation():
    with pytest.raises(ValueError, match="strictly increasing"):
        dv.jensen_shannon_divergence(np.ones(3), np.ones(3), [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="one density value per grid point"):
        dv.jensen_shannon_divergence(np.ones(4), np.ones(3), [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="integrates to 0"):
        dv.jensen_shannon_divergence(np.zeros(3), np.ones(3), [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        dv.gan_value(np.ones(3), np.ones(3), [0.0, 1.5, 0.5], [0.0, 1.0, 2.0])


# ---- Wasserstein ---------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [(1000, 1000), (700, 1300), (1, 5)])
def test_wasserstein_1d_matches_scipy(sizes):
    rng = np.random.default_rng(sum(sizes))
    a, b = rng.normal(0.0, 1.0, sizes[0]), rng.exponential(2.0, sizes[1])
    assert dv.wasserstein_1d(a, b) == pytest.approx(
        scipy.stats.wasserstein_distance(a, b), rel=1e-10
    )


def test_wasserstein_1d_of_a_shift_is_the_shift():
    a = np.random.default_rng(3).normal(size=500)
    assert dv.wasserstein_1d(a, a + 2.5) == pytest.approx(2.5, rel=1e-12)
    assert dv.wasserstein_1d(a, a) == 0.0


def test_wasserstein_1d_hand_computed_unequal_sizes():
    # Quantile functions: a is 0 on (0, 1/2], 1 on (1/2, 1]; b is 0 on (0, 2/3], 3 on (2/3, 1].
    # |difference|: 1 on (1/2, 2/3], 2 on (2/3, 1]. W1 = 1/6 + 2/3, W2^2 = 1/6 + 4/3.
    assert dv.wasserstein_1d([1.0, 0.0], [0.0, 3.0, 0.0]) == pytest.approx(5 / 6, rel=1e-12)
    assert dv.wasserstein_1d([0.0, 1.0], [0.0, 0.0, 3.0], order=2) == pytest.approx(
        np.sqrt(1.5), rel=1e-12
    )


def test_wasserstein_2_between_gaussian_samples_is_the_1d_frechet_distance():
    # W2^2(N(m1, s1^2), N(m2, s2^2)) = (m1 - m2)^2 + (s1 - s2)^2: FID's formula in 1-D.
    rng = np.random.default_rng(7)
    a, b = rng.normal(0.0, 1.0, 200_000), rng.normal(1.0, 2.0, 150_000)
    assert dv.wasserstein_1d(a, b, order=2) ** 2 == pytest.approx(1.0 + 1.0, rel=0.02)


def test_wasserstein_1d_errors():
    with pytest.raises(ValueError, match=">= 1"):
        dv.wasserstein_1d([0.0], [1.0], order=0.5)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        dv.wasserstein_1d([], [1.0])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        dv.wasserstein_1d(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        dv.wasserstein_1d([np.nan], [1.0])


# ---- gradient estimators -------------------------------------------------------------------

# f(z) = z^2: E[f] = mean^2 + std^2, so d/dmean = 2 mean and d/dstd = 2 std.
MEAN, STD, N = 1.5, 0.8, 20_000


@pytest.mark.parametrize("parameter, exact", [("mean", 2 * MEAN), ("std", 2 * STD)])
def test_both_estimators_are_unbiased_and_reparameterization_has_lower_variance(parameter, exact):
    reparam = dv.reparameterization_gradients(tf.square, MEAN, STD, N, parameter, seed=1)
    score = dv.score_function_gradients(np.square, MEAN, STD, N, parameter, seed=2)
    for estimates in (reparam, score):
        assert estimates.shape == (N,)
        standard_error = estimates.std(ddof=1) / np.sqrt(N)
        assert abs(estimates.mean() - exact) < 4 * standard_error
    assert reparam.var() < score.var() / 3


def test_reparameterization_variance_has_its_closed_form():
    # d f(mean + std*eps)/d mean = 2 z, whose variance is 4 std^2.
    reparam = dv.reparameterization_gradients(tf.square, MEAN, STD, N, "mean", seed=4)
    assert reparam.var() == pytest.approx(4 * STD**2, rel=0.05)


def test_baseline_keeps_the_mean_and_lowers_the_variance():
    plain = dv.score_function_gradients(np.square, MEAN, STD, N, seed=5)
    with_baseline = dv.score_function_gradients(
        np.square, MEAN, STD, N, seed=5, baseline=MEAN**2 + STD**2
    )
    assert with_baseline.var() < plain.var()
    assert abs(with_baseline.mean() - 2 * MEAN) < 4 * with_baseline.std() / np.sqrt(N)


def test_gradient_estimator_errors():
    with pytest.raises(ValueError, match="positive"):
        dv.score_function_gradients(np.square, 0.0, 0.0, 10)
    with pytest.raises(ValueError, match="'mean' or 'std'"):
        dv.reparameterization_gradients(tf.square, 0.0, 1.0, 10, parameter="variance")
    with pytest.raises(TypeError, match="int"):
        dv.score_function_gradients(np.square, 0.0, 1.0, 10.0)
    with pytest.raises(ValueError, match="at least 2"):
        dv.score_function_gradients(np.square, 0.0, 1.0, 1)
    with pytest.raises(ValueError, match="one value per sample"):
        dv.score_function_gradients(np.sum, 0.0, 1.0, 10)
    with pytest.raises(ValueError, match="TensorFlow ops"):
        dv.reparameterization_gradients(np.square, 0.0, 1.0, 10)


# ---- claims the chapters make with these functions ------------------------------------------


def test_elbo_identity_on_a_linear_gaussian_model():
    # p(z) = N(0, 1), p(x | z) = N(w z, s^2): log p(x) = ELBO(q) + KL(q || posterior) for any q.
    weight, noise_var, x = 2.0, 0.25, 1.3
    evidence = scipy.stats.norm.logpdf(x, 0.0, np.sqrt(weight**2 + noise_var))
    posterior_mean = weight * x / (weight**2 + noise_var)
    posterior_var = noise_var / (weight**2 + noise_var)
    for mean, var in [(0.0, 1.0), (0.8, 0.1), (posterior_mean, posterior_var)]:
        reconstruction = -0.5 * np.log(2 * np.pi * noise_var) - (
            (x - weight * mean) ** 2 + weight**2 * var
        ) / (2 * noise_var)
        elbo = reconstruction - dv.kl_between_gaussians(mean, var, 0.0, 1.0)
        gap = dv.kl_between_gaussians(mean, var, posterior_mean, posterior_var)
        assert elbo + gap == pytest.approx(evidence, abs=1e-12)
        assert elbo <= evidence + 1e-12


def test_one_gaussian_fitted_to_two_modes():
    # The core-concepts chapter: reverse KL of one mode is log 2; JS prefers covering here.
    two_modes = 0.5 * normal_pdf(GRID, -2.0, 0.5) + 0.5 * normal_pdf(GRID, 2.0, 0.5)
    one_mode = normal_pdf(GRID, 2.0, 0.5)
    covering = normal_pdf(GRID, 0.0, np.sqrt(4.25))
    assert dv.kl_divergence_on_grid(one_mode, two_modes, GRID) == pytest.approx(np.log(2), abs=1e-4)
    assert dv.kl_divergence_on_grid(two_modes, one_mode, GRID) > 10  # forward KL punishes misses
    assert dv.jensen_shannon_divergence(two_modes, covering, GRID) < dv.jensen_shannon_divergence(
        two_modes, one_mode, GRID
    )
