"""Execute the book's chapters into the build's execution cache, several at a time.

`jupyter-book build` with ``execute_notebooks: cache`` runs every notebook whose code cells are
not in its jupyter-cache, one after another, inside the build. This script fills that same
cache first (``<build-dir>/_build/.jupyter_cache``, where myst-nb looks), up to ``--jobs``
notebooks at once, longest first (the times of the previous run are kept beside the cache).
The build that follows then only renders: it finds every chapter that succeeded here in the
cache, and executes again only those that failed, so that it reports their error itself
(``reports/<chapter>.err.log`` and "Executing notebook failed" in its log).

The cache matches a notebook by its code cells and kernel, not by the package it imports.
``--package-fingerprint`` empties the cache when ``ganbook_utils`` changed since the cache was
filled, so that a test run never shows outputs made by older package code.

Usage: GANBOOK_PROFILE=smoke python tools/execute_book.py --build-dir _build/smoke --jobs 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ganbook_utils"


def book_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks of the table of contents, in its order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    entries = [toc["root"]] + [
        chapter["file"] for part in toc.get("parts", []) for chapter in part["chapters"]
    ]
    return [root / f"{entry}.ipynb" for entry in entries if (root / f"{entry}.ipynb").is_file()]


def cache_dir(build_dir: Path) -> Path:
    """Where myst-nb keeps the execution cache of a `jupyter-book build --path-output DIR`."""
    return build_dir / "_build" / ".jupyter_cache"


def cell_timeout(root: Path = ROOT) -> int:
    """The per-cell timeout of the book build (``execute.timeout`` in _config.yml)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    return int(config.get("execute", {}).get("timeout", 30))


def package_fingerprint(package: Path = PACKAGE) -> str:
    """A hash of every file of the package (code, weights, provenance) but caches."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def invalidate_if_package_changed(build_dir: Path) -> bool:
    """Empty the execution cache if the package changed since it was filled; True if emptied."""
    stamp = build_dir / "package-fingerprint.txt"
    current = package_fingerprint()
    if stamp.is_file() and stamp.read_text().strip() == current:
        return False
    emptied = cache_dir(build_dir).exists()
    shutil.rmtree(cache_dir(build_dir), ignore_errors=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return emptied


def _execute_one(cache_path: str, pk: int, timeout: int) -> tuple[str, float, str | None, object]:
    """Execute one staged notebook in its own folder (what myst-nb does in cache mode).

    Returns (status, seconds, error, notebook) with status "executed" or "failed"; the caller
    caches the executed notebook (one process writes the cache's SQLite database: two writing
    at once fail with "UNIQUE constraint failed: nbcache.hashkey").
    """
    from jupyter_cache import get_cache
    from jupyter_cache.executors.utils import single_nb_execution

    cache = get_cache(cache_path)
    project_notebook = cache.get_project_notebook(pk)
    notebook = project_notebook.nb
    result = single_nb_execution(
        notebook,
        cwd=str(Path(project_notebook.uri).parent),
        timeout=timeout,
        allow_errors=False,
        meta_override=True,
    )
    if result.err is not None:
        text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", result.exc_string or "")  # no colours
        last_line = text.strip().splitlines()[-1:] or [""]
        error = f"{type(result.err).__name__}: {last_line[0]}"
        return "failed", result.time, error, result.exc_string
    return "executed", result.time, None, notebook


def _record(cache, uri: str, outcome: tuple) -> tuple[str, float, str | None]:
    """Write one notebook's outcome to the cache (from the parent process alone)."""
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    status, seconds, error, payload = outcome
    if status == "failed":
        NbProjectRecord.set_traceback(uri, payload, cache.db)
    else:
        cache.cache_notebook_bundle(
            CacheBundleIn(payload, uri, data={"execution_seconds": seconds}),
            check_validity=False,
            overwrite=True,
        )
    return status, seconds, error


def execute(
    notebooks: list[Path], build_dir: Path, jobs: int = 1, timeout: int | None = None
) -> dict[str, tuple[str, float, str | None]]:
    """Execute the notebooks that the cache lacks, ``jobs`` at a time; one report per notebook.

    Returns {path relative to the repository: (status, seconds, error)}, status one of
    "cached", "executed", "failed".
    """
    from jupyter_cache import get_cache

    timeout = cell_timeout() if timeout is None else timeout
    cache_path = cache_dir(build_dir)
    cache = get_cache(str(cache_path))
    times_file = build_dir / "execution-seconds.json"
    previous = json.loads(times_file.read_text()) if times_file.is_file() else {}

    names = [str(path.relative_to(ROOT)) for path in notebooks]
    report: dict[str, tuple[str, float, str | None]] = {}
    pending = []
    for name, path in zip(names, notebooks, strict=True):
        record = cache.add_nb_to_project(str(path))
        if cache.get_cached_project_nb(record.pk) is None:
            pending.append((name, record.pk))
        else:
            report[name] = ("cached", 0.0, None)
    # Longest first, so that the last notebook to start is a short one.
    pending.sort(key=lambda item: -previous.get(item[0], float("inf")))

    uris = {pk: cache.get_project_record(pk).uri for _, pk in pending}
    if jobs > 1 and len(pending) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(pending))) as pool:
            futures = {
                name: (pk, pool.submit(_execute_one, str(cache_path), pk, timeout))
                for name, pk in pending
            }
            for name, (pk, future) in futures.items():
                report[name] = _record(cache, uris[pk], future.result())
    else:
        for name, pk in pending:
            report[name] = _record(cache, uris[pk], _execute_one(str(cache_path), pk, timeout))

    times = {**previous, **{n: round(r[1], 1) for n, r in report.items() if r[0] != "cached"}}
    build_dir.mkdir(parents=True, exist_ok=True)
    times_file.write_text(json.dumps(times, indent=1, sort_keys=True) + "\n")
    return {name: report[name] for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, required=True, help="jupyter-book --path-output")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks executed at once")
    parser.add_argument(
        "--package-fingerprint",
        action="store_true",
        help="empty the cache first if ganbook_utils changed since it was filled",
    )
    args = parser.parse_args()
    build_dir = args.build_dir.resolve()
    if args.package_fingerprint and invalidate_if_package_changed(build_dir):
        print("ganbook_utils changed since the last run: execution cache emptied")
    start = time.perf_counter()
    report = execute(book_notebooks(), build_dir, jobs=max(1, args.jobs))
    for name, (status, seconds, error) in report.items():
        detail = f" in {seconds:.1f} s" if status != "cached" else ""
        print(f"{status:>8} {name}{detail}" + (f": {error}" if error else ""))
    executed = sum(status != "cached" for status, _, _ in report.values())
    print(
        f"{executed} of {len(report)} notebooks executed ({args.jobs} at a time) in "
        f"{time.perf_counter() - start:.1f} s, {len(report) - executed} found in the cache"
    )


if __name__ == "__main__":
    main()
