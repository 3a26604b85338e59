"""One executed lesson -> one mdBook chapter: the page builder of the static book (and the
cell rules the slides share).

    from nls_lessons.publish.chapter import notebook_to_markdown, staticize
    md = notebook_to_markdown(executed_nb, "01_label_noise", "build/book-src", solutions={})

Used by :mod:`nls_lessons.publish.book` (``make book``, every lesson 00-06) and
:mod:`nls_lessons.publish.slides` (``make slides``: :func:`tags_of`, :func:`slide_type`,
:func:`staticize`, :func:`learner_cells`, the tag sets). It owns

- the cell tags (``remove-*`` / ``hide-*`` / ``solution``; see ``notebooks/instructor/README.md``)
  and what each export does with them;
- static outputs: a live widget replaced by what it displayed (the Output widgets captured in the
  notebook's widget state), widget and matplotlib reprs dropped;
- the chapter markdown: code in fenced blocks, figures written as image files with alt text,
  HTML outputs with their ``data:`` images extracted, ``hide-*`` cells folded in ``<details>``,
  solutions folded behind "Show the solution" (:mod:`nls_lessons.publish.learner`) with their
  code kept out of the markdown and put back into the built pages by :func:`fill_solutions`.
"""
from __future__ import annotations

import base64
import copy
import html
import re
import shutil
from pathlib import Path

from nls_lessons.publish.learner import LEARNER_SOLUTION_TAG, SOLUTION_TAGS, fence

# Tags: which cells leave which export.
REMOVE_CELL = {"remove-cell", "remove_cell"}
REMOVE_INPUT = {"remove-input", "remove_input"}
REMOVE_OUTPUT = {"remove-output", "remove_output"}
HIDE_CELL = {"hide-cell", "hide_cell"}
HIDE_INPUT = {"hide-input", "hide_input"}
HIDE_OUTPUT = {"hide-output", "hide_output"}
SOLUTION = SOLUTION_TAGS
SOLUTION_PRE_RE = re.compile(r'<pre><code class="language-python">.*?</code></pre>', re.S)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# text/plain reprs that only mean "a widget was here" (or matplotlib noise): never shown.
JUNK_REPR_RE = re.compile(
    r"^\s*(?:interactive\(|Output\(|[A-Z]\w*(?:Slider|Box|Button|Buttons|Dropdown|Text|Textarea|"
    r"Checkbox|Select|SelectMultiple|Progress|Play|Label|HTML|HTMLMath|Image|Tab|Accordion|Stack|"
    r"Layout|Picker|Toggle|ToggleButton|ToggleButtons|Valid|Widget)\(|<Figure size [^>]*>\s*$|"
    r"<matplotlib\.[\w.]+ object at 0x[0-9a-f]+>\s*$|<function [\w.<>]+\(.*\)>\s*$|\[<matplotlib\.[\w.]+ object at|Text\(-?[\d.e+-]+, -?[\d.e+-]+, )",
    re.S)
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
DATA_URI_RE = re.compile(r"""(src|href)=(["'])data:image/(png|jpeg|gif|svg\+xml);base64,([A-Za-z0-9+/=\s]+)\2""")
NOTEBOOK_LINK_RE = re.compile(r"\]\((\./)?(\d\d_[\w-]+)\.(?:ipynb|py)(#[^)\s]*)?\)")
ALT_COMMENT_RE = re.compile(r"^\s*#\s*alt\s*:\s*(.+?)\s*$", re.M | re.I)
IMAGE_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/svg+xml": "svg"}


# ---------------------------------------------------------------------------- cells
def tags_of(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []) or [])


def slide_type(cell) -> str:
    return (cell.get("metadata", {}).get("slideshow") or {}).get("slide_type", "-") or "-"


def learner_cells(nb):
    """The learner version of ``nb`` for static pages (a copy): solutions folded behind
    "Show the solution", their code as raw HTML (kept out of the search index).

    The one mechanism every learner-facing export uses: :func:`nls_lessons.publish.learner.learner_notebook`.
    """
    from nls_lessons.publish.learner import learner_notebook

    return learner_notebook(nb, html=True)

# ---------------------------------------------------------------------------- static outputs
def _widget_state(nb) -> dict:
    return ((nb.metadata.get("widgets") or {}).get(WIDGET_STATE) or {}).get("state") or {}


def _widget_outputs(model_id: str, state: dict, seen=None) -> list:
    """The outputs captured by Output widgets inside widget ``model_id`` (depth first)."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id]
    st = model.get("state", {})
    outs = list(st.get("outputs", [])) if model.get("model_name") == "OutputModel" else []
    for child in st.get("children", []) or []:
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            outs += _widget_outputs(child[len("IPY_MODEL_"):], state, seen)
    return outs


def static_outputs(outputs, nb) -> list:
    """Outputs with live widgets replaced by what they displayed, and widget reprs dropped."""
    import nbformat

    state = _widget_state(nb)
    result = []
    for out in outputs:
        data = out.get("data", {}) if out.get("output_type") in ("display_data", "execute_result") else None
        if data is not None and WIDGET_VIEW in data:
            model_id = (data[WIDGET_VIEW] or {}).get("model_id", "")
            inner = [nbformat.from_dict(o) for o in _widget_outputs(model_id, state)]
            result += static_outputs(inner, nb)
            continue
        if data is not None:
            data = {k: v for k, v in data.items() if not k.startswith("application/vnd.jupyter.widget")}
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if set(data) <= {"text/plain"} and (not text.strip() or JUNK_REPR_RE.match(text)):
                continue
            out = copy.deepcopy(out)
            out["data"] = data
        result.append(out)
    return result


def staticize(nb):
    """In place: every code cell's outputs made static (see :func:`static_outputs`)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = static_outputs(cell.get("outputs", []), nb)
    return nb


# ---------------------------------------------------------------------------- markdown chapter
def _stream_text(text: str) -> str:
    text = ANSI_RE.sub("", text)
    # progress bars rewrite their line with \r: keep what a terminal would show
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def _details(summary: str, body: str, css: str) -> str:
    return (f'<details class="nls-fold {css}"><summary>{html.escape(summary)}</summary>\n\n'
            f"{body}\n\n</details>")


class _Chapter:
    """Writes one notebook's chapter markdown and its image files."""

    def __init__(self, stem: str, src_dir: Path, solutions: dict | None = None):
        self.stem = stem
        self.src_dir = src_dir
        self.solutions = solutions
        self.img_rel = f"img/{stem}"
        self.img_dir = src_dir / "img" / stem
        self.count = 0
        self.heading = ""

    def _solution_placeholder(self, source: str) -> str:
        """The folded solution with its code swapped for a placeholder that
        :func:`fill_solutions` replaces in the built pages, after mdBook has built its search
        index: a search never finds (nor shows a teaser of) an answer."""
        key = f"{self.stem}-{len(self.solutions) + 1}"
        body = SOLUTION_PRE_RE.search(source)
        self.solutions[key] = body.group(0) if body else ""
        hole = f'<div class="nls-solution-body" data-nls-solution="{key}"></div>'
        return SOLUTION_PRE_RE.sub(lambda m: hole, source) if body else source

    def _write_image(self, payload: bytes, ext: str) -> str:
        self.count += 1
        name = f"{self.stem}-fig{self.count:02d}.{ext}"
        self.img_dir.mkdir(parents=True, exist_ok=True)
        (self.img_dir / name).write_bytes(payload)
        return f"{self.img_rel}/{name}"

    def _alt(self, cell, out, index: int) -> str:
        alts = ALT_COMMENT_RE.findall(cell.source)
        if alts:
            return alts[min(index, len(alts) - 1)]
        meta = out.get("metadata", {}) or {}
        # top-level keys, or per-mimetype ones (what an IPython formatter returning
        # (data, {"alt": ...}) produces, as nls_lessons.plots does for every figure)
        for scope in (meta, *(v for v in meta.values() if isinstance(v, dict))):
            for key in ("alt", "alt_text"):
                if isinstance(scope.get(key), str):
                    return scope[key]
        plain = out.get("data", {}).get("text/plain", "")
        plain = "".join(plain) if isinstance(plain, list) else plain
        if plain and not JUNK_REPR_RE.match(plain) and not plain.startswith("<"):
            return plain.strip()[:200]
        where = f" in “{self.heading}”" if self.heading else ""
        return f"Figure {self.count}{where} ({self.stem})"

    def _html(self, text: str) -> str:
        def extract(m):
            attr, quote, kind, payload = m.groups()
            rel = self._write_image(base64.b64decode(re.sub(r"\s+", "", payload)), IMAGE_EXT[f"image/{kind}"])
            return f"{attr}={quote}{rel}{quote}"

        text = DATA_URI_RE.sub(extract, text)
        # frames.js is loaded book-wide; drop inline copies of it
        text = re.sub(r"<script>(?:(?!</script>).)*nlsFramesInit(?:(?!</script>).)*</script>", "", text, flags=re.S)
        lines = [line for line in text.splitlines() if line.strip()]   # a blank line ends an HTML block
        return '<div class="nls-output nls-html">\n' + "\n".join(lines) + "\n</div>"

    def output(self, cell, out, index: int) -> str:
        kind = out.get("output_type")
        if kind == "stream":
            text = _stream_text("".join(out.get("text", "")))
            return fence(text, "text") if text.strip() else ""
        if kind == "error":
            return fence(ANSI_RE.sub("", "\n".join(out.get("traceback", []))), "text")
        data = out.get("data", {})
        for mime in ("image/svg+xml", "image/png", "image/jpeg", "image/gif"):
            if mime in data:
                payload = data[mime]
                payload = "".join(payload) if isinstance(payload, list) else payload
                raw = payload.encode() if mime == "image/svg+xml" else base64.b64decode(payload)
                alt = self._alt(cell, out, index)
                rel = self._write_image(raw, IMAGE_EXT[mime])
                alt_md = re.sub(r"([\[\]\\])", r"\\\1", alt.replace("\n", " "))
                return f"![{alt_md}]({rel})"
        if "text/html" in data:
            text = data["text/html"]
            return self._html("".join(text) if isinstance(text, list) else text)
        if "text/markdown" in data:
            text = data["text/markdown"]
            return "".join(text) if isinstance(text, list) else text
        if "text/latex" in data:
            text = data["text/latex"]
            return "".join(text) if isinstance(text, list) else text
        if "text/plain" in data:
            text = data["text/plain"]
            text = ANSI_RE.sub("", "".join(text) if isinstance(text, list) else text)
            return fence(text, "text") if text.strip() else ""
        return ""

    def cell(self, cell) -> str:
        tags = tags_of(cell)
        if tags & (REMOVE_CELL | SOLUTION) or slide_type(cell) == "notes":
            return ""
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                m = re.match(r"^#{1,6}\s+(.+?)\s*$", line)
                if m:
                    self.heading = re.sub(r"[*_`]", "", m.group(1))
            if self.solutions is not None and LEARNER_SOLUTION_TAG in tags:
                return self._solution_placeholder(cell.source)
            return NOTEBOOK_LINK_RE.sub(lambda m: f"]({m.group(2)}.md{m.group(3) or ''})", cell.source)
        if cell.cell_type != "code":
            return ""
        parts = []
        source = cell.source.strip()
        if source and not tags & REMOVE_INPUT:
            code = fence(source, "python")
            parts.append(_details("Show code", code, "nls-code") if tags & HIDE_INPUT else code)
        if not tags & REMOVE_OUTPUT:
            rendered, images = [], 0
            for out in cell.get("outputs", []):
                md = self.output(cell, out, images)
                if out.get("output_type") in ("display_data", "execute_result") and any(
                        k.startswith("image/") for k in out.get("data", {})):
                    images += 1
                if md:
                    rendered.append(md)
            if rendered:
                body = "\n\n".join(rendered)
                parts.append(_details("Show output", body, "nls-outputs") if tags & HIDE_OUTPUT else body)
        if not parts:
            return ""
        text = "\n\n".join(parts)
        return _details("Show code cell", text, "nls-cell") if tags & HIDE_CELL else text


def notebook_to_markdown(nb, stem: str, src_dir: Path | str, solutions: dict | None = None) -> str:
    """One executed notebook → the chapter's markdown; images are written under ``src_dir/img/stem``.

    Solutions are folded (:func:`learner_cells`). With a ``solutions`` dict, their code is left
    out of the markdown (a placeholder per solution, its HTML stored in the dict) for
    :func:`fill_solutions` to put back into the built pages.
    """
    from nls_lessons.publish.learner import static_exercises

    src_dir = Path(src_dir)
    shutil.rmtree(src_dir / "img" / stem, ignore_errors=True)
    chapter = _Chapter(stem, src_dir, solutions)

    nb = static_exercises(staticize(learner_cells(nb)))
    blocks = [chapter.cell(c) for c in nb.cells]
    return "\n\n".join(b.strip("\n") for b in blocks if b.strip()) + "\n"


PLACEHOLDER_RE = re.compile(r'<div class="nls-solution-body" data-nls-solution="([\w.-]+)"></div>')


def fill_solutions(out_dir: Path, solutions: dict) -> int:
    """Put each solution's code into the built pages (``print.html`` too); return how many."""
    filled = 0
    for page in Path(out_dir).glob("*.html"):
        text = page.read_text(encoding="utf-8")
        new, n = PLACEHOLDER_RE.subn(lambda m: solutions.get(m.group(1), m.group(0)), text)
        if n:
            page.write_text(new, encoding="utf-8")
            filled += n
    return filled
