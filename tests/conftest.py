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


def _uses_the_book(item) -> bool:
    return "smoke_build" in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Order the tests: unit tests first, so that their failures show in seconds, the book last.

    Under pytest-xdist (`make test` runs `-n 2 --dist loadgroup`) the book's tests form one
    group, so that one worker builds the book once while the others run the unit tests; the
    group goes first there, as it is the longest piece of work and starts no later than the
    unit tests on the other worker.
    """
    distributed = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    for item in items:
        if _uses_the_book(item):
            item.add_marker(pytest.mark.xdist_group("book"))
    items.sort(key=lambda item: _uses_the_book(item) != distributed)
