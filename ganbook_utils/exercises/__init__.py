"""``check_*`` functions that students call on their exercise answers, one module per chapter.

Every check is wrapped by :func:`exercise_check`, so in a notebook it never stops *Run all*:
it prints one verdict and returns it as a :class:`Verdict`:

- ``Not yet: <what to do>`` for a stub (an answer that is ``...``/``None``, a function whose
  body is ``...``, or one that raises ``NotImplementedError``);
- ``Not quite: <hint>`` for a wrong answer (the check's ``AssertionError``, or an exception
  the student's code raised, named with its type);
- ``Right: <confirmation>`` for a correct one.

Inside a check, write the tests as ``assert condition, "hint"`` and call the student's code
through :func:`answer_of`, which turns a stub's ``None``/``...`` into "not yet". Tests and
graders pass ``strict=True`` (or set ``GANBOOK_STRICT_CHECKS=1``) to make anything but
"right" raise ``AssertionError`` with the verdict's message.
"""

from __future__ import annotations

import functools
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["NotYet", "Verdict", "answer_of", "exercise_check", "is_stub"]

RIGHT, WRONG, NOT_YET = "right", "wrong", "not yet"
_PREFIX = {RIGHT: "Right", WRONG: "Not quite", NOT_YET: "Not yet"}


class NotYet(Exception):
    """Raised inside a check when the answer is still the exercise's stub."""


@dataclass(frozen=True)
class Verdict:
    """What a check concluded: ``status`` is "right", "wrong" or "not yet"."""

    status: str
    message: str

    def __bool__(self) -> bool:
        return self.status == RIGHT

    def __str__(self) -> str:
        return f"{_PREFIX[self.status]}: {self.message}"

    def _ipython_display_(self) -> None:
        """Show nothing when a check is a cell's last line: the check printed its verdict."""


def _wrapped(text: str, width: int = 79) -> str:
    """Wrap a verdict to fit a book page's output column (79 characters), paragraph by paragraph."""
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="  ", break_on_hyphens=False) or line
        for line in text.splitlines()
    )


def is_stub(value: Any) -> bool:
    """True for what an unanswered exercise gives: ``None``, ``...``, or a container of them."""
    if value is None or value is Ellipsis:
        return True
    if isinstance(value, dict):
        return not value or all(is_stub(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return not value or all(is_stub(item) for item in value)
    return False


def answer_of(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the student's ``function``; a stub's ``None``/``...`` result raises :class:`NotYet`."""
    result = function(*args, **kwargs)
    if result is None or result is Ellipsis:
        raise NotYet("your function returns nothing yet: replace the `...` with your code.")
    return result


def exercise_check(todo: str) -> Callable[[Callable], Callable]:
    """Turn ``check(answer, ...)`` (asserts, returns a confirmation) into a verdict printer.

    ``todo`` is the one-line "not yet" message: what the student has to write.
    """

    def decorate(check: Callable[..., str | None]) -> Callable[..., Verdict]:
        @functools.wraps(check)
        def checked(answer: Any, *args: Any, strict: bool | None = None, **kwargs: Any) -> Verdict:
            if strict is None:
                strict = os.environ.get("GANBOOK_STRICT_CHECKS") == "1"
            try:
                if is_stub(answer):
                    raise NotYet(todo)
                confirmation = check(answer, *args, **kwargs)
            except NotYet as stub:
                verdict = Verdict(NOT_YET, str(stub) or todo)
            except NotImplementedError:
                verdict = Verdict(NOT_YET, todo)
            except AssertionError as hint:
                verdict = Verdict(WRONG, str(hint) or "the answer is not right yet.")
            except Exception as error:  # the student's code failed: say how, never stop Run all
                verdict = Verdict(WRONG, f"your code raised {type(error).__name__}: {error}")
            else:
                verdict = Verdict(RIGHT, confirmation or "your answer passes every check.")
            print(_wrapped(str(verdict)))
            if strict and not verdict:
                raise AssertionError(str(verdict))
            return verdict

        return checked

    return decorate
