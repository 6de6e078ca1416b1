"""Closed-form checks of ganbook_utils.metrics, and agreement with the sqrtm reference."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from ganbook_utils import metrics
from ganbook_utils.metrics import (
    StreamingFeatureStatistics,
    feature_statistics,
    frechet_distance,
    frechet_distance_sqrtm,
    inception_score,
    kernel_inception_distance,
    precision_recall,
)


def random_orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    """A dense random orthogonal matrix: the product of two Householder reflections.

    O(d²) to build (a QR of a 2048x2048 Gaussian would cost as much as the test itself).
    """
    q = np.eye(d)
    for _ in range(2):
        v = rng.standard_normal(d)
        v /= np.linalg.norm(v)
        q = q - 2.0 * np.outer(q @ v, v)
    return q


def commuting_covariances(d: int, seed: int):
    """Two covariances sharing eigenvectors, and their eigenvalues (closed-form FID)."""
    rng = np.random.default_rng(seed)
    q = random_orthogonal(d, rng)
    a, b = rng.uniform(0.1, 4.0, d), rng.uniform(0.1, 4.0, d)
    return (q * a) @ q.T, (q * b) @ q.T, a, b


def well_conditioned_covariance(d: int, rng: np.random.Generator) -> np.ndarray:
    """A random SPD matrix I + A A^T / (4d): eigenvalues in about [1, 2], generic eigenvectors."""
    a = rng.standard_normal((d, d))
    return np.eye(d) + a @ a.T / (4.0 * d)


# ------------------------------------------------------------------ feature statistics


def test_feature_statistics_matches_numpy_ddof1_in_float64():
    features = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    mu, sigma = feature_statistics(features)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(mu, features.astype(np.float64).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(features.astype(np.float64).T, ddof=1), rtol=1e-12)


def test_streaming_statistics_equal_one_pass_even_with_large_mean():
    rng = np.random.default_rng(1)
    # A large offset is where the naive E[xx^T] - mu mu^T formula loses all precision.
    features = rng.normal(size=(1000, 8)) + 1e6
    stats = StreamingFeatureStatistics()
    for batch in np.array_split(features, [1, 7, 300, 301, 650]):
        stats.update(batch)
    mu, sigma = stats.result()
    ref_mu, ref_sigma = feature_statistics(features)
    assert stats.count == 1000
    np.testing.assert_allclose(mu, ref_mu, rtol=1e-12)
    np.testing.assert_allclose(sigma, ref_sigma, rtol=1e-7, atol=1e-8)


def test_streaming_statistics_errors():
    stats = StreamingFeatureStatistics()
    with pytest.raises(ValueError, match="No features"):
        stats.result()
    stats.update(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="feature dimension 5"):
        stats.update(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="more samples than feature dimensions"):
        stats.result()


@pytest.mark.parametrize(
    "features, message",
    [
        (np.zeros(10), "2-D"),
        (np.zeros((10, 3, 2)), "2-D"),
        (np.zeros((5, 8)), "n=5 samples of dimension d=8"),
        (np.zeros((8, 8)), "n=8"),
        (np.full((10, 2), np.nan), "NaN"),
    ],
)
def test_feature_statistics_rejects_bad_input(features, message):
    with pytest.raises(ValueError, match=message):
        feature_statistics(features)


def test_feature_statistics_rejects_non_numeric():
    with pytest.raises(TypeError, match="numeric"):
        feature_statistics(np.array([["a", "b"]] * 5))


# ------------------------------------------------------------------ Fréchet distance


def test_frechet_distance_one_dimensional_closed_form():
    # W2² between N(m1, s1²) and N(m2, s2²) is (m1 - m2)² + (s1 - s2)².
    assert frechet_distance([1.0], [[4.0]], [-2.0], [[9.0]]) == pytest.approx(9.0 + 1.0)


def test_frechet_distance_of_a_gaussian_with_itself_is_zero():
    rng = np.random.default_rng(2)
    sigma = well_conditioned_covariance(30, rng)
    mu = rng.normal(size=30)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_of_a_set_against_itself_is_zero_not_negative():
    features = np.random.default_rng(3).normal(size=(400, 64))
    distance = metrics.frechet_distance_from_features(features, features)
    assert 0.0 <= distance < 1e-8


def test_frechet_distance_equal_covariances_is_squared_mean_difference():
    rng = np.random.default_rng(4)
    sigma = well_conditioned_covariance(20, rng)
    mu1, mu2 = rng.normal(size=20), rng.normal(size=20)
    expected = float(np.sum((mu1 - mu2) ** 2))
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_diagonal_closed_form():
    a, b = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 1.0, 9.0, 1.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.0])
    expected = 1.0 + 4.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("d", [10, 2048])
def test_frechet_distance_commuting_covariances_closed_form(d):
    sigma1, sigma2, a, b = commuting_covariances(d, seed=d)
    mu1 = np.zeros(d)
    mu2 = np.full(d, 0.01)
    expected = d * 0.01**2 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_is_symmetric():
    rng = np.random.default_rng(5)
    sigma1, sigma2 = well_conditioned_covariance(40, rng), well_conditioned_covariance(40, rng)
    mu1, mu2 = rng.normal(size=40), rng.normal(size=40)
    forward = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert forward > 1.0
    assert frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(forward, rel=1e-10)


def test_frechet_distance_scales_quadratically_with_the_features():
    # Scaling every feature by c scales the means by c and covariances by c²: d² scales by c².
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(300, 16)), rng.normal(size=(300, 16)) * 1.5 + 0.3
    base = metrics.frechet_distance_from_features(x, y)
    assert metrics.frechet_distance_from_features(3.0 * x, 3.0 * y) == pytest.approx(
        9.0 * base, rel=1e-9
    )
    # A shared translation changes nothing.
    assert metrics.frechet_distance_from_features(x + 5.0, y + 5.0) == pytest.approx(base, rel=1e-9)


def test_frechet_distance_scaled_covariance_closed_form():
    # sigma2 = c² sigma1  =>  d² = (1 - c)² tr(sigma1).
    rng = np.random.default_rng(7)
    sigma = well_conditioned_covariance(25, rng)
    mu = np.zeros(25)
    assert frechet_distance(mu, sigma, mu, 4.0 * sigma) == pytest.approx(np.trace(sigma), rel=1e-10)


def test_frechet_distance_handles_singular_covariances():
    # Rank-deficient covariances (e.g. dead ReLU features) have a closed form too.
    a = np.array([1.0, 4.0, 0.0, 0.0])
    b = np.array([9.0, 0.0, 1.0, 0.0])
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    zeros = np.zeros(4)
    assert frechet_distance(zeros, np.diag(a), zeros, np.diag(b)) == pytest.approx(expected)


def test_frechet_distance_retries_with_eps_when_the_eigen_solver_fails(monkeypatch):
    calls = []
    original = metrics._trace_sqrt_product

    def failing_once(sigma1, sigma2):
        calls.append(sigma1.copy())
        if len(calls) == 1:
            raise np.linalg.LinAlgError("did not converge")
        return original(sigma1, sigma2)

    monkeypatch.setattr(metrics, "_trace_sqrt_product", failing_once)
    sigma = np.diag([1.0, 2.0, 3.0])
    distance = frechet_distance(np.zeros(3), sigma, np.ones(3), sigma, eps=1e-6)
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1] - calls[0], 1e-6 * np.eye(3))
    # As in pytorch-fid, only the square-root term sees the offset: tr sqrt((S + eps I)²)
    # = tr S + d eps, so the distance is |mu1 - mu2|² - 2 d eps.
    assert distance == pytest.approx(3.0 - 2 * 3 * 1e-6, rel=1e-12)


@pytest.mark.parametrize(
    "args, message",
    [
        ((np.zeros(3), np.eye(3), np.zeros(4), np.eye(4)), "different dimensions"),
        ((np.zeros(3), np.eye(4), np.zeros(3), np.eye(3)), r"shaped \(3, 3\)"),
        ((np.zeros((3, 1)), np.eye(3), np.zeros(3), np.eye(3)), "vector"),
        ((np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]), np.zeros(2), np.eye(2)), "symmetric"),
        ((np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2)), "positive semi-definite"),
        ((np.zeros(2), np.eye(2), np.zeros(2), np.diag([1.0, -1.0])), "imaginary part"),
        ((np.array([np.nan, 0.0]), np.eye(2), np.zeros(2), np.eye(2)), "NaN"),
    ],
)
def test_frechet_distance_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(*args)


@pytest.mark.slow
def test_frechet_distance_agrees_with_scipy_sqrtm_reference_at_1024_dimensions():
    """The TTUR / pytorch-fid computation, on random well-conditioned 1024-d covariances.

    1024, not Inception's 2048: scipy's sqrtm alone took 40-90 s of the test run at 2048 (it
    grows as d^3); benchmarks/bench_fid.py compares the two at 2048 on every `make bench`."""
    rng = np.random.default_rng(8)
    d = 1024
    sigma1, sigma2 = well_conditioned_covariance(d, rng), well_conditioned_covariance(d, rng)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    ours = frechet_distance(mu1, sigma1, mu2, sigma2)
    reference = frechet_distance_sqrtm(mu1, sigma1, mu2, sigma2)
    assert ours > 100.0  # a non-trivial distance, not two near-zeros agreeing
    assert ours == pytest.approx(reference, rel=1e-6)


def test_sqrtm_reference_matches_closed_form():
    # The reference itself is right: checked on the diagonal closed form.
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    expected = 3.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = frechet_distance_sqrtm(np.zeros(3), np.diag(a), np.ones(3), np.diag(b))
    assert got == pytest.approx(expected, rel=1e-10)
    assert scipy.linalg.sqrtm(np.diag(a)) == pytest.approx(np.diag(np.sqrt(a)))


# ------------------------------------------------------------------ Inception Score


def test_inception_score_of_uniform_predictions_is_one():
    predictions = np.full((100, 10), 0.1)
    mean, std = inception_score(predictions)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_of_one_class_is_one():
    predictions = np.zeros((100, 10))
    predictions[:, 3] = 1.0
    assert inception_score(predictions)[0] == pytest.approx(1.0, abs=1e-12)


def test_inception_score_of_balanced_one_hot_is_number_of_classes():
    labels = np.repeat(np.arange(10), 20)
    predictions = np.eye(10)[labels]
    mean, std = inception_score(predictions, splits=1)
    assert mean == pytest.approx(10.0, rel=1e-12) and std == 0.0
    # With shuffled splits each split is only nearly balanced: the score is just below 10.
    mean_split, _ = inception_score(np.eye(10)[np.repeat(np.arange(10), 1000)], splits=10)
    assert 9.8 < mean_split <= 10.0


def test_inception_score_from_logits_equals_softmax_probabilities():
    logits = np.random.default_rng(9).normal(scale=3.0, size=(500, 7))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    from_logits = inception_score(logits, from_logits=True, splits=5, seed=1)
    from_probs = inception_score(probabilities, splits=5, seed=1)
    np.testing.assert_allclose(from_logits, from_probs, rtol=1e-10)
    assert 1.0 < from_logits[0] < 7.0


def test_inception_score_handles_huge_logits_without_overflow():
    logits = np.array([[1000.0, 0.0], [0.0, 1000.0]] * 50)
    mean, _ = inception_score(logits, from_logits=True, splits=1)
    assert mean == pytest.approx(2.0, rel=1e-12)


def test_inception_score_seed_changes_splits_but_not_single_split():
    logits = np.random.default_rng(10).normal(size=(200, 5))
    a = inception_score(logits, from_logits=True, splits=4, seed=0)
    b = inception_score(logits, from_logits=True, splits=4, seed=1)
    assert a != b
    assert inception_score(logits, from_logits=True, splits=1, seed=0)[0] == pytest.approx(
        inception_score(logits, from_logits=True, splits=1, seed=5)[0], rel=1e-12
    )


@pytest.mark.parametrize(
    "predictions, kwargs, message",
    [
        (np.full((20, 4), 0.3), {}, "sum to 1"),
        (np.full((20, 4), -0.25), {}, r"\[0, 1\]"),
        (np.full(20, 0.5), {}, "2-D"),
        (np.full((5, 4), 0.25), {"splits": 10}, "at least as many samples as splits"),
        (np.full((20, 4), 0.25), {"splits": 0}, "positive integer"),
        (np.full((20, 4), np.nan), {}, "NaN"),
    ],
)
def test_inception_score_rejects_bad_input(predictions, kwargs, message):
    with pytest.raises(ValueError, match=message):
        inception_score(predictions, **kwargs)


# ------------------------------------------------------------------ KID


def test_mmd2_unbiased_matches_explicit_double_loop():
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(5, 3))

    def k(a, b):
        return (a @ b / 3 + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / 30
    yy = sum(k(y[i], y[j]) for i in range(5) for j in range(5) if i != j) / 20
    xy = sum(k(x[i], y[j]) for i in range(6) for j in range(5)) / 30
    assert metrics.mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(1000, 16)), rng.normal(size=(1000, 16))
    mean, std = kernel_inception_distance(x, y, subsets=20, subset_size=500)
    assert abs(mean) < 3 * std + 1e-3
    shifted, shifted_std = kernel_inception_distance(x, y + 1.0, subsets=20, subset_size=500)
    assert shifted > 0.1 and shifted > 10 * shifted_std


def test_kid_is_reproducible_with_seed():
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(100, 4)), rng.normal(size=(100, 4)) + 0.2
    first = kernel_inception_distance(x, y, subsets=5, subset_size=50, seed=3)
    assert first == kernel_inception_distance(x, y, subsets=5, subset_size=50, seed=3)


@pytest.mark.parametrize(
    "x, y, kwargs, message",
    [
        (np.zeros((10, 3)), np.zeros((10, 4)), {"subset_size": 5}, "different dimensions"),
        (np.zeros((10, 3)), np.zeros((10, 3)), {"subset_size": 11}, "subset_size"),
        (np.zeros((10, 3)), np.zeros((10, 3)), {"subset_size": 5, "subsets": 0}, "subsets"),
        (np.zeros(10), np.zeros((10, 3)), {"subset_size": 5}, "2-D"),
    ],
)
def test_kid_rejects_bad_input(x, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        kernel_inception_distance(x, y, **kwargs)


# ------------------------------------------------------------------ precision / recall


def test_precision_recall_of_a_set_with_itself_is_one():
    x = np.random.default_rng(14).normal(size=(200, 5))
    assert precision_recall(x, x) == (1.0, 1.0)


def test_precision_recall_of_far_apart_sets_is_zero():
    rng = np.random.default_rng(15)
    assert precision_recall(rng.normal(size=(100, 5)), rng.normal(size=(100, 5)) + 100.0) == (
        0.0,
        0.0,
    )


def test_mode_dropping_keeps_precision_and_halves_recall():
    rng = np.random.default_rng(16)
    mode_a, mode_b = rng.normal(size=(150, 4)), rng.normal(size=(150, 4)) + 50.0
    real = np.concatenate([mode_a, mode_b])
    precision, recall = precision_recall(real, mode_a)
    assert precision == 1.0 and recall == pytest.approx(0.5)


def test_knn_radii_excludes_the_point_itself():
    points = np.array([[0.0], [1.0], [3.0], [7.0]])
    np.testing.assert_allclose(metrics.knn_radii(points, k=1), [1.0, 1.0, 4.0, 16.0])
    np.testing.assert_allclose(metrics.knn_radii(points, k=2, batch_size=3), [9.0, 4.0, 9.0, 36.0])


def test_precision_recall_rejects_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)), k=3)
    with pytest.raises(ValueError, match="different dimensions"):
        precision_recall(np.zeros((10, 2)), np.zeros((10, 3)))


def test_evaluate_features_collects_every_metric():
    rng = np.random.default_rng(17)
    real, fake = rng.normal(size=(120, 4)), rng.normal(size=(80, 4)) + 10.0
    scores = metrics.evaluate_features(
        real, fake, np.eye(4)[np.arange(80) % 4] * 50.0, kid_subsets=3
    )
    assert set(scores) == {"fid", "kid", "precision", "recall", "inception_score"}
    assert scores["fid"] == pytest.approx(metrics.frechet_distance_from_features(real, fake))
    assert scores["inception_score"] == pytest.approx(4.0, rel=1e-6)
    assert scores["kid"] > 0.1 and scores["precision"] < 0.5


def test_evaluate_features_refuses_logits_of_other_images():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(40, 4)), rng.normal(size=(40, 4))
    with pytest.raises(ValueError, match="fake_logits has 30 rows but fake_features has 40"):
        metrics.evaluate_features(real, fake, rng.normal(size=(30, 10)), kid_subsets=2)


def test_probabilities_passed_as_logits_are_warned_about():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=50)
    with pytest.warns(UserWarning, match="look like probabilities"):
        metrics.inception_score(probabilities, from_logits=True, splits=1)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics.inception_score(rng.normal(size=(50, 10)), from_logits=True, splits=1)
        metrics.inception_score(probabilities, splits=1)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: metrics.inception_score(x, splits=1, seed=-1),
        lambda x: metrics.kernel_inception_distance(x, x, subsets=2, subset_size=5, seed=-2),
    ],
)
def test_negative_seeds_are_refused_by_name(call):
    x = np.random.default_rng(0).dirichlet(np.ones(4), size=20)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        call(x)
