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
