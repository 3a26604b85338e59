"""nbgrader's lecturer interface in JupyterLab 4, in chromium (issue 27, item 5).

A small course (lesson 02 as an exercise sheet, two students: all right with an essay, and the
starters; made by test_classroom's helpers, submitted with ``assignments.submit`` and graded with
``nbgrader autograde``) is served by a JupyterLab of its own, rooted and started in the course
folder (nbgrader's ``CourseDirectory.root``), with the environment ``make lecture`` gives it. In
chromium the lecturer opens Nbgrader > Formgrader beside the course's other extensions, sees the
assignment and its two submissions, opens a submission for manual grading, types a score for the
discussion answer, and ``nbgrader export`` then has it in the grades CSV. A learner's lab
(``make lab``'s environment) has no Nbgrader menu and no ``/formgrader``.

Screenshots (git-ignored): ``build/screenshots/formgrader-{assignments,submissions,grading,saved}.png``.
"""
from __future__ import annotations

import csv
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import running_lab, wait_for

pytest.importorskip("nbgrader", reason="nbgrader is not installed: it comes with the course environment's "
                                       "[classroom] extra (make env)")
import nbformat  # noqa: E402
from test_classroom import BIN_PATH, nbgrader, student_notebooks  # noqa: E402

from nls_lessons.publish import assignments, lab, learner_config  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
LESSON = "02_label_smoothing"
STUDENTS = ("s1_right", "s2_starters")
DISCUSSION = "discussion-1"          # lesson 02's manually graded answer (2 points)
MANUAL_SCORE = "2"                   # its points, typed in formgrader
SHOTS = REPO / "build" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The graded course folder (its ``gradebook.db`` holds the two autograded submissions)."""
    root = tmp_path_factory.mktemp("formgrader")
    course = root / "course"
    assignments.build_course(course, [LESSON], sheet=True, timeout=3)
    nbgrader(course, "generate_assignment", LESSON, "--force")
    release = nbformat.read(str(course / "release" / LESSON / f"{LESSON}.ipynb"), as_version=4)
    source_nb = nbformat.read(str(course / "source" / LESSON / f"{LESSON}.ipynb"), as_version=4)
    made = student_notebooks(release, source_nb, LESSON)
    for student in STUDENTS:
        nbformat.write(made[student], str(root / f"{student}.ipynb"))
        assignments.submit(course, student, LESSON, root / f"{student}.ipynb")
    nbgrader(course, "autograde", LESSON)
    (root / "exchange").mkdir()
    return course


def lab_config_path(monkeypatch, tmp: Path, *args: str) -> str:
    """The ``JUPYTER_CONFIG_PATH`` that ``make lab`` (``lab.main(args)``) hands JupyterLab."""
    seen = {}
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", "")               # restored after the test
    monkeypatch.setattr(lab.os, "execve", lambda path, cmd, env: seen.setdefault("env", env))
    monkeypatch.setattr(lab, "install_lab_settings", lambda: None)
    prefix = tmp / "prefix"                                      # not the shared environment
    monkeypatch.setattr(lab, "install_learner_config", lambda: learner_config.install_learner_config(prefix))
    monkeypatch.chdir(tmp)
    lab.main([*args, "--no-browser", "--lessons-dir", str(tmp / "lessons")])
    return seen["env"].get("JUPYTER_CONFIG_PATH", "")


def server_env(course: Path, config_path: str) -> dict:
    return {"PATH": BIN_PATH, "NBGRADER_EXCHANGE": str(course.parent / "exchange"), "JUPYTER_CONFIG_PATH": config_path}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"formgrader-{name}.png"))


def open_lab(browser, server):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(f"{server.base}/lab?reset&token={server.token}")
    page.wait_for_selector(".lm-MenuBar-item:has-text('Help')", timeout=60_000)
    return page


def test_formgrader_lists_the_submissions_and_a_manual_grade_reaches_the_csv(course, browser, tmp_path, monkeypatch):
    config_path = lab_config_path(monkeypatch, tmp_path, "--lecture")
    with running_lab(course, tmp_path / "lab", env=server_env(course, config_path)) as server:
        page = open_lab(browser, server)
        page.click(".lm-MenuBar-item:has-text('Nbgrader')")
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        assert {"Assignment List", "Formgrader"} <= set(items), items      # the student and the lecturer sides
        page.get_by_role("menuitem", name="Formgrader", exact=True).click()
        frame = page.frame_locator("iframe").first
        assignment = frame.locator(f"a:text-is('{LESSON}')").first
        assignment.wait_for()
        submissions = frame.locator(f"tr:has(a:text-is('{LESSON}')) a[href*='manage_submissions']")
        assert submissions.inner_text().strip() == str(len(STUDENTS))
        shot(page, "assignments")

        submissions.click()
        for student in STUDENTS:
            frame.locator(f"td:has-text('{student}')").first.wait_for()
        shot(page, "submissions")
        frame.locator("tr:has(td:text-is('s1_right')) a[href*='/manage_students/']").first.click()
        frame.locator("a[href*='/formgrader/submissions/']").first.click()
        score = frame.locator(f"input.score#{DISCUSSION}")              # the discussion answer's score box
        score.scroll_into_view_if_needed()
        score.fill(MANUAL_SCORE)
        shot(page, "grading")
        score.press("Tab")                                             # formgrader saves on change
        frame.locator(f".nbgrader_cell:has(input#{DISCUSSION}) .score-saved.glyphicon-ok").wait_for(state="visible")
        shot(page, "saved")
        page.close()

    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as fh:
        grades = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert float(grades["s1_right"]["score"]) == 4 + float(MANUAL_SCORE)        # 4 autograded + the manual grade
    assert float(grades["s2_starters"]["score"]) == 0


def test_a_learners_lab_has_no_instructor_tools(course, browser, tmp_path, monkeypatch):
    config_path = lab_config_path(monkeypatch, tmp_path)
    assert config_path, "make lab gave JupyterLab no learner config"
    with running_lab(course, tmp_path / "lab", env=server_env(course, config_path)) as server:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{server.base}/formgrader?token={server.token}", timeout=10)  # noqa: S310
        assert err.value.code == 404
        page = open_lab(browser, server)
        menus = page.locator(".lm-MenuBar-item").all_inner_texts()
        assert "Help" in menus and "Nbgrader" not in menus, menus
        page.close()
