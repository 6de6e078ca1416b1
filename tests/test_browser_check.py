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


# --- text a reader should never see: raw Markdown tables, placeholders, raw MyST ----------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>| model | FID |\n|---|---|\n| GAN | 3.1 |</p>", "raw Markdown table"),
        ("<p>| model | FID | | :---: | ---: | | GAN | 3.1 |</p>", "raw Markdown table"),
        ("<p>model | FID\n---|---\nGAN | 3.1</p>", "raw Markdown table"),
        ("<p>| model | FID |</p>", "raw Markdown table"),
        ("<p>Trained with the {PROFILE.name} budget.</p>", "unfilled placeholder {PROFILE.name}"),
        ("<p>FID {fid:.2f} after {epochs} epochs</p>", "unfilled placeholder {fid:.2f}"),
        ("<p>took {:.1f} s</p>", "unfilled placeholder {:.1f}"),
        (
            '<p>(profile <code class="literal"><span class="pre">{PROFILE.name}</span></code>)</p>',
            "unfilled placeholder {PROFILE.name} shown as inline code",
        ),
        ("<p>The loss is {glue:}<code>d_loss</code></p>", "raw MyST role {glue:}"),
        ("<p>it reads {glue:text}<code>fid:.3f</code></p>", "raw MyST role {glue:text}"),
        ("<p>see {eq}<code>math-elbo</code></p>", "raw MyST role {eq}"),
        ("<p>as shown by {cite:p}<code>goodfellow2014</code></p>", "raw MyST role {cite:p}"),
        ("<p>chapter {doc}<code>05-dcgan</code></p>", "raw MyST role {doc}"),
        ("<p>```{note}\nRead this.\n```</p>", "raw MyST directive"),
        ("<p>:::{admonition} Solution\n:class: dropdown\n:::</p>", "raw MyST directive"),
        ("<p>:::</p>", "raw MyST directive"),
        ('<pre><code class="language-{note}">Read this.</code></pre>', "directive shown as a code"),
    ],
)
def test_raw_markdown_and_myst_are_reported(tmp_path, body, expected):
    problems = _problems(tmp_path, body)
    assert any(expected in p for p in problems), problems


def test_pipes_braces_and_fences_in_code_or_prose_are_fine(tmp_path):
    body = (
        "<p>the posterior p(z | x) and the set {0, 1}; a dict {} is empty</p>"
        "<pre>| a | b |\n|---|---|\nprint(f'{PROFILE.name}') {glue:}\n```{note}\n:::{tip}</pre>"
        "<p>format it with <code>f'{x:.3f}'</code>, cite with <code>{eq}`label`</code></p>"
        "<table><tr><td>a</td><td>b</td></tr></table>"
        '<div class="highlight-python notranslate"><pre>x = {"a": 1}</pre></div>'
    )
    assert _problems(tmp_path, body) == []


# --- layout, in a real browser: the same path as the book's check (check_site) --------------

COLUMN = 600  # CSS px: the synthetic pages' text column
THEME_CSS = (
    f"body{{margin:0}} article.bd-article{{width:{COLUMN}px;margin-left:100px}}"
    "pre{overflow:auto;white-space:pre;margin:0} img{max-width:100%}"
    ".tag_full-width{width:1000px}"
)


def _png(width: int, height: int = 8, dpi: float | None = 100) -> bytes:
    """A grey PNG of ``width`` x ``height`` pixels declaring ``dpi`` (pHYs) as matplotlib does."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    png = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    )
    if dpi:
        per_metre = round(dpi / 0.0254)
        png += chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
    return png + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _output(inner: str, classes: str = "output text_plain") -> str:
    return f'<div class="cell_output"><div class="{classes}">{inner}</div></div>'


LONG_LINE = "epoch 1/5 " + "x" * 300
WIDE_BOX = '<div style="width:900px">a wide HTML table</div>'
WIDE_EQUATION = (
    '<div class="math"><mjx-container display="true" style="display:block">'
    '<span style="display:inline-block;width:900px">L = E[log D(x)]</span></mjx-container></div>'
)
LAYOUT_PAGES = {
    "clean": (
        _output("<pre>loss 0.693</pre>")
        + _output(WIDE_BOX, "output text_html tag_full-width")  # full width: may be wide
        + '<div class="math"><mjx-container display="true" style="display:block">'
        '<span style="display:inline-block;width:300px">x</span></mjx-container></div>'
        + '<img src="fits.png"><img src="retina.png"><img src="icon.png" width="10">'
        + "<p>| inline code is fine: <code>|---|</code></p>"
        + "<table><tr><td>a narrow table</td></tr></table>"
        + _output("<pre>" + "short line" + " " * 300 + "</pre>")  # trailing spaces hide nothing
    ),
    "scrolling-output": _output(f"<pre>{LONG_LINE}</pre>"),
    "clipped-output": _output(WIDE_BOX, "output text_html").replace(
        'class="output text_html"', 'class="output text_html" style="overflow:hidden"'
    ),
    "spilling-output": _output(WIDE_BOX, "output text_html"),
    "wide-equation": WIDE_EQUATION,
    "wide-output-in-dropdown": (
        f"<details><summary>Solution</summary>{_output(f'<pre>{LONG_LINE}</pre>')}</details>"
    ),
    "wide-table": (
        '<div style="overflow-x:auto"><table><tr><td><div style="width:900px">model</div></td>'
        "<td>FID</td></tr></table></div>"
    ),
    "tiny-figure": '<img src="wide.png">',  # 1500 px at 100 dpi in a 600 px column: 40 %
    "raw-table": "<p>| a | b |\n|---|---|</p>",
    "network-script": '<script src="https://cdn.example.org/widgets.js"></script>',
    "missing-style": '<link rel="stylesheet" href="_static/missing.css">',
}


@pytest.fixture(scope="module")
def layout_report(tmp_path_factory):
    chromium = browser_check.find_chromium()
    if chromium is None:
        pytest.skip("Chromium not installed (Debian: apt-get install chromium)")
    pytest.importorskip("playwright")
    site = tmp_path_factory.mktemp("site")
    images = {"fits.png": _png(500), "retina.png": _png(1200, dpi=200), "wide.png": _png(1500),
              "icon.png": _png(40)}  # fmt: skip
    for name, data in images.items():
        (site / name).write_bytes(data)
    for name, body in LAYOUT_PAGES.items():
        (site / f"{name}.html").write_text(
            f"<html><head><style>{THEME_CSS}</style></head><body>"
            f'<article class="bd-article"><section><h1>Section {name}</h1>{body}</section>'
            "</article></body></html>"
        )
    shots = site / "shots"
    report = browser_check.check_site(site, shots, chromium)
    return report, shots


def test_a_clean_layout_has_no_problems(layout_report):
    report, shots = layout_report
    assert "clean.html" not in report, report.get("clean.html")
    assert (shots / "clean.html.png").stat().st_size > 0


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("scrolling-output", "hidden behind a horizontal scrollbar"),
        ("clipped-output", "clipped off"),
        ("spilling-output", "past the text column's right edge"),
        ("wide-equation", "display equation"),
        ("wide-output-in-dropdown", "code output 1"),
        ("wide-table", "table 1 in 'Section wide-table' ('model') is"),
        ("tiny-figure", "figure 1 in 'Section tiny-figure' is shown at 40%"),
        ("raw-table", "raw Markdown table"),
        ("network-script", "a script loaded from the network, which fails offline"),
        ("missing-style", "a stylesheet the page needs is missing"),
    ],
)
def test_layout_problems_are_reported(layout_report, page, expected):
    report, _ = layout_report
    problems = report.get(f"{page}.html", [])
    assert any(expected in p for p in problems), problems
    assert len(problems) == 1, problems  # one problem, reported once


def test_the_readable_size_threshold():
    # A default matplotlib figure (100 dpi) is readable down to 60 % of its natural width.
    assert browser_check.image_text_px(1000, 620, 100) > browser_check.MIN_TEXT_PX
    assert browser_check.image_text_px(1000, 580, 100) < browser_check.MIN_TEXT_PX
    assert browser_check.image_text_px(1000, 500, 200) > browser_check.MIN_TEXT_PX  # retina
    assert browser_check.png_dpi(_png(10, dpi=100)) == pytest.approx(100, abs=0.1)
    assert browser_check.png_dpi(_png(10, dpi=None)) is None
