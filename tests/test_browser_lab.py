"""JupyterLab in a real browser: open a notebook with an explorer, Run All, move the slider
with the keyboard, and check that the figure and the displayed r change (issue 6).

JupyterLab runs on 127.0.0.1 on a free port with isolated config/data/runtime/settings/
workspace directories, in its own process session, and is stopped by PID. Playwright drives
Debian's chromium (fixture ``browser`` in conftest.py). A screenshot of the final state is
saved to ``artifacts/screenshots/lab_explorer.png`` (git-ignored).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import free_port

from nls_lessons import lab

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = "tests/fixtures/explorers_demo.ipynb"
SCREENSHOT = REPO / "artifacts" / "screenshots" / "lab_explorer.png"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _get_json(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as resp:   # noqa: S310 (loopback only)
        return json.loads(resp.read().decode())


def _wait(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:   # server not up yet, etc.
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on a free loopback port; yields (base_url, token)."""
    port, token = free_port(), secrets.token_hex(16)
    dirs = {name: tmp_path / name for name in ("config", "data", "runtime", "settings", "workspaces")}
    for d in dirs.values():
        d.mkdir()
    # no news toast over the screenshot
    news = dirs["settings"] / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    docmanager = dirs["settings"] / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)      # never autosave outputs into the committed fixture
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(dirs["config"]), "JUPYTER_DATA_DIR": str(dirs["data"]),
           "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]), "JUPYTER_PLATFORM_DIRS": "1",
           "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    env.pop("MPLBACKEND", None)          # the kernel gets Jupyter's own inline backend
    env.pop("NLS_STATIC", None)          # live widgets, not static frames
    # the same command `make lab` runs (port, token, root dir, --allow-root as root), plus isolation
    cmd = lab.lab_command(port, token, "127.0.0.1", open_browser=False) + [
        f"--LabApp.user_settings_dir={dirs['settings']}", f"--LabApp.workspaces_dir={dirs['workspaces']}",
        "--LabApp.news_url="]
    log = open(tmp_path / "jupyterlab.log", "wb")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: proc.poll() is None and _get_json(f"{base}/api/status?token={token}"), 40,
              "JupyterLab to answer /api/status")
        yield base, token
    except TimeoutError:
        log.flush()
        raise RuntimeError("JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text()[-3000:])
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)      # the server and its kernels (same session)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
        log.close()


def test_lab_explorer_slider_changes_figure(jupyterlab, browser):
    base, token = jupyterlab
    t0 = time.monotonic()
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")

    def kernel_idle():
        sessions = _get_json(f"{base}/api/sessions?token={token}")
        return any(s["path"].endswith("explorers_demo.ipynb") and s["kernel"]["execution_state"] == "idle"
                   for s in sessions)

    _wait(kernel_idle, 40, "the notebook's kernel to be idle (/api/sessions)")
    page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")

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
    assert time.monotonic() - t0 < 60
