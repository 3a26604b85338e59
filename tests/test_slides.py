"""Lecture mode (issue 9): offline reveal.js decks, solutions kept out of learner exports,
instructor notes present, and one deck driven in headless chromium."""
from __future__ import annotations

import json
import re

import pytest

from nls_lessons import book, slides

from publishing import (ALLOWED_URL, EXEC_CACHE, FIXTURE, REMOVED_MARKER, REPO, SCREENSHOTS,
                        SOLUTION_MARKER, WELCOME)

WIDGET_REPR_RE = re.compile(r"(IntSlider|FloatSlider|Dropdown|VBox|HBox)\(value|Output\(\)|interactive\(children|"
                            r"&lt;function |application/vnd\.jupyter\.widget-view")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("slides")
    index = slides.build_slides([WELCOME, FIXTURE], root=root, cache_dir=EXEC_CACHE, log=lambda *a: None)
    return root, index


def test_slide_cells_respect_tags_and_keep_slide_starts():
    nb = book.read_notebook(FIXTURE)
    for cell in nb.cells:
        cell.setdefault("outputs", []) if cell.cell_type == "code" else None
    learner = slides.slide_cells(nb)
    text = json.dumps(learner)
    assert SOLUTION_MARKER not in text and REMOVED_MARKER not in text
    assert "import base64" not in text                         # hide-input code without outputs leaves
    assert book.slide_type(learner.cells[0]) == "slide"
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
        assert SOLUTION_MARKER not in text and REMOVED_MARKER not in text, deck.name
        assert not WIDGET_REPR_RE.search(text), (deck.name, WIDGET_REPR_RE.search(text))
    demo = (out / "book_demo.slides.html").read_text(encoding="utf-8")
    assert demo.count("<section") >= 4
    assert '<aside class="notes">' in demo and "Speaker note" in demo
    assert 'class="nls-frames"' in demo and "nlsFramesInit" in demo
    assert "target: [0.06, 0.06, 0.76, 0.06, 0.06]" in (out / "00_welcome.slides.html").read_text(encoding="utf-8")
    assert index.exists() and "book_demo.slides.html" in index.read_text()


def test_solutions_only_in_instructor_exports(built):
    root, _ = built
    learner = root / "build" / "learner" / "book_demo.ipynb"
    instructor = root / "build" / "instructor"
    assert SOLUTION_MARKER not in learner.read_text(encoding="utf-8")
    assert SOLUTION_MARKER in (instructor / "book_demo.ipynb").read_text(encoding="utf-8")
    assert SOLUTION_MARKER in (instructor / "book_demo.slides.html").read_text(encoding="utf-8")
    assert (instructor / "00_welcome.md").exists()                 # the instructor notes travel along


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
