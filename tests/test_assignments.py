"""The graded assignments (assignments/, otter-grader): they build, and they grade fairly.

For each assignment, in the smoke profile and offline:

* ``otter assign`` succeeds, which means its solutions score full marks (otter executes the
  solution notebook and refuses the build otherwise);
* grading the released student notebook (stubs only) gives 0 on every autograded question;
* a half-solved copy (the student notebook with the first question's solution pasted in)
  gets partial credit: full marks on that question, less than full in total.

Each build or grading executes a notebook in a fresh kernel (TensorFlow's import dominates),
so the nine runs go in parallel subprocesses; the whole file takes about a minute on two
cores. It needs the ``teach`` extra (otter-grader).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

if importlib.util.find_spec("otter") is None:
    _MISSING = "otter-grader is missing: install the teach extra, pip install -e '.[teach]'"
    if os.environ.get("CI"):  # CI installs every extra: a missing one is a failure there
        raise ImportError(_MISSING)
    pytest.skip(_MISSING, allow_module_level=True)

# Under pytest-xdist (`make test -n 2`) one worker runs this whole module (conftest.py's
# GROUPED_MODULES), so the module fixture builds and grades once (three notebooks at a time).

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "assignments" / "build.py"
WORKERS = 3
# A smoke-profile build or grading takes under a minute even beside the book build; one still
# running after this many seconds is hung, killed and run once more (build.run_retrying_a_hang).
HANG_S = 240

_spec = importlib.util.spec_from_file_location("assignments_build", BUILD)
builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)

NAMES = builder.assignment_names()
# The question each half-solved copy answers, and the functions its solution cell defines.
HALF_SOLVED = {
    "dcgan": ("q1", ["discriminator_loss"]),
    "vae": ("q1", ["reparameterize"]),
    "evaluation": ("q1", ["frechet_distance"]),
}


def _environment() -> dict[str, str]:
    return {**os.environ, "GANBOOK_PROFILE": "smoke", "TF_CPP_MIN_LOG_LEVEL": "3"}


def _build(name: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BUILD), name, "--out", str(out), "--timeout", str(HANG_S)],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=2 * HANG_S + 120,
    )


def _grade(submission: Path, autograder_zip: Path) -> dict:
    completed = builder.run_retrying_a_hang(
        [sys.executable, str(BUILD), "--grade", str(submission), str(autograder_zip)],
        f"grading {submission.name}",
        HANG_S,
        env=_environment(),
    )
    completed.check_returncode()
    return json.loads(completed.stdout.strip().splitlines()[-1])


def half_solved_copy(student: Path, solution: Path, names: list[str], destination: Path) -> Path:
    """The student notebook with the solution cells that define ``names`` pasted in."""
    student_nb = nbformat.read(student, as_version=4)
    solution_nb = nbformat.read(solution, as_version=4)

    def defines(cell, name):
        return cell.cell_type == "code" and f"def {name}(" in cell.source

    for name in names:
        (answer,) = [cell for cell in solution_nb.cells if defines(cell, name)]
        (stub,) = [cell for cell in student_nb.cells if defines(cell, name)]
        stub.source = answer.source
    nbformat.write(student_nb, destination)
    return destination


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """Build every assignment, then grade its student notebook and a half-solved copy."""
    out = tmp_path_factory.mktemp("assignments")
    with ThreadPoolExecutor(WORKERS) as pool:
        builds = dict(zip(NAMES, pool.map(lambda name: _build(name, out), NAMES), strict=True))
    outcome: dict[str, dict] = {name: {"build": builds[name]} for name in NAMES}
    jobs = {}
    with ThreadPoolExecutor(WORKERS) as pool:
        for name in NAMES:
            if builds[name].returncode != 0:
                continue
            folder = out / name
            student = folder / "student" / f"{name}.ipynb"
            half = half_solved_copy(
                student,
                folder / "autograder" / f"{name}.ipynb",
                HALF_SOLVED[name][1],
                folder / f"{name}-half.ipynb",
            )
            autograder = folder / f"{name}-autograder.zip"
            jobs[name, "student"] = pool.submit(_grade, student, autograder)
            jobs[name, "half"] = pool.submit(_grade, half, autograder)
        for (name, kind), job in jobs.items():
            outcome[name][kind] = job.result()
    outcome["_out"] = out
    return outcome


def test_there_are_three_assignments_each_with_a_half_solved_recipe():
    assert NAMES == sorted(HALF_SOLVED), NAMES


@pytest.mark.parametrize("name", NAMES)
def test_otter_assign_succeeds_so_the_solutions_score_full_marks(graded, name):
    build = graded[name]["build"]
    assert build.returncode == 0, build.stderr[-4000:] + build.stdout[-4000:]
    folder = graded["_out"] / name
    for path in (
        folder / "student" / f"{name}.ipynb",
        folder / f"{name}-student.zip",
        folder / f"{name}-autograder.zip",
    ):
        assert path.exists(), path


@pytest.mark.parametrize("name", NAMES)
def test_the_released_student_notebook_scores_zero(graded, name):
    result = graded[name]["student"]
    assert result["possible"] > 0
    assert result["total"] == 0, result["questions"]


@pytest.mark.parametrize("name", NAMES)
def test_a_half_solved_notebook_gets_partial_credit(graded, name):
    result = graded[name]["half"]
    question = HALF_SOLVED[name][0]
    score, possible = result["questions"][question]
    assert score == possible > 0, result["questions"]
    assert 0 < result["total"] < result["possible"], result


@pytest.mark.parametrize("name", NAMES)
def test_the_student_notebook_holds_no_solution_and_has_hidden_tests(graded, name):
    folder = graded["_out"] / name
    student = nbformat.read(folder / "student" / f"{name}.ipynb", as_version=4)
    text = "\n".join(cell.source for cell in student.cells)
    assert "BEGIN SOLUTION" not in text and "# SOLUTION" not in text
    assert "raise NotImplementedError" in text

    def tests_text(kind):
        return "\n".join(path.read_text() for path in (folder / kind / "tests").glob("*.py"))

    visible, everything = tests_text("student"), tests_text("autograder")
    assert "'hidden': True" in everything and "'hidden': True" not in visible


@pytest.mark.parametrize("name", NAMES)
def test_the_colab_setup_cell_is_the_books_with_the_teach_extra(name):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from new_chapter import setup_code
    finally:
        sys.path.remove(str(ROOT / "tools"))
    expected = (
        setup_code()
        .replace("book's helper package on Colab", "book's helper package and its grader on Colab")
        .replace('PACKAGE = "ganbook_utils @', 'PACKAGE = "ganbook_utils[teach] @')
    )
    source = nbformat.read(builder.source_notebook(name), as_version=4)
    code_cells = [cell.source for cell in source.cells if cell.cell_type == "code"]
    assert code_cells[0] == expected
