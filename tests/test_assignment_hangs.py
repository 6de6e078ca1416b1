"""assignments/build.py's guard against a hung notebook kernel: kill, run once more, then fail.

Each command here is a tiny Python process, so the file takes a few seconds and needs no otter.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

BUILD = Path(__file__).resolve().parents[1] / "assignments" / "build.py"
_spec = importlib.util.spec_from_file_location("assignments_build_for_hangs", BUILD)
builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_command_that_hangs_once_is_killed_and_succeeds_on_its_second_run(tmp_path, capsys):
    marker = tmp_path / "ran-once"
    # First run: leave a marker, then hang in a grandchild as a notebook kernel would.
    code = (
        "import pathlib, subprocess, sys\n"
        f"m = pathlib.Path({str(marker)!r})\n"
        "if not m.exists():\n"
        "    m.write_text('x')\n"
        "    subprocess.run([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('done')\n"
    )
    completed = builder.run_retrying_a_hang(_python(code), "the test command", timeout_s=3)
    assert completed.returncode == 0
    assert completed.stdout.strip() == "done"
    assert "the test command: still running after 3 s, killed; running it once more" in (
        capsys.readouterr().err
    )


def test_the_hung_grandchild_is_killed_too(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, pathlib\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " start_new_session=True)\n"  # a kernel runs in its own session: killpg would miss it
        f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid))\n"
        "p.wait()\n"
    )
    with pytest.raises(TimeoutError):
        builder.run_retrying_a_hang(_python(code), "x", timeout_s=2)
    import psutil

    grandchild = int(pid_file.read_text())
    assert not psutil.pid_exists(grandchild) or (
        psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
    )


def test_a_command_that_always_hangs_raises_a_timeout_error_naming_it():
    command = _python("import time; time.sleep(60)")
    with pytest.raises(TimeoutError, match=r"otter assign demo hung twice \(2 s each\)") as error:
        builder.run_retrying_a_hang(command, "otter assign demo", timeout_s=2)
    assert "time.sleep(60)" in str(error.value)  # the command, to run it alone


def test_a_failing_command_is_returned_not_retried(tmp_path):
    counter = tmp_path / "runs"
    code = (
        "import pathlib, sys\n"
        f"c = pathlib.Path({str(counter)!r})\n"
        "c.write_text(c.read_text() + 'x' if c.exists() else 'x')\n"
        "sys.exit(3)\n"
    )
    completed = builder.run_retrying_a_hang(_python(code), "x", timeout_s=30)
    assert completed.returncode == 3
    assert counter.read_text() == "x"
    with pytest.raises(subprocess.CalledProcessError):
        completed.check_returncode()
