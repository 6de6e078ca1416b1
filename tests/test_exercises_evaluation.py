"""The evaluation chapter's exercise checks: the reference solutions pass (strict), stubs are
"not yet", and the usual mistakes are "wrong" with a hint that names them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special

from ganbook_utils.exercises.evaluation import (
    check_diagonal_frechet_distance,
    check_inception_score,
)

# --- The reference solutions: the code of the chapter's solution dropdowns. -----------------


def inception_score(probabilities):
    marginal = probabilities.mean(axis=0)
    kl = np.sum(
        scipy.special.xlogy(probabilities, probabilities)
        - scipy.special.xlogy(probabilities, marginal),
        axis=1,
    )
    return np.exp(kl.mean())


def frechet_distance_diagonal(mu1, var1, mu2, var2):
    return np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)


def stub(*arguments): ...


def not_implemented(*arguments):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("check", "solution"),
    [
        (check_inception_score, inception_score),
        (check_diagonal_frechet_distance, frechet_distance_diagonal),
    ],
)
def test_the_reference_solutions_pass(check, solution, capsys):
    assert check(solution, strict=True).status == "right"
    assert capsys.readouterr().out.startswith("Right:")


@pytest.mark.parametrize("check", [check_inception_score, check_diagonal_frechet_distance])
@pytest.mark.parametrize("answer", [stub, not_implemented, ...])
def test_a_stub_is_not_yet(check, answer, capsys):
    assert check(answer).status == "not yet"
    assert capsys.readouterr().out.startswith("Not yet:")


def _wrong(check, answer, hint):
    verdict = check(answer)
    assert verdict.status == "wrong", verdict
    assert hint in verdict.message


def _naive_logs(probabilities):
    marginal = probabilities.mean(axis=0)
    kl = np.sum(probabilities * (np.log(probabilities) - np.log(marginal)), axis=1)
    return np.exp(kl.mean())


def _reversed_kl(probabilities):
    marginal = probabilities.mean(axis=0)
    kl = np.sum(marginal * (np.log(marginal) - np.log(probabilities)), axis=1)
    return np.exp(kl.mean())


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda p: np.log(inception_score(p)), "exponential"),
        (_naive_logs, "p = 0"),  # 0 * log 0 becomes nan
        (_reversed_kl, "wrong way round"),
        (lambda p: 2.0, "must score 4"),
        (lambda p: np.full(len(p), inception_score(p)), "one number"),
        (3.0, "function itself"),
    ],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the wrong answers' log(0)
def test_inception_score_wrong_answers(answer, hint):
    _wrong(check_inception_score, answer, hint)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda *a: np.sqrt(frechet_distance_diagonal(*a)), "square root"),
        (
            lambda mu1, var1, mu2, var2: (
                np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * var1 * var2)
            ),
            "cross term",
        ),
        (
            lambda mu1, var1, mu2, var2: np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2),
            "first term",
        ),
        (lambda mu1, var1, mu2, var2: np.sum((mu1 - mu2) ** 2), "Expected"),
    ],
)
def test_diagonal_frechet_wrong_answers(answer, hint):
    _wrong(check_diagonal_frechet_distance, answer, hint)
