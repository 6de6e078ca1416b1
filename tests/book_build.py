"""The smoke book build that the tests share: each chapter is executed once, by this build.

`build_smoke_book` fills the build's execution cache two chapters at a time
(tools/execute_book.py), then runs `jupyter-book build -W -n --keep-going`, which renders every
page and re-executes only a chapter that failed, to write its error report. Fixtures in
conftest.py (`built_book`, `executed_notebooks`) give the tests the site and the executed
notebooks; `chapter_failure` turns a chapter's error report into a message that names the
chapter and the failing cell.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build" / "smoke"
SITE = BUILD / "_build" / "html"
# The executed notebooks, with outputs, as the build rendered them: book/05-dcgan.ipynb etc.
EXECUTED_NOTEBOOKS = BUILD / "_build" / "jupyter_execute"
# myst-nb writes the traceback of a chapter that failed to execute to reports/<docname>.err.log.
REPORTS = SITE / "reports"
LOG = ROOT / "_build" / "smoke-build.log"
# Chapters executed at once before the build (a chapter's kernel is its own process).
EXECUTION_JOBS = int(os.environ.get("GANBOOK_TEST_JOBS", "2"))
RUN_ONE_CHAPTER = (
    "GANBOOK_PROFILE=smoke .venv/bin/pytest --nbval-lax --nbval-current-env -p no:randomly {path}"
)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RULE = re.compile(r"^-{10,}$", re.MULTILINE)  # nbclient frames the cell source


@dataclasses.dataclass(frozen=True)
class SmokeBuild:
    """What one smoke build left: the site, the build's exit status and its log."""

    site: Path
    returncode: int
    log: str  # the pre-execution's output, then the build's
    build_log: str  # the build's alone: its warnings are the book's


def build_smoke_book() -> SmokeBuild:
    """Execute the chapters (cache), then build the site with warnings as errors.

    Does not raise when the build fails: the tests report a failed chapter by name
    (`chapter_failure`) and any other warning from the log.
    """
    environment = {**os.environ, "GANBOOK_PROFILE": "smoke"}
    shutil.rmtree(REPORTS, ignore_errors=True)  # a report of an earlier build is no news
    start = time.perf_counter()
    execution = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "execute_book.py"),
            "--build-dir",
            str(BUILD),
            "--jobs",
            str(EXECUTION_JOBS),
            "--package-fingerprint",
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    executed = time.perf_counter()
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(ROOT),
        "--path-output",
        str(BUILD),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
        # Read every page again (their outputs come from the cache): Sphinx would otherwise skip
        # unchanged pages, and a chapter that failed last time would pass without a word.
        "--all",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    log = "\n".join(
        [
            "== tools/execute_book.py",
            execution.stdout + execution.stderr,
            f"== jupyter-book build (execution {executed - start:.1f} s, "
            f"build {time.perf_counter() - executed:.1f} s)",
            result.stdout + result.stderr,
        ]
    )
    LOG.parent.mkdir(exist_ok=True)
    LOG.write_text(log)
    return SmokeBuild(SITE, result.returncode, log, result.stdout + result.stderr)


def report_path(chapter: str) -> Path:
    """Where the build puts the error report of a chapter ("book/05-dcgan")."""
    return REPORTS / f"{chapter}.err.log"


def without_colours(text: str) -> str:
    """The text without ANSI colour codes (tracebacks and Sphinx logs have them)."""
    return _ANSI.sub("", text)


def failing_cell_source(report: str) -> str | None:
    """The source of the cell that raised (or timed out), as nbclient quotes it, or None."""
    text = _ANSI.sub("", report)
    for marker in (
        "An error occurred while executing the following cell:",
        "Here is a preview of the cell contents:",  # a cell that timed out
    ):
        if marker in text:
            parts = _RULE.split(text.split(marker, 1)[1])
            return parts[1].strip("\n") if len(parts) > 2 else None
    return None


def error_line(report: str) -> str:
    """The last line of the report that names the error ("AssertionError: ...")."""
    lines = [line.strip() for line in _ANSI.sub("", report).splitlines() if line.strip()]
    named = [line for line in lines if re.match(r"^[\w.]*(Error|Exception|Interrupt)\b", line)]
    return (named or lines or ["(empty report)"])[-1]


def cell_index(notebook: Path, source: str | None) -> int | None:
    """Index (0-based, all cells) of the code cell with this source, or None if not found."""
    if source is None or not notebook.is_file():
        return None
    wanted = source.strip()
    for index, cell in enumerate(json.loads(notebook.read_text())["cells"]):
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and (
            text.strip() == wanted or (len(wanted) > 40 and wanted in text)
        ):
            return index
    return None


def chapter_failure(chapter: str, report: str, root: Path = ROOT) -> str:
    """A message naming the chapter, the failing cell (index and source) and the error."""
    notebook = root / f"{chapter}.ipynb"
    source = failing_cell_source(report)
    index = cell_index(notebook, source)
    where = f"cell {index} (counting from 0, Markdown cells too)" if index is not None else "a cell"
    quoted = "\n".join(
        "    " + line for line in (source or "(source not in the report)").splitlines()[:20]
    )
    return (
        f"{chapter}.ipynb failed in the smoke book build at {where}:\n{quoted}\n"
        f"{error_line(report)}\n"
        f"Full traceback: {report_path(chapter)}\n"
        f"Run this chapter alone: {RUN_ONE_CHAPTER.format(path=f'{chapter}.ipynb')}"
    )
