"""Checks for the exercises of "Diffusion models".

Each check calls the student's function on fixed random inputs and compares it with the
closed form of :mod:`ganbook_utils.diffusion`, naming the usual mistake when it sees one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ganbook_utils import diffusion
from ganbook_utils.exercises import answer_of, exercise_check


def _call(function: Callable, *args: object) -> np.ndarray:
    assert callable(function), (
        f"Pass your function itself (not its result); got {type(function).__name__}."
    )
    result = answer_of(function, *args)
    if hasattr(result, "numpy"):
        result = result.numpy()
    return np.asarray(result, dtype=np.float64)


@exercise_check("return sqrt(alpha_bar) * x0 + sqrt(1 - alpha_bar) * noise.")
def check_q_sample(q_sample: Callable) -> str:
    """Check ``q_sample(x0, alpha_bar, noise)`` -> x_t, for one noise level ``alpha_bar``."""
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, (4, 6))
    noise = rng.standard_normal(x0.shape)
    alpha_bar = 0.3
    answer = _call(q_sample, x0, alpha_bar, noise)
    expected = np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * noise
    assert answer.shape == expected.shape, (
        f"Return one noisy example per row: shape {expected.shape}, not {answer.shape}."
    )
    assert not np.allclose(answer, alpha_bar * x0 + (1 - alpha_bar) * noise), (
        "You mixed with alpha_bar and 1 - alpha_bar: those are variances; scale by their "
        "square roots, so that the variance stays 1 for unit-variance data."
    )
    assert not np.allclose(answer, np.sqrt(alpha_bar) * x0 + (1 - alpha_bar) * noise), (
        "The noise's factor must be the standard deviation sqrt(1 - alpha_bar), not the "
        "variance 1 - alpha_bar."
    )
    assert np.allclose(answer, expected), (
        "Not x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise: the signal shrinks by "
        "sqrt(alpha_bar) and the noise you are given fills the rest of the variance."
    )
    return "x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) eps, one line for any t."


@exercise_check("predict x0 from (x_t, eps), then move it to the noise level alpha_bar_prev.")
def check_ddim_step(ddim_step: Callable) -> str:
    """Check ``ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev)`` -> x_prev (eta = 0)."""
    rng = np.random.default_rng(1)
    xt = rng.standard_normal((5, 4))
    eps = rng.standard_normal(xt.shape)
    a_t, a_prev = 0.2, 0.6
    answer = _call(ddim_step, xt, eps, a_t, a_prev)
    expected = diffusion.ddim_step(xt, eps, a_t, a_prev)
    assert answer.shape == expected.shape, f"Return shape {expected.shape}, not {answer.shape}."
    assert not np.allclose(answer, np.sqrt(a_prev) * xt + np.sqrt(1 - a_prev) * eps), (
        "You scaled x_t itself; first predict x0 = (x_t - sqrt(1 - alpha_bar_t) eps) / "
        "sqrt(alpha_bar_t), then scale that."
    )
    x0_hat = (xt - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t)
    assert not np.allclose(answer, np.sqrt(a_prev) * x0_hat + np.sqrt(1 - a_t) * eps), (
        "The direction term uses the target level: sqrt(1 - alpha_bar_prev) eps, not "
        "sqrt(1 - alpha_bar_t) eps."
    )
    assert not np.allclose(answer, x0_hat), (
        "That is the predicted x0 (the last step only); add back sqrt(1 - alpha_bar_prev) eps."
    )
    assert np.allclose(answer, expected), (
        "Not the DDIM step x_prev = sqrt(alpha_bar_prev) x0_hat + sqrt(1 - alpha_bar_prev) eps "
        "with x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)."
    )
    # The step must also be exact when eps is the true noise: it then lands on q(x_prev | x0).
    x0 = rng.uniform(-1, 1, (5, 4))
    true_eps = rng.standard_normal(x0.shape)
    noisy = np.sqrt(a_t) * x0 + np.sqrt(1 - a_t) * true_eps
    landed = _call(ddim_step, noisy, true_eps, a_t, 1.0)
    assert np.allclose(landed, x0), "With alpha_bar_prev = 1 the step must return x0 exactly."
    return "x0_hat first, then the same eps at the new noise level: deterministic DDIM."


@exercise_check("return cond + w * (cond - uncond), the book's convention (w = 0: conditional).")
def check_guidance(guide: Callable) -> str:
    """Check ``guide(cond, uncond, w)`` -> the classifier-free guided prediction."""
    rng = np.random.default_rng(2)
    cond, uncond = rng.standard_normal((2, 3, 4))
    answers = {w: _call(guide, cond, uncond, w) for w in (0.0, 1.0, 3.0)}
    assert np.allclose(answers[0.0], cond), (
        "With w = 0 the guided prediction must equal the conditional one (the book's convention; "
        "the form uncond + s (cond - uncond) is the library one, with s = 1 + w)."
    )
    assert not np.allclose(answers[3.0], cond + 3.0 * (uncond - cond)), (
        "The sign is flipped: guidance pushes AWAY from the unconditional prediction, "
        "cond + w (cond - uncond)."
    )
    for w, answer in answers.items():
        assert np.allclose(answer, diffusion.guided_prediction(cond, uncond, w)), (
            f"At w = {w:g} expected cond + w (cond - uncond) = (1 + w) cond - w uncond."
        )
    return "(1 + w) cond - w uncond: w = 0 is the conditional model, larger w sharper."
