"""Learners work in their own copies (issue 15, item 8): ``make lab`` opens ``lessons/``, made once
from the learner version of each lesson, never overwritten, one lesson reset on request."""
from __future__ import annotations

import json
import os
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
    created = lab.ensure_working_copies(work_dir=work, log=lambda *_: None)
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
    assert f"({len(STEMS)} new;" in out.stdout
    out = run("--reset", "02")
    assert out.returncode == 0, out.stderr
    assert "reset" in out.stdout and "02_label_smoothing" in out.stdout
    out = run("--reset", "99")
    assert out.returncode == 2 and "names no lesson" in out.stderr


def test_make_reset_runs_the_same_command():
    makefile = (REPO / "Makefile").read_text()
    assert "-m nls_lessons.publish.lab --reset" in makefile and "\nreset:" in makefile


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
