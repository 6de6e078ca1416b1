"""ganbook_utils.records: the benchmark results chapters read, shipped inside the package."""

import fnmatch
import json
import re
from pathlib import Path

import pytest
import tomllib

from ganbook_utils import records

ROOT = Path(__file__).resolve().parents[1]


def test_the_records_the_dcgan_chapter_reads_are_shipped_and_complete():
    assert {"dcgan28_recipe", "dcgan64_upsampling"} <= set(records.available())
    recipe = records.load("dcgan28_recipe")
    assert "round1" in recipe and "recipe" in recipe["round1"]["contenders"]
    upsampling = records.load("dcgan64_upsampling")
    assert set(upsampling["arms"]) == {"transposed", "resize"}


def test_every_record_is_package_data_so_a_pip_install_carries_it():
    """The wheel holds what pyproject's package-data globs match (as on Colab)."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["ganbook_utils"]
    for path in records.RECORDED_DIR.glob("*.json"):
        relative = path.relative_to(records.RECORDED_DIR.parent).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in globs), relative


def test_no_chapter_code_reads_a_file_of_the_repository_outside_book():
    """A chapter opened alone (Colab) has no ../benchmarks etc.; it reads package data instead."""
    for notebook in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert not re.search(r"[\"']\.\./", code), notebook.name


def test_an_unknown_record_names_the_shipped_ones():
    with pytest.raises(ValueError, match="dcgan28_recipe"):
        records.load("dcgan28_recipes")


def test_a_corrupt_record_is_named(tmp_path, monkeypatch):
    (tmp_path / "broken.json").write_text("{not json")
    monkeypatch.setattr(records, "RECORDED_DIR", tmp_path)
    with pytest.raises(ValueError, match="broken.json is not valid JSON"):
        records.load("broken")
