"""The verdict mechanism every exercise check shares: never stops Run all, strict for graders."""

import pytest

from ganbook_utils.exercises import Verdict, answer_of, exercise_check, is_stub


@exercise_check("write double(x): return 2 * x.")
def check_double(double):
    assert answer_of(double, 3) == 6, "double(3) should be 6: multiply, do not add."
    return "double works."


def stub(x):
    ...


def not_implemented(x):
    raise NotImplementedError


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [
        (stub, "not yet", "returns nothing yet"),
        (not_implemented, "not yet", "write double"),
        (..., "not yet", "write double"),
        (lambda x: x + 2, "wrong", "multiply, do not add"),
        (lambda x: x.nope, "wrong", "AttributeError"),
        (lambda x: 2 * x, "right", "double works"),
    ],
)
def test_each_kind_of_answer_gets_its_verdict_printed_not_raised(answer, status, words, capsys):
    verdict = check_double(answer)
    assert isinstance(verdict, Verdict)
    assert verdict.status == status
    assert words in verdict.message
    printed = capsys.readouterr().out
    prefixes = {"right": "Right:", "wrong": "Not quite:", "not yet": "Not yet:"}
    assert printed.startswith(prefixes[status])


def test_strict_raises_for_anything_but_right(monkeypatch):
    with pytest.raises(AssertionError, match="Not quite: double"):
        check_double(lambda x: x + 2, strict=True)
    monkeypatch.setenv("GANBOOK_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match="Not yet"):
        check_double(stub)
    assert check_double(lambda x: 2 * x)


def test_is_stub_sees_unfilled_answer_dicts():
    assert is_stub({"a": ..., "b": None})
    assert not is_stub({"a": ..., "b": "text"})
    assert not is_stub(0)


def test_verdicts_fit_the_page_and_are_not_displayed_twice(capsys):
    @exercise_check("write it.")
    def check_long(answer):
        raise AssertionError("a hint " * 40)

    verdict = check_long(lambda: 1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 1 and max(map(len, lines)) <= 79
    assert verdict._ipython_display_() is None
