"""Every chapter keeps the book's conventions (GUIDE §2): checked, not hoped for."""

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import new_chapter  # noqa: E402


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def chapters() -> list[Path]:
    return sorted((ROOT / "book").glob("[0-9][0-9]-*.ipynb"))


def cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_every_toc_entry_exists_and_every_chapter_is_in_the_toc():
    listed = toc_files()
    for entry in listed:
        assert any((ROOT / f"{entry}{suffix}").exists() for suffix in (".md", ".ipynb")), entry
    for notebook in chapters():
        assert f"book/{notebook.stem}" in listed, f"{notebook.name} is missing from _toc.yml"


@pytest.mark.parametrize("notebook", chapters(), ids=lambda path: path.stem)
def test_chapter_opening_follows_the_template(notebook):
    opening = cells(notebook)[:3]
    title, setup, profile = opening
    assert title["cell_type"] == "markdown" and source(title).startswith("# ")
    assert "What you will learn" in source(title)
    assert new_chapter.colab_url(notebook.stem) in source(title), "Colab link out of date"
    assert source(setup) == new_chapter.setup_code(), "setup cell differs from the template"
    assert "remove-input" in setup["metadata"].get("tags", [])
    assert "get_profile()" in source(profile) and "print(PROFILE)" in source(profile)


@pytest.mark.parametrize("notebook", chapters(), ids=lambda path: path.stem)
def test_chapter_is_committed_without_outputs(notebook):
    for cell in cells(notebook):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), "clear outputs before committing"
            assert cell.get("execution_count") is None


@pytest.mark.parametrize("notebook", chapters(), ids=lambda path: path.stem)
def test_chapter_does_not_hard_code_budgets(notebook):
    """Budgets come from the profile; a literal `epochs=50` in a chapter bypasses it."""
    pattern = re.compile(r"\b(epochs|steps|num_steps|train_steps)\s*=\s*\d{2,}")
    for cell in cells(notebook):
        if cell["cell_type"] == "code":
            assert not pattern.search(source(cell)), source(cell)[:200]


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), re.M))
    for notebook in chapters():
        for cell in cells(notebook):
            for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", source(cell)):
                for key in group.split(","):
                    assert key.strip() in keys, f"{notebook.name}: unknown citation {key}"
