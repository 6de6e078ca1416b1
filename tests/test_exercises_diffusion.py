"""The diffusion chapter's exercise checks: the reference solutions pass (strict), stubs are
"not yet", and the usual wrong answers are "wrong" with a hint that names the mistake."""

from __future__ import annotations

import numpy as np
import pytest

from ganbook_utils import diffusion
from ganbook_utils.exercises.diffusion import check_ddim_step, check_guidance, check_q_sample

# --- The reference solutions: the code of the chapter's solution dropdowns. -----------------


def q_sample(x0, alpha_bar, noise):
    return np.sqrt(alpha_bar) * x0 + np.sqrt(1 - alpha_bar) * noise


def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev):
    x0_hat = (x_t - np.sqrt(1 - alpha_bar_t) * eps) / np.sqrt(alpha_bar_t)
    return np.sqrt(alpha_bar_prev) * x0_hat + np.sqrt(1 - alpha_bar_prev) * eps


def guide(cond, uncond, w):
    return cond + w * (cond - uncond)


def stub(*arguments): ...  # what the exercise cell holds before the student writes anything


def not_implemented(*arguments):
    raise NotImplementedError


CHECKS = [check_q_sample, check_ddim_step, check_guidance]


@pytest.mark.parametrize(
    ("check", "solution"),
    [
        (check_q_sample, q_sample),
        (check_ddim_step, ddim_step),
        (check_ddim_step, diffusion.ddim_step),  # the package's
        (check_guidance, guide),
        (check_guidance, diffusion.guided_prediction),
    ],
)
def test_the_reference_solutions_pass(check, solution, capsys):
    assert check(solution, strict=True).status == "right"
    assert capsys.readouterr().out.startswith("Right:")


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("answer", [stub, not_implemented, ...])
def test_a_stub_is_not_yet(check, answer, capsys):
    assert check(answer).status == "not yet"
    assert capsys.readouterr().out.startswith("Not yet:")


def _wrong(check, answer, hint):
    verdict = check(answer)
    assert verdict.status == "wrong", verdict
    assert hint in verdict.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda x0, a, noise: a * x0 + (1 - a) * noise, "square roots"),
        (lambda x0, a, noise: np.sqrt(a) * x0 + (1 - a) * noise, "standard deviation"),
        (lambda x0, a, noise: np.sqrt(a) * x0 + np.sqrt(a) * noise, "Not x_t"),
        (lambda x0, a, noise: q_sample(x0, a, noise)[0], "shape"),
        (np.zeros(3), "function itself"),
    ],
)
def test_q_sample_wrong_answers(answer, hint):
    _wrong(check_q_sample, answer, hint)


def _unscaled(x_t, eps, a_t, a_prev):
    return np.sqrt(a_prev) * x_t + np.sqrt(1 - a_prev) * eps


def _wrong_level(x_t, eps, a_t, a_prev):
    x0_hat = (x_t - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t)
    return np.sqrt(a_prev) * x0_hat + np.sqrt(1 - a_t) * eps


def _x0_only(x_t, eps, a_t, a_prev):
    return (x_t - np.sqrt(1 - a_t) * eps) / np.sqrt(a_t)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [(_unscaled, "predict x0"), (_wrong_level, "target level"), (_x0_only, "add back")],
)
def test_ddim_step_wrong_answers(answer, hint):
    _wrong(check_ddim_step, answer, hint)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda cond, uncond, w: uncond + w * (cond - uncond), "w = 0"),
        (lambda cond, uncond, w: cond + w * (uncond - cond), "sign is flipped"),
        (lambda cond, uncond, w: cond + w * cond, "At w ="),
    ],
)
def test_guidance_wrong_answers(answer, hint):
    _wrong(check_guidance, answer, hint)


def test_strict_raises_on_a_wrong_answer():
    with pytest.raises(AssertionError, match="Not quite"):
        check_guidance(lambda cond, uncond, w: uncond, strict=True)
