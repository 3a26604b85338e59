"""Lecture mode (issue 9): offline reveal.js decks, solutions kept out of learner exports,
instructor notes present, and one deck driven in headless chromium."""
from __future__ import annotations

import json
import re

import pytest

from nls_lessons.publish import book, chapter, slides

from publishing import (ALLOWED_URL, EXEC_CACHE, FIXTURE, REMOVED_MARKER, REPO, SCREENSHOTS,
                        SOLUTION_MARKER, WELCOME, exec_cache_lock, outside_details)

WIDGET_REPR_RE = re.compile(r"(IntSlider|FloatSlider|Dropdown|VBox|HBox)\(value|Output\(\)|interactive\(children|"
                            r"&lt;function |application/vnd\.jupyter\.widget-view")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("slides")
    with exec_cache_lock():
        index = slides.build_slides([WELCOME, FIXTURE], root=root, cache_dir=EXEC_CACHE, log=lambda *a: None)
    return root, index


def _unexecuted(path):
    nb = book.read_notebook(path)
    for cell in nb.cells:
        cell.setdefault("outputs", []) if cell.cell_type == "code" else None
    return nb


def test_slide_cells_respect_tags_and_keep_slide_starts():
    nb = _unexecuted(FIXTURE)
    learner = slides.slide_cells(nb)
    text = "\n".join(c.source for c in learner.cells)
    assert REMOVED_MARKER not in text
    assert SOLUTION_MARKER not in outside_details(text)                   # folded, as in the book
    assert "<summary>Show the solution</summary>" in text
    assert "import base64" not in text                         # hide-input code without outputs leaves
    assert chapter.slide_type(learner.cells[0]) == "slide"
    assert SOLUTION_MARKER in json.dumps(slides.slide_cells(nb, instructor=True))


def test_decks_are_self_contained_and_learner_safe(built):
    root, index = built
    out = root / "build" / "slides"
    decks = sorted(out.glob("*.slides.html"))
    assert [d.name for d in decks] == ["00_welcome.slides.html", "book_demo.slides.html"]
    for deck in decks:
        text = deck.read_text(encoding="utf-8")
        markup = re.sub(r"(<script[^>]*>).*?</script>", r"\1</script>", text, flags=re.S)   # tags, not inlined code
        # nothing is loaded from elsewhere: no external <script src>, <link href>, <img src>
        assert not re.search(r'<(script|img|iframe|source|video|audio)[^>]+src="(?!data:)[^"]+"', markup), deck.name
        assert not re.search(r'<link[^>]+href="(?!data:)[^"]+"', markup), deck.name
        assert "Reveal.initialize" in text and "MathJax" in text
        assert REMOVED_MARKER not in text, deck.name
        assert SOLUTION_MARKER not in outside_details(text), deck.name
        assert "✓ Correct" not in markup and "Not yet" not in markup, deck.name
        assert not WIDGET_REPR_RE.search(text), (deck.name, WIDGET_REPR_RE.search(text))
    demo = (out / "book_demo.slides.html").read_text(encoding="utf-8")
    assert demo.count("<section") >= 4
    assert '<aside class="notes">' in demo and "Speaker note" in demo
    assert 'class="nls-frames"' in demo and "nlsFramesInit" in demo
    assert "target: [0.06, 0.06, 0.76, 0.06, 0.06]" in (out / "00_welcome.slides.html").read_text(encoding="utf-8")
    assert index.exists() and "book_demo.slides.html" in index.read_text()


def test_solutions_only_in_instructor_exports(built):
    import nbformat

    root, _ = built
    learner = root / "build" / "learner" / "book_demo.ipynb"
    instructor = root / "build" / "instructor"
    learner_nb = nbformat.read(str(learner), as_version=4)
    assert not any(SOLUTION_MARKER in outside_details(c.source) for c in learner_nb.cells)
    assert all(not c.get("outputs") for c in learner_nb.cells if c.cell_type == "code")
    assert SOLUTION_MARKER in (instructor / "book_demo.ipynb").read_text(encoding="utf-8")
    assert SOLUTION_MARKER in (instructor / "book_demo.slides.html").read_text(encoding="utf-8")
    assert (instructor / "00_welcome.md").exists()                 # the instructor notes travel along


@pytest.mark.parametrize("lesson", book.discover(), ids=lambda p: p.stem)
def test_every_lesson_deck_has_at_least_five_slides(lesson):
    cells = slides.slide_cells(_unexecuted(lesson)).cells
    n = sum(chapter.slide_type(c) in ("slide", "subslide") for c in cells)
    assert n >= 5, f"{lesson.name}: {n} slide(s); mark its sections with slideshow slide_type metadata"


def test_lecture_decks_are_built_and_listed(tmp_path):
    lecture = tmp_path / "instructor" / "50_minute_lecture.ipynb"
    lecture.parent.mkdir()
    nb = book.read_notebook(FIXTURE)
    nb.cells[0].source = nb.cells[0].source.replace("90 · Book demo", "50-minute lecture")
    import nbformat

    nbformat.write(nb, str(lecture))
    assert slides.lecture_notebooks(lecture.parent) == [lecture]
    index = slides.build_slides([], lectures=[lecture], root=tmp_path / "out", cache_dir=EXEC_CACHE,
                                instructor=False, log=lambda *a: None)
    page = index.read_text(encoding="utf-8")
    assert "Condensed lectures" in page and 'href="50_minute_lecture.slides.html"' in page
    deck = index.parent / "50_minute_lecture.slides.html"
    assert "Reveal.initialize" in deck.read_text(encoding="utf-8")


def test_every_lesson_has_instructor_notes():
    notes = REPO / "notebooks" / "instructor"
    assert (notes / "TEMPLATE.md").exists()
    for lesson in book.discover():
        text = (notes / f"{lesson.stem}.md").read_text(encoding="utf-8")
        for heading in ("## Learning objectives", "## 50-minute plan", "## Discussion questions",
                        "## Common misconceptions", "## Exercise solutions"):
            assert heading in text, (lesson.stem, heading)


@pytest.mark.browser
@pytest.mark.slow
def test_deck_in_chromium(built, browser):
    root, _ = built
    deck = root / "build" / "slides" / "book_demo.slides.html"
    page = browser.new_page(viewport={"width": 1280, "height": 760})
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(deck.as_uri())
    page.wait_for_function("window.Reveal && Reveal.isReady() && window.MathJax && MathJax.startup")
    page.evaluate("MathJax.startup.promise")
    assert page.evaluate("Reveal.getIndices().h") == 0
    # math typeset on the title slide, no raw TeX left in its text
    current = page.locator("section.present").first
    assert current.locator("mjx-container svg").count() >= 2
    visible_text = page.evaluate("""() => {
        const s = document.querySelector('section.present').cloneNode(true);
        s.querySelectorAll('mjx-container, pre, code, aside, script, style').forEach(e => e.remove());
        return s.innerText; }""")
    assert not re.search(r"\$\$|\\\(|\\frac|\\tilde|\$\\", visible_text), visible_text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "slides-title.png"))
    seen = []
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
        seen.append((page.evaluate("Reveal.getIndices()")["h"], page.evaluate("location.hash")))
    assert [h for h, _ in seen] == sorted({h for h, _ in seen}) and seen[-1][0] >= 2, seen   # moved right each time
    # the static explorer works in the deck too
    page.evaluate("""() => { const s = Reveal.getSlides().find(s => s.querySelector('.nls-frames'));
                             const i = Reveal.getIndices(s); Reveal.slide(i.h, i.v); }""")
    page.wait_for_timeout(150)
    visible = "document.querySelector('.nls-frames img.nls-frame:not([hidden])').dataset.key"
    before = page.evaluate(visible)
    page.locator("input.nls-frames-slider").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate(visible) != before
    page.evaluate("document.querySelector('section.present .nls-frames').scrollIntoView()")
    page.screenshot(path=str(SCREENSHOTS / "slides-explorer.png"))
    leaked = [u for u in requests if not ALLOWED_URL.match(u)]
    assert not leaked, leaked
    page.close()


SLIDE_FIT_JS = """() => {
  const W = innerWidth, H = innerHeight, s = Reveal.getCurrentSlide(), r = s.getBoundingClientRect();
  const idx = Reveal.getIndices();
  const out = {slide: idx.h + '/' + (idx.v || 0), scale: s.dataset.nlsScale || null,
               rect: [r.left, r.top, r.right, r.bottom].map(Math.round)};
  out.overflow = s.scrollHeight > s.clientHeight + 1 || s.scrollWidth > s.clientWidth + 1;
  out.offscreen = r.left < -1 || r.top < -1 || r.right > W + 1 || r.bottom > H + 1;
  out.cut_images = Array.from(s.querySelectorAll('img')).filter(i => i.offsetParent !== null).map(i => {
      const b = i.getBoundingClientRect(); return [i.alt.slice(0, 40), b.left, b.top, b.right, b.bottom].map(
        x => typeof x === 'number' ? Math.round(x) : x); })
    .filter(b => b[1] < r.left - 1 || b[2] < r.top - 1 || b[3] > r.right + 1 || b[4] > r.bottom + 1);
  out.clipped_code = Array.from(s.querySelectorAll('pre')).filter(p => p.scrollWidth > p.clientWidth + 1).length;
  return out;
}"""


def check_deck_fits(page, deck, shots=None, strict=True):
    """Every slide of ``deck`` at the page's viewport: nothing taller or wider than the slide, no
    figure cut, no code clipped (asserted unless ``strict`` is false). Returns the per-slide
    measurements (for a report on the real lessons' decks)."""
    page.goto(deck.as_uri())
    page.wait_for_function("window.Reveal && Reveal.isReady() && window.MathJax && MathJax.startup")
    page.evaluate("MathJax.startup.promise")
    page.wait_for_load_state("load")
    n = page.evaluate("Reveal.getSlides().length")
    measured = []
    for k in range(n):
        page.evaluate("k => { const s = Reveal.getSlides()[k]; const i = Reveal.getIndices(s); Reveal.slide(i.h, i.v); }", k)
        page.wait_for_timeout(60)
        m = page.evaluate(SLIDE_FIT_JS)
        measured.append(m)
        if shots is not None and m["scale"] not in (None, "1.000"):
            shots.append(m["slide"])
            page.screenshot(path=str(SCREENSHOTS / f"slides-{deck.stem.split('.')[0]}-{m['slide'].replace('/', '-')}.png"))
        if not strict:
            continue
        assert not m["overflow"] and not m["offscreen"], (deck.name, m)
        assert not m["cut_images"], (deck.name, m)
        assert not m["clipped_code"], (deck.name, m)
    return measured


@pytest.mark.browser
@pytest.mark.slow
def test_every_slide_fits_a_1280x720_screen(built, browser):
    root, _ = built
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    scaled = []
    for deck in sorted((root / "build" / "slides").glob("*.slides.html")):
        measured = check_deck_fits(page, deck, scaled)
        assert len(measured) >= 5, (deck.name, len(measured))
    # the fixture's tall figure needed scaling, and was scaled rather than cut
    assert scaled, "no slide needed fitting: the fixture's tall slide did not exercise the fit"
    page.close()


# ------------------------------------------------- what a presenter runs (RISE), from slide metadata
#: RISE (jupyterlab-rise 0.43, ``markupSlides``) builds the deck from the cells in notebook order:
#: a cell whose ``slide_type`` is ``notes`` goes into the speaker notes and ``skip`` is hidden;
#: every other cell is on a shown slide. A presenter runs the shown code cells with Shift+Enter.
HIDDEN_SLIDE_TYPES = ("notes", "skip")


def _code_names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds, names it reads before binding them), in evaluation order; a
    comprehension's or a function's own names stay local, IPython magic and shell lines are left out."""
    import ast

    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    bound, free, deferred = set(), set(), []

    def visit(node, local=frozenset()):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                if node.id not in bound and node.id not in local:
                    free.add(node.id)
            elif not local:
                bound.add(node.id)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
            if node.value is not None:
                visit(node.value, local)
            for target in getattr(node, "targets", None) or [node.target]:
                visit(target, local)
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.target, ast.Name):
                visit(ast.Name(node.target.id, ast.Load()), local)
            visit(node.value, local)
            visit(node.target, local)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            for part in [node.iter, node.target, *node.body, *node.orelse]:
                visit(part, local)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            for part in getattr(node, "decorator_list", []) + getattr(getattr(node, "args", None), "defaults", []):
                visit(part, local)
            if not isinstance(node, ast.Lambda):
                bound.add(node.name)
            deferred.append(node)             # its body runs later: read what it reads at the end
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            names = set(local)
            for gen in node.generators:
                visit(gen.iter, frozenset(names))
                names |= {n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
                for cond in gen.ifs:
                    visit(cond, frozenset(names))
            for part in (node.key, node.value) if isinstance(node, ast.DictComp) else (node.elt,):
                visit(part, frozenset(names))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            if isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
            for child in ast.iter_child_nodes(node):
                visit(child, local)

    visit(ast.parse(code))
    for fn in deferred:                       # a function's globals: what it reads and never binds
        own = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        own |= {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)}
        free |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - own - bound
    return bound, free


def presenter_problems(nb) -> list[str]:
    """Why running only the code cells on shown slides, in deck order, is not Run All.

    RISE keeps notebook order, so the presenter's cells are the notebook's code cells without
    the hidden ones. A hidden code cell is harmless when no shown cell after it reads a name it
    binds (before a shown cell binds that name again): then the presenter's run computes what
    Run All (the lab test, nbval) computes, whose outputs are what the measured slides show.
    """
    problems, from_hidden = [], {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        bound, read = _code_names(cell.source)
        if chapter.slide_type(cell) in HIDDEN_SLIDE_TYPES:
            from_hidden.update({name: index for name in bound})
            continue
        for name in sorted(read & from_hidden.keys()):
            problems.append(f"cell {index} on a slide reads {name!r}, set by hidden cell {from_hidden[name]}")
        for name in bound:
            from_hidden.pop(name, None)
    if nb.cells and chapter.slide_type(nb.cells[0]) in HIDDEN_SLIDE_TYPES:
        problems.append("the first cell is hidden: the deck does not open on the lesson's first slide")
    return problems


def test_presenter_check_catches_a_hidden_set_up_cell():
    import nbformat

    skip = {"slideshow": {"slide_type": "skip"}}
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title", metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np\nx = np.arange(3)"),
        nbformat.v4.new_code_cell("assert x.sum() == 3\ny = 2", metadata=skip),      # a claim check
        nbformat.v4.new_code_cell("print(x)"),                                        # fine: x is shown
        nbformat.v4.new_code_cell("def f(a):\n    return a + y\nprint(f(x))"),        # reads hidden y
    ])
    assert presenter_problems(nb) == ["cell 4 on a slide reads 'y', set by hidden cell 2"]
    nb.cells[3].source = "y = 3"                                                      # shown again first
    assert presenter_problems(nb) == []
    # a comprehension's and a loop's own names are not reads; a rebinding that reads first is
    assert _code_names("z = [r for r in y]\nfor s in z:\n    print(s)") == ({"z", "s"}, {"y", "print"})
    assert _code_names("y = y + 1\ny += 1") == ({"y"}, {"y"})
    assert _code_names("def g():\n    return w\nw = 1") == ({"g", "w"}, set())


DECKS = [p.with_suffix(".ipynb") for p in book.discover() + slides.lecture_notebooks()]


@pytest.mark.parametrize("deck", DECKS, ids=lambda p: p.stem)
def test_a_presenter_runs_what_run_all_runs(deck):
    """Every deck RISE presents (the learner working copy of each lesson, the lecture): the code
    a presenter runs slide by slide needs no hidden cell, so Run All's execution stands for it."""
    import nbformat

    from nls_lessons.publish.learner import learner_notebook

    nb = learner_notebook(nbformat.read(str(deck), as_version=4))
    shown = [c for c in nb.cells if c.cell_type == "code" and chapter.slide_type(c) not in HIDDEN_SLIDE_TYPES]
    assert shown, f"{deck.name}: no code cell on any slide"
    assert presenter_problems(nb) == [], deck.name
