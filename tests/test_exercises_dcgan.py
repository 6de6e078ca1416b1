"""Tests of the DCGAN chapter's exercise checks: right answers pass, wrong ones fail with a hint."""

from __future__ import annotations

import pytest

from ganbook_utils.exercises.dcgan import check_transposed_conv_size


def right(size, kernel, stride, padding):
    return size * stride if padding == "same" else (size - 1) * stride + kernel


def test_right_answer_passes(capsys):
    check_transposed_conv_size(right)
    assert "Right" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda s, k, st, p: (s - 1) * st + k, "size \\* stride"),  # 'valid' formula everywhere
        (lambda s, k, st, p: s * st, "overhangs"),  # 'same' formula everywhere
        (lambda s, k, st, p: (s - k) // st + 1, "pixels wide"),  # a convolution's formula
    ],
)
def test_wrong_answers_fail_with_a_hint(wrong, hint):
    with pytest.raises(AssertionError, match=hint):
        check_transposed_conv_size(wrong)
