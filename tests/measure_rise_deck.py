"""Present one deck with RISE at 1280x720 in headless chromium and report what does not fit.

    PYTHONPATH=$PWD .venv/bin/python tests/measure_rise_deck.py instructor/50_minute_lecture [--every-slide]

Not a test (pytest does not collect it): a measurement for decks the browser tests do not cover
yet. It reuses ``tests/test_browser_lessons.py`` as it stands (its RISE walk: every code cell run
with Shift+Enter from a fresh kernel, then every slide measured) on the working copies that
``nls_lessons.publish.lab`` makes in ``build/browser-lessons/``, with the course's JupyterLab
settings in a private app folder (``JUPYTERLAB_DIR``: links to the environment's lab files, its
own ``settings/``), so the shared environment's settings are not rewritten.
Screenshots go to ``artifacts/screenshots/rise_<deck>_*.png`` (``--every-slide``: one per slide
and fragment, ``rise_<deck>_at_slide-N-M.png``, as the measuring pass leaves it).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import conftest  # noqa: E402
import test_browser_lessons as tb  # noqa: E402

from nls_lessons.publish import lab  # noqa: E402


class _Factory:
    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=name))


def main(stem: str, every_slide: bool = False) -> int:
    from playwright.sync_api import sync_playwright

    app_dir = conftest.REPO / "build" / "measure-labdir"
    real = Path(sys.prefix) / "share" / "jupyter" / "lab"
    app_dir.mkdir(parents=True, exist_ok=True)
    for part in real.iterdir():                          # the lab's own files, our own settings
        if part.name != "settings" and not (app_dir / part.name).exists():
            (app_dir / part.name).symlink_to(part)
    os.environ["JUPYTERLAB_DIR"] = str(app_dir)          # RISE and the lab read <dir>/settings
    settings = lab.install_lab_settings(prefix=app_dir.parent)   # <prefix>/share/jupyter/lab/settings
    (app_dir / "settings" / "overrides.d").mkdir(parents=True, exist_ok=True)
    (app_dir / "settings" / "overrides.d" / settings.name).write_text(settings.read_text())
    lab.install_lab_settings = lambda *a, **k: settings
    shot = tb.shot
    tb.shot = lambda page, name: shot(page, name.replace("/", "_"))
    if every_slide:
        step = tb.next_step

        def next_step(deck):
            where = tb.slide_state(deck)[0].strip("#/").replace("/", "-")
            tb.shot(deck, f"rise_{stem}_at_{where}.png")
            return step(deck)
        tb.next_step = next_step
    server = conftest.lab_server.__wrapped__(_Factory(), "/usr/bin/chromium")
    lab_server = next(server)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=conftest.CHROMIUM_ARGS)
            try:
                tb.test_lesson_presents_with_rise(stem, lab_server, browser)
            except AssertionError as exc:
                print(f"\nDOES NOT FIT: {exc}")
                return 1
            finally:
                browser.close()
    finally:
        server.close()
    print(f"\n{stem}: every slide fits 1280x720")
    return 0


if __name__ == "__main__":
    names = [a for a in sys.argv[1:] if not a.startswith("--")]
    sys.exit(main(names[0] if names else "instructor/50_minute_lecture", "--every-slide" in sys.argv))
