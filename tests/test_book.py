"""The static book (issue 8): math preprocessor, notebook → chapter conversion, and the built
book opened in headless chromium (images, MathJax, static slider, search, no network)."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from nls_lessons.publish import book, chapter
from nls_lessons.exercises import NOT_YET
from nls_lessons.publish.book_math import convert_math, main as math_main, process_book

from publishing import (ALLOWED_URL, EXEC_CACHE, FIXTURE, HINT_MARKER, REMOVED_MARKER, REPO, SCREENSHOTS,
                        SOLUTION_MARKER, WELCOME, exec_cache_lock, outside_details,
                        solution_details)

WIDGET_REPR_RE = re.compile(r"(IntSlider|FloatSlider|Dropdown|Checkbox|ToggleButtons?|VBox|HBox)\(|Output\(|"
                            r"interactive\(|<function |application/vnd\.jupyter\.widget")


# ------------------------------------------------------------------ math preprocessor (unit)
def _html_of_inline(md_out: str) -> str:
    """What CommonMark makes of backslash escapes: each escaped punctuation char stands for itself."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md_out)


def test_inline_math_becomes_escaped_mathjax_delimiters():
    out = convert_math(r"Let $a_1 \le b_{2}$ be.")
    assert out.startswith("Let ") and out.endswith(" be.")
    assert _html_of_inline(out) == r"Let \(a_1 \le b_{2}\) be."
    assert "$" not in out


def test_display_math_survives_markdown():
    src = "Before\n\n$$\\tilde y^{\\,r} = (1-r)\\,y\n + \\frac{r}{K}$$\n\nafter"
    out = convert_math(src)
    assert _html_of_inline(out) == "Before\n\n\\[\\tilde y^{\\,r} = (1-r)\\,y + \\frac{r}{K}\\]\n\nafter"


def test_code_spans_and_fenced_blocks_are_untouched():
    src = "Text `x = \"$a$\"` and ``b $c$ d``.\n\n```python\ncost = \"$5 and $6$\"\n```\n\n~~~\n$$x$$\n~~~\n"
    assert convert_math(src) == src


def test_escaped_dollar_and_prices_are_kept():
    src = r"A price of \$5 and $5 or $10, never math."
    assert convert_math(src) == src
    assert convert_math("pay $ 3 and $4") == "pay $ 3 and $4"


def test_html_blocks_get_raw_delimiters_and_pre_stays_verbatim():
    src = '<div class="x">\n<p>Rate $r<0$ here</p>\n</div>\n\n<pre>\n$not math$\n</pre>\n'
    out = convert_math(src)
    assert r"\(r&lt;0\)" in out
    assert "<pre>\n$not math$\n</pre>" in out


def test_preprocessor_protocol_roundtrip():
    assert math_main(["supports", "html"]) == 0
    assert math_main(["supports", "latex"]) == 1
    bookjson = {"items": [{"Chapter": {"name": "A", "content": "$x$", "sub_items": [
        {"Chapter": {"name": "B", "content": "`$y$` $z$", "sub_items": []}}]}}, "Separator"]}
    out = process_book(json.loads(json.dumps(bookjson)))
    a = out["items"][0]["Chapter"]
    assert _html_of_inline(a["content"]) == r"\(x\)"
    assert _html_of_inline(a["sub_items"][0]["Chapter"]["content"]).endswith(r"\(z\)")
    proc = subprocess.run([sys.executable, "-m", "nls_lessons.publish.book_math"], input=json.dumps([{}, bookjson]),
                          capture_output=True, text=True, cwd=REPO, check=True)
    assert json.loads(proc.stdout)["items"][0]["Chapter"]["content"] == a["content"]


# ------------------------------------------------------------------ conversion (unit, no kernel)
def test_discover_sorts_lessons_and_reads_titles(tmp_path):
    for stem in ("02_b", "00_a", "notes", "01_c"):
        (tmp_path / f"{stem}.py").write_text("# %% [markdown]\n# # Title of " + stem + "\n")
    found = book.discover(tmp_path)
    assert [p.stem for p in found] == ["00_a", "01_c", "02_b"]
    assert book.title_of(book.read_notebook(found[0]), "x") == "Title of 00_a"
    assert book.title_of(book.read_notebook(WELCOME), "x").startswith("00 · Welcome")


def test_removed_cells_leave_the_chapter_and_solutions_are_folded(tmp_path):
    nb = book.read_notebook(FIXTURE)
    assert any(SOLUTION_MARKER in c.source for c in nb.cells)          # the fixture has one
    md = chapter.notebook_to_markdown(nb, "book_demo", tmp_path)
    assert REMOVED_MARKER not in md
    assert "Speaker note" not in md                                       # notes cells: slides only
    assert "<details" in md and "Show code" in md                         # hide-input / hide-cell fold
    assert SOLUTION_MARKER not in outside_details(md)                     # the answer: only behind a click
    assert [SOLUTION_MARKER in d for d in solution_details(md)] == [True]
    assert "<summary>Show the solution</summary>" in md
    assert HINT_MARKER not in outside_details(md) and "<summary>Show a hint</summary>" in md


def test_learner_notebook_folds_solutions_and_hints():
    from nls_lessons.publish.learner import LEARNER_SOLUTION_TAG, learner_notebook

    nb = book.read_notebook(FIXTURE)
    before = json.dumps(nb, sort_keys=True)
    learner = learner_notebook(nb)
    assert json.dumps(nb, sort_keys=True) == before                       # the input is untouched
    assert len(learner.cells) == len(nb.cells)
    assert not any(book.is_solution(c) for c in learner.cells)
    folded = [c for c in learner.cells if LEARNER_SOLUTION_TAG in c.metadata.get("tags", [])]
    assert len(folded) == 1 and folded[0].cell_type == "markdown"
    source = folded[0].source
    assert source.startswith('<details class="nls-solution">\n<summary>Show the solution</summary>\n\n```python\n')
    assert source.endswith("```\n\n</details>") and SOLUTION_MARKER in source
    assert "jupyter" not in folded[0].metadata and "outputs" not in folded[0]
    text = json.dumps(learner)
    assert SOLUTION_MARKER not in outside_details(text.replace("\\n", "\n"))
    assert learner_notebook(learner) == learner                           # idempotent


def test_outputs_computed_from_a_solution_never_reach_a_static_page():
    """A check that runs after the solution (lesson 05's old order) would print the answer."""
    import nbformat

    from nls_lessons.publish.learner import CHECK_NOTE, learner_notebook, static_exercises

    out = lambda text: [nbformat.v4.new_output("stream", name="stdout", text=text)]  # noqa: E731
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("**Exercise 1.** Find the best rate."),
        nbformat.v4.new_code_cell("answer = None\ncheck(answer)", outputs=out(f"✗ Not yet. {NOT_YET}")),
        nbformat.v4.new_code_cell("answer = -6.0", metadata={"tags": ["solution"]}, outputs=out("✓ Correct.")),
        nbformat.v4.new_code_cell("assert check(answer)", outputs=out("Right: r = -6 reaches 84.52 %")),
        nbformat.v4.new_markdown_cell("**Exercise 2.**"),
        nbformat.v4.new_code_cell("print(1)", outputs=out("1\n")),
    ])
    static = static_exercises(learner_notebook(nb))
    texts = [o.get("text", o.get("data", {}).get("text/plain")) for c in static.cells for o in c.get("outputs", [])]
    assert texts == [CHECK_NOTE, "1\n"]


def test_written_answers_fold_too():
    import nbformat

    from nls_lessons.publish.learner import learner_notebook

    cell = nbformat.v4.new_markdown_cell("**Answer.** WRITTEN-ANSWER-91b: LS wins at low noise.",
                                         metadata={"tags": ["solution"]})
    learner = learner_notebook(nbformat.v4.new_notebook(cells=[cell]))
    (folded,) = learner.cells
    assert "WRITTEN-ANSWER-91b" in folded.source and "WRITTEN-ANSWER-91b" not in outside_details(folded.source)
    assert folded.metadata["tags"] == ["learner-solution"]


def test_every_lesson_hides_every_answer(tmp_path):
    """The real lessons: no solution line in a learner notebook or chapter outside a closed <details>."""
    from nls_lessons.publish.learner import learner_notebook

    for lesson in book.discover():
        nb = book.read_notebook(lesson)
        solutions = [c.source for c in nb.cells if book.is_solution(c)]
        shared = {line.strip() for c in nb.cells if not book.is_solution(c) for line in c.source.splitlines()}
        # the solution's own lines (a check call the starter cell also makes is no secret)
        lines = {line.strip() for s in solutions for line in s.splitlines()
                 if len(line.strip()) > 8 and line.strip() not in shared}
        assert lines or not solutions, lesson.name
        learner = learner_notebook(nb)
        assert not any(book.is_solution(c) for c in learner.cells), lesson.name
        visible = "\n".join(outside_details(c.source) for c in learner.cells)
        md = outside_details(chapter.notebook_to_markdown(nb, lesson.stem, tmp_path))
        for line in lines:
            assert line not in visible, (lesson.name, line)
            assert line not in md, (lesson.name, line)
        assert len(solution_details(chapter.notebook_to_markdown(nb, lesson.stem, tmp_path))) == len(solutions)


def test_write_learner_copy(tmp_path):
    import nbformat

    from nls_lessons.publish.learner import write_learner_copy

    dst = write_learner_copy(FIXTURE, tmp_path / "copies" / "book_demo.ipynb")
    nb = nbformat.read(str(dst), as_version=4)
    assert not any(book.is_solution(c) for c in nb.cells)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert "formats" not in nb.metadata.get("jupytext", {})               # no paired .py is written
    assert [p.name for p in dst.parent.iterdir()] == ["book_demo.ipynb"]  # no temporary file left
    with pytest.raises(ValueError, match="dst must name an .ipynb file"):
        write_learner_copy(FIXTURE, tmp_path / "x.py")
    with pytest.raises(FileNotFoundError, match="src: no lesson"):
        write_learner_copy(tmp_path / "missing.py", tmp_path / "y.ipynb")


def test_widget_outputs_become_static():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {chapter.WIDGET_STATE: {"state": {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_slider", "IPY_MODEL_out"]}},
        "slider": {"model_name": "FloatSliderModel", "state": {}},
        "out": {"model_name": "OutputModel", "state": {"outputs": [
            {"output_type": "stream", "name": "stdout", "text": "value 0.3\n"}]}}}}}
    outputs = [nbformat.v4.new_output("display_data", data={
        chapter.WIDGET_VIEW: {"model_id": "box", "version_major": 2}, "text/plain": "interactive(children=(...))"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "IntSlider(value=3)"}, execution_count=1),
        nbformat.v4.new_output("execute_result", data={"text/plain": "<function __main__.f(r=0.5)>"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=2)]
    static = chapter.static_outputs(outputs, nb)
    assert [o.get("text", o.get("data", {}).get("text/plain")) for o in static] == ["value 0.3\n", "42"]


# ------------------------------------------------------------------ the built book
@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("book")
    with exec_cache_lock():
        index = book.build_book([WELCOME, FIXTURE], root=root, cache_dir=EXEC_CACHE, log=lambda *a: None)
    return root, index


def test_book_sources_are_generated_in_order_with_images(built_book):
    root, index = built_book
    src = root / "build" / "book-src"
    summary = (src / "SUMMARY.md").read_text()
    assert summary.index("00_welcome.md") < summary.index("book_demo.md")
    assert "[00 · Welcome: To Smooth or Not?](00_welcome.md)" in summary
    demo = (src / "book_demo.md").read_text()
    assert "base64,iVBOR" not in demo                                    # PNGs extracted to files
    images = re.findall(r'(?:\]\(|src=")(img/[^)"]+)', demo)
    assert len(images) == 5 and all((src / p).stat().st_size > 0 for p in images)
    assert "![Line plot of the smoothed target" in demo                  # alt text from `# alt:`
    assert index.exists()


def _without_python_code(text: str) -> str:
    """Drop code the reader sees as code (it may well call `FloatSlider(...)`); outputs stay."""
    text = re.sub(r"```python\n.*?\n```", "", text, flags=re.S)
    return re.sub(r'<code class="language-python[^"]*">.*?</code>', "", text, flags=re.S)


def test_no_widget_reprs_or_solutions_in_the_book(built_book):
    root, _ = built_book
    pages = list((root / "build" / "book-src").glob("*.md")) + list((root / "build" / "book").glob("*.html"))
    assert len(pages) >= 4
    for path in pages + list((root / "build" / "book").glob("searchindex*.js")):
        text = path.read_text(encoding="utf-8")
        assert REMOVED_MARKER not in text, path.name
        assert SOLUTION_MARKER not in outside_details(text), path.name     # answers only behind a click
        assert "✓ Correct" not in text, path.name                          # no solution output, anywhere
        assert NOT_YET not in text and "Not yet" not in text, path.name    # no "run the cell again" dead end
        if path.suffix != ".js":
            shown = _without_python_code(text)
            assert not WIDGET_REPR_RE.search(shown), (path.name, WIDGET_REPR_RE.search(shown))
    demo = (root / "build" / "book" / "book_demo.html").read_text(encoding="utf-8")
    assert [SOLUTION_MARKER in d for d in solution_details(demo)] == [True]
    assert "The self-check runs in JupyterLab" in demo
    welcome = (root / "build" / "book-src" / "00_welcome.md").read_text()
    assert "target: [0.06, 0.06, 0.76, 0.06, 0.06]" in welcome          # show_target(0.3), printed before the explorer



TEXT_WITHOUT_CODE_JS = """() => {
  const main = document.querySelector('main').cloneNode(true);
  main.querySelectorAll('pre, code, mjx-container, script, style').forEach(e => e.remove());
  return main.innerText;
}"""


def _open(page, url):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    page.wait_for_load_state("load")
    return requests


@pytest.mark.browser
@pytest.mark.slow
def test_book_in_chromium(built_book, browser):
    root, index = built_book
    out = root / "build" / "book"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    all_requests = []
    for stem in ("00_welcome", "book_demo"):
        requests = _open(page, (out / f"{stem}.html").as_uri())
        all_requests += requests
        # every image loaded (hidden frames too)
        broken = page.evaluate("Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
                               ".map(i => i.src)")
        # (mdBook 0.5 shows each markdown image twice: the picture and a click-to-zoom copy)
        n_images = page.evaluate("new Set(Array.from(document.querySelectorAll('main img')).map(i => i.src)).size")
        assert not broken, broken
        # figures never shown smaller than they were drawn (heatmap numbers stay readable)
        shrunk = page.evaluate("""Array.from(document.querySelectorAll('main img'))
            .filter(i => i.offsetParent !== null && i.naturalWidth > 0)
            .filter(i => i.getBoundingClientRect().width < i.naturalWidth - 1)
            .map(i => [i.src.split('/').pop(), i.naturalWidth, Math.round(i.getBoundingClientRect().width)])""")
        assert not shrunk, shrunk
        # math typeset by the bundled MathJax (SVG output), no raw TeX left in the text
        assert page.locator("main mjx-container svg").count() >= 3
        text = page.evaluate(TEXT_WITHOUT_CODE_JS)
        assert not re.search(r"\\\(|\\\[|\$\$|\\frac|\\tilde", text), text
        assert not WIDGET_REPR_RE.search(text)
        if stem == "book_demo":
            assert n_images == 5
            assert page.locator("main mjx-container[display='true']").count() == 1
            # the static explorer: moving the slider swaps the frame
            visible = "document.querySelector('.nls-frames img.nls-frame:not([hidden])').dataset.key"
            assert page.evaluate(visible) == "1"
            slider = page.locator("input.nls-frames-slider")
            slider.focus()
            page.keyboard.press("ArrowRight")
            assert page.evaluate(visible) == "2"
            assert page.locator("output.nls-frames-value").inner_text() == "0.5"
            slider.focus()
            page.keyboard.press("Home")
            assert page.evaluate(visible) == "0"
            assert page.locator(".nls-frames img.nls-frame:not([hidden])").get_attribute("alt").endswith("-1.0")
            assert page.evaluate("document.querySelectorAll('.nls-frames img.nls-frame:not([hidden])').length") == 1
            # the exercise: question and check note shown, hint and answer only after a click
            main_text = page.evaluate("document.querySelector('main').innerText")
            assert "The self-check runs in JupyterLab" in main_text
            assert SOLUTION_MARKER not in main_text and HINT_MARKER not in main_text
            assert "Correct" not in main_text and "Not yet" not in main_text
            page.locator("details.nls-solution > summary").click()
            shown = page.locator("details.nls-solution pre").inner_text()
            assert SOLUTION_MARKER in shown and "check(answer)" in shown
            page.locator("details.nls-hint > summary").click()
            assert HINT_MARKER in page.evaluate("document.querySelector('main').innerText")
            page.evaluate("document.querySelector('details.nls-solution').scrollIntoView({block: 'center'})")
            page.screenshot(path=str(SCREENSHOTS / "book-exercise-open.png"))
            page.evaluate("document.querySelector('.nls-frames').scrollIntoView({block: 'center'})")
        page.screenshot(path=str(SCREENSHOTS / f"book-{stem}.png"))
    # the search box finds the phrase
    page.locator("main h1").first.click()          # focus the page, not the slider
    page.keyboard.press("s")                        # mdBook's search shortcut
    if not page.locator("#mdbook-searchbar").is_visible():
        page.locator("#mdbook-search-toggle").click()
    page.locator("#mdbook-searchbar").press_sequentially("negative label smoothing")   # searcher listens to keyup
    results = page.locator("#mdbook-searchresults li")
    results.first.wait_for(timeout=5000)
    assert results.count() >= 1
    assert "smoothing" in results.first.inner_text().lower()
    page.screenshot(path=str(SCREENSHOTS / "book-search.png"))
    leaked = [u for u in all_requests if not ALLOWED_URL.match(u)]
    assert not leaked, leaked
    assert any(u.startswith("file:") and "tex-svg-full" in u for u in all_requests)
    page.close()
