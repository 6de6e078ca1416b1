"""Collect the benchmark rows of `make bench` into one markdown table (and the README).

Reads the ``BENCH_ROW {json}`` lines (benchmarks/rows.py) from the given log files, adds the
rows of wall times in benchmarks/recorded_times.json (made by tools/time_builds.py; each
with its own date and machine), and writes benchmarks/results.md. With ``--readme`` the table
also replaces the block between ``<!-- bench-table:start -->`` and ``<!-- bench-table:end -->``.

Usage: python tools/bench_table.py _build/bench/*.log [--recorded benchmarks/recorded_times.json]
       [--out benchmarks/results.md] [--readme README.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from rows import parse_rows  # noqa: E402

START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def machine_description() -> str:
    """Cores, CPU model, memory and GPU of this machine, in a few words."""
    model = platform.processor() or platform.machine()
    memory = ""
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.is_file():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        model = names[0] if names else model
    if meminfo.is_file():
        kib = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        memory = f", {kib / 2**20:.0f} GiB"
    gpu = "no GPU"
    if shutil.which("nvidia-smi"):
        query = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=False,
        )
        gpu = query.stdout.strip().replace("\n", ", ") or gpu
    return f"{os.cpu_count()} cores ({model}){memory}, {gpu}"


def format_value(value: float, unit: str) -> str:
    if unit == "s" and value >= 120:
        minutes, seconds = divmod(round(value), 60)
        return f"{minutes} min {seconds:02d} s"
    if unit == "s":
        return f"{value:.2f} s"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}".strip()
    return f"{value:.3g} {unit}".strip()


def format_side(row: dict[str, Any], side: str) -> str:
    text = format_value(row[side], row["unit"])
    label = row.get(f"{side}_label")
    return f"{label}: {text}" if label else text


def format_row(row: dict[str, Any], date: str, machine: str) -> str:
    met = {True: " ✓", False: " ✗"}.get(row.get("met"), "")
    goal = f"{row['goal']}{met}" if row.get("goal") else "—"
    benchmark = row["benchmark"] + (f" ({row['note']})" if row.get("note") else "")
    cells = [
        benchmark,
        format_side(row, "ours"),
        format_side(row, "baseline"),
        f"{row['ratio']:.2f}×",
        goal,
        row.get("date", date),
        row.get("machine", machine)
        + (f" (load {row['load_average']})" if row.get("load_average") is not None else ""),
    ]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def table(rows: list[dict[str, Any]], date: str, machine: str) -> str:
    header = [
        "| benchmark | ours | baseline | ratio (ours / baseline) | goal (ratio) | date | machine |",
        "|---|---|---|---|---|---|---|",
    ]
    return "\n".join(header + [format_row(row, date, machine) for row in rows])


def results_markdown(
    measured: list[dict[str, Any]], recorded: list[dict[str, Any]], date: str, machine: str
) -> str:
    parts = [
        f"Measured by `make bench` on {date} on {machine}; each row's 1-minute load average "
        "is in its machine column (other work on a shared machine slows both sides of a row "
        "alike: read the ratios). ✓/✗: goal met or not.",
        "",
        table(measured, date, machine),
    ]
    if recorded:
        parts += [
            "",
            "Wall times of the README's two commands (not re-measured by `make bench`: "
            "`python tools/time_builds.py --record benchmarks/recorded_times.json` times them "
            "on a fresh clone):",
            "",
            table(recorded, date, machine),
        ]
    return "\n".join(parts) + "\n"


def replace_block(text: str, block: str) -> str:
    """``text`` with the part between the START and END markers replaced by ``block``.

    Raises ValueError if the markers are missing.
    """
    if START not in text or END not in text:
        raise ValueError(f"the README has no {START} ... {END} block for the table")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{block}{END}{after}"


def written_at(path: Path) -> str:
    """When ``path`` was last written, in UTC, as the table writes dates."""
    stamp = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="*", type=Path, help="outputs of benchmarks/bench_*.py")
    parser.add_argument("--recorded", type=Path, default=ROOT / "benchmarks/recorded_times.json")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results.md")
    parser.add_argument("--readme", type=Path, default=None)
    parser.add_argument(
        "--date", default=None, help="when the logs were made (default: each log's write time)"
    )
    args = parser.parse_args()

    # A row is dated when its log was written, not when the table is regenerated.
    measured = [
        {"date": args.date or written_at(log), **row}
        for log in args.logs
        for row in parse_rows(log.read_text())
    ]
    recorded = json.loads(args.recorded.read_text()) if args.recorded.is_file() else []
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    date = args.date or (max(written_at(log) for log in args.logs) if args.logs else now)
    markdown = results_markdown(measured, recorded, date, machine_description())
    args.out.write_text(markdown)
    print(markdown)
    print(f"written to {args.out}")
    if args.readme is not None:
        args.readme.write_text(replace_block(args.readme.read_text(), markdown))
        print(f"and into {args.readme}")


if __name__ == "__main__":
    main()
