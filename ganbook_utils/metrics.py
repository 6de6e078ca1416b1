"""Sample-based metrics of generative models: FID, IS, KID and precision/recall.

Everything here works on arrays that a feature extractor (:mod:`ganbook_utils.features`)
has already produced, in float64 NumPy/SciPy; nothing imports TensorFlow.

* :func:`feature_statistics` / :class:`StreamingFeatureStatistics` -- mean and covariance.
* :func:`frechet_distance` -- the Fréchet distance between two Gaussians (FID on features).
* :func:`inception_score` -- IS from class probabilities (or logits).
* :func:`kernel_inception_distance` -- KID, the unbiased MMD² with a cubic polynomial kernel.
* :func:`precision_recall` -- k-NN precision and recall (Kynkäänniemi et al., 2019).

Every function validates its input (shapes, finiteness, probability rows) and raises
``ValueError`` naming what was wrong, because a metric computed on malformed input returns
a plausible-looking number rather than failing.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.linalg
import scipy.special

from ganbook_utils import checks

# A product of two covariances whose square root has an imaginary part this large (relative to
# its real trace) is not a numerical accident: the inputs are not valid covariance matrices.
IMAGINARY_TOLERANCE = 1e-3
# Eigenvalues above -RELATIVE_EIGEN_TOLERANCE * largest are round-off and are clipped to zero.
RELATIVE_EIGEN_TOLERANCE = 1e-6


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _feature_matrix(features: np.ndarray, name: str, min_rows: int = 2) -> np.ndarray:
    """``features`` as a finite float64 (n, d) array with n >= ``min_rows``, or ValueError."""
    array = np.asarray(features)
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array; got dtype {array.dtype}.")
    array = array.astype(np.float64, copy=False)
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array shaped (num_samples, feature_dim); got shape "
            f"{array.shape}. Flatten or pool per-sample features first."
        )
    if array.shape[0] < min_rows or array.shape[1] < 1:
        raise ValueError(
            f"{name} needs at least {min_rows} samples and 1 feature; got shape {array.shape}."
        )
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise ValueError(
            f"{name} contains {bad} NaN/inf values; check the generator's output (a diverged "
            "model) or the feature extractor's input range."
        )
    return array


def _check_gaussian(mu: np.ndarray, sigma: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) as float64 arrays of shapes (d,) and (d, d), finite and symmetric."""
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1:
        raise ValueError(f"mu{name} must be a vector shaped (d,); got shape {mu.shape}.")
    d = mu.shape[0]
    if sigma.shape != (d, d):
        raise ValueError(
            f"sigma{name} must be a square matrix shaped ({d}, {d}) to match mu{name}; got "
            f"shape {sigma.shape}."
        )
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
        raise ValueError(f"mu{name}/sigma{name} contain NaN or inf values.")
    scale = max(float(np.max(np.abs(sigma))), np.finfo(np.float64).tiny)
    asymmetry = float(np.max(np.abs(sigma - sigma.T)))
    if asymmetry > 1e-6 * scale:
        raise ValueError(
            f"sigma{name} is not symmetric (max |sigma - sigma.T| = {asymmetry:.3g}); a "
            "covariance matrix must be. Use feature_statistics() to compute it."
        )
    return mu, (sigma + sigma.T) / 2.0


# ---------------------------------------------------------------------------------------------
# Feature statistics
# ---------------------------------------------------------------------------------------------


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (``ddof=1``, float64) of ``features`` shaped (n, d).

    Raises:
        ValueError: if ``features`` is not a finite 2-D array, or if n <= d: a covariance
            estimated from n samples has rank at most n - 1, so it would be singular and the
            FID computed from it meaningless. Draw more samples or use a smaller feature layer.
    """
    features = _feature_matrix(features, "features")
    n, d = features.shape
    if n <= d:
        raise ValueError(
            f"Need more samples than feature dimensions to estimate a covariance: got n={n} "
            f"samples of dimension d={d} (the covariance would have rank <= {n - 1} < {d}). "
            f"Use at least {d + 1} samples (in practice several times d) or a smaller "
            "feature layer."
        )
    return features.mean(axis=0), np.cov(features, rowvar=False, ddof=1)


class StreamingFeatureStatistics:
    """Mean and covariance accumulated batch by batch, without holding every feature.

    Batches are merged with Chan et al.'s pairwise update (running mean and sum of squared
    deviations), which is as accurate as the two-pass formula and unlike the naive
    ``E[xx^T] - mu mu^T`` does not cancel catastrophically when the mean is large.

    >>> stats = StreamingFeatureStatistics()
    >>> for batch in batches:            # each (batch_size, d)
    ...     stats.update(batch)
    >>> mu, sigma = stats.result()       # same as feature_statistics(np.concatenate(batches))
    """

    def __init__(self) -> None:
        self.count = 0
        self._mean: np.ndarray | None = None
        self._deviation_products: np.ndarray | None = None  # sum of (x - mean)(x - mean)^T

    @property
    def feature_dim(self) -> int | None:
        return None if self._mean is None else self._mean.shape[0]

    def update(self, batch: np.ndarray) -> StreamingFeatureStatistics:
        """Add a batch of features shaped (batch_size, d); returns ``self``."""
        batch = _feature_matrix(batch, "batch", min_rows=1)
        if self._mean is not None and batch.shape[1] != self._mean.shape[0]:
            raise ValueError(
                f"batch has feature dimension {batch.shape[1]}, but earlier batches had "
                f"{self._mean.shape[0]}."
            )
        batch_count = batch.shape[0]
        batch_mean = batch.mean(axis=0)
        centered = batch - batch_mean
        batch_products = centered.T @ centered
        if self._mean is None:
            self.count, self._mean = batch_count, batch_mean
            self._deviation_products = batch_products
            return self
        total = self.count + batch_count
        delta = batch_mean - self._mean
        self._mean = self._mean + delta * (batch_count / total)
        self._deviation_products = (
            self._deviation_products
            + batch_products
            + np.outer(delta, delta) * (self.count * batch_count / total)
        )
        self.count = total
        return self

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(mu, sigma) of everything added so far; the same checks as :func:`feature_statistics`."""
        if self._mean is None:
            raise ValueError("No features were added; call update(batch) first.")
        d = self._mean.shape[0]
        if self.count <= d:
            raise ValueError(
                f"Need more samples than feature dimensions: got {self.count} samples of "
                f"dimension {d}. Add at least {d + 1 - self.count} more."
            )
        return self._mean.copy(), self._deviation_products / (self.count - 1)


# ---------------------------------------------------------------------------------------------
# Fréchet distance
# ---------------------------------------------------------------------------------------------


def _symmetric_sqrt(sigma: np.ndarray, name: str) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix via its eigendecomposition."""
    eigenvalues, eigenvectors = np.linalg.eigh(sigma)
    largest = max(float(eigenvalues[-1]), 0.0)
    if eigenvalues[0] < -RELATIVE_EIGEN_TOLERANCE * max(largest, 1e-300):
        raise ValueError(
            f"sigma{name} is not positive semi-definite (smallest eigenvalue "
            f"{eigenvalues[0]:.3g}, largest {largest:.3g}); it is not a covariance matrix."
        )
    # Eigenvalues of a PSD matrix that come out slightly negative are round-off: clip them.
    roots = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * roots) @ eigenvectors.T


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr(sqrt(sigma1 @ sigma2)) for symmetric PSD matrices.

    sigma1 @ sigma2 is not symmetric, but for any factor sigma1 = B B^T it is similar to the
    symmetric PSD matrix B^T sigma2 B, so it has the same real, non-negative eigenvalues and
    tr(sqrt(sigma1 sigma2)) = sum_i sqrt(lambda_i(B^T sigma2 B)). B is the Cholesky factor
    when sigma1 is positive definite (cheapest), else the symmetric square root of sigma1
    (which also covers singular covariances). One symmetric eigenvalue solve then replaces
    scipy's general complex-Schur ``sqrtm``.
    """
    try:
        factor = np.linalg.cholesky(sigma1)
    except np.linalg.LinAlgError:
        factor = _symmetric_sqrt(sigma1, "1")
    middle = factor.T @ sigma2 @ factor
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    if not np.all(np.isfinite(eigenvalues)):
        raise np.linalg.LinAlgError("non-finite eigenvalues")
    positive = np.clip(eigenvalues, 0.0, None)
    real_trace = float(np.sum(np.sqrt(positive)))
    # A negative eigenvalue -t would contribute i*sqrt(t): the imaginary part that sqrtm-based
    # code silently drops. Tiny ones are round-off; large ones mean invalid inputs.
    imaginary_trace = float(np.sum(np.sqrt(np.clip(-eigenvalues, 0.0, None))))
    if imaginary_trace > IMAGINARY_TOLERANCE * max(real_trace, 1.0):
        raise ValueError(
            f"sqrt(sigma1 @ sigma2) has a large imaginary part ({imaginary_trace:.3g} vs real "
            f"trace {real_trace:.3g}): sigma2 is not positive semi-definite, so these are not "
            "covariance matrices. Compute them with feature_statistics()."
        )
    return real_trace


def frechet_distance(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    *,
    eps: float = 1e-6,
) -> float:
    """Fréchet (2-Wasserstein squared) distance between N(mu1, sigma1) and N(mu2, sigma2).

    d² = |mu1 - mu2|² + tr(sigma1) + tr(sigma2) - 2 tr(sqrt(sigma1 sigma2)),
    computed in float64 through one symmetric eigenvalue problem (see
    :func:`_trace_sqrt_product`). If the eigen-solver fails (``LinAlgError`` or non-finite
    values, e.g. on a badly conditioned singular product), ``eps * I`` is added to both
    covariances and the computation is retried once.

    The exact distance is >= 0; a result in [-1e-8 * scale, 0) is round-off of two nearly
    equal terms and is returned as 0.0.

    Args:
        mu1, mu2: means shaped (d,).
        sigma1, sigma2: symmetric positive semi-definite covariances shaped (d, d).
        eps: diagonal offset of the retry.

    Raises:
        ValueError: on mismatched shapes, NaN/inf, an asymmetric or non-PSD covariance (the
            "large imaginary part" of sqrtm-based implementations), or a clearly negative result.
    """
    mu1, sigma1 = _check_gaussian(mu1, sigma1, "1")
    mu2, sigma2 = _check_gaussian(mu2, sigma2, "2")
    if mu1.shape != mu2.shape:
        raise ValueError(
            f"The two Gaussians live in different dimensions: mu1 {mu1.shape}, mu2 {mu2.shape}. "
            "Use the same feature extractor for both sets."
        )
    try:
        trace_sqrt = _trace_sqrt_product(sigma1, sigma2)
    except np.linalg.LinAlgError:
        offset = eps * np.eye(mu1.shape[0])
        trace_sqrt = _trace_sqrt_product(sigma1 + offset, sigma2 + offset)
    diff = mu1 - mu2
    distance = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)
    scale = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2))
    if distance < 0.0:
        if distance < -1e-8 * max(scale, 1.0):
            raise ValueError(
                f"Fréchet distance came out clearly negative ({distance:.3g}); the inputs are "
                "not valid Gaussian statistics."
            )
        distance = 0.0
    return distance


def frechet_distance_sqrtm(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6
) -> float:
    """Reference Fréchet distance as TTUR and pytorch-fid compute it, with ``scipy.linalg.sqrtm``.

    Kept for the tests and the benchmark that check :func:`frechet_distance` against it; it
    does no input validation and silently drops a small imaginary part, as the original does.
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    diff = mu1 - mu2
    covmean = scipy.linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"Imaginary component {np.max(np.abs(covmean.imag))}")
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def frechet_distance_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """FID-style distance between two feature sets: statistics of each, then Fréchet distance."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


# ---------------------------------------------------------------------------------------------
# Inception Score
# ---------------------------------------------------------------------------------------------


def _log_probabilities(predictions: np.ndarray, from_logits: bool) -> np.ndarray:
    """Row-wise log class probabilities (float64), checking that probabilities are valid."""
    if from_logits:
        rows_are_probabilities = np.all(predictions >= 0.0) and np.allclose(
            predictions.sum(axis=1), 1.0, atol=1e-3
        )
        if rows_are_probabilities and predictions.shape[1] > 1:
            warnings.warn(
                "from_logits=True, but every row of predictions is non-negative and sums to 1: "
                "they look like probabilities (a softmax output). Pass from_logits=False for "
                "probabilities; the score computed from them as logits is wrong.",
                UserWarning,
                stacklevel=3,
            )
        return scipy.special.log_softmax(predictions, axis=1)
    if np.min(predictions) < 0.0 or np.max(predictions) > 1.0:
        raise ValueError(
            f"predictions must be probabilities in [0, 1]; got values in "
            f"[{np.min(predictions):.3g}, {np.max(predictions):.3g}]. If they are logits, pass "
            "from_logits=True."
        )
    row_sums = predictions.sum(axis=1)
    worst = int(np.argmax(np.abs(row_sums - 1.0)))
    if abs(row_sums[worst] - 1.0) > 1e-3:
        raise ValueError(
            f"Each row of predictions must sum to 1 (a softmax output); row {worst} sums to "
            f"{row_sums[worst]:.6g}. Apply softmax, or pass logits with from_logits=True."
        )
    with np.errstate(divide="ignore"):
        # log(0) = -inf is exact here: every use multiplies it by p = 0 through xlogy.
        return np.log(predictions / row_sums[:, None])


def inception_score(
    predictions: np.ndarray, *, from_logits: bool = False, splits: int = 10, seed: int = 0
) -> tuple[float, float]:
    """Inception Score exp(E_x KL(p(y|x) || p(y))), as mean and std over ``splits`` splits.

    Args:
        predictions: (n, num_classes) class probabilities (rows sum to 1), or logits with
            ``from_logits=True``.
        from_logits: treat ``predictions`` as unnormalised logits (log-softmax is applied).
        splits: the samples are shuffled with ``seed`` and cut into this many near-equal
            parts; the score of each part is computed with its own marginal p(y).
        seed: seed of the shuffle, so the splits are reproducible.

    Returns:
        (mean, std) of the per-split scores (std with ddof=0, as in the original code). The
        score lies in [1, num_classes]: 1 when every prediction is the same, num_classes when
        predictions are confident (one-hot) and the classes are balanced.

    Raises:
        ValueError: on a non-2-D or non-finite array, probabilities outside [0, 1] or rows not
            summing to 1, or fewer samples than splits.
    """
    predictions = _feature_matrix(predictions, "predictions", min_rows=1)
    if not isinstance(splits, (int, np.integer)) or splits < 1:
        raise ValueError(f"splits must be a positive integer; got {splits!r}.")
    if predictions.shape[0] < splits:
        raise ValueError(
            f"Need at least as many samples as splits: got {predictions.shape[0]} samples and "
            f"splits={splits}. Lower splits or add samples."
        )
    log_p = _log_probabilities(predictions, from_logits)
    order = np.random.default_rng(checks.seed(seed)).permutation(log_p.shape[0])
    scores = []
    for part in np.array_split(log_p[order], splits):
        # log of the split's marginal p(y) = mean_x p(y|x), computed in the log domain.
        log_marginal = scipy.special.logsumexp(part, axis=0) - np.log(part.shape[0])
        p = np.exp(part)
        kl = np.sum(scipy.special.xlogy(p, p) - p * np.where(p > 0, log_marginal, 0.0), axis=1)
        scores.append(float(np.exp(np.mean(kl))))
    return float(np.mean(scores)), float(np.std(scores))


# ---------------------------------------------------------------------------------------------
# Kernel Inception Distance
# ---------------------------------------------------------------------------------------------


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """KID's kernel k(x, y) = (x·y / d + 1)³ for every pair of rows of x (n, d) and y (m, d)."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased estimate of MMD² between the samples x (m, d) and y (m', d), cubic kernel.

    The diagonal terms k(x_i, x_i) are left out of the within-set averages, which makes the
    estimate unbiased: its expectation is 0 when x and y come from one distribution (so a
    single estimate may be slightly negative).
    """
    m, n = x.shape[0], y.shape[0]
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float(sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2.0 * k_xy.mean())


def kernel_inception_distance(
    features1: np.ndarray,
    features2: np.ndarray,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel Inception Distance (Bińkowski et al., 2018): mean and std of MMD² over subsets.

    Each of ``subsets`` rounds draws ``subset_size`` rows (without replacement) from each
    feature set and computes :func:`mmd2_unbiased`. Unlike FID, the estimate is unbiased, so
    it does not depend on the sample size in expectation, and it needs no n > d.

    Args:
        features1, features2: (n1, d) and (n2, d) features.
        subsets: number of random subsets.
        subset_size: rows per subset; must be 2 <= subset_size <= min(n1, n2).
        seed: seed of the subset draws.

    Raises:
        ValueError: on bad shapes, NaN/inf, or a subset size larger than a feature set.
    """
    features1 = _feature_matrix(features1, "features1")
    features2 = _feature_matrix(features2, "features2")
    if features1.shape[1] != features2.shape[1]:
        raise ValueError(
            f"features1 and features2 have different dimensions ({features1.shape[1]} vs "
            f"{features2.shape[1]}); use the same feature extractor for both."
        )
    if not isinstance(subsets, (int, np.integer)) or subsets < 1:
        raise ValueError(f"subsets must be a positive integer; got {subsets!r}.")
    smallest = min(features1.shape[0], features2.shape[0])
    if not 2 <= subset_size <= smallest:
        raise ValueError(
            f"subset_size must be between 2 and the size of the smaller set ({smallest}); got "
            f"{subset_size}. Pass subset_size=min(len(features1), len(features2)) or fewer."
        )
    rng = np.random.default_rng(checks.seed(seed))
    estimates = [
        mmd2_unbiased(
            features1[rng.choice(features1.shape[0], subset_size, replace=False)],
            features2[rng.choice(features2.shape[0], subset_size, replace=False)],
        )
        for _ in range(subsets)
    ]
    return float(np.mean(estimates)), float(np.std(estimates))


# ---------------------------------------------------------------------------------------------
# Precision and recall
# ---------------------------------------------------------------------------------------------


def _squared_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances between rows of x (n, d) and y (m, d)."""
    distances = (x * x).sum(axis=1)[:, None] + (y * y).sum(axis=1)[None, :] - 2.0 * (x @ y.T)
    return np.clip(distances, 0.0, None)


def knn_radii(features: np.ndarray, k: int, batch_size: int = 1024) -> np.ndarray:
    """Squared distance from each row of ``features`` to its k-th nearest other row."""
    radii = np.empty(features.shape[0])
    for start in range(0, features.shape[0], batch_size):
        block = _squared_distances(features[start : start + batch_size], features)
        # Column k, not k - 1: column 0 of the sorted row is the point itself (distance 0).
        radii[start : start + batch_size] = np.partition(block, k, axis=1)[:, k]
    return radii


def manifold_coverage(
    manifold_features: np.ndarray,
    manifold_radii: np.ndarray,
    query_features: np.ndarray,
    batch_size: int = 1024,
) -> float:
    """Fraction of query points inside at least one k-NN ball around a manifold point."""
    inside = np.zeros(query_features.shape[0], dtype=bool)
    for start in range(0, query_features.shape[0], batch_size):
        block = _squared_distances(query_features[start : start + batch_size], manifold_features)
        inside[start : start + batch_size] = np.any(block <= manifold_radii[None, :], axis=1)
    return float(np.mean(inside))


def precision_recall(
    real_features: np.ndarray, fake_features: np.ndarray, *, k: int = 3, batch_size: int = 1024
) -> tuple[float, float]:
    """Improved precision and recall of a generator (Kynkäänniemi et al., 2019).

    The real manifold is approximated by balls around each real feature reaching its k-th
    nearest real neighbour; likewise for the generated ones.

    * precision: fraction of generated samples inside the real manifold (quality).
    * recall: fraction of real samples inside the generated manifold (diversity/coverage).

    Args:
        real_features, fake_features: (n_real, d) and (n_fake, d), with n > k for both.
        k: neighbourhood size (the paper uses 3).
        batch_size: rows of the distance matrix computed at once (memory vs speed).

    Raises:
        ValueError: on bad shapes, NaN/inf, different dimensions, or k >= a set's size.
    """
    real = _feature_matrix(real_features, "real_features")
    fake = _feature_matrix(fake_features, "fake_features")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"real_features and fake_features have different dimensions ({real.shape[1]} vs "
            f"{fake.shape[1]}); use the same feature extractor for both."
        )
    if not isinstance(k, (int, np.integer)) or not 1 <= k < min(real.shape[0], fake.shape[0]):
        raise ValueError(
            f"k must be an integer with 1 <= k < the size of each set "
            f"({real.shape[0]}, {fake.shape[0]}); got {k!r}."
        )
    precision = manifold_coverage(real, knn_radii(real, k, batch_size), fake, batch_size)
    recall = manifold_coverage(fake, knn_radii(fake, k, batch_size), real, batch_size)
    return precision, recall


# ---------------------------------------------------------------------------------------------
# Everything at once
# ---------------------------------------------------------------------------------------------


def evaluate_features(
    real_features: np.ndarray,
    fake_features: np.ndarray,
    fake_logits: np.ndarray | None = None,
    *,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    k: int = 3,
    seed: int = 0,
) -> dict[str, float]:
    """FID, KID, precision, recall (and IS when ``fake_logits`` are given) in one dict.

    ``kid_subset_size`` is capped at the smaller set's size; IS uses one split (the whole set),
    so that its value does not depend on how many splits a small sample allows.
    Raises ValueError when ``fake_logits`` and ``fake_features`` have different row counts.
    """
    if fake_logits is not None:
        fake_count = np.shape(fake_features)[0] if np.ndim(fake_features) else 0
        logit_count = np.shape(fake_logits)[0] if np.ndim(fake_logits) else 0
        if fake_count != logit_count:
            raise ValueError(
                f"evaluate_features: fake_logits has {logit_count} rows but fake_features has "
                f"{fake_count}; both must come from the same generated images "
                "(extractor.features_and_logits(images) returns a matching pair)."
            )
    scores = {"fid": frechet_distance_from_features(real_features, fake_features)}
    subset_size = min(kid_subset_size, len(real_features), len(fake_features))
    scores["kid"], _ = kernel_inception_distance(
        real_features, fake_features, subsets=kid_subsets, subset_size=subset_size, seed=seed
    )
    scores["precision"], scores["recall"] = precision_recall(real_features, fake_features, k=k)
    if fake_logits is not None:
        scores["inception_score"], _ = inception_score(fake_logits, from_logits=True, splits=1)
    return scores
