"""Checks for the exercises of "Data preprocessing".

Each check calls the student's answer on fixed inputs and compares it with
:mod:`ganbook_utils.data`, naming the usual mistake when it sees one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ganbook_utils.exercises import NotYet, answer_of, exercise_check, is_stub


def _require_callable(function: object) -> None:
    assert callable(function), (
        f"Pass your function itself (not its result); got {type(function).__name__}."
    )


def _answer(function: Callable, *args: object) -> object:
    """The student's result; a stub gets the check's own "not yet" line, not a generic one."""
    try:
        return answer_of(function, *args)
    except NotYet:
        raise NotYet() from None


def _to_numpy(result: object) -> np.ndarray:
    if hasattr(result, "numpy"):
        result = result.numpy()
    return np.asarray(result)


@exercise_check("write my_denormalize(x): pixels = (x + 1) * 127.5, rounded, clipped, uint8.")
def check_denormalize(denormalize: Callable) -> str:
    """Check ``denormalize(x)``: floats in [-1, 1] (N, H, W, C) -> uint8 pixels in [0, 255],
    the exact inverse of ``x / 127.5 - 1``."""
    from ganbook_utils.data import normalize_images

    _require_callable(denormalize)
    every_value = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    normalized = normalize_images(every_value)
    answer = _to_numpy(_answer(denormalize, normalized))
    assert answer.shape == every_value.shape, (
        f"Keep the shape: expected {every_value.shape}, got {answer.shape}."
    )
    assert answer.dtype == np.uint8, (
        f"Return uint8 pixels (`.astype(np.uint8)` at the end); got {answer.dtype}."
    )
    wrong = np.flatnonzero(answer.ravel() != every_value.ravel())
    if wrong.size:
        truncated = np.floor((normalized.astype(np.float32) + 1) * 127.5).astype(np.uint8)
        if np.array_equal(answer, truncated):
            raise AssertionError(
                f"{wrong.size} of 256 values are one too small: `.astype(np.uint8)` truncates, "
                "and (x + 1) * 127.5 lands just below the integer for some x. Round first "
                "(`np.round`)."
            )
        if answer.ravel()[-1] == 0 and answer.ravel()[128] != 0:
            raise AssertionError(
                "255 came back as 0: the value overflowed uint8 (did you multiply by 128?). "
                "Scale by 127.5 and clip to [0, 255] before converting."
            )
        raise AssertionError(
            f"{wrong.size} of 256 pixel values do not survive the round trip, e.g. "
            f"{int(every_value.ravel()[wrong[0]])} -> {int(answer.ravel()[wrong[0]])}. "
            "Invert x / 127.5 - 1: pixels = (x + 1) * 127.5, rounded."
        )
    return "every one of the 256 pixel values survives normalize -> denormalize."


# Does mirroring left-right keep an image a sample of the data (and its labels true)?
_FLIP_SAFE = {
    "mnist": (
        False,
        "A mirrored 2, 3, 4, 7 or 9 is not a digit: a GAN trained on flipped MNIST learns "
        "to draw mirrored digits too.",
    ),
    "lfw64": (
        True,
        "Faces are close to left-right symmetric, and a mirrored photo is a plausible photo.",
    ),
    "shapes64": (
        True,
        "Every shape is left-right symmetric and left/right positions are equally likely, so "
        "the mirrored data has the same distribution (for an unconditional model).",
    ),
    "shapes64 with captions": (
        False,
        "Mirroring moves a shape from 'left' to 'right' but not its caption: the labels "
        "become wrong (unless you swap left and right in the caption too).",
    ),
}


# The question a wrong answer should make the student ask, without giving the answer away.
_FLIP_QUESTION = {
    "mnist": "Is a mirrored 7 still a 7?",
    "lfw64": "Is a mirrored photo of a face a plausible photo of a face?",
    "shapes64": "Are the shapes symmetric, and are left and right positions equally likely?",
    "shapes64 with captions": "Does the caption still describe the flipped image?",
}


@exercise_check("replace each ... with True (a flip is safe) or False (it is not).")
def check_flip_is_safe(answers: dict[str, bool]) -> str:
    """Check ``answers``: for each key of the exercise (``"mnist"``, ``"lfw64"``,
    ``"shapes64"``, ``"shapes64 with captions"``), is a random left-right flip a safe
    augmentation for training a generative model? (True/False)"""
    assert isinstance(answers, dict), (
        f"Answer with a dict name -> True/False; got {type(answers).__name__}."
    )
    missing = [key for key in _FLIP_SAFE if key not in answers]
    assert not missing, f"Answer every case; missing: {', '.join(missing)}."
    unanswered = [key for key in _FLIP_SAFE if is_stub(answers[key])]
    if unanswered:
        raise NotYet(f"replace the ... for {', '.join(unanswered)} with True or False.")
    for key, (safe, _) in _FLIP_SAFE.items():
        assert isinstance(answers[key], (bool, np.bool_)), (
            f"Answer {key!r} with True or False; got {answers[key]!r}."
        )
        assert bool(answers[key]) == safe, f"{key}: think again. {_FLIP_QUESTION[key]}"
    return " ".join(reason for _, reason in _FLIP_SAFE.values())


@exercise_check(
    "write my_prepare_for_64(images): resize to 64x64, repeat the channel, normalize."
)
def check_prepare_for_64(prepare: Callable) -> str:
    """Check ``prepare(images)``: MNIST-like uint8 (N, 28, 28, 1) -> float32 (N, 64, 64, 3)
    in [-1, 1], ready for the seed's 64x64x3 generator/discriminator.

    Any sensible resize method passes: the answer must be within 0.1 (mean absolute
    difference) of bilinear resize -> grayscale to RGB -> normalize.
    """
    from ganbook_utils.data import grayscale_to_rgb, load_dataset, normalize_images, resize

    _require_callable(prepare)
    digits = load_dataset("digits", train_size=8, val_size=1, verbose=False).train.images
    answer = _to_numpy(_answer(prepare, digits.copy()))
    expected = normalize_images(grayscale_to_rgb(resize(digits, 64, method="bilinear")))
    assert answer.shape == expected.shape, (
        f"Expected shape {expected.shape} (64x64, three channels); got {answer.shape}."
        + (" Repeat the gray channel three times." if answer.shape[-1:] == (1,) else "")
    )
    assert answer.dtype == np.float32, f"Return float32 (what the model eats); got {answer.dtype}."
    low, high = float(answer.min()), float(answer.max())
    assert -1.0 <= low and high <= 1.0 and low < -0.9 and high > 0.5, (
        f"Values should span [-1, 1] (background -1, strokes near 1); got [{low:.3g}, {high:.3g}]."
        + (" Normalize after resizing: x / 127.5 - 1." if high > 1.0 or low >= 0.0 else "")
    )
    difference = float(np.mean(np.abs(answer - expected)))
    assert difference < 0.1, (
        f"The images differ from the reference by {difference:.3f} on average: is the digit "
        "stretched to the full 64x64 (resize, not pad) and upright?"
    )
    return f"(N, 64, 64, 3) float32 in [-1, 1], within {difference:.3f} of the reference."
