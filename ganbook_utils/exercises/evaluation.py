"""Checks for the exercises of "Evaluating generative models".

Each check calls the student's function on fixed inputs with a known answer (closed forms,
or :mod:`ganbook_utils.metrics`), naming the usual mistake when it sees one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ganbook_utils import metrics
from ganbook_utils.exercises import answer_of, exercise_check

_NOT_EXPONENTIATED = "You returned the mean KL divergence; the score is its exponential."


def _call(function: Callable, *args: object) -> float:
    assert callable(function), (
        f"Pass your function itself (not its result); got {type(function).__name__}."
    )
    result = np.asarray(answer_of(function, *args), dtype=np.float64)
    assert result.size == 1, f"Return one number, not an array of shape {result.shape}."
    return float(result)


@exercise_check("write exp(mean over rows of KL(p(y|x) || p(y))), p(y) the mean row.")
def check_inception_score(inception_score: Callable) -> str:
    """Check ``inception_score(probabilities)`` -> IS of one split, for (N, K) probabilities."""
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=2.0, size=(200, 6))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected, _ = metrics.inception_score(probabilities, splits=1)
    answer = _call(inception_score, probabilities)
    assert not np.isclose(answer, np.log(expected), rtol=1e-6), _NOT_EXPONENTIATED
    marginal = probabilities.mean(axis=0)
    reverse = np.exp(np.mean(np.sum(marginal * (np.log(marginal) - np.log(probabilities)), 1)))
    assert not np.isclose(answer, reverse, rtol=1e-6), (
        "The KL is the wrong way round: KL(p(y|x) || p(y)) weights by p(y|x), the row."
    )
    one_hot = np.eye(4)[np.arange(40) % 4]
    balanced = _call(inception_score, one_hot)
    assert np.isclose(balanced, 4.0, rtol=1e-6), (
        f"Confident, balanced predictions over 4 classes must score 4; got {balanced:.4g}. "
        "Do your logarithms survive p = 0 (use scipy.special.xlogy, or mask the zeros)?"
    )
    uniform = _call(inception_score, np.full((30, 5), 0.2))
    assert np.isclose(uniform, 1.0, rtol=1e-6), (
        f"Uniform predictions carry no information and must score 1; got {uniform:.4g}."
    )
    assert np.isclose(answer, expected, rtol=1e-6), (
        f"Expected {expected:.6g}, got {answer:.6g}. The KL is between each row p(y|x) and the "
        "marginal p(y) = mean of the rows, summed over classes, then averaged over rows."
    )
    return f"the score is exp(E_x KL(p(y|x) || p(y))) ({answer:.4f} on the test input)."


@exercise_check("write |mu1 - mu2|^2 + the trace term, for variance vectors var1 and var2.")
def check_diagonal_frechet_distance(frechet_distance: Callable) -> str:
    """Check ``frechet_distance(mu1, var1, mu2, var2)`` for diagonal covariances (vectors)."""
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=(2, 8))
    var1, var2 = rng.uniform(0.2, 3.0, size=(2, 8))
    expected = metrics.frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2))
    answer = _call(frechet_distance, mu1, var1, mu2, var2)
    no_sqrt = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * var1 * var2)
    assert not np.isclose(answer, no_sqrt, rtol=1e-6), (
        "The cross term is 2 sqrt(var1 * var2), not 2 var1 * var2."
    )
    assert not np.isclose(answer, np.sqrt(expected), rtol=1e-6), (
        "FID is the squared distance: do not take a square root at the end."
    )
    no_mean = np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert not np.isclose(answer, no_mean, rtol=1e-6), (
        "You left out the first term, the squared distance |mu1 - mu2|^2 between the means."
    )
    assert np.isclose(answer, expected, rtol=1e-6), (
        f"Expected {expected:.6g}, got {answer:.6g}: |mu1 - mu2|^2 + sum (sqrt(var1) - "
        "sqrt(var2))^2 for diagonal covariances."
    )
    return "for diagonal covariances FID = |mu1 - mu2|² + Σ (√var1 - √var2)²."
