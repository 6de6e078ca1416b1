"""The rendered book: build it on the smoke profile once, then check every chapter and page.

The build (tests/book_build.py, the `built_book` fixture of conftest.py) executes each chapter
once, in a fresh kernel, with the build's `allow_errors: false`: a cell that raises or an
`assert` that fails makes `test_chapter_executes` fail, naming the chapter and the cell. One
chapter alone, faster: ``GANBOOK_PROFILE=smoke .venv/bin/pytest --nbval-lax
--nbval-current-env -p no:randomly book/05-dcgan.ipynb``.

Runs last in `make test` (conftest.py orders it after the unit tests).
"""

import json
import os
from pathlib import Path

import book_build
import browser_check
import pytest
from book_build import EXECUTED_NOTEBOOKS, ROOT  # noqa: F401  (EXECUTED_NOTEBOOKS: for readers)
from test_consistency import toc_files

# A full-page screenshot of every page, for a person to look at: only with GANBOOK_SCREENSHOTS=1
# (they cost 33 of the check's 51 s on 2 cores). Without them the page keeps its vertical
# scrollbar while it is measured, so the column is ~15 px narrower than in a screenshot: the
# stricter case, as a reader with classic scrollbars sees it (chapter 10's rewriting table once
# measured 695 px in 688 there, and its say() now wraps at 78).
SCREENSHOTS = ROOT / "_build" / "screenshots" if os.environ.get("GANBOOK_SCREENSHOTS") else None
NOTEBOOK_CHAPTERS = [entry for entry in toc_files() if (ROOT / f"{entry}.ipynb").is_file()]


@pytest.mark.parametrize("chapter", NOTEBOOK_CHAPTERS)
def test_chapter_executes(smoke_build, chapter):
    report = book_build.report_path(chapter)
    if report.is_file():
        pytest.fail(book_build.chapter_failure(chapter, report.read_text()), pytrace=False)
    assert (EXECUTED_NOTEBOOKS / f"{chapter}.ipynb").is_file(), (
        f"{chapter}: the build wrote no executed notebook (log: {book_build.LOG})"
    )


def test_the_build_succeeds_without_warnings(smoke_build):
    if smoke_build.returncode == 0 and "build succeeded" in smoke_build.log:
        return
    log = book_build.without_colours(smoke_build.build_log)
    warnings = [line for line in log.splitlines() if "WARNING:" in line]
    pytest.fail(
        f"the smoke book build failed (log: {book_build.LOG}); its warnings:\n"
        + "\n".join(warnings[:30])
        + f"\n... end of the log:\n{log[-2000:]}",
        pytrace=False,
    )


def test_every_toc_entry_has_a_page(built_book):
    for entry in toc_files():
        assert (built_book / f"{entry}.html").is_file(), entry
    assert (built_book / "index.html").is_file()


def test_every_page_reads_right_in_a_browser(built_book):
    chromium = browser_check.find_chromium()
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail(
                "Chromium is missing in CI: .ci/run must install it (apt-get install chromium)"
            )
        pytest.skip(
            "Chromium not installed (Debian: apt-get install chromium); browser check skipped"
        )
    report = browser_check.check_site(built_book, SCREENSHOTS, chromium)
    assert not report, "\n".join(
        f"{page}: {p}" for page, problems in report.items() for p in problems
    )


# --- The failure report, on synthetic reports (no build needed) ---------------------------

SYNTHETIC_REPORT = """\
Traceback (most recent call last):
  File ".../jupyter_cache/executors/utils.py", line 58, in single_nb_execution
    executenb(
nbclient.exceptions.CellExecutionError: An error occurred while executing the following cell:
------------------
losses = train(steps=3)
assert losses[-1] < losses[0], "the loss went up"
------------------


\x1b[0;31m---------------------------------------------------------------------------\x1b[0m
\x1b[0;31mAssertionError\x1b[0m                            Traceback (most recent call last)
Cell \x1b[0;32mIn[4], line 2\x1b[0m
\x1b[0;31mAssertionError\x1b[0m: the loss went up
"""


def test_a_failed_chapter_is_named_with_its_cell_and_error(tmp_path: Path):
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# A chapter"]},
            {"cell_type": "code", "metadata": {}, "source": ["import numpy"], "outputs": []},
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": [
                    "losses = train(steps=3)\n",
                    'assert losses[-1] < losses[0], "the loss went up"',
                ],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "05-x.ipynb").write_text(json.dumps(notebook))
    message = book_build.chapter_failure("book/05-x", SYNTHETIC_REPORT, root=tmp_path)
    assert message.startswith(
        "book/05-x.ipynb failed in the smoke book build at cell 2 (counting from 0"
    )
    assert "    assert losses[-1] < losses[0]" in message
    assert "AssertionError: the loss went up" in message
    assert "\x1b[" not in message
    assert "pytest --nbval-lax" in message and "book/05-x.ipynb" in message


def test_a_timed_out_cell_is_named_too():
    report = (
        "nbclient.exceptions.CellTimeoutError: A cell timed out while it was being executed, "
        "after 1800 seconds.\nThe message was: Cell execution timed out.\n"
        "Here is a preview of the cell contents:\n-------------------\n"
        "['gan.fit(dataset, epochs=100)']\n-------------------\n"
    )
    message = book_build.chapter_failure("book/05-x", report)
    assert "gan.fit(dataset, epochs=100)" in message
    assert "CellTimeoutError" in message
