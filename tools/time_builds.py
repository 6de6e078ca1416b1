"""Time the README's two commands on a fresh clone: `make test`, `make book` cold and cached.

Clones the committed HEAD of this repository into ``--work`` (uncommitted changes are not
timed), then runs, one after the other and nothing else of its own beside them:

1. ``CI=true make test`` -- creates ``.venv``, installs, runs every test (the fresh-clone budget);
2. ``make book PROFILE=cpu`` -- the cold cpu build (every chapter executed);
3. ``make book PROFILE=cpu`` again -- the rebuild with nothing changed.

Each gets a row for ``benchmarks/recorded_times.json`` (its budget as the baseline, the 1-minute
load average before and after, the commit; the cold build also each chapter's execution time
from the build's jupyter-cache). With ``--record`` the rows replace those of the same benchmark
there, and `make bench` puts them in its table. About 20 minutes on 2 idle cores; make sure
nothing else runs (the load averages in the rows say whether something did).

Usage: python tools/time_builds.py [--work /tmp/ganbook-timing] [--only test book]
       [--record benchmarks/recorded_times.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_table import machine_description  # noqa: E402
from rows import make_row  # noqa: E402

# The budgets of DEVELOPERS.md / issue 13, in seconds, on 2 cores.
BUDGETS = {"test": 600, "book_cold": 1800, "book_cached": 60}
NAMES = {
    "test": "make test, fresh clone (CI=true: install, all tests, smoke book build, browser check)",
    "book_cold": "make book PROFILE=cpu, cold, -W -n, every chapter",
    "book_cached": "make book PROFILE=cpu, nothing changed (cache warm)",
}


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def timed(command: list[str], cwd: Path, log: Path, env: dict[str, str]) -> tuple[float, str]:
    """Run ``command`` in ``cwd``, output to ``log``; (wall seconds, load before -> after).

    Raises SystemExit naming the log if the command fails: a failed run is not a timing.
    """
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {done.returncode}); see {log}")
    return seconds, f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}"


def chapter_seconds(build_dir: Path) -> str:
    """'01 3 s, 02 13 s, ...': each chapter's execution time from the build's jupyter-cache."""
    from jupyter_cache import get_cache

    caches = sorted(build_dir.rglob(".jupyter_cache"))
    if not caches:
        return "no jupyter-cache found"
    times = {}
    for record in get_cache(caches[0]).list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        if seconds is not None:
            times[Path(record.uri).stem.split("-")[0]] = seconds
    return ", ".join(f"{name} {times[name]:.0f} s" for name in sorted(times))


def row(key: str, seconds: float, load: str, commit: str, note: str) -> dict[str, Any]:
    return make_row(
        NAMES[key],
        ours=round(seconds, 1),
        baseline=BUDGETS[key],
        unit="s",
        goal="<= 1",
        ours_label="measured",
        baseline_label="budget",
        date=now(),
        machine=f"{machine_description()} (load {load})",
        load_average=None,  # the machine column has the load before and after
        note=f"commit {commit}" + (f"; {note}" if note else ""),
    )


def merged(new: list[dict[str, Any]], old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``new``, then the rows of ``old`` whose benchmark none of ``new`` replaces."""
    names = {r["benchmark"] for r in new}
    return new + [r for r in old if r["benchmark"] not in names]


def import_seconds(work: Path) -> float:
    """CPU seconds of one ``import tensorflow`` in the clone's .venv: this host's speed of the
    moment, to compare runs made hours apart (the same work has cost 24 % more CPU in an hour)."""
    code = "import resource, tensorflow; print(resource.getrusage(resource.RUSAGE_SELF).ru_utime)"
    done = subprocess.run(
        [str(work / ".venv" / "bin" / "python"), "-c", code], capture_output=True, text=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ganbook-timing"))
    parser.add_argument("--record", type=Path, default=None, help="recorded_times.json to update")
    parser.add_argument("--only", nargs="+", choices=["test", "book"], default=["test", "book"])
    args = parser.parse_args()

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    if args.work.exists():
        shutil.rmtree(args.work)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(args.work)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("GANBOOK_PROFILE", "VIRTUAL_ENV")}
    rows = []
    if "test" in args.only:
        seconds, load = timed(
            ["make", "test"], args.work, args.work / "test.log", {**env, "CI": "true"}
        )
        tail = (args.work / "test.log").read_text().strip().splitlines()[-1].strip("= ")
        tail += f"; import tensorflow then took {import_seconds(args.work):.1f} s CPU"
        rows.append(row("test", seconds, load, commit, tail))
        print(f"make test: {seconds:.0f} s (load {load}); {tail}")
    if "book" in args.only:
        book = ["make", "book", "PROFILE=cpu"]
        seconds, load = timed(book, args.work, args.work / "book-cold.log", env)
        chapters = chapter_seconds(args.work / "_build" / "cpu")
        rows.append(row("book_cold", seconds, load, commit, f"chapters executed: {chapters}"))
        print(f"make book cold: {seconds:.0f} s (load {load}); {chapters}")
        seconds, load = timed(book, args.work, args.work / "book-cached.log", env)
        rows.append(row("book_cached", seconds, load, commit, "right after the cold build"))
        print(f"make book cached: {seconds:.1f} s (load {load})")
    print(json.dumps(rows, indent=2))
    if args.record is not None:
        old = json.loads(args.record.read_text()) if args.record.is_file() else []
        args.record.write_text(json.dumps(merged(rows, old), indent=2, ensure_ascii=False) + "\n")
        print(f"written to {args.record}")


if __name__ == "__main__":
    main()
