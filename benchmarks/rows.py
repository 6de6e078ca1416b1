"""One row of the benchmark table: how every `benchmarks/bench_*.py` reports its result.

A benchmark prints, besides its own human-readable lines, one line per result::

    BENCH_ROW {"benchmark": "...", "ours": 1.76, "baseline": 12.86, "unit": "s", ...}

`tools/bench_table.py` collects those lines from the output of `make bench` and writes the
table (benchmarks/results.md). Fields:

* ``benchmark`` -- what is measured, starting with the script's name.
* ``ours``, ``baseline`` -- the two numbers, measured in the same run, in ``unit``.
* ``ours_label``, ``baseline_label`` -- what each side is (optional).
* ``ratio`` -- always ``ours / baseline``, so the goal says which way is better.
* ``goal`` -- the target for the ratio as text, e.g. "<= 0.5" (lower is better) or ">= 1.0".
* ``met`` -- whether the goal is met (None when there is no goal).
* ``load_average`` -- the machine's 1-minute load average when the row was made.

Use it from a benchmark script (run as ``python benchmarks/bench_x.py``, so this folder is on
``sys.path``)::

    from rows import emit_row
    emit_row("bench_x.py: thing", ours=1.2, baseline=3.4, unit="s", goal="<= 0.5")
"""

from __future__ import annotations

import json
import operator
import os
import re
from typing import Any

PREFIX = "BENCH_ROW "
_COMPARISONS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


def goal_met(ratio: float, goal: str | None) -> bool | None:
    """Whether ``ratio`` meets a goal written "<= 0.5" / ">= 1.0"; None without a goal.

    Raises ValueError for a goal in another form.
    """
    if not goal:
        return None
    match = re.fullmatch(r"\s*(<=|>=|<|>)\s*([0-9.]+)\s*x?\s*", goal)
    if match is None:
        raise ValueError(f"A goal reads like '<= 0.5' or '>= 1.0', not {goal!r}.")
    return bool(_COMPARISONS[match.group(1)](ratio, float(match.group(2))))


def make_row(
    benchmark: str,
    ours: float,
    baseline: float,
    unit: str,
    goal: str | None = None,
    ours_label: str = "",
    baseline_label: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """A row as a dict (see the module docstring); ``extra`` keys are kept as they are."""
    ratio = float(ours) / float(baseline)
    return {
        "benchmark": benchmark,
        "ours": float(ours),
        "baseline": float(baseline),
        "unit": unit,
        "ours_label": ours_label,
        "baseline_label": baseline_label,
        "ratio": ratio,
        "goal": goal,
        "met": goal_met(ratio, goal),
        "load_average": round(os.getloadavg()[0], 1),
        **extra,
    }


def emit_row(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """Print a row as one ``BENCH_ROW {json}`` line (arguments of :func:`make_row`); return it."""
    row = make_row(*args, **kwargs)
    print(PREFIX + json.dumps(row, ensure_ascii=False), flush=True)
    return row


def parse_rows(text: str) -> list[dict[str, Any]]:
    """Every row printed in ``text`` (other lines are ignored)."""
    return [
        json.loads(line[len(PREFIX) :]) for line in text.splitlines() if line.startswith(PREFIX)
    ]
