"""Lecture mode: every lesson as a self-contained, offline reveal.js deck, plus instructor copies.

    python -m nls_lessons.publish.slides          # build/slides/NN_topic.slides.html (+ index.html)
    python -m nls_lessons.publish.slides --help

For live teaching, present a notebook in JupyterLab with RISE (``jupyterlab-rise``, in the
course environment): the same cell metadata drives both. This module builds the offline decks
(issue 9):

- Notebooks are executed with ``NLS_STATIC=1`` through the book's cache
  (:func:`nls_lessons.publish.book.executed_notebooks`), so an explorer shows its precomputed frames with
  a plain-JS slider, and a live widget shows what it displayed at its starting value.
- Slide structure comes from the cells' ``slideshow.slide_type`` (slide / subslide / fragment /
  skip / notes), exactly as RISE reads it; ``notes`` cells become speaker notes (press ``s``).
- Cells tagged ``remove-*`` or ``hide-*`` leave the slides (``hide-input`` keeps the outputs);
  ``solution`` cells run only in the instructor decks; the learner decks fold them behind
  "Show the solution" (:mod:`nls_lessons.publish.learner`, the same as the book and ``build/learner/``).
- reveal.js, its notes plugin and MathJax (from ``nls_lessons/publish/assets/vendor/``) and
  ``frames.js`` (from ``nls_lessons/widgets/``) are inlined: one HTML file per lesson, no network needed.

Every notebook in ``notebooks/instructor/`` (say the condensed ``50_minute_lecture.ipynb``)
becomes a deck as well, listed in ``build/slides/index.html`` under "Condensed lectures".

It also writes ``build/learner/`` (the learner versions of the lessons, no outputs) and
``build/instructor/`` (full notebooks with solutions, decks with solutions, and the instructor
notes from ``notebooks/instructor/``).
"""
from __future__ import annotations

import argparse
import copy
import html
import re
import shutil
import sys
import time
from pathlib import Path

from nls_lessons.publish import book, chapter
from nls_lessons.publish.learner import write_learner_copy

ASSETS = book.ASSETS
VENDOR = book.VENDOR
TEMPLATE_DIR = ASSETS / "slides"
SLIDES_DIR = Path("build/slides")
LEARNER_DIR = Path("build/learner")
INSTRUCTOR_DIR = Path("build/instructor")
INSTRUCTOR_NOTES = book.REPO / "notebooks" / "instructor"
REVEAL_VERSION = "5.2.1"

SLIDES_MATHJAX_CONFIG = """\
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
        processEscapes: true},
  svg: {fontCache: 'global'},
  options: {skipHtmlTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code']}
};"""


def _inline_js(text: str) -> str:
    return text.replace("</script", "<\\/script")


def _assets() -> dict[str, str]:
    read = lambda p: p.read_text(encoding="utf-8")  # noqa: E731
    theme = read(VENDOR / "reveal.js" / "theme" / "white.css")
    theme = re.sub(r"@import\s+url\([^)]*\)\s*;?", "", theme)      # web fonts: not vendored
    from nls_lessons.widgets.frames import FRAMES_JS   # the explorers' static frames own it

    frames = FRAMES_JS
    return {
        "reveal_version": REVEAL_VERSION,
        "reveal_css": read(VENDOR / "reveal.js" / "reveal.css"),
        "theme_css": theme,
        "reveal_js": _inline_js(read(VENDOR / "reveal.js" / "reveal.js")),
        "notes_js": _inline_js(read(VENDOR / "reveal.js" / "plugin" / "notes" / "notes.js")),
        "mathjax_config": SLIDES_MATHJAX_CONFIG,
        "mathjax_js": _inline_js(read(VENDOR / "mathjax" / "tex-svg-full.js")),
        "frames_js": _inline_js(read(frames)) if frames.exists() else "",
    }


def slide_cells(nb, *, instructor: bool = False):
    """A copy of an executed notebook ready for the deck.

    Folds solution cells (unless ``instructor``), drops ``remove-*``/``hide-*`` cells and inputs,
    empty code cells, and live-widget outputs (see :func:`nls_lessons.publish.chapter.staticize`). A dropped
    cell that started a slide hands its ``slide_type`` to the next cell kept.
    """
    from nls_lessons.publish.learner import static_exercises

    nb = copy.deepcopy(nb) if instructor else static_exercises(chapter.learner_cells(nb))
    chapter.staticize(nb)
    kept, pending = [], None
    for cell in nb.cells:
        tags = chapter.tags_of(cell)
        stype = chapter.slide_type(cell)
        drop = bool(tags & (chapter.REMOVE_CELL | chapter.HIDE_CELL))
        if cell.cell_type == "code" and not drop:
            if tags & (chapter.REMOVE_INPUT | chapter.HIDE_INPUT):
                cell.metadata.setdefault("transient", {})["remove_source"] = True
            if tags & (chapter.REMOVE_OUTPUT | chapter.HIDE_OUTPUT):
                cell.outputs = []
            hidden_source = cell.metadata.get("transient", {}).get("remove_source")
            if (hidden_source or not cell.source.strip()) and not cell.outputs:
                drop = True
        if cell.cell_type == "raw":
            drop = True
        if drop:
            if stype in ("slide", "subslide") and pending != "slide":
                pending = stype
            continue
        if pending and stype in ("-", "fragment", None):
            cell.metadata.setdefault("slideshow", {})["slide_type"] = pending
        pending = None
        kept.append(cell)
    nb.cells = kept
    if nb.cells and chapter.slide_type(nb.cells[0]) not in ("slide", "skip", "notes"):
        nb.cells[0].metadata.setdefault("slideshow", {})["slide_type"] = "slide"
    return nb


def export_deck(nb, title: str, target: Path | str, *, instructor: bool = False) -> Path:
    """Write one self-contained reveal.js deck of an executed notebook to ``target``."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    target = Path(target)
    nb = slide_cells(nb, instructor=instructor)
    for cell in nb.cells:    # nbconvert hides the input through this transient flag
        if cell.metadata.get("transient", {}).get("remove_source"):
            cell.source = ""
    config = Config()
    config.SlidesExporter.exclude_input_prompt = True
    config.SlidesExporter.exclude_output_prompt = True
    exporter = SlidesExporter(config=config, extra_template_basedirs=[str(TEMPLATE_DIR)],
                              template_name="nls_reveal")
    resources = {"nls": dict(_assets(), title=title), "metadata": {"name": title}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    # Markdown links to sibling lessons point to their decks.
    body = re.sub(r'href="(\./)?(\d\d_[\w-]+)\.(?:ipynb|py)(#[^"]*)?"',
                  lambda m: f'href="{m.group(2)}.slides.html{m.group(3) or ""}"', body)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return target


def _write_index(out_dir: Path, decks: list[tuple[str, str]], heading: str,
                 lecture_decks: list[tuple[str, str]] = ()) -> Path:
    def items(entries):
        return "\n".join(f'<li><a href="{html.escape(href)}">{html.escape(title)}</a></li>'
                         for title, href in entries)

    lectures = (f"<h2>Condensed lectures</h2><ul>\n{items(lecture_decks)}\n</ul>" if lecture_decks else "")
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(heading)}</title>'
            '<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.6}</style>'
            f"</head><body><h1>{html.escape(heading)}</h1><h2>Lessons</h2><ul>\n{items(decks)}\n</ul>{lectures}"
            "<p>Arrow keys move between slides; <kbd>s</kbd> opens the speaker notes; "
            "<kbd>f</kbd> goes full screen; <kbd>Esc</kbd> shows the overview.</p></body></html>\n")
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def write_notebook_copies(paths, root: Path) -> None:
    """``build/learner/`` (solutions folded, :func:`nls_lessons.publish.learner.write_learner_copy`) and
    ``build/instructor/`` (everything), no outputs."""
    import nbformat

    learner, instructor = root / LEARNER_DIR, root / INSTRUCTOR_DIR
    learner.mkdir(parents=True, exist_ok=True)
    instructor.mkdir(parents=True, exist_ok=True)
    for path in paths:
        write_learner_copy(path, learner / f"{Path(path).stem}.ipynb")
        nbformat.write(book.read_notebook(path), str(instructor / f"{Path(path).stem}.ipynb"))
    if INSTRUCTOR_NOTES.is_dir():
        for note in sorted(INSTRUCTOR_NOTES.glob("*.md")):
            shutil.copyfile(note, instructor / note.name)


def lecture_notebooks(folder: Path | str = INSTRUCTOR_NOTES) -> list[Path]:
    """The lecturer's own decks: every notebook in ``notebooks/instructor/`` (the ``.py`` source
    when it is a jupytext pair), sorted by name, e.g. ``50_minute_lecture.ipynb``."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    by_stem: dict[str, Path] = {}
    for path in sorted(folder.glob("*.ipynb")):
        pair = path.with_suffix(".py")
        by_stem[path.stem] = pair if pair.exists() else path
    return [by_stem[s] for s in sorted(by_stem)]


def build_slides(notebooks=None, *, root: Path | str = book.REPO, jobs: int = 2, instructor: bool = True,
                 lectures=None, cache_dir: Path | str | None = None, silence_timeout: float | None = None,
                 log=print) -> Path:
    """Build ``build/slides/`` (learner decks) and ``build/instructor/``; return the slides index.

    ``notebooks`` defaults to every lesson and then ``lectures`` to :func:`lecture_notebooks`
    (the condensed lecture decks); both become decks listed in ``build/slides/index.html``.
    """
    t0 = time.perf_counter()
    root = Path(root).resolve()
    paths = [Path(p) for p in (book.discover() if notebooks is None else notebooks)]
    if lectures is None:        # all lessons: all lecture decks too; chosen lessons: only those
        lectures = lecture_notebooks() if notebooks is None else []
    lecture_paths = [Path(p) for p in lectures]
    if not paths and not lecture_paths:
        raise ValueError("no notebooks to build")
    cache = Path(cache_dir) if cache_dir else root / book.CACHE_DIR
    everything = paths + lecture_paths
    log(f"==> executing {len(everything)} notebook(s) with NLS_STATIC=1 (cache: {cache})")
    executed = book.executed_notebooks(everything, cache_dir=cache, jobs=jobs,
                                       silence_timeout=silence_timeout, log=log)
    out = root / SLIDES_DIR
    out.mkdir(parents=True, exist_ok=True)
    decks, lecture_decks = [], []
    for path, nb in zip(everything, executed):
        title = book.title_of(nb, path.stem)
        export_deck(nb, title, out / f"{path.stem}.slides.html")
        (lecture_decks if path in lecture_paths else decks).append((title, f"{path.stem}.slides.html"))
        if instructor:
            export_deck(nb, title + " (instructor)", root / INSTRUCTOR_DIR / f"{path.stem}.slides.html",
                        instructor=True)
        log(f"  deck  {path.stem}.slides.html")
    index = _write_index(out, decks, "To Smooth or Not? Lecture slides", lecture_decks)
    if instructor:
        write_notebook_copies(paths, root)
        log(f"==> instructor copies (solutions, notes) in {root / INSTRUCTOR_DIR}; learner notebooks in {root / LEARNER_DIR}")
    log(f"==> {len(decks) + len(lecture_decks)} deck(s) built in {time.perf_counter() - t0:.1f} s: {index}")
    return index


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nls_lessons.publish.slides",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="lessons (default: every notebooks/NN_*.py)")
    parser.add_argument("--root", default=str(book.REPO), help="folder holding build/ (default: the repository)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default 2)")
    parser.add_argument("--no-instructor", action="store_true", help="skip build/instructor and build/learner")
    parser.add_argument("--silence-timeout", type=float, default=None, metavar="SECONDS",
                        help="restart a kernel silent this long while a cell runs (default 120, "
                             "or $NLS_SILENCE_TIMEOUT)")
    args = parser.parse_args(argv)
    index = build_slides(args.notebooks or None, root=args.root, jobs=args.jobs, instructor=not args.no_instructor,
                         silence_timeout=args.silence_timeout)
    print(f"\nThe slides are at {index}\n  open a deck in a browser: file://{index.parent}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
