"""Learners work in their own copies (issue 15, item 8): ``make lab`` opens ``lessons/``, made once
from the learner version of each lesson, never overwritten, one lesson reset on request."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from bad_input import Case, check_case
from nls_lessons.publish import book, lab

REPO = Path(__file__).resolve().parent.parent
STEMS = [p.stem for p in book.discover(REPO / "notebooks")]


def solution_sources(stem: str) -> list[str]:
    nb = book.read_notebook(REPO / "notebooks" / f"{stem}.py")
    return [c.source.strip() for c in nb.cells if book.is_solution(c) and c.source.strip()]


@pytest.fixture
def work(tmp_path):
    return tmp_path / "lessons"


def test_every_lesson_gets_one_plain_copy(work):
    created = [p for p in lab.ensure_working_copies(work_dir=work, log=lambda *_: None) if p.parent == work]
    assert sorted(p.name for p in created) == sorted(f"{s}.ipynb" for s in STEMS)
    for path in created:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
        assert "jupytext" not in nb.metadata, f"{path.name} is paired: jupytext would refuse or write .py files"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
    assert not list(work.glob("*.py")), "the working folder holds notebooks only"


@pytest.mark.parametrize("stem", STEMS)
def test_no_solution_code_cell_in_a_copy(stem, work):
    lab.ensure_working_copies(work_dir=work, log=lambda *_: None)
    nb = nbformat.read(str(work / f"{stem}.ipynb"), as_version=4)
    code = [c.source.strip() for c in nb.cells if c.cell_type == "code"]
    for solution in solution_sources(stem):
        assert solution not in code, f"{stem}: a solution is a runnable cell in the learner's copy"
    assert not any("solution" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code")


def test_the_fixture_lessons_have_solutions_to_hide():
    """The test above can fail: the lessons do carry solution cells."""
    assert sum(len(solution_sources(s)) for s in STEMS) >= 5


def test_a_copy_is_never_overwritten(work):
    lab.ensure_working_copies(work_dir=work, log=lambda *_: None)
    mine = work / "01_label_noise.ipynb"
    nb = nbformat.read(str(mine), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("my_answer = 42"))
    nbformat.write(nb, str(mine))
    assert lab.ensure_working_copies(work_dir=work, log=lambda *_: None) == []
    assert "my_answer = 42" in mine.read_text()


def test_the_working_folder_carries_the_course_slide_style_for_rise(work):
    """RISE loads ``rise.css`` from the notebook's folder; the course's keeps a markdown code
    block inside the 1280 px slide (RISE's ``pre {width: 100%}`` plus JupyterLab's 2em margin
    ran past it). The course's file comes back when it was changed; copies stay untouched."""
    lab.ensure_working_copies(work_dir=work, log=lambda *_: None)
    css = (work / "rise.css").read_text()
    assert ".rise-enabled .reveal .jp-RenderedHTMLCommon > pre" in css and "width: auto" in css
    (work / "rise.css").write_text("/* edited */")
    copy = work / f"{STEMS[0]}.ipynb"
    copy.write_text(copy.read_text() + " ")
    before = copy.read_text()
    lab.ensure_working_copies(work_dir=work, log=lambda *_: None)
    assert (work / "rise.css").read_text() == css and copy.read_text() == before


def test_a_new_lesson_gets_its_copy_next_time(tmp_path, work):
    src = tmp_path / "notebooks"
    src.mkdir()
    for stem in STEMS[:2]:
        shutil.copy(REPO / "notebooks" / f"{stem}.py", src / f"{stem}.py")
    first = lab.ensure_working_copies(src_dir=src, work_dir=work, log=lambda *_: None)
    assert [p.name for p in first] == [f"{s}.ipynb" for s in STEMS[:2]]
    shutil.copy(REPO / "notebooks" / f"{STEMS[2]}.py", src / f"{STEMS[2]}.py")
    second = lab.ensure_working_copies(src_dir=src, work_dir=work, log=lambda *_: None)
    assert [p.name for p in second] == [f"{STEMS[2]}.ipynb"]


def test_reset_brings_back_a_fresh_copy_and_keeps_the_old_one(work):
    lab.ensure_working_copies(work_dir=work, log=lambda *_: None)
    stem = next(s for s in STEMS if s.startswith("03_"))
    mine = work / f"{stem}.ipynb"
    fresh = mine.read_text()
    nb = nbformat.read(str(mine), as_version=4)
    nb.cells[0].source = "my notes"
    nbformat.write(nb, str(mine))
    said = []
    assert lab.reset_lesson("03", work_dir=work, log=said.append) == mine
    assert mine.read_text() == fresh
    backups = list((work / lab.BACKUP_DIR_NAME).glob(f"{stem}-*.ipynb"))
    assert len(backups) == 1 and "my notes" in backups[0].read_text()
    assert len(said) == 1 and "reset" in said[0] and stem in said[0] and backups[0].name in said[0]


@pytest.mark.parametrize("name", ["03", "3", "03_negative_label_smoothing", "03_negative_label_smoothing.ipynb",
                                  "lessons/03_negative_label_smoothing.ipynb", "notebooks/03_negative_label_smoothing.py"])
def test_reset_accepts_the_number_or_the_name(name):
    assert lab.resolve_lesson(name).stem == "03_negative_label_smoothing"


BAD_RESETS = [
    Case("unknown-number", lab.resolve_lesson, ("42",), words=("lesson", "'42'", "00_welcome")),
    Case("unknown-name", lab.resolve_lesson, ("negative",), words=("lesson", "03_negative_label_smoothing")),
    Case("empty", lab.resolve_lesson, ("",), words=("lesson", "use a number")),
    Case("no-lessons", lab.ensure_working_copies, (), dict(src_dir=REPO / "data"), words=("src_dir", "no lesson")),
]


@pytest.mark.parametrize("case", [c.param() for c in BAD_RESETS])
def test_bad_reset_names_the_lessons(case):
    check_case(case)


def test_reset_from_the_command_line_asks_nothing_and_says_what_it_did(work):
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "nls_lessons.publish.lab", "--lessons-dir", str(work), *args],
        cwd=REPO, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    out = run("--copies-only")
    assert out.returncode == 0, out.stderr
    assert f"({len(STEMS)} new;" in out.stdout         # a learner's copies: no instructor material
    assert not (work / "instructor").exists()
    out = run("--reset", "02")
    assert out.returncode == 0, out.stderr
    assert "reset" in out.stdout and "02_label_smoothing" in out.stdout
    out = run("--reset", "99")
    assert out.returncode == 2 and "names no lesson" in out.stderr


def test_make_reset_runs_the_same_command():
    from nls_lessons import setup

    makefile = (REPO / "Makefile").read_text()
    assert "$(SETUP) reset" in makefile and "\nreset:" in makefile
    ran = []
    setup_run = setup.run_in_env
    try:
        setup.run_in_env = lambda args, threads=False, module=True, nice=0: ran.append(args) or 0
        assert setup.main(["reset", "03"]) == 0
    finally:
        setup.run_in_env = setup_run
    assert ran == [("nls_lessons.publish.lab", "--reset", "03")]


# ---------------------------------------------------------------- the sources stay clean
def test_jupyterlab_root_is_the_working_folder_not_the_repository():
    cmd = lab.lab_command(8888, "127.0.0.1", open_browser=False)
    root = next(a.split("=", 1)[1] for a in cmd if a.startswith("--ServerApp.root_dir="))
    assert Path(root) == lab.WORK_DIR.resolve()
    assert lab.NOTEBOOKS.resolve() not in [Path(root), *Path(root).parents]
    assert "--LabApp.default_url=/lab/tree/00_welcome.ipynb" in cmd


def test_working_folder_is_git_ignored_and_at_the_lessons_depth():
    """Copies never show in `git status`; ``../`` in a lesson means the same in both folders."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    default = REPO / "lessons"
    if "NLS_LESSONS_DIR" not in os.environ:
        assert lab.WORK_DIR == default
    out = subprocess.run(["git", "check-ignore", "-q", "lessons/00_welcome.ipynb"], cwd=REPO)
    assert out.returncode == 0, "lessons/ must be git-ignored"
    assert default.parent == lab.NOTEBOOKS.parent


# ---------------------------------------------------------------- settings for live slides
def test_lab_settings_are_valid_for_their_plugins(tmp_path):
    """Every override names a real setting of its plugin's schema (RISE rejects unknown keys)."""
    import jsonschema

    target = lab.install_lab_settings(prefix=tmp_path)
    assert target == tmp_path / "share/jupyter/lab/settings/overrides.d/nls-lessons.json"
    settings = json.loads(target.read_text())
    assert settings["jupyterlab-rise:plugin"]["width"] == "1280"
    assert settings["jupyterlab-rise:plugin"]["height"] == "720"
    assert settings["jupyterlab-rise:plugin"]["scroll"] is True
    lab_dir = Path(sys.prefix) / "share" / "jupyter"
    for plugin, values in settings.items():
        package, name = plugin.split(":")
        candidates = [lab_dir / "lab" / "schemas" / package / f"{name}.json",
                      lab_dir / "labextensions" / package / "schemas" / package / f"{name}.json"]
        schema_path = next((p for p in candidates if p.exists()), None)
        assert schema_path, f"no schema for {plugin}"
        schema = json.loads(schema_path.read_text())
        unknown = set(values) - set(schema["properties"])
        assert not unknown, f"{plugin}: {unknown} are not settings"
        jsonschema.validate(values, schema)
    mtime = target.stat().st_mtime_ns
    lab.install_lab_settings(prefix=tmp_path)
    assert target.stat().st_mtime_ns == mtime, "unchanged settings are not rewritten"


def test_reopened_copies_show_their_explorers(tmp_path):
    """Without saved widget state a reopened notebook shows "Error displaying widget: model not
    found" under every explorer until its cell runs again; the course turns JupyterLab's widget
    manager's ``saveState`` on, as it sets RISE's options (an override: a learner's choice wins)."""
    settings = json.loads(lab.install_lab_settings(prefix=tmp_path).read_text())
    assert settings["@jupyter-widgets/jupyterlab-manager:plugin"] == {"saveState": True}


# ---------------------------------------------------------------- lecturers' copies
def test_lecturers_get_copies_of_the_lecture_and_the_notes(work):
    """``make lab`` / ``make lecture`` serve ``lessons/``; the 50-minute lecture lives in
    ``notebooks/instructor/``, out of the lab's reach, until it has a copy in ``lessons/instructor/``
    (whole: speaker notes kept, no outputs, unpaired), next to its notes and RISE's slide style.
    Only a lecturer's call makes them: the notes hold the solutions, a learner's copies do not."""
    lab.ensure_working_copies(work_dir=work, log=lambda *_: None)
    assert not (work / "instructor").exists()
    lab.ensure_working_copies(work_dir=work, log=lambda *_: None, instructor=True)
    lecture = work / lab.LECTURE
    assert lecture.is_file(), f"no copy of the lecture at {lab.LECTURE}"
    nb = nbformat.read(str(lecture), as_version=4)
    source = book.read_notebook(REPO / "notebooks" / "instructor" / "50_minute_lecture.py")
    assert [c.source for c in nb.cells] == [c.source for c in source.cells]
    assert "jupytext" not in nb.metadata
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")
    assert (work / "instructor" / "rise.css").read_text() == (work / "rise.css").read_text()
    for name in ("50_minute_lecture.md", "03_negative_label_smoothing.md"):
        assert (work / "instructor" / name).read_text() == (REPO / "notebooks" / "instructor" / name).read_text()
    # the deck's links to the lessons land on the learner's copies
    links = {m for c in nb.cells if c.cell_type == "markdown" for m in re.findall(r"\]\((\.\./[^)]+\.ipynb)\)", c.source)}
    assert links and all((lecture.parent / link).resolve().is_file() for link in links), links


def test_the_lecture_copy_is_kept_and_resets_like_a_lesson(work):
    lab.ensure_working_copies(work_dir=work, log=lambda *_: None, instructor=True)
    lecture = work / lab.LECTURE
    lecture.write_text(lecture.read_text().replace("The whole paper in 50 minutes", "my version"))
    assert lab.ensure_working_copies(work_dir=work, log=lambda *_: None, instructor=True) == []
    assert "my version" in lecture.read_text()
    assert lab.resolve_lesson("50").stem == lab.resolve_lesson("50_minute_lecture").stem == "50_minute_lecture"
    assert lab.reset_lesson("50", work_dir=work, log=lambda *_: None) == lecture
    assert "my version" not in lecture.read_text()
    assert "my version" in next((work / lab.BACKUP_DIR_NAME).glob("50_minute_lecture-*.ipynb")).read_text()


def test_make_lecture_opens_the_lab_at_the_lecture(monkeypatch, tmp_path):
    from nls_lessons import setup

    makefile = (REPO / "Makefile").read_text()
    assert "\nlecture:" in makefile and setup.COMMANDS["lecture"][0] == ("nls_lessons.publish.lab", "--lecture")
    seen = {}
    monkeypatch.setattr(lab.os, "execve", lambda path, cmd, env: seen.setdefault("cmd", cmd))
    monkeypatch.setattr(lab, "install_lab_settings", lambda: None)
    monkeypatch.chdir(tmp_path)
    lab.main(["--lecture", "--no-browser", "--lessons-dir", str(tmp_path / "lessons")])
    assert f"--LabApp.default_url=/lab/tree/{lab.LECTURE}" in seen["cmd"]
    assert (tmp_path / "lessons" / lab.LECTURE).is_file()


def test_the_lecture_has_a_notes_file_with_a_time_for_every_slide():
    """Seven one-line speaker notes were all a lecturer had; the notes file gives each slide its
    minutes, the answers to the questions the deck asks, and the plan for a demo that fails."""
    from nls_lessons.publish import slides

    notes = (REPO / "notebooks" / "instructor" / "50_minute_lecture.md").read_text()
    nb = book.read_notebook(REPO / "notebooks" / "instructor" / "50_minute_lecture.py")
    titles = [line.lstrip("#").strip() for c in nb.cells if c.cell_type == "markdown"
              and c.metadata.get("slideshow", {}).get("slide_type") == "slide"
              for line in c.source.splitlines()[:1] if line.startswith("#")]
    assert len(titles) >= 10, titles
    timing = re.findall(r"^\|\s*(\d+)\s*-\s*(\d+)\s*\|\s*([^|]+?)\s*\|", notes, flags=re.M)
    assert timing, "no timing table (| start - end | slide | ...)"
    named = [t[2] for t in timing]
    for title in titles:
        assert any(title.split(":")[0].strip("# ") in n for n in named), f"no time for slide {title!r}"
    starts = [(int(a), int(b)) for a, b, _ in timing]
    assert starts[0][0] == 0 and starts[-1][1] == 50 and all(b1 == a2 for (_, b1), (a2, _) in zip(starts, starts[1:]))
    for heading in ("## Answers", "## Likely questions", "## When a live demo fails"):
        assert heading in notes, heading
    assert "build/slides/" in notes or "build/instructor/" in notes   # the offline deck in another tab
    assert slides.lecture_notebooks()       # the lecture ships as a deck too
