"""The browser check's own tests: it must catch what it claims to catch."""

from pathlib import Path

import browser_check
import pytest

GOOD_MATH = '<div class="math notranslate"><mjx-container class="MathJax">x</mjx-container></div>'


def _site(tmp_path: Path, body: str, extra: dict[str, str] | None = None) -> Path:
    page = tmp_path / "book" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text(f"<html><body>{body}</body></html>")
    for name, content in (extra or {}).items():
        (tmp_path / name).write_bytes(content.encode())
    return page


def _problems(tmp_path: Path, body: str, extra: dict[str, str] | None = None) -> list[str]:
    page = _site(tmp_path, body, extra)
    return browser_check.check_page(page, page.read_text(), tmp_path, {})


def test_a_clean_page_has_no_problems(tmp_path):
    body = (
        f'<p id="top">Text</p>{GOOD_MATH}<img src="../img.png">'
        '<a href="#top">up</a><a href="https://example.org">out</a>'
        r"<pre>x = r'$\frac{a}{b}$'</pre>"
    )
    assert _problems(tmp_path, body, {"img.png": "png"}) == []


@pytest.mark.parametrize(
    "body",
    [
        r"<p>$$\frac{a}{b}$$</p>",  # display math left as text
        r"<p>where \frac{1}{2} is</p>",
        r'<div class="math notranslate">\[x^2\]</div>',  # MathJax never ran
    ],
)
def test_raw_tex_is_reported(tmp_path, body):
    problems = _problems(tmp_path, body)
    assert any("TeX" in p or "not rendered" in p for p in problems), problems


def test_mathjax_errors_are_reported(tmp_path):
    body = '<div class="math"><mjx-container><mjx-merror>x</mjx-merror></mjx-container></div>'
    assert any("MathJax errors" in p for p in _problems(tmp_path, body))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('<img src="missing.png">', "missing image"),
        ('<img src="https://cdn.example.org/badge.svg">', "external image"),
        ('<a href="nowhere.html">x</a>', "broken link"),
        ('<a href="#nowhere">x</a>', "missing anchor"),
        ('<div class="output stderr">W0000 tensorflow</div>', "stderr"),
    ],
)
def test_broken_pages_are_reported(tmp_path, body, expected):
    assert any(expected in p for p in _problems(tmp_path, body))
