"""The test run's own machinery: its distribution over workers (the book's tests and the
assignments' each on one worker, a module a unit) and the run_eagerly fixture."""

from __future__ import annotations

import re
from pathlib import Path

import conftest

TESTS = Path(__file__).resolve().parent
BOOK_FIXTURES = ("smoke_build", "built_book", "executed_notebooks")


def test_every_module_that_uses_the_book_build_is_in_the_books_group():
    users = {
        f"tests/{path.name}"
        for path in TESTS.glob("test_*.py")
        if re.search(r"def test_\w+\([^)]*\b(" + "|".join(BOOK_FIXTURES) + r")\b", path.read_text())
    }
    assert users, "no test uses the book build: the pattern above is out of date"
    book = {m for m, group in conftest.GROUPED_MODULES.items() if group == "the smoke book build"}
    assert users == book


def test_grouped_modules_share_a_unit_and_other_modules_are_a_unit_each():
    unit = conftest.work_unit
    assert unit("tests/test_book.py::test_chapter_executes[book/01-background]") == unit(
        "tests/test_exercise_cells.py::test_every_exercise_reports_not_yet_after_run_all"
    )
    assert unit("tests/test_assignments.py::test_a[vae]") == unit("tests/test_assignments.py::b")
    assert unit("tests/test_assignments.py::b") != unit("tests/test_book.py::c")
    # Other modules are a unit each: a module-scoped fixture is then built on one worker only.
    assert unit("tests/test_shapes.py::test_x") == unit("tests/test_shapes.py::test_y[a]")
    assert unit("tests/test_shapes.py::test_x") != unit("tests/test_text.py::test_x")


def test_run_eagerly_runs_a_tf_function_eagerly_and_restores_tracing(run_eagerly):
    import tensorflow as tf

    @tf.function
    def inside():
        return tf.constant(tf.executing_eagerly())

    assert bool(inside())  # traced, it would report False
    assert tf.config.functions_run_eagerly()


def test_tf_functions_are_traced_without_the_fixture():
    import tensorflow as tf

    assert not tf.config.functions_run_eagerly()  # the fixture of another test was undone


def test_the_scheduler_hands_out_units_in_collection_order():
    class Option:
        loadscopereorder = True  # xdist's default: most tests first

    class Config:
        option = Option()

        def getvalue(self, name):
            return ["2*popen"] if name == "tx" else None  # as `-n 2`

    scheduler = conftest.pytest_xdist_make_scheduler(Config(), log=None)
    assert Config.option.loadscopereorder is False  # the book's group, collected first, goes first
    assert scheduler._split_scope("tests/test_book.py::t") == "the smoke book build"
