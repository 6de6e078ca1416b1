"""Open every page of the built book in headless Chromium and report what a reader would see wrong.

Checks, per page, on the DOM *after* JavaScript ran (so MathJax has had its chance):
raw TeX shown as text instead of rendered math, MathJax errors, images that cannot load
(missing files, external URLs: the book must work offline), broken internal links and
anchors, and TensorFlow stderr noise left in outputs. A screenshot of each page is saved.

Usage: python tests/browser_check.py _build/html [_build/screenshots]
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
)
# TeX that should never be visible as text once MathJax has rendered the page.
RAW_TEX = re.compile(r"\$\$|\\(?:frac|begin\{|end\{|mathbb|mathcal|sum_|int_|left[(\[|]|sqrt\{)")
# Elements whose text is code or rendered math, where TeX-like characters are legitimate.
SKIPPED_TEXT_TAGS = {"script", "style", "pre", "code", "textarea", "mjx-container", "svg", "title"}
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

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.visible_text: list[str] = []
        self.ids: set[str] = set()
        self.images: list[str] = []
        self.links: list[str] = []
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
        if tag == "mjx-container" and self._math_depths:
            depth, _ = self._math_depths[-1]
            self._math_depths[-1] = (depth, True)
        if tag in self.VOID:
            return
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
        # Pop to the matching open tag (tolerates the odd unclosed element).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break
        while self._math_depths and self._math_depths[-1][0] >= len(self.stack):
            _, rendered = self._math_depths.pop()
            self.rendered_math_elements += rendered

    def handle_data(self, data: str) -> None:
        if not any(tag in SKIPPED_TEXT_TAGS for tag, _ in self.stack):
            self.visible_text.append(data)


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def rendered_dom(chromium: str, page: Path, screenshot: Path | None = None) -> str:
    """The page's DOM after its scripts ran, as Chromium serialises it (and a screenshot)."""
    command = [chromium, *CHROMIUM_FLAGS, "--dump-dom", "--window-size=1280,2400"]
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        command.append(f"--screenshot={screenshot}")
    result = subprocess.run(
        [*command, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0 or "<html" not in result.stdout:
        raise RuntimeError(f"Chromium could not open {page}: {result.stderr[-500:]}")
    return result.stdout


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


def check_page(page: Path, dom: str, site: Path, id_cache: dict[Path, set[str]]) -> list[str]:
    """Problems a reader would see on ``page`` (empty list: none)."""
    parsed = parse_page(dom)
    id_cache[page.resolve()] = parsed.ids
    problems = []
    text = " ".join(parsed.visible_text)
    for match in list(RAW_TEX.finditer(text))[:3]:
        context = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " ")
        problems.append(f"raw TeX shown as text: ...{context}...")
    unrendered = parsed.math_elements - parsed.rendered_math_elements
    if unrendered:
        problems.append(f"{unrendered} of {parsed.math_elements} equations not rendered by MathJax")
    if parsed.mathjax_errors:
        problems.append(f"{parsed.mathjax_errors} MathJax errors (TeX that does not compile)")
    if parsed.stderr_outputs:
        problems.append(
            f"{parsed.stderr_outputs} stderr outputs (e.g. TensorFlow logs) on the page"
        )
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
    for page in pages:
        relative = page.relative_to(site).as_posix()
        redirect = REDIRECT.search(page.read_text(errors="replace"))
        if redirect:  # e.g. index.html -> book/intro.html: check the target exists, not twice
            problem = _link_problem(page, redirect.group(1), site, id_cache)
            problems = [problem] if problem else []
        else:
            shot = screenshots / (relative.replace("/", "__") + ".png") if screenshots else None
            problems = check_page(page, rendered_dom(chromium, page, shot), site, id_cache)
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
