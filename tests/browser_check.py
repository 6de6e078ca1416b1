"""Open every page of the built book in headless Chromium and report what a reader would see wrong.

One browser (the system Chromium, driven by Playwright: no browser download) opens the pages
in sequence at a desktop viewport (``VIEWPORT``, 1280 x 900 CSS px), waits until MathJax has
typeset and fonts and images have loaded, saves a full-page screenshot when given a folder for
it, then checks:

Text, on the DOM after JavaScript ran, outside code blocks (``pre``, ``code``) and rendered math:

- raw TeX shown as text instead of rendered math, equations MathJax never rendered, MathJax
  errors (TeX that does not compile);
- raw Markdown tables: a separator row (``|---|---|``, ``---|---``) or a line that starts and
  ends with a pipe and holds at least three (``| a | b |``) -- CommonMark shows such tables as
  a paragraph of pipes;
- unfilled placeholders: ``{name}``, ``{PROFILE.name}``, ``{x:.3f}``, ``{0}`` left by a string
  that was never formatted, and ``{glue:}`` / ``{glue:text}`` leftovers;
- raw MyST: roles (``{eq}``, ``{cite:p}``, ``{doc}``, ``{numref}``, ... any ``{role}`` name in
  ``MYST_ROLES``), directive fences (```` ```{ ````, ``:::{``, ``:::`` lines), directive
  options (``:class: dropdown``), and code blocks whose language is a directive
  (``language-{note}``: a directive parsed as CommonMark);
- images that cannot load (missing files, external URLs: the book must work offline), broken
  internal links and anchors, and stderr outputs (e.g. TensorFlow logs) left on the page.

Resources: the browser is offline (every network request is refused, so screenshots show what
a reader without network sees); a script, style sheet or font the page fetches from the
network, or a local one that is missing, is a problem.

Layout, measured in the browser with every dropdown opened (so solutions are measured too):

- code outputs (each ``.cell_output`` output: text, HTML, tables), display equations
  (``mjx-container[display]``) and tables in the text wider than the text column. The
  content's right edge (its left edge plus its ``scrollWidth``; for a ``pre``, the right edge
  of its last non-blank character on the longest line, so trailing spaces and padding hide
  nothing) is compared with the tightest limit around it: the
  article's content box (the text column) and every ancestor box up to it that clips or
  scrolls (``overflow-x`` not ``visible``). More than ``OVERFLOW_TOLERANCE_PX`` beyond it
  is a problem, reported as one of three kinds, all of which hide content from a reader:
  *scrolls* (a horizontal scrollbar hides the rest: a reader who prints the page, or does not
  notice the bar, never sees it), *clipped* (``overflow: hidden``: the rest is invisible), or
  *past the column edge* (spills over the margin or the page's table of contents).
  Full-width (``.full-width``, ``tag_full-width``) and margin content may use the whole
  viewport instead of the column.
- figures (``img`` in the article) scaled below a readable size. A PNG cannot tell us its
  font sizes, so the check assumes matplotlib's: the smallest text in a figure is taken to be
  ``ASSUMED_SMALLEST_TEXT_PT`` (8.33 pt, matplotlib's "small", used by legends and small
  labels; default tick labels are 10 pt) at the image's own resolution (its PNG ``pHYs`` dpi,
  which matplotlib writes: 100 for a default figure, 200 for ``retina``; ``DEFAULT_DPI`` when
  absent). That text renders at ``pt * dpi / 72 * (rendered width / natural width)`` CSS px;
  below ``MIN_TEXT_PX`` (7 px; body text is 16 px) labels are unreadable. For a default
  100-dpi figure this flags a display scale below 60 %: at 1280 px the column is 688 px wide,
  so a figure wider than about 11.4 inches (``figsize``) is flagged unless it is split or
  made narrower. A figure whose own labels are set smaller than "small" can still be too
  small at a scale this check passes: look at the screenshots. Images under
  ``MIN_CHECKED_NATURAL_PX`` wide (icons) and images not displayed are not checked.

Usage: python tests/browser_check.py _build/html [_build/screenshots]
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import struct
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
)
# Desktop viewport, CSS px: wide enough for the book theme's sidebar and page contents.
VIEWPORT = {"width": 1280, "height": 900}
PAGE_TIMEOUT_MS = 60_000
# Layout thresholds (see the module docstring).
OVERFLOW_TOLERANCE_PX = 3  # sub-pixel rounding and a stray glyph overhang are not problems
ASSUMED_SMALLEST_TEXT_PT = 8.33  # matplotlib's "small": legends, annotations, small labels
MIN_TEXT_PX = 7.0
DEFAULT_DPI = 100.0
MIN_CHECKED_NATURAL_PX = 64

# TeX that should never be visible as text once MathJax has rendered the page.
RAW_TEX = re.compile(r"\$\$|\\(?:frac|begin\{|end\{|mathbb|mathcal|sum_|int_|left[(\[|]|sqrt\{)")
# Raw Markdown tables: a separator row, or a line of pipes.
TABLE_SEPARATOR = re.compile(r"\|\s*:?-{3,}:?\s*\||:?-{3,}:?\s*\|\s*:?-{3,}")
TABLE_ROW = re.compile(r"^[ \t]*\|[^\n]*\|[^\n]*\|[ \t]*$", re.MULTILINE)
# MyST role and directive names a reader may see raw when the Markdown was not parsed as MyST.
MYST_ROLES = {
    "abbr", "attribution", "bibliography", "cite", "code", "code-cell", "doc", "download",
    "eq", "figure", "glossary", "glue", "image", "admonition", "dropdown", "list-table",
    "literalinclude", "margin", "math", "note", "numref", "prf", "ref", "sub", "sub-ref",
    "sup", "tab-set", "table", "term", "tip", "toctree", "warning", "important", "hint",
    "caution", "danger", "epigraph", "seealso", "sidebar", "raw", "csv-table", "card",
    "grid", "button-link", "button-ref", "footcite", "index", "contents", "panels",
}  # fmt: skip
# {name}, {PROFILE.name}, {x[0]}, {x!r}, {x:.3f}, {glue:}, {glue:text}, {cite:p}, {0}, {:.3f}
BRACED = re.compile(
    r"\{(?P<name>[A-Za-z_][\w.-]*(?:\[[^\]{}\s]*\])*|\d+|)(?:![rsa])?(?P<spec>:[^{}\s]*)?\}"
)
RAW_DIRECTIVE = re.compile(
    r"```\s*\{|:::+\s*\{|^[ \t]*:::+[ \t]*$"
    r"|^[ \t]*:(?:class|name|label|width|height|align|alt|figwidth|figclass|open|tags|"
    r"show|hide|number|dedent|linenos|emphasize-lines|caption):(?:[ \t]|$)",
    re.MULTILINE,
)
# Elements whose text is code or rendered math, where TeX-like characters are legitimate.
SKIPPED_TEXT_TAGS = {
    "script", "style", "pre", "code", "kbd", "samp", "textarea", "mjx-container", "svg",
    "title", "template", "noscript",
}  # fmt: skip
SKIPPED_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static"}


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class PageParser(HTMLParser):
    """Collects what the checks need from one page's DOM."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
    BLOCK = {
        "p", "div", "li", "ul", "ol", "dd", "dt", "dl", "td", "th", "tr", "table", "section",
        "article", "aside", "blockquote", "figure", "figcaption", "details", "summary", "nav",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "main", "form", "body",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.visible_text: list[str] = []
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.links: list[str] = []
        self.directive_code_blocks: list[str] = []
        self.inline_code: list[str] = []  # text of each <code> outside <pre>
        self._inline_code_depth: int | None = None
        self.math_elements = 0
        self.rendered_math_elements = 0
        self.mathjax_errors = 0
        self.stderr_outputs = 0
        self._math_depths: list[tuple[int, bool]] = []  # (depth, rendered?)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        classes = set(attributes.get("class", "").split())
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "img":
            self.images.append(attributes.get("src", ""))
        if tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        if tag == "mjx-merror":
            self.mathjax_errors += 1
        if "stderr" in classes and "output" in classes:
            self.stderr_outputs += 1
        self.directive_code_blocks.extend(
            name for name in classes if name.startswith(("language-{", "highlight-{"))
        )
        if tag == "mjx-container" and self._math_depths:
            depth, _ = self._math_depths[-1]
            self._math_depths[-1] = (depth, True)
        if tag in self.BLOCK or tag == "br":
            self.visible_text.append("\n")
        if tag in self.VOID:
            return
        if tag == "code" and self._inline_code_depth is None:
            if not any(open_tag == "pre" for open_tag, _ in self.stack):
                self._inline_code_depth = len(self.stack)
                self.inline_code.append("")
        if "math" in classes and tag in {"div", "span"}:
            self.math_elements += 1
            self._math_depths.append((len(self.stack), False))
        self.stack.append((tag, classes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if tag in self.BLOCK:
            self.visible_text.append("\n")
        # Pop to the matching open tag (tolerates the odd unclosed element).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break
        if self._inline_code_depth is not None and len(self.stack) <= self._inline_code_depth:
            self._inline_code_depth = None
        while self._math_depths and self._math_depths[-1][0] >= len(self.stack):
            _, rendered = self._math_depths.pop()
            self.rendered_math_elements += rendered

    def handle_data(self, data: str) -> None:
        if self._inline_code_depth is not None:
            self.inline_code[-1] += data
        if not any(tag in SKIPPED_TEXT_TAGS for tag, _ in self.stack):
            self.visible_text.append(data)


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


REDIRECT = re.compile(r'<meta http-equiv="refresh" content="\d+;\s*url=([^"]+)"', re.IGNORECASE)


def _image_problem(page: Path, source: str) -> str | None:
    if not source:
        return "an <img> without src"
    if source.startswith("data:"):
        try:
            payload = base64.b64decode(source.split(",", 1)[1], validate=False)
        except (IndexError, binascii.Error):
            return "an inline image that cannot be decoded"
        return None if payload else "an empty inline image"
    if urlsplit(source).scheme in {"http", "https", "ftp"} or source.startswith("//"):
        return f"an external image that will not load offline: {source}"
    path = (page.parent / unquote(urlsplit(source).path)).resolve()
    if not path.is_file() or path.stat().st_size == 0:
        return f"a missing image: {source}"
    return None


def _excerpt(text: str, start: int, end: int, width: int = 40) -> str:
    return " ".join(text[max(0, start - width) : end + width].split())


def text_problems(
    text: str, directive_code_blocks: list[str] = (), inline_code: list[str] = ()
) -> list[str]:
    """Raw Markdown tables, unfilled placeholders and raw MyST in a page's visible text.

    ``inline_code``: the text of each inline ``<code>``; one that is nothing but a placeholder
    (``{PROFILE.name}``) is a value the author meant to show, not code.
    """
    problems = []
    table = TABLE_SEPARATOR.search(text) or TABLE_ROW.search(text)
    if table:
        excerpt = _excerpt(text, table.start(), table.end())
        problems.append(f"a raw Markdown table (pipes shown as text): ...{excerpt}...")
    braced = [m for m in BRACED.finditer(text) if m["name"] or m["spec"]]  # not a bare {}
    for match in braced[:5]:
        if match["name"] in MYST_ROLES:
            kind = "a raw MyST role"
        else:
            kind = "an unfilled placeholder"
        problems.append(
            f"{kind} {match[0]} shown as text: ...{_excerpt(text, match.start(), match.end())}..."
        )
    for match in list(RAW_DIRECTIVE.finditer(text))[:3]:
        excerpt = _excerpt(text, match.start(), match.end())
        problems.append(f"a raw MyST directive shown as text: ...{excerpt}...")
    for code in inline_code:
        match = BRACED.fullmatch(code.strip())
        if match and (match["name"] or match["spec"]) and match["name"] not in MYST_ROLES:
            problems.append(f"an unfilled placeholder {match[0]} shown as inline code")
    for name in sorted(set(directive_code_blocks)):
        problems.append(f"a MyST directive shown as a code block ({name}): it was not parsed")
    return problems


def check_page(page: Path, dom: str, site: Path, id_cache: dict[Path, set[str]]) -> list[str]:
    """Problems a reader would see in ``page``'s rendered DOM (empty list: none)."""
    parsed = parse_page(dom)
    id_cache[page.resolve()] = parsed.ids
    problems = []
    text = "".join(parsed.visible_text)
    spaced = " ".join(text.split())
    for match in list(RAW_TEX.finditer(spaced))[:3]:
        problems.append(
            f"raw TeX shown as text: ...{_excerpt(spaced, match.start(), match.end())}..."
        )
    unrendered = parsed.math_elements - parsed.rendered_math_elements
    if unrendered:
        problems.append(f"{unrendered} of {parsed.math_elements} equations not rendered by MathJax")
    if parsed.mathjax_errors:
        problems.append(f"{parsed.mathjax_errors} MathJax errors (TeX that does not compile)")
    if parsed.stderr_outputs:
        problems.append(
            f"{parsed.stderr_outputs} stderr outputs (e.g. TensorFlow logs) on the page"
        )
    problems.extend(text_problems(text, parsed.directive_code_blocks, parsed.inline_code))
    problems.extend(p for p in (_image_problem(page, src) for src in parsed.images) if p)
    for href in parsed.links:
        problem = _link_problem(page, href, site, id_cache)
        if problem:
            problems.append(problem)
    return problems


def _link_problem(page: Path, href: str, site: Path, id_cache: dict[Path, set[str]]) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or href.startswith(("//", "javascript:")):
        return None  # external: not ours to check offline
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
    if target.is_dir():
        target = target / "index.html"
    if not target.exists():
        return f"a broken link: {href}"
    if parts.fragment and target.suffix == ".html":
        if target not in id_cache:
            id_cache[target] = parse_page(target.read_text(errors="replace")).ids
        if unquote(parts.fragment) not in id_cache[target]:
            return f"a link to a missing anchor: {href}"
    return None


# --- layout, measured in the browser ----------------------------------------------------------

# Resolves once MathJax has typeset, fonts are in and every image has loaded (or failed).
SETTLE_JS = """
async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  if (window.MathJax) {  // configured (sphinx writes the config, then loads the script)
    for (let i = 0; i < 50 && !(MathJax.startup && MathJax.startup.promise); i++)
      await sleep(100);
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      try { await MathJax.startup.promise; } catch (e) {}
    }
  }
  for (const img of document.images) img.loading = 'eager';
  await Promise.all([...document.images].map((img) => img.complete ? null : new Promise((r) => {
    img.addEventListener('load', r); img.addEventListener('error', r); setTimeout(r, 5000);
  })));
  await document.fonts.ready;
}
"""

# Opens every dropdown (details, sphinx-togglebutton) so hidden content is laid out too.
OPEN_DROPDOWNS_JS = """
async () => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  for (const e of document.querySelectorAll('.toggle-hidden')) e.classList.remove('toggle-hidden');
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
}
"""

# Measures outputs, display equations and figures against the text column.
MEASURE_JS = """
(tolerance) => {
  const article = document.querySelector('article.bd-article') ||
    document.querySelector('[role=main]') || document.querySelector('main') || document.body;
  const box = article.getBoundingClientRect();
  const style = getComputedStyle(article);
  const columnRight = box.right - parseFloat(style.paddingRight) -
    parseFloat(style.borderRightWidth);
  const viewportRight = document.documentElement.clientWidth;
  const wide = '.full-width, .tag_full-width, .margin, .tag_margin, aside, .sidebar, .tag_popout';
  const section = (el) => {
    const s = el.closest('section');
    const h = s && s.querySelector('h1, h2, h3, h4');
    return h ? h.textContent.replace(/[#\\u00b6]/g, '').trim().slice(0, 60) : '';
  };
  // Right edge of the text in a <pre>, trailing spaces excluded (they hide nothing).
  const textRight = (el) => {
    let right = -Infinity, lines = 0;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node && lines < 5000; node = walker.nextNode()) {
      const text = node.data;
      let start = 0;
      while (start <= text.length && lines < 5000) {
        let end = text.indexOf('\\n', start);
        if (end < 0) end = text.length;
        let last = end;
        while (last > start && /\\s/.test(text[last - 1])) last--;
        if (last > start) {
          const range = document.createRange();
          range.setStart(node, start);
          range.setEnd(node, last);
          right = Math.max(right, range.getBoundingClientRect().right);
        }
        lines++;
        start = end + 1;
      }
    }
    return right;
  };
  const measure = (el) => {
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 && rect.height === 0) return null;  // not displayed
    const contentRight = el.tagName === 'PRE' ? textRight(el) : rect.left + el.scrollWidth;
    const contentWidth = Math.round(contentRight - rect.left);
    let limit = el.closest(wide) ? viewportRight : columnRight, kind = 'past the column edge';
    for (let a = el; a && a !== article && a !== document.body; a = a.parentElement) {
      const overflow = getComputedStyle(a).overflowX;
      if (overflow === 'visible') continue;
      const r = a.getBoundingClientRect();
      const edge = r.left + a.clientLeft + a.clientWidth;
      if (edge < limit + tolerance) {
        limit = Math.min(limit, edge);
        kind = (overflow === 'hidden' || overflow === 'clip') ? 'clipped' : 'scrolls';
      }
    }
    const hidden = contentRight - limit;
    return hidden > tolerance ? {hidden: Math.round(hidden), kind,
      width: contentWidth, available: Math.round(limit - rect.left)} : null;
  };
  const worst = (elements) => {
    let best = null;
    for (const el of elements) {
      const m = measure(el);
      if (m && (!best || m.hidden > best.hidden)) best = m;
    }
    return best;
  };
  const results = [];
  const outputs = article.querySelectorAll('.cell_output .output, .cell_output > *');
  const seen = new Set();
  let index = 0;
  for (const out of outputs) {
    const block = out.closest('.cell_output .output') || out;
    if (seen.has(block)) continue;
    seen.add(block);
    index += 1;
    const m = worst([block, ...block.querySelectorAll('pre, table, img, svg, div')]);
    if (m) {
      const first = (block.innerText || '').trim().split('\\n')[0].slice(0, 70);
      results.push({what: 'output', index, section: section(block), text: first, ...m});
    }
  }
  index = 0;
  for (const eq of article.querySelectorAll('mjx-container[display="true"]')) {
    index += 1;
    const holder = eq.closest('div.math') || eq;
    const m = worst([eq, holder]);
    if (m) {
      let tex = '';
      try {
        const items = MathJax.startup.document.getMathItemsWithin(eq);
        if (items.length) tex = items[0].math;
      } catch (e) {}
      const eqno = holder.querySelector('.eqno');
      const number = eqno ? eqno.textContent.replace(/[#\\u00b6]/g, '').trim() : '';
      results.push({what: 'equation', index, section: section(eq), number,
        text: tex.replace(/\\s+/g, ' ').trim().slice(0, 70), ...m});
    }
  }
  index = 0;
  for (const table of article.querySelectorAll('table')) {  // tables in the text
    if (table.closest('.cell_output')) continue;  // measured as outputs
    index += 1;
    const m = worst([table]);
    if (m) {
      const first = (table.innerText || '').trim().split('\\n')[0].replace(/\\s+/g, ' ');
      results.push({what: 'table', index, section: section(table), text: first.slice(0, 70),
        ...m});
    }
  }
  index = 0;
  for (const img of article.querySelectorAll('img')) {
    index += 1;
    const rect = img.getBoundingClientRect();
    if (!img.naturalWidth || rect.width === 0) continue;
    results.push({what: 'image', index, src: img.currentSrc || img.src, section: section(img),
      natural: img.naturalWidth, rendered: rect.width});
  }
  return results;
}
"""


def png_dpi(data: bytes) -> float | None:
    """Resolution a PNG declares (its pHYs chunk, pixels per metre), or None."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    position = 8
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"pHYs" and length >= 9:
            per_metre, _, unit = struct.unpack(">IIB", data[position + 8 : position + 17])
            return per_metre * 0.0254 if unit == 1 and per_metre else None
        if kind in (b"IDAT", b"IEND"):
            return None
        position += 12 + length
    return None


def _image_bytes(page: Path, source: str) -> bytes:
    if source.startswith("data:"):
        try:
            return base64.b64decode(source.split(",", 1)[1])
        except (IndexError, binascii.Error):
            return b""
    parts = urlsplit(source)
    path = Path(unquote(parts.path)) if parts.scheme == "file" else page.parent / unquote(source)
    try:
        with open(path, "rb") as handle:
            return handle.read(1 << 16)  # pHYs precedes the image data
    except OSError:
        return b""


def image_text_px(natural_width: float, rendered_width: float, dpi: float | None) -> float:
    """CSS px of the figure's smallest text (ASSUMED_SMALLEST_TEXT_PT) as displayed."""
    return ASSUMED_SMALLEST_TEXT_PT * (dpi or DEFAULT_DPI) / 72 * rendered_width / natural_width


def layout_problems(page: Path, measurements: list[dict]) -> list[str]:
    """Problems in what MEASURE_JS found: too-wide outputs and equations, unreadable figures."""
    problems = []
    for m in measurements:
        where = f" in '{m['section']}'" if m.get("section") else ""
        if m["what"] in {"output", "equation", "table"}:
            hides = {
                "scrolls": f"{m['hidden']} px hidden behind a horizontal scrollbar",
                "clipped": f"{m['hidden']} px clipped off",
                "past the column edge": f"{m['hidden']} px past the text column's right edge",
            }[m["kind"]]
            if m["what"] == "output":
                name = f"code output {m['index']}{where} ('{m['text']}')"
            elif m["what"] == "table":
                name = f"table {m['index']}{where} ('{m['text']}')"
            else:
                number = f" {m['number']}" if m.get("number") else ""
                tex = f" ({m['text']})" if m["text"] else ""
                name = f"display equation{number} #{m['index']}{where}{tex}"
            problems.append(f"{name} is {m['width']} px wide in {m['available']} px: {hides}")
        elif m["what"] == "image" and m["natural"] >= MIN_CHECKED_NATURAL_PX:
            dpi = png_dpi(_image_bytes(page, m["src"]))
            text_px = image_text_px(m["natural"], m["rendered"], dpi)
            if text_px < MIN_TEXT_PX:
                widest = m["natural"] * text_px / MIN_TEXT_PX  # readable shown this wide
                problems.append(
                    f"figure {m['index']}{where} is shown at {m['rendered'] / m['natural']:.0%} "
                    f"({m['natural']} -> {m['rendered']:.0f} px wide, {dpi or DEFAULT_DPI:.0f} "
                    f"dpi): its {ASSUMED_SMALLEST_TEXT_PT:g} pt labels render at "
                    f"{text_px:.1f} px, under {MIN_TEXT_PX} px (shown this wide, save it at "
                    f"most {widest:.0f} px wide, about {widest / (dpi or DEFAULT_DPI):.1f} in, "
                    "or split it)"
                )
    return problems


class Browser:
    """One headless Chromium (Playwright), reused for every page."""

    def __init__(self, chromium: str) -> None:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                "The browser check needs Playwright: pip install -e '.[test]' (or pip install "
                "playwright). It drives the system Chromium; no `playwright install` needed."
            ) from error
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=chromium, args=list(CHROMIUM_ARGS)
            )
            self._page = self._browser.new_page(viewport=VIEWPORT)
        except Exception:
            self._playwright.stop()
            raise
        self._page.set_default_timeout(PAGE_TIMEOUT_MS)
        self._resource_problems: list[str] = []
        # Offline, as a reader without network: every request off this machine is refused.
        self._page.route(re.compile(r"^(https?|wss?|ftp)://"), self._refuse)
        self._page.on("requestfailed", self._failed)

    def _refuse(self, route) -> None:
        request = route.request
        if request.resource_type != "image":  # images: reported by check_page
            self._resource_problems.append(
                f"a {request.resource_type} loaded from the network, which fails offline: "
                f"{request.url[:120]}"
            )
        route.abort()

    def _failed(self, request) -> None:
        if request.url.startswith("file:") and request.resource_type != "image":
            self._resource_problems.append(
                f"a {request.resource_type} the page needs is missing: {unquote(request.url)}"
            )

    def open(self, page: Path, screenshot: Path | None = None) -> tuple[str, list[dict], list[str]]:
        """The page's DOM after its scripts ran, MEASURE_JS's measurements, and the page's
        resources that fail to load offline (scripts, styles, fonts; images: see check_page)."""
        tab = self._page
        self._resource_problems = []
        tab.goto(page.resolve().as_uri(), wait_until="load")
        tab.evaluate(SETTLE_JS)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(screenshot), full_page=True)
        dom = tab.content()
        tab.evaluate(OPEN_DROPDOWNS_JS)
        measurements = tab.evaluate(MEASURE_JS, OVERFLOW_TOLERANCE_PX)
        return dom, measurements, list(dict.fromkeys(self._resource_problems))

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._playwright.stop()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def book_pages(site: Path) -> list[Path]:
    """Every HTML page a reader can reach (theme assets excluded)."""
    return sorted(
        path
        for path in site.rglob("*.html")
        if not SKIPPED_DIRS.intersection(path.relative_to(site).parts)
    )


def check_site(
    site: Path, screenshots: Path | None = None, chromium: str | None = None
) -> dict[str, list[str]]:
    """Check every page of the built book; returns {page: problems} for pages with problems."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("No Chromium found: install it (Debian: apt-get install chromium).")
    pages = book_pages(site)
    if not pages:
        raise FileNotFoundError(f"No HTML pages under {site}: build the book first (make book).")
    id_cache: dict[Path, set[str]] = {}
    report = {}
    with Browser(chromium) as browser:
        for page in pages:
            relative = page.relative_to(site).as_posix()
            redirect = REDIRECT.search(page.read_text(errors="replace"))
            if redirect:  # e.g. index.html -> book/intro.html: check the target exists, not twice
                problem = _link_problem(page, redirect.group(1), site, id_cache)
                problems = [problem] if problem else []
            else:
                shot = screenshots / (relative.replace("/", "__") + ".png") if screenshots else None
                try:
                    dom, measurements, resources = browser.open(page, shot)
                except Exception as error:  # a page that hangs or breaks the browser: report it
                    problems = [f"the browser could not open the page: {str(error)[:300]}"]
                else:
                    problems = check_page(page, dom, site, id_cache)
                    problems += layout_problems(page, measurements) + resources
            if problems:
                report[relative] = problems
    return report


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print(__doc__)
        return 2
    site = Path(argv[0])
    shots = Path(argv[1]) if len(argv) == 2 else site.parent / "screenshots"
    report = check_site(site, shots)
    for page, problems in report.items():
        for problem in problems:
            print(f"{page}: {problem}")
    print(
        f"{len(book_pages(site))} pages checked, {len(report)} with problems; "
        f"screenshots in {os.fspath(shots)}"
    )
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
