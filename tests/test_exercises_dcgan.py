"""DCGAN chapter exercise: the reference passes, a stub is "not yet", mistakes get hints."""

from __future__ import annotations

import pytest

from ganbook_utils.exercises.dcgan import check_transposed_conv_size


def reference_solution(size, kernel, stride, padding):
    """The solution in the chapter's dropdown."""
    return size * stride if padding == "same" else (size - 1) * stride + kernel


def stub(size, kernel, stride, padding): ...  # the exercise cell as the student finds it


def test_the_reference_solution_is_right(capsys):
    assert check_transposed_conv_size(reference_solution, strict=True)
    assert capsys.readouterr().out.startswith("Right:")


@pytest.mark.parametrize("answer", [stub, ...])
def test_a_stub_is_not_yet_and_does_not_raise(answer, capsys):
    verdict = check_transposed_conv_size(answer)
    assert verdict.status == "not yet"
    assert capsys.readouterr().out.startswith("Not yet:")


@pytest.mark.parametrize(
    ("wrong_answer", "hint"),
    [
        (lambda s, k, st, p: (s - 1) * st + k, "size * stride"),  # 'valid' formula everywhere
        (lambda s, k, st, p: s * st, "overhangs"),  # 'same' formula everywhere
        (lambda s, k, st, p: (s - k) // st + 1, "pixels wide"),  # a convolution's formula
        # 'valid' without the kernel's overhang.
        (lambda s, k, st, p: s * st if p == "same" else s * st, "overhangs"),
        (lambda s, k, st, p: s * st if p == "same" else (s - 1) * st + k - 1, "overhangs"),
    ],
)
def test_typical_mistakes_are_wrong_with_a_hint(wrong_answer, hint, capsys):
    verdict = check_transposed_conv_size(wrong_answer)
    assert verdict.status == "wrong"
    assert hint in verdict.message
    assert capsys.readouterr().out.startswith("Not quite:")
    with pytest.raises(AssertionError, match="Not quite"):
        check_transposed_conv_size(wrong_answer, strict=True)
