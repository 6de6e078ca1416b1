"""Recorded benchmark results that chapters read: shipped in the package, so a chapter opened
alone (on Colab) finds them as the book's build does.

The files in ``ganbook_utils/recorded/`` are written by the benchmarks' ``--record`` flag:
``dcgan28_recipe.json`` by ``benchmarks/bench_quality.py --arms ...`` and
``dcgan64_upsampling.json`` by ``benchmarks/dcgan64_upsampling.py``.
"""

import json
from pathlib import Path
from typing import Any

RECORDED_DIR = Path(__file__).resolve().parent / "recorded"


def available() -> list[str]:
    """Names of the shipped records (file names without ``.json``), sorted."""
    return sorted(path.stem for path in RECORDED_DIR.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    """The record ``name`` (e.g. ``"dcgan28_recipe"``) as a dict.

    Raises ValueError naming the shipped records for an unknown name, and ValueError naming the
    file for one that is not valid JSON (rerun the benchmark with ``--record`` to rewrite it).
    """
    path = RECORDED_DIR / f"{name}.json"
    if not isinstance(name, str) or not path.is_file():
        raise ValueError(
            f"No recorded result {name!r}; the package ships: {', '.join(available())}."
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not valid JSON ({error}); rewrite it by rerunning its benchmark with "
            "--record."
        ) from None
