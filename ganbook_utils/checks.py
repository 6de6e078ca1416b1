"""Argument checks shared by the package: one-line errors that name the argument and the fix.

Every public function checks its numeric arguments at the door with these helpers, instead of
``value or default`` (which silently turns an explicit 0 into the default). They accept NumPy
scalars wherever a Python ``int``/``float`` is accepted (``np.int64(8)`` is a fine size) and
refuse booleans, floats where a count is expected, ``None`` and NaN. They import nothing but
NumPy, so every module (however low) can use them.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def is_integer(value: Any) -> bool:
    """True for Python and NumPy integers, False for bools, floats and everything else."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def integer(value: Any, name: str, *, minimum: int = 1, who: str | None = None) -> int:
    """``value`` as a Python int if it is an integer (NumPy ones too) >= ``minimum``.

    Raises ValueError naming ``name`` (prefixed by ``who:``, if given) otherwise, e.g. for a
    float (``8.0``), ``None``, a bool or a value below ``minimum``.
    """
    prefix = f"{who}: " if who else ""
    kind = {1: "a positive integer", 0: "a non-negative integer"}.get(
        minimum, f"an integer >= {minimum}"
    )
    if not is_integer(value):
        hint = " (a float; pass int(...))" if isinstance(value, (float, np.floating)) else ""
        raise ValueError(f"{prefix}{name} must be {kind}; got {value!r}{hint}.")
    if value < minimum:
        raise ValueError(f"{prefix}{name} must be {kind}; got {int(value)}.")
    return int(value)


def optional_integer(
    value: Any, name: str, *, minimum: int = 1, who: str | None = None
) -> int | None:
    """Like :func:`integer`, but ``None`` (meaning "use the default") passes through."""
    return None if value is None else integer(value, name, minimum=minimum, who=who)


def number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    who: str | None = None,
) -> float:
    """``value`` as a finite float in [``low``, ``high``] (ends open when asked), else ValueError.

    E.g. ``number(lr, "learning_rate", low=0, low_open=True)`` for a positive rate,
    ``number(b, "beta_1", low=0, high=1, high_open=True)`` for ``beta_1`` in [0, 1).
    """
    prefix = f"{who}: " if who else ""
    interval = "{}{}, {}{}".format(
        "(" if low_open else "[",
        "-inf" if low is None else f"{low:g}",
        "inf" if high is None else f"{high:g}",
        ")" if high_open or high is None else "]",
    )
    if not isinstance(value, (numbers.Real, np.floating, np.integer)) or isinstance(
        value, (bool, np.bool_)
    ):
        raise ValueError(f"{prefix}{name} must be a number in {interval}; got {value!r}.")
    value = float(value)
    outside = (
        not math.isfinite(value)
        or (low is not None and (value < low or (low_open and value == low)))
        or (high is not None and (value > high or (high_open and value == high)))
    )
    if outside:
        raise ValueError(f"{prefix}{name} must be a number in {interval}; got {value:g}.")
    return value


def seed(value: Any, name: str = "seed", *, who: str | None = None) -> Any:
    """A random seed: ``None``, a non-negative integer (NumPy refuses negatives) or a NumPy
    ``Generator``/``BitGenerator``/``SeedSequence``, which passes through unchanged."""
    if isinstance(value, (np.random.Generator, np.random.BitGenerator, np.random.SeedSequence)):
        return value
    return optional_integer(value, name, minimum=0, who=who)
