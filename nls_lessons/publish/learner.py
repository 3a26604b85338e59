"""The learner version of a lesson: one mechanism that hides every answer until it is asked for.

Used by the book (:mod:`nls_lessons.publish.chapter`), the learner decks and ``build/learner/``
(:mod:`nls_lessons.publish.slides`), and the JupyterLab working copies
(:mod:`nls_lessons.publish.lab`)::

    from nls_lessons.publish.learner import learner_notebook, write_learner_copy
    nb = learner_notebook(nb)                      # a transformed copy; ``nb`` is untouched
    write_learner_copy("notebooks/01_label_noise.py", "work/01_label_noise.ipynb")

What changes (nothing else does):

- every code cell tagged ``solution`` becomes a markdown cell holding the solution code in a
  collapsed ``<details><summary>Show the solution</summary>`` block: its outputs (a "Correct."
  verdict, say) are dropped, and nothing of the code shows before the reader opens it. The new
  cell is tagged ``learner-solution`` and keeps the slide metadata of the cell it replaces.
  A markdown cell tagged ``solution`` (a written answer) is folded the same way.
- every markdown cell tagged ``hint`` is folded the same way behind "Show a hint".

The transformation is idempotent (a learner notebook comes back unchanged) and keeps the
notebook's metadata, so the copy opens with the same kernel and jupytext settings.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

from nls_lessons import files

SOLUTION_TAGS = {"solution", "solutions"}
HINT_TAGS = {"hint"}
LEARNER_SOLUTION_TAG = "learner-solution"
LEARNER_HINT_TAG = "learner-hint"
SOLUTION_SUMMARY = "Show the solution"
HINT_SUMMARY = "Show a hint"


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []) or [])


def is_solution(cell) -> bool:
    """True for a cell tagged ``solution`` (the cells a learner must not see unasked)."""
    return bool(_tags(cell) & SOLUTION_TAGS)


def fence(text: str, lang: str = "") -> str:
    """``text`` in a markdown code fence longer than any backtick run inside it (the book's
    chapters use it too)."""
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=2)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def folded(summary: str, body: str, css: str) -> str:
    """Markdown for a closed ``<details>`` block; the blank lines let ``body`` render as markdown
    in JupyterLab, mdBook and nbconvert alike."""
    return f'<details class="{css}">\n<summary>{summary}</summary>\n\n{body.strip()}\n\n</details>'


def _metadata(cell, tag: str) -> dict:
    meta = copy.deepcopy(dict(cell.get("metadata", {})))
    meta.pop("jupyter", None)          # outputs_hidden / source_hidden belong to the code cell
    meta.pop("collapsed", None)
    meta.pop("execution", None)
    tags = [t for t in meta.get("tags", []) if t not in SOLUTION_TAGS | HINT_TAGS]
    meta["tags"] = tags + [tag]
    return meta


def _pre(code: str) -> str:
    """The code as a raw HTML block. CommonMark ends a ``<pre>`` block only at ``</pre>``, so
    blank lines in the code are safe; and a static site's search index (mdBook's) skips raw
    HTML, so the answer is not found by searching either."""
    import html

    return f'<pre><code class="language-python">{html.escape(code.strip(), quote=False)}\n</code></pre>'


def learner_notebook(nb, *, html: bool = False):
    """A copy of ``nb`` (nbformat v4) with solutions and hints folded; see the module docstring.

    ``html=True`` puts a solution's code in a raw ``<pre>`` block instead of a fenced one: for
    static sites (the book), whose search must not find an answer. Shapes: the result has as
    many cells as ``nb``, in the same order.
    """
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if is_solution(cell):
            if cell.get("cell_type") == "code":
                body = _pre(cell.source) if html else fence(cell.source.strip(), "python")
            else:                                   # a written answer: its markdown, folded
                body = cell.source
            source = folded(SOLUTION_SUMMARY, body, "nls-solution")
            cell = _replaced(cell, source, LEARNER_SOLUTION_TAG)
        elif cell.get("cell_type") == "markdown" and _tags(cell) & HINT_TAGS:
            cell = _replaced(cell, folded(HINT_SUMMARY, cell.source, "nls-hint"), LEARNER_HINT_TAG)
        cells.append(cell)
    nb.cells = cells
    return nb


#: The note the static exports (book, offline decks) show instead of a self-check's verdict on
#: the starter ``answer = None``: checking needs a kernel, the answer is one click away.
CHECK_NOTE = ("The self-check runs in JupyterLab: put your answer in place of `None` and run the "
              "cell there. Here, compare with *Show the solution* below.")


def _text(out) -> str:
    if out.get("output_type") == "stream":
        text = out.get("text", "")
    else:
        text = out.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def static_exercises(nb):
    """In place, for exports without a kernel (the book, the offline decks) of an *executed*
    learner notebook (:func:`learner_notebook`):

    - a code cell that shows a self-check's verdict on the starter value
      (``exercises.NOT_YET``: "Not yet. Replace `None` ...") shows :data:`CHECK_NOTE` instead,
      so the book never sends a reader to run a cell it cannot run;
    - code cells after a folded solution, up to the next markdown cell, belong to the solved
      exercise (a check run on the solution's answer, say): their outputs are dropped, since a
      verdict computed from the answer gives the answer away.
    """
    import nbformat

    from nls_lessons.exercises import NOT_YET

    after_solution = False
    for cell in nb.cells:
        kind = cell.get("cell_type")
        if kind == "markdown":
            after_solution = LEARNER_SOLUTION_TAG in _tags(cell) or (
                after_solution and LEARNER_HINT_TAG in _tags(cell))
            continue
        if kind != "code":
            continue
        if after_solution:
            cell.outputs = []
        elif any(NOT_YET in _text(o) for o in cell.get("outputs", [])):
            cell.outputs = [nbformat.v4.new_output(
                "display_data", data={"text/markdown": f'<div class="nls-check-note">\n\n{CHECK_NOTE}\n\n</div>',
                                      "text/plain": CHECK_NOTE})]
    return nb


def strip_outputs(nb):
    """In place: no outputs, no execution counts (a fresh notebook to run)."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def _replaced(cell, source: str, tag: str):
    """A markdown cell holding ``source`` in place of ``cell``, keeping its id (so the same lesson
    always gives the same learner notebook, byte for byte)."""
    import nbformat

    new = nbformat.v4.new_markdown_cell(source, metadata=_metadata(cell, tag))
    if "id" in cell:
        new["id"] = cell["id"]
    return new


def write_learner_copy(src: Path | str, dst: Path | str) -> Path:
    """Write the learner version of lesson ``src`` (``.py`` percent or ``.ipynb``) to ``dst``.

    ``dst`` is written as ``.ipynb`` without outputs (any other suffix is refused), atomically,
    so a reader never sees half a file. Returns ``dst``.
    """
    import jupytext
    import nbformat

    src, dst = Path(src), Path(dst)
    if dst.suffix != ".ipynb":
        raise ValueError(f"dst must name an .ipynb file, got {str(dst)!r}")
    if not src.is_file():
        raise FileNotFoundError(f"src: no lesson at {str(src)!r}")
    nb = strip_outputs(learner_notebook(jupytext.read(str(src))))
    # jupytext metadata would pair the copy (JupyterLab writing a .py beside it, or refusing it)
    nb.metadata.pop("jupytext", None)
    dst.parent.mkdir(parents=True, exist_ok=True)
    return files.write_atomic(dst, nbformat.writes(nb) + "\n", fsync=False)
