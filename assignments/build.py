"""Build the graded assignments with otter-grader, and grade a submission without Docker.

Each assignment is one otter source notebook, ``assignments/<name>/<name>.ipynb`` (otter's
"v1" format: an ``# ASSIGNMENT CONFIG`` raw cell, ``# BEGIN QUESTION`` / ``SOLUTION`` /
``TESTS`` regions, ``# HIDDEN`` tests). Building one runs ``otter assign``, which writes the
solution-free student notebook and the autograder, and refuses a source whose solutions do not
score full marks (it executes the solution notebook in the current ``GANBOOK_PROFILE``)::

    python assignments/build.py                      # every assignment, into _build/assignments
    python assignments/build.py dcgan --out /tmp/a   # one of them, elsewhere
    python assignments/build.py --grade SUBMISSION.ipynb AUTOGRADER.zip   # prints JSON scores

A build still running after ``--timeout`` seconds (default 900) is taken for a hung notebook
kernel: it is killed and run once more (:func:`run_retrying_a_hang`).

Per assignment the output folder ``<out>/<name>/`` holds otter's ``student/`` and
``autograder/`` folders plus two files to hand around:

* ``<name>-student.zip``: the student notebook and its visible tests (``tests/``); on Colab a
  student uploads it next to the notebook and the notebook's grader cell unpacks it;
* ``<name>-autograder.zip``: what ``otter grade`` (Docker), Gradescope or
  ``otter.api.grade_submission`` grade with (hidden tests included).

Needs the ``teach`` extra: ``pip install -e ".[teach]"``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = ROOT / "_build" / "assignments"
# Seconds one otter run (a build or a grading: one notebook, top to bottom) may take before it
# counts as hung. The slowest, dcgan's solutions in the cpu profile, takes 76 s on two cores.
HANG_TIMEOUT_S = 900


def run_retrying_a_hang(
    command: Sequence[str], what: str, timeout_s: float = HANG_TIMEOUT_S, env=None
) -> subprocess.CompletedProcess:
    """Run ``command`` (output captured); if it hangs, kill it and its kernel, run it once more.

    Why: otter executes notebooks with nbclient, which waits for a kernel's reply with no
    timeout, and a kernel started while others start on the same machine can hang: once in CI
    a smoke build that takes 19 s alone was still running after 600 s. Raises TimeoutError,
    naming ``what``, if the second run hangs too.
    """
    import psutil  # ipykernel's own dependency: the kernel is a grandchild in its own session

    for attempt in (1, 2):
        process = subprocess.Popen(
            list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_tree(psutil.Process(process.pid))
            process.communicate()
            again = "; running it once more" if attempt == 1 else ""
            print(f"{what}: still running after {timeout_s:.0f} s, killed{again}", file=sys.stderr)
            continue
        return subprocess.CompletedProcess(list(command), process.returncode, stdout, stderr)
    raise TimeoutError(
        f"{what} hung twice ({timeout_s:.0f} s each). Run it alone to see which cell waits: "
        f"{' '.join(map(str, command))}"
    )


def _kill_tree(root) -> None:
    """Kill ``root`` (a psutil.Process) and every process it started, and wait until they are gone.

    Signals arrive asynchronously, which made two races (both seen in CI under load): a process
    could finish a fork after SIGSTOP was sent but before it took effect, so its new child was
    missed; and a process sent SIGKILL could still be "running" after kill() returned. So each
    process is suspended and seen stopped before the tree is listed again, until no new one
    appears; then all are killed and waited for.
    """
    import psutil

    stopped: list = []
    todo = [root]
    while todo:
        for proc in todo:
            try:
                proc.suspend()
            except psutil.NoSuchProcess:
                pass
        for proc in todo:
            _wait_for(proc, _STOPPED)
        stopped += todo
        try:
            todo = [p for p in root.children(recursive=True) if p not in stopped]
        except psutil.NoSuchProcess:
            todo = []
    for proc in stopped:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    for proc in stopped:  # a zombie is dead; nobody may reap it (PID 1 in a container may not)
        _wait_for(proc, _DEAD, timeout_s=30)


_STOPPED = ("stopped", "tracing-stop", "zombie", "dead")  # psutil's STATUS_* strings
_DEAD = ("zombie", "dead")


def _wait_for(proc, statuses: tuple[str, ...], timeout_s: float = 5.0) -> None:
    """Poll until ``proc`` is in one of ``statuses`` or gone: a signal acts once it is scheduled."""
    import psutil

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if proc.status() in statuses:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.005)
    print(f"process {proc.pid} is not {statuses[0]} after {timeout_s:.0f} s", file=sys.stderr)


def assignment_names() -> list[str]:
    """Names of the assignments: the folders of ``assignments/`` holding ``<name>.ipynb``."""
    sources = HERE.glob("*/*.ipynb")
    return sorted(path.parent.name for path in sources if path.stem == path.parent.name)


def source_notebook(name: str) -> Path:
    """The otter source notebook of an assignment; ValueError for an unknown name."""
    path = HERE / name / f"{name}.ipynb"
    if not path.exists():
        known = ", ".join(assignment_names())
        raise ValueError(f"Unknown assignment {name!r}; choose one of {known}.")
    return path


def build(
    name: str, out: Path = DEFAULT_OUT, run_tests: bool = True, timeout_s: float = HANG_TIMEOUT_S
) -> dict[str, Path]:
    """Run ``otter assign`` on one assignment into ``out/name``; return the paths it made.

    Keys: ``student`` (the student notebook), ``student_zip``, ``autograder_zip`` and
    ``autograder_notebook`` (the solution notebook otter grades itself with).
    Raises ``subprocess.CalledProcessError`` (with otter's output) when otter fails, e.g. when
    the solutions do not score full marks; TimeoutError when it hangs twice
    (:func:`run_retrying_a_hang`, ``timeout_s`` each).
    """
    destination = Path(out) / name
    if destination.exists():
        shutil.rmtree(destination)
    source = source_notebook(name)
    command = [sys.executable, "-m", "otter", "assign", str(source), str(destination)]
    if not run_tests:
        command.append("--no-run-tests")
    done = run_retrying_a_hang(command, f"otter assign {name}", timeout_s)
    done.check_returncode()
    student = destination / "student"
    (stamped,) = sorted((destination / "autograder").glob(f"{name}-autograder_*.zip"))
    autograder_zip = destination / f"{name}-autograder.zip"
    shutil.copyfile(stamped, autograder_zip)
    student_zip = destination / f"{name}-student.zip"
    with zipfile.ZipFile(student_zip, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(student.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(student))
    return {
        "student": student / f"{name}.ipynb",
        "student_zip": student_zip,
        "autograder_zip": autograder_zip,
        "autograder_notebook": destination / "autograder" / f"{name}.ipynb",
    }


def grade(submission: Path, autograder_zip: Path) -> dict[str, object]:
    """Grade one submission (notebook or otter export zip) locally, without Docker.

    Returns ``{"total", "possible", "questions": {name: [score, possible]}}``. The notebook
    is executed in a fresh kernel of this Python, in the current ``GANBOOK_PROFILE``.
    """
    from otter.api import grade_submission

    results = grade_submission(str(submission), str(autograder_zip), quiet=True)
    return {
        "total": float(results.total),
        "possible": float(results.possible),
        "questions": {
            name: [float(result.score), float(result.possible)]
            for name, result in results.results.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python assignments/build.py", description=__doc__.split("\n")[0]
    )
    parser.add_argument("names", nargs="*", help=f"assignments (default: {assignment_names()})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--no-run-tests", action="store_true", help="skip otter's check of the solutions"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=HANG_TIMEOUT_S,
        metavar="SECONDS",
        help=f"a build running longer is hung: killed, run once more (default {HANG_TIMEOUT_S})",
    )
    parser.add_argument("--grade", nargs=2, metavar=("SUBMISSION", "AUTOGRADER_ZIP"), type=Path)
    arguments = parser.parse_args(argv)
    if arguments.grade:
        print(json.dumps(grade(*arguments.grade)))
        return 0
    for name in arguments.names or assignment_names():
        try:
            paths = build(
                name, arguments.out, not arguments.no_run_tests, timeout_s=arguments.timeout
            )
        except TimeoutError as error:
            print(error, file=sys.stderr)
            return 1
        except subprocess.CalledProcessError as error:
            print(
                f"otter assign failed for {name}:\n{error.stdout}\n{error.stderr}", file=sys.stderr
            )
            return 1
        print(f"{name}: {paths['student']}\n  {paths['student_zip']}\n  {paths['autograder_zip']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
