"""The whole classroom loop with real nbgrader and its sqlite gradebook, offline (issue 27, items 2-4).

One course for the module (lessons 01 and 02 as exercise sheets, so a submission grades in
seconds): ``make assignments``' module writes it, ``nbgrader generate_assignment`` and
``release_assignment`` hand it out through a local exchange, seven synthetic students fetch and
submit (nbgrader's own exchange classes, one student id each), ``nbgrader collect``,
``autograde``, ``generate_feedback`` and ``export`` run as the lecturer would run them, and a
manual grade goes in through nbgrader's Gradebook API (what formgrader does). The exact points per
student and question are then read back from the exported CSVs.

The lecturer's interface (item 5), in chromium, on a copy of the same course as autograded (one
nbgrader course per test run, issue 21; these two tests run in the suite, not in the browser run):
a JupyterLab of its own, rooted and started in the course folder (nbgrader's
``CourseDirectory.root``) with the environment ``make lecture`` gives it, shows Nbgrader >
Formgrader beside the course's other extensions; the lecturer sees both assignments and lesson
02's seven submissions, opens s1_right's for manual grading, types a score for the discussion
answer, and ``nbgrader export`` then has it in the grades CSV. A learner's lab (``make lab``'s
environment) has no Nbgrader menu and no ``/formgrader``. Screenshots (git-ignored):
``build/screenshots/formgrader-{assignments,submissions,grading,saved}.png``.

Skipped, with the reason, where nbgrader is not installed (the ``[classroom]`` extra).
"""
from __future__ import annotations

import ast
import csv
import re
from html import unescape
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed: it comes with the course environment's "
                                       "[classroom] extra (make env)")
import nbformat  # noqa: E402

from nls_lessons.publish import assignment_cells, assignments  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
LESSONS = ("01_label_noise", "02_label_smoothing")
ALL_LESSONS = "0[12]_*"      # both, as one nbgrader assignment glob
#: Seconds a student's cell may run. The endless loop burns this much CPU per lesson; an honest
#: answer or test cell here takes milliseconds (the lesson's imports and demos run in its own
#: read-only cells, which have the lesson's long timeout).
STUDENT_TIMEOUT = 3
WRONG = "answer = -123.0"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


#: nbgrader runs the ``alembic`` command of its environment to open the gradebook
BIN_PATH = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def nbgrader(course: Path, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
               NBGRADER_EXCHANGE=str(course.parent / "exchange"), PATH=BIN_PATH)
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run.stdout + run.stderr


def ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def cell(nb, grade_id):
    return nb.cells[ids(nb).index(grade_id)]


def solution(source_nb, number: int) -> str:
    """The instructor's answer to exercise ``number``: the answer cell without nbgrader's markers."""
    text = cell(source_nb, f"exercise-{number}-answer").source
    return "\n".join(l for l in text.splitlines() if not l.startswith("###"))


def check_name(source_nb, number: int) -> str:
    call = next(n for n in ast.walk(ast.parse(cell(source_nb, f"exercise-{number}-tests").source))
                if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "grade")
    return ast.literal_eval(call.args[1])


def student_notebooks(release, source_nb, lesson: str) -> dict:
    """The seven students' submissions of one lesson, made from the learner's release."""
    n = len(assignment_cells.find_exercises(
        __import__("jupytext").read(str(REPO / "notebooks" / f"{lesson}.py")), lesson))
    assert n == 4
    right = {k: solution(source_nb, k) for k in range(1, n + 1)}
    discussion = next(g for g in ids(release) if g and g.startswith("discussion-"))

    def make(answers: dict, essay: str | None = None, edit=None):
        nb = nbformat.from_dict(json.loads(json.dumps(release)))
        for k, text in answers.items():
            cell(nb, f"exercise-{k}-answer").source = text
        if essay:
            cell(nb, discussion).source = essay
        if edit:
            edit(nb)
        return nb

    module = f"nls_lessons.exercises.lesson{lesson[:2]}"
    tamper = {
        # 1: monkeypatch the lesson's check in the kernel (and the name the notebook uses)
        1: f"import {module} as m\nfrom nls_lessons.exercises import Feedback\n"
           f"m.{check_name(source_nb, 1)} = lambda *a, **k: Feedback(True, 'patched')\n{WRONG}",
        # 2: edit builtins: every check_number distance becomes 0
        2: f"import builtins\nbuiltins.abs = lambda x: 0.0\n{WRONG}",
        # 3: rebind the test's own function: the test cell then shows nothing and raises nothing
        3: f"from nls_lessons.exercises import grading\ngrading.grade = lambda *a, **k: None\n{WRONG}",
        # 4: tell IPython to swallow every error from now on, and (below) overwrite the test's source
        4: f"get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)\n{WRONG}",
    }

    def overwrite_test(nb):
        cell(nb, "exercise-4-tests").source = "print('all tests passed')"

    def delete_and_rename(nb):
        del nb.cells[ids(nb).index("exercise-1-tests")]
        cell(nb, "exercise-2-answer").metadata["nbgrader"]["grade_id"] = "my-answer"
        del nb.cells[0]                                   # the read-only points table

    return {
        "s1_right": make(right, essay="Some reasoning."),
        "s2_starters": make({}),
        "s3_half": make({1: right[1], 2: right[2], 3: WRONG, 4: WRONG}),
        "s4_raises": make({1: right[1], 2: "answer = 1 / 0", 3: right[3], 4: right[4]}),
        "s5_endless": make({1: right[1], 2: "while True:\n    pass", 3: right[3], 4: right[4]}),
        "s6_tamper": make(tamper, edit=overwrite_test),
        "s7_edited": make(right, essay="A full answer with the reason.", edit=delete_and_rename),
    }


#: Points of each exercise's tests per student (the same for both lessons: 1, 1, 1 and the
#: fourth exercise's points), before the manual grades.
def expected(points4: int) -> dict:
    full = [1, 1, 1, points4]
    return {"s1_right": full, "s2_starters": [0, 0, 0, 0], "s3_half": [1, 1, 0, 0],
            "s4_raises": [1, 0, 1, points4], "s5_endless": [1, 0, 1, points4], "s6_tamper": [0, 0, 0, 0],
            "s7_edited": full}


MANUAL = {"s7_edited": 2, "s1_right": 1}     # discussion points given by hand


def points_per_student(lesson: str) -> dict:
    """Each student's autograded points in ``lesson`` (the sum of :func:`expected`)."""
    return {student: sum(scores) for student, scores in expected(2 if lesson.startswith("01") else 1).items()}


def exchange_as_student(course: Path, home: Path, student: str, lesson: str, nb) -> None:
    """What a student does in their own JupyterLab: fetch the assignment, write, submit."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit
    from traitlets.config import Config

    cfg = Config()
    cfg.CourseDirectory.course_id = assignments.COURSE_ID
    cfg.CourseDirectory.assignment_id = lesson
    cfg.CourseDirectory.student_id = student
    cfg.Exchange.root = str(course.parent / "exchange")
    cfg.Exchange.assignment_dir = str(home)
    cfg.Exchange.cache = str(home / ".cache")
    home.mkdir(parents=True, exist_ok=True)
    for kind in (ExchangeFetchAssignment, ExchangeSubmit):
        if kind is ExchangeSubmit:
            nbformat.write(nb, str(home / lesson / f"{lesson}.ipynb"))
        kind(coursedir=CourseDirectory(config=cfg), authenticator=Authenticator(config=cfg), config=cfg).start()


@pytest.fixture(scope="session")
def classroom(tmp_path_factory):
    root = tmp_path_factory.mktemp("classroom")
    course = root / "course"
    (root / "exchange").mkdir(mode=0o777)
    assignments.build_course(course, LESSONS, sheet=True, timeout=STUDENT_TIMEOUT)
    # Every nbgrader command costs a process start (~7 CPU-s: nbgrader, nbformat, the course's
    # checks with torch), so the converters take every lesson at once (their assignment id is a
    # glob, as nbgrader allows); release and collect name one assignment each.
    nbgrader(course, "generate_assignment", ALL_LESSONS, "--force")
    for lesson in LESSONS:
        nbgrader(course, "release_assignment", lesson, "--force")
        release = nbformat.read(str(course / "release" / lesson / f"{lesson}.ipynb"), as_version=4)
        source_nb = nbformat.read(str(course / "source" / lesson / f"{lesson}.ipynb"), as_version=4)
        for student, nb in student_notebooks(release, source_nb, lesson).items():
            exchange_as_student(course, root / "homes" / student, student, lesson, nb)
        nbgrader(course, "collect", lesson)
    nbgrader(course, "autograde", ALL_LESSONS)
    # the course as autograded, before any manual grade: formgrader's chromium test grades a copy
    shutil.copytree(course, root / "formgrader" / "course", symlinks=True)
    (root / "formgrader" / "exchange").mkdir()
    from nbgrader.api import Gradebook

    path, os.environ["PATH"] = os.environ.get("PATH", ""), BIN_PATH
    try:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", assignments.COURSE_ID) as gb:
            for lesson in LESSONS:
                discussion = next(g.name for g in gb.find_notebook(lesson, lesson).grade_cells if g.name.startswith("discussion-"))
                for student, score in MANUAL.items():
                    grade = gb.find_grade(discussion, lesson, lesson, student)
                    grade.manual_score = score
                    grade.needs_manual_grade = False         # as formgrader's grade API does on save
                gb.db.commit()
    finally:
        os.environ["PATH"] = path
    nbgrader(course, "generate_feedback", ALL_LESSONS, "--force")
    nbgrader(course, "export", "--to", "grades.csv")
    nbgrader(course, "export", "--exporter", "nls_lessons.publish.grades.QuestionCsvExport", "--to", "questions.csv")
    return course


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_config_loads_cleanly_with_the_courses_preprocessors(classroom):
    # nbgrader only warns about a config file that raises, and then grades without it
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(classroom)).load_config()
    names = [k.__name__ for k in cfg.Autograde.autograde_preprocessors]
    assert names[names.index("Execute") + 1] == "VerifyOutsideKernel"
    assert "RestoreCells" in [k.__name__ for k in cfg.Autograde.sanitize_preprocessors]


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_release_holds_no_solution_and_no_hidden_test(classroom, lesson):
    text = (classroom / "release" / lesson / f"{lesson}.ipynb").read_text()
    source_nb = nbformat.read(str(classroom / "source" / lesson / f"{lesson}.ipynb"), as_version=4)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN" not in text and "require=" not in text
    for k in range(1, 5):
        for line in solution(source_nb, k).splitlines()[1:]:           # the starter line is the release's
            assert line.strip() not in text, line
    assert "answer = None" in text and "YOUR ANSWER HERE" in text


def test_exact_points_per_student_and_question(classroom):
    got = {(r["assignment"], r["student_id"], r["question"]): r for r in rows(classroom / "questions.csv")}
    for lesson in LESSONS:
        points4 = 2 if lesson.startswith("01") else 1
        discussion = "discussion-2" if lesson.startswith("01") else "discussion-1"
        for student, scores in expected(points4).items():
            actual = [float(got[(lesson, student, f"exercise-{k}-tests")]["score"]) for k in range(1, 5)]
            assert actual == scores, (lesson, student, actual)
            row = got[(lesson, student, discussion)]
            assert float(row["score"]) == MANUAL.get(student, 0) and row["max_score"] == "2", (lesson, student, row)
            assert row["needs_manual_grade"] == "False", (lesson, student, row)     # every answer is graded
    totals = {(r["assignment"], r["student_id"]): r for r in rows(classroom / "grades.csv")}
    for lesson in LESSONS:
        points4 = 2 if lesson.startswith("01") else 1
        for student, scores in expected(points4).items():
            assert float(totals[(lesson, student)]["score"]) == sum(scores) + MANUAL.get(student, 0), (lesson, student)
            assert float(totals[(lesson, student)]["max_score"]) == 3 + points4 + 2


def test_feedback_shows_hints_not_solutions(classroom):
    for lesson in LESSONS:
        source_nb = nbformat.read(str(classroom / "source" / lesson / f"{lesson}.ipynb"), as_version=4)
        for student in expected(1):
            page = classroom / "feedback" / student / lesson / f"{lesson}.html"
            html = page.read_text()
            assert "BEGIN HIDDEN" not in html and "require=" not in html
            text = unescape(re.sub(r"<[^>]+>", "", html))                   # what the page shows
            not_answered = {"s2_starters": (1, 2, 3, 4), "s3_half": (3, 4), "s6_tamper": (1, 2, 3, 4)}
            if student in not_answered:                  # their own right answers may show, no others
                for k in not_answered[student]:
                    for line in solution(source_nb, k).splitlines()[1:]:     # the starter line is theirs
                        assert line.strip() not in text, (student, line)
        starters = (classroom / "feedback" / "s2_starters" / lesson / f"{lesson}.html").read_text()
        assert "Replace `None` with your answer" in starters                 # the lesson's own hint
        raised = (classroom / "feedback" / "s4_raises" / lesson / f"{lesson}.html").read_text()
        assert "Your answer cell raised ZeroDivisionError" in raised
        endless = (classroom / "feedback" / "s5_endless" / lesson / f"{lesson}.html").read_text()
        assert "Your answer cell raised" in endless


def test_the_test_cell_a_student_overwrote_was_restored(classroom):
    nb = nbformat.read(str(classroom / "autograded" / "s6_tamper" / LESSONS[0] / f"{LESSONS[0]}.ipynb"), as_version=4)
    tests = cell(nb, "exercise-4-tests")
    assert "grading.grade(" in tests.source and "all tests passed" not in tests.source
    assert "BEGIN HIDDEN TESTS" in tests.source                            # hidden tests ran at grading


# ---------------------------------------------------------------------------- formgrader in chromium
FORMGRADER_LESSON = "02_label_smoothing"
DISCUSSION = "discussion-1"          # lesson 02's manually graded answer (2 points)
MANUAL_SCORE = "2"                   # its points, typed in formgrader
SHOTS = REPO / "build" / "screenshots"


@pytest.fixture(scope="session")
def graded_copy(classroom):
    """The course as ``nbgrader autograde`` left it (no manual grade yet), a copy of its own."""
    return classroom.parent / "formgrader" / "course"


def lab_config_path(monkeypatch, tmp: Path, *args: str) -> str:
    """The ``JUPYTER_CONFIG_PATH`` that ``make lab`` (``lab.main(args)``) hands JupyterLab."""
    from nls_lessons.publish import lab, learner_config

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
    page.set_default_timeout(60_000)
    page.goto(f"{server.base}/lab?reset&token={server.token}")
    page.wait_for_selector(".lm-MenuBar-item:has-text('Help')", timeout=120_000)
    return page


def test_formgrader_lists_the_submissions_and_a_manual_grade_reaches_the_csv(graded_copy, browser, tmp_path, monkeypatch):
    from conftest import running_lab

    course, lesson = graded_copy, FORMGRADER_LESSON
    students = sorted(p.name for p in (course / "autograded").iterdir())
    assert len(students) == 7, students
    config_path = lab_config_path(monkeypatch, tmp_path, "--lecture")
    with running_lab(course, tmp_path / "lab", env=server_env(course, config_path)) as server:
        page = open_lab(browser, server)
        page.click(".lm-MenuBar-item:has-text('Nbgrader')")
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        assert {"Assignment List", "Formgrader"} <= set(items), items      # the student and the lecturer sides
        page.get_by_role("menuitem", name="Formgrader", exact=True).click()
        frame = page.frame_locator("iframe").first
        for name in LESSONS:
            frame.locator(f"a:text-is('{name}')").first.wait_for()
        submissions = frame.locator(f"tr:has(a:text-is('{lesson}')) a[href*='manage_submissions']")
        assert submissions.inner_text().strip() == str(len(students))
        shot(page, "assignments")

        submissions.click()
        for student in students:
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
        grades = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(fh)}
    autograded = points_per_student(lesson)
    assert float(grades[(lesson, "s1_right")]["score"]) == autograded["s1_right"] + float(MANUAL_SCORE)
    for student in students:                                          # nobody else got a manual grade
        if student != "s1_right":
            assert float(grades[(lesson, student)]["score"]) == autograded[student], student


def test_a_learners_lab_has_no_instructor_tools(graded_copy, browser, tmp_path, monkeypatch):
    from conftest import running_lab

    config_path = lab_config_path(monkeypatch, tmp_path)
    assert config_path, "make lab gave JupyterLab no learner config"
    with running_lab(graded_copy, tmp_path / "lab", env=server_env(graded_copy, config_path)) as server:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{server.base}/formgrader?token={server.token}", timeout=10)  # noqa: S310
        assert err.value.code == 404
        page = open_lab(browser, server)
        menus = page.locator(".lm-MenuBar-item").all_inner_texts()
        assert "Help" in menus and "Nbgrader" not in menus, menus
        page.close()
