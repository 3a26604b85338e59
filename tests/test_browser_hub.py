"""The try-out class hub in chromium (issue 28): three learners log in, each gets their own working
copies at lesson 00, and lesson 00 runs top to bottom there.

The hub is ``make hub``'s (nls_lessons.publish.hub.running_hub: classroom/jupyterhub_config.py, a
real configurable-http-proxy from npm; skipped without it, a failure in CI), with its three default
learners; each learner is a browser context of its own (its own cookies). Screenshot:
``artifacts/screenshots/hub_lesson00.png`` (git-ignored).
"""
from __future__ import annotations

import time

import pytest
from conftest import REPO, wait_for
from hub_support import hub_proxy
from test_browser_lessons import errors_in, run_all

from nls_lessons.publish import hub, lab

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

LESSON = f"lessons/{lab.WELCOME}"
SHOT = REPO / "artifacts" / "screenshots" / "hub_lesson00.png"


class LearnerServer:
    """A learner's server through the hub, with the calls tests/test_browser_lessons.py's ``run_all`` makes."""

    def __init__(self, running: hub.Hub, user: str):
        self.hub, self.user, self.token = running, user, running.user_token(user)

    def api(self, path: str, method: str = "GET"):
        import requests

        reply = requests.request(method, f"{self.hub.url}/user/{self.user}/api/{path}", timeout=30,
                                 headers={"Authorization": f"token {self.token}"})
        reply.raise_for_status()
        return reply.json() if reply.content else None

    def session(self, notebook: str):
        return next((s for s in self.api("sessions") if s["path"] == notebook), None)

    def wait_idle(self, notebook: str, timeout: float = 90) -> None:
        wait_for(lambda: (s := self.session(notebook)) and s["kernel"]["execution_state"] == "idle",
                 timeout, f"{self.user}'s kernel of {notebook} to be idle (/api/sessions)")


@pytest.fixture(scope="module")
def tryout_hub(tmp_path_factory):
    proxy = hub_proxy()
    with hub.running_hub(runtime_dir=tmp_path_factory.mktemp("tryout-hub"), proxy=proxy) as running:
        yield running


def test_three_learners_get_their_own_copies_and_lesson_00_runs(tryout_hub, browser):
    t0 = time.monotonic()
    users = hub.DEFAULT_USERS
    contexts, pages = [], {}
    try:
        for user in users:                     # log in as a learner does; the hub starts their server
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{tryout_hub.url}/hub/login")
            page.fill("#username_input", user)
            page.fill("#password_input", tryout_hub.password)
            page.click("#login_submit")
            pages[user] = page
        expected = sorted(f"{p.stem}.ipynb" for p in lab.lessons())
        for user, page in pages.items():        # each lands on lesson 00 of their own copies
            page.wait_for_url(f"**/user/{user}/lab/tree/{LESSON}*", timeout=150_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible", timeout=60_000)
            server = LearnerServer(tryout_hub, user)
            listed = sorted(m["name"] for m in server.api("contents/lessons")["content"] if m["type"] == "notebook")
            assert listed == expected, user
            assert sorted(p.name for p in (tryout_hub.home(user) / "lessons").glob("*.ipynb")) == expected
        # a learner's cookie does not open another learner's lab
        first, second = users[0], users[1]
        refused = pages[first].context.new_page()
        response = refused.goto(f"{tryout_hub.url}/user/{second}/lab")
        assert response.status == 403 and "/hub/" in refused.url, (response.status, refused.url)
        refused.close()

        server = LearnerServer(tryout_hub, first)
        server.wait_idle(LESSON)
        page = pages[first]
        run_all(page, server, LESSON, timeout=240)
        errors = errors_in(page)
        assert not errors, f"lesson 00 on the hub: {len(errors)} error output(s); first:\n{errors[0]}"
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        assert prompts and all(p.strip() not in ("[ ]:", "") for p in prompts), prompts
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOT))
        print(f"\nhub: 3 learners in and lesson 00 run in {time.monotonic() - t0:.0f} s")
    finally:
        for context in contexts:
            context.close()
