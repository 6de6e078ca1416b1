"""The data chapter's checks: reference solutions pass, stubs are "not yet", and typical
wrong answers get a hint that names the mistake."""

import numpy as np
import pytest

from ganbook_utils import data
from ganbook_utils.exercises import data as ex


# The reference solutions, as in the chapter's dropdowns.
def denormalize_solution(x):
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


FLIP_SOLUTION = {"mnist": False, "lfw64": True, "shapes64": True, "shapes64 with captions": False}


def prepare_solution(images):
    return data.normalize_images(data.grayscale_to_rgb(data.resize(images, 64)))


def stub_function(x):
    ...


def not_implemented(x):
    raise NotImplementedError


def test_reference_solutions_pass_strictly():
    assert ex.check_denormalize(denormalize_solution, strict=True).status == "right"
    assert ex.check_flip_is_safe(FLIP_SOLUTION, strict=True).status == "right"
    assert ex.check_prepare_for_64(prepare_solution, strict=True).status == "right"


@pytest.mark.parametrize(
    ("check", "stub"),
    [
        (ex.check_denormalize, stub_function),
        (ex.check_denormalize, not_implemented),
        (ex.check_prepare_for_64, stub_function),
        (ex.check_flip_is_safe, dict.fromkeys(FLIP_SOLUTION, ...)),
        (ex.check_flip_is_safe, {**FLIP_SOLUTION, "lfw64": ...}),
    ],
)
def test_stubs_are_not_yet(check, stub, capsys):
    verdict = check(stub)
    assert verdict.status == "not yet"
    assert capsys.readouterr().out.startswith("Not yet:")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        # astype truncates: some values come back one too small.
        (lambda x: ((x + 1.0) * 127.5).astype(np.uint8), "Round first"),
        # scaled by 128: 255 overflows to 0.
        (lambda x: ((x + 1.0) * 128).astype(np.uint8), "overflowed uint8"),
        # forgot the conversion to uint8.
        (lambda x: np.round((x + 1.0) * 127.5), "Return uint8"),
        # inverted the wrong map: x * 255.
        (lambda x: np.clip(np.round(x * 255), 0, 255).astype(np.uint8), "survive the round trip"),
        (denormalize_solution(np.zeros((1, 2, 2, 1))), "function itself"),
    ],
)
def test_denormalize_wrong_answers(answer, hint):
    verdict = ex.check_denormalize(answer)
    assert verdict.status == "wrong"
    assert hint in verdict.message


@pytest.mark.parametrize(
    ("answers", "hint"),
    [
        ({**FLIP_SOLUTION, "mnist": True}, "mirrored 7"),
        ({**FLIP_SOLUTION, "shapes64 with captions": True}, "caption still describe"),
        ({**FLIP_SOLUTION, "shapes64": False}, "symmetric"),
        ({**FLIP_SOLUTION, "lfw64": "yes"}, "True or False"),
        ({k: v for k, v in FLIP_SOLUTION.items() if k != "mnist"}, "missing: mnist"),
    ],
)
def test_flip_wrong_answers(answers, hint):
    verdict = ex.check_flip_is_safe(answers)
    assert verdict.status == "wrong"
    assert hint in verdict.message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        # forgot the channels.
        (lambda images: data.normalize_images(data.resize(images, 64)), "Repeat the gray"),
        # left the pixels in [0, 255].
        (lambda images: data.grayscale_to_rgb(data.resize(images, 64)).astype(np.float32),
         "Normalize after resizing"),
        # padded to 64x64 instead of resizing: the digit stays small.
        (lambda images: data.normalize_images(data.grayscale_to_rgb(
            np.pad(images, ((0, 0), (18, 18), (18, 18), (0, 0))))), "stretched"),
        # flipped upside down.
        (lambda images: prepare_solution(images)[:, ::-1], "upright"),
    ],
)
def test_prepare_wrong_answers(answer, hint):
    verdict = ex.check_prepare_for_64(answer)
    assert verdict.status == "wrong"
    assert hint in verdict.message
