"""Shared test setup: the smoke profile unless told otherwise, and the repository's paths."""

import os
from pathlib import Path

import pytest

# Tests exercise the code, not the budgets: default to seconds-long runs.
os.environ.setdefault("GANBOOK_PROFILE", "smoke")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


def pytest_collection_modifyitems(items):
    """Run the book build and browser check last: unit failures should show in seconds."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_book.py"))
