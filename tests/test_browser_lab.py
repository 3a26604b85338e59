"""JupyterLab in a real browser: open a notebook with an explorer, Run All, move the slider
with the keyboard, and check that the figure and the displayed r change (issue 6).

The session's JupyterLab and chromium (``lab_session`` in conftest.py: the lab started as ``make lab``
starts it, on a free loopback port, isolated config/settings; Debian's chromium driven by Playwright)
serve a copy of the fixture notebook next to the lessons' working copies. A screenshot
of the final state is saved to ``artifacts/screenshots/lab_explorer.png`` (git-ignored).
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import wait_for as _wait

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = "explorers_demo.ipynb"          # tests/fixtures/explorers_demo.ipynb, copied by lab_server
SCREENSHOT = REPO / "artifacts" / "screenshots" / "lab_explorer.png"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_lab_explorer_slider_changes_figure(lab_session):
    t0 = time.monotonic()
    lab_server = lab_session.server
    page = lab_session.open(NOTEBOOK, timeout=60)

    # Run All from the menu bar
    page.locator(".jp-Notebook").first.click()
    page.click('.lm-MenuBar-item:has-text("Run")')
    try:
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click(timeout=5_000)
    except Exception:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT.with_name("lab_menu_debug.png")))
        raise

    figure = page.locator("img.nls-explorer-figure")
    figure.wait_for(state="visible", timeout=40_000)
    readout = page.locator(".nls-explorer .widget-readout").first
    _wait(lambda: figure.get_attribute("src"), 10, "the first figure")
    src_before, r_before = figure.get_attribute("src"), readout.inner_text()
    status_before = page.locator(".nls-explorer-status").inner_text()

    # move the slider with the keyboard: focus the handle, three steps of 0.1 to the right
    handle = page.locator(".nls-explorer .noUi-handle").first
    handle.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")

    _wait(lambda: figure.get_attribute("src") != src_before, 20, "the figure to change")
    _wait(lambda: readout.inner_text() != r_before, 5, "the displayed r to change")
    _wait(lambda: "r = 0.3" in page.locator(".nls-explorer-status").inner_text(), 10,
          "the status line to show r = 0.3")
    r_after = readout.inner_text()
    assert (r_before, r_after) == ("0.0", "0.3")
    assert figure.get_attribute("src") != src_before
    assert page.locator(".nls-explorer-status").inner_text() != status_before
    # no traceback reached the output area
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.locator(".nls-explorer").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOT))
    page.close()
    lab_server.shutdown(NOTEBOOK)
    assert time.monotonic() - t0 < 60
