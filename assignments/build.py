"""Build the graded assignments with otter-grader, and grade a submission without Docker.

Each assignment is one otter source notebook, ``assignments/<name>/<name>.ipynb`` (otter's
"v1" format: an ``# ASSIGNMENT CONFIG`` raw cell, ``# BEGIN QUESTION`` / ``SOLUTION`` /
``TESTS`` regions, ``# HIDDEN`` tests). Building one runs ``otter assign``, which writes the
solution-free student notebook and the autograder, and refuses a source whose solutions do not
score full marks (it executes the solution notebook in the current ``GANBOOK_PROFILE``)::

    python assignments/build.py                      # every assignment, into _build/assignments
    python assignments/build.py dcgan --out /tmp/a   # one of them, elsewhere
    python assignments/build.py --grade SUBMISSION.ipynb AUTOGRADER.zip   # prints JSON scores

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
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = ROOT / "_build" / "assignments"


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


def build(name: str, out: Path = DEFAULT_OUT, run_tests: bool = True) -> dict[str, Path]:
    """Run ``otter assign`` on one assignment into ``out/name``; return the paths it made.

    Keys: ``student`` (the student notebook), ``student_zip``, ``autograder_zip`` and
    ``autograder_notebook`` (the solution notebook otter grades itself with).
    Raises ``subprocess.CalledProcessError`` (with otter's output) when otter fails, e.g. when
    the solutions do not score full marks.
    """
    destination = Path(out) / name
    if destination.exists():
        shutil.rmtree(destination)
    source = source_notebook(name)
    command = [sys.executable, "-m", "otter", "assign", str(source), str(destination)]
    if not run_tests:
        command.append("--no-run-tests")
    subprocess.run(command, check=True, capture_output=True, text=True)
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
    parser.add_argument("--grade", nargs=2, metavar=("SUBMISSION", "AUTOGRADER_ZIP"), type=Path)
    arguments = parser.parse_args(argv)
    if arguments.grade:
        print(json.dumps(grade(*arguments.grade)))
        return 0
    for name in arguments.names or assignment_names():
        try:
            paths = build(name, arguments.out, run_tests=not arguments.no_run_tests)
        except subprocess.CalledProcessError as error:
            print(
                f"otter assign failed for {name}:\n{error.stdout}\n{error.stderr}", file=sys.stderr
            )
            return 1
        print(f"{name}: {paths['student']}\n  {paths['student_zip']}\n  {paths['autograder_zip']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
