"""Shared test setup: the smoke profile unless told otherwise, the repository's paths, the book.

The smoke book build is one session fixture (`built_book`): every chapter is executed once,
by that build, and the tests that read the site or the executed notebooks share it.
"""

import os
from pathlib import Path

import book_build
import pytest

# Tests exercise the code, not the budgets: default to seconds-long runs.
os.environ.setdefault("GANBOOK_PROFILE", "smoke")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def smoke_build() -> book_build.SmokeBuild:
    """The smoke book build (executes the chapters that its cache lacks); built once."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run:  # under pytest-xdist: refuse to build twice in one run (two workers, one folder)
        book_build.BUILD.mkdir(parents=True, exist_ok=True)
        claim = book_build.BUILD / f".built-by-run-{run}"
        try:
            claim.open("x").close()
        except FileExistsError:
            raise RuntimeError(
                "another pytest-xdist worker of this run already builds the smoke book: the "
                "tests that use it are not on one worker (see GROUPED_MODULES in conftest.py)"
            ) from None
        for old in book_build.BUILD.glob(".built-by-run-*"):
            if old != claim:
                old.unlink(missing_ok=True)
    return book_build.build_smoke_book()


@pytest.fixture(scope="session")
def built_book(smoke_build) -> Path:
    """The smoke site, _build/smoke/_build/html."""
    return smoke_build.site


@pytest.fixture(scope="session")
def executed_notebooks(smoke_build) -> Path:
    """A folder of the chapters with the outputs the smoke build ran: ``/ "05-dcgan.ipynb"``.

    The copies in ``jupyter_execute/`` carry no outputs when they come from the cache, so the
    outputs are merged from the build's jupyter-cache (where the build itself reads them).
    """
    import nbformat
    from jupyter_cache import get_cache

    cache = get_cache(book_build.BUILD / "_build" / ".jupyter_cache")
    folder = book_build.BUILD / "executed" / "book"
    folder.mkdir(parents=True, exist_ok=True)
    for chapter in sorted((ROOT / "book").glob("[0-9][0-9]-*.ipynb")):
        try:
            _, notebook = cache.merge_match_into_file(str(chapter))
        except KeyError:  # not in the cache: the chapter failed; test_chapter_executes says so
            notebook = nbformat.read(chapter, as_version=4)
        nbformat.write(notebook, folder / chapter.name)
    return folder


@pytest.fixture
def run_eagerly():
    """Run every tf.function of the test eagerly (``@pytest.mark.usefixtures("run_eagerly")``).

    For tests of plumbing (a CLI's provenance, export and resume; the checkpoint guards; the
    sampling CLI) that train or sample a handful of steps, tracing is most of their time: eager
    cut the twelve marked so from 168 s to 80 s (one process, idle machine). Tests that train
    hundreds of steps got 2 to 10 times slower eagerly, so it is opt-in. The traced code stays
    tested, by the unit tests that train and by every chapter. Never mark a test of tf.function
    behaviour (tests/test_losses.py's, the mirrored strategy's).
    """
    import warnings

    import tensorflow as tf

    tf.config.run_functions_eagerly(True)
    try:
        with warnings.catch_warnings():  # tf.data's functions stay traced, as they should
            warnings.filterwarnings("ignore", "Even though the `tf.config.experimental_run")
            yield
    finally:
        tf.config.run_functions_eagerly(False)


# Test modules whose tests must run on one pytest-xdist worker (`make test` runs `-n 2`), each
# group as one unit of work: the book's (they share the smoke book build of the fixtures above,
# so one worker builds the book once while the other runs the unit tests) and the assignments'
# (a module fixture builds and grades them once). Grouped by module name rather than by
# xdist_group marks: pytest 9.2 ignores the node ids that `--dist loadgroup` rewrites
# (pytest-dev/pytest-xdist#1386), which silently let both workers build the book at once, into
# the same folder. tests/test_conftest.py checks this table against the fixtures.
GROUPED_MODULES = {
    "tests/test_book.py": "the smoke book build",
    "tests/test_exercise_cells.py": "the smoke book build",
    "tests/test_assignments.py": "the assignments",
}


def uses_the_book(item) -> bool:
    return "smoke_build" in getattr(item, "fixturenames", ())


def work_unit(nodeid: str) -> str:
    """The xdist unit of work of a test: its module's group, else its module.

    A module, not a test: a module-scoped fixture is built once per worker that runs one of
    its tests, so tests of one module on both workers built it twice (tests/test_text.py's
    150-step training run took 23 s on each).
    """
    module = nodeid.split("::", 1)[0]
    return GROUPED_MODULES.get(module, module)


def pytest_xdist_make_scheduler(config, log):
    """`make test`'s distribution: like `--dist loadscope` (a module at a time), with each of
    GROUPED_MODULES' groups kept on one worker, handed out in collection order.

    Collection order puts the book's group first (pytest_collection_modifyitems below): it is
    the longest. loadscope's default order, most tests first, started it behind seven larger
    modules, and the run ended with the book alone on one worker (pytest 527 s -> 620 s).
    """
    from xdist.scheduler import LoadScopeScheduling

    class BookOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # as --no-loadscope-reorder
    return BookOnOneWorker(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Order the tests: unit tests first, so that their failures show in seconds, the book last.

    Under pytest-xdist the book's unit of work goes first instead: it is the longest piece of
    work and should start no later than the unit tests on the other worker.
    """
    distributed = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    items.sort(key=lambda item: uses_the_book(item) != distributed)
