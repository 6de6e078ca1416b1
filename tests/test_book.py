"""The rendered book: build it on the smoke profile, then look at every page in Chromium.

Runs last in `make test` (tests/conftest.py moves it after the unit and notebook tests).
"""

import os
import subprocess
import sys
from pathlib import Path

import browser_check
import pytest
from test_consistency import toc_files

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build" / "smoke"
SITE = BUILD / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"


@pytest.fixture(scope="module")
def built_book() -> Path:
    """Build the book with warnings as errors, as `make book PROFILE=smoke` does."""
    command = [
        str(Path(sys.executable).with_name("jupyter-book")),
        "build",
        str(ROOT),
        "--path-output",
        str(BUILD),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
    ]
    environment = {**os.environ, "GANBOOK_PROFILE": "smoke"}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    log = result.stdout + result.stderr
    (ROOT / "_build").mkdir(exist_ok=True)
    (ROOT / "_build" / "smoke-build.log").write_text(log)
    assert result.returncode == 0, (
        f"book build failed (log: _build/smoke-build.log):\n{log[-4000:]}"
    )
    return SITE


def test_every_toc_entry_has_a_page(built_book):
    for entry in toc_files():
        assert (built_book / f"{entry}.html").is_file(), entry
    assert (built_book / "index.html").is_file()


def test_no_execution_errors_or_warnings_in_the_build(built_book):
    log = (ROOT / "_build" / "smoke-build.log").read_text()
    assert "build succeeded" in log
    assert "Executing notebook failed" not in log


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
