"""The classroom course from the lessons (issue 27, items 1, 3 and bad input), without nbgrader:
the generated source notebooks, the strict checks, the grader's re-check outside the kernel and
the restoring of deleted or renamed cells. The whole loop with real nbgrader is test_classroom.py."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jupytext
import nbformat
import numpy as np
import pytest

from nls_lessons.exercises import grading, lesson01
from nls_lessons.publish import assignment_cells, assignments, autograde, points

REPO = Path(__file__).resolve().parent.parent
STEMS = list(assignments.lessons().values())


def lesson(stem):
    return jupytext.read(str(REPO / "notebooks" / f"{stem}.py"))


def source(stem, **kw):
    return assignment_cells.assignment_notebook(lesson(stem), stem, REPO / "notebooks" / "instructor" / f"{stem}.md", **kw)


def meta(cell):
    return cell.metadata["nbgrader"]


def test_one_assignment_per_lesson_01_to_06(tmp_path):
    written = assignments.build_course(tmp_path / "course")
    assert [p.parent.name for p in written] == STEMS == [
        "01_label_noise", "02_label_smoothing", "03_negative_label_smoothing", "04_high_noise_regimes",
        "05_paper_scale", "06_your_own_data"]
    config = (tmp_path / "course" / "nbgrader_config.py").read_text()
    assert "VerifyOutsideKernel" in config and "RestoreCells" in config and "CellTimeout(student=60, lesson=900)" in config
    compile(config, "nbgrader_config.py", "exec")


@pytest.mark.parametrize("stem", STEMS)
def test_every_exercise_is_an_answer_cell_and_a_locked_test_cell_with_its_points(stem):
    nb, src = source(stem), lesson(stem)
    exercises = assignment_cells.find_exercises(src, stem)
    lesson_solutions = [c.source for c in src.cells if "solution" in c.metadata.get("tags", [])]
    assert len(exercises) == len(lesson_solutions) >= 3
    ids = [meta(c)["grade_id"] for c in nb.cells]
    assert len(ids) == len(set(ids))
    for ex in exercises:
        answer = nb.cells[ids.index(f"exercise-{ex.number}-answer")]
        tests = nb.cells[ids.index(f"exercise-{ex.number}-tests")]
        assert ids.index(f"exercise-{ex.number}-tests") == ids.index(f"exercise-{ex.number}-answer") + 1
        assert meta(answer)["solution"] and not meta(answer)["grade"] and not meta(answer)["locked"]
        body = answer.source.split(assignment_cells.BEGIN_SOLUTION)[1].split(assignment_cells.END_SOLUTION)[0]
        assert answer.source.startswith("answer = None")
        # the solution is the lesson's own solution cell's code (minus its comment and check lines)
        assert body.strip() and body.strip() in lesson_solutions[ex.number - 1]
        assert meta(tests)["grade"] and meta(tests)["locked"] and not meta(tests)["solution"]
        assert meta(tests)["points"] == points.exercise_points(stem[:2], ex.check)
        assert f'grading.grade("lesson{stem[:2]}", "{ex.check}", answer' in tests.source
        assert assignment_cells.BEGIN_HIDDEN in tests.source
    others = [c for c in nb.cells if not meta(c)["grade_id"].startswith(("exercise-", "discussion-"))]
    assert others and all(meta(c)["locked"] and not meta(c)["grade"] and not meta(c)["solution"] for c in others)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("stem", STEMS)
def test_points_are_shown_in_the_first_cell_and_discussion_is_graded_by_hand(stem):
    nb = source(stem)
    number = stem[:2]
    exercises = assignment_cells.find_exercises(lesson(stem), stem)
    total = sum(points.exercise_points(number, e.check) for e in exercises) + sum(points.discussion_points(number).values())
    head = nb.cells[0].source
    assert f"| **total** | **{total}** |" in head
    for ex in exercises:
        assert f"| Exercise {ex.number} (autograded) | {points.exercise_points(number, ex.check)} |" in head
    notes = (REPO / "notebooks" / "instructor" / f"{stem}.md").read_text()
    for q, p in points.discussion_points(number).items():
        cell = next(c for c in nb.cells if meta(c)["grade_id"] == f"discussion-{q}")
        assert cell.cell_type == "markdown" and meta(cell)["grade"] and meta(cell)["solution"]
        assert meta(cell)["points"] == p and f"| Discussion question {q} (graded by hand) | {p} |" in head
        assert f"**Discussion question {q} ({p} points).**" in notes.split("## Classroom grading rubric")[1]
    # the table is the one in points.py: the sums over every released notebook agree with it
    assert sum(meta(c).get("points", 0) for c in nb.cells) == total


def test_changing_a_solution_or_a_check_in_the_lesson_changes_the_assignment():
    stem = "01_label_noise"
    nb = lesson(stem)
    before = json.dumps(assignment_cells.assignment_notebook(nb, stem, REPO / "notebooks/instructor/01_label_noise.md"))
    changed = copy.deepcopy(nb)
    sol = next(c for c in changed.cells if "solution" in c.metadata.get("tags", []))
    sol.source = sol.source.replace("answer = 0.3 / 9", "answer = 0.3 / (10 - 1)")
    check = changed.cells[changed.cells.index(sol) - 1]
    check.source = check.source.replace("ex.check_symmetric_entry(answer)", "ex.check_rate_sd(answer)")
    after = assignment_cells.assignment_notebook(changed, stem, REPO / "notebooks/instructor/01_label_noise.md")
    text = json.dumps(after)
    assert text != before and "answer = 0.3 / (10 - 1)" in text
    assert 'grading.grade("lesson01", "check_rate_sd", answer)' in after.cells[
        [meta(c)["grade_id"] for c in after.cells].index("exercise-1-tests")].source


def test_sheet_keeps_the_exercises_and_the_cells_they_need():
    nb = source("01_label_noise", sheet=True)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "off = pd.DataFrame" in code and "T_worst =" in code        # exercise 4 reads `off`
    assert "widgets." not in code                                       # explorers are not needed
    assert len(nb.cells) < len(source("01_label_noise").cells) / 2


# ------------------------------------------------------------------ the strict check
def test_strict_raises_the_lessons_own_hint_and_passes_the_right_answer():
    for wrong in (0.03, 0.3, None, "abc", [0.1, 0.2]):
        hint = lesson01.check_symmetric_entry(wrong).message
        with pytest.raises(AssertionError) as err:
            grading.strict(lesson01.check_symmetric_entry, wrong)
        assert str(err.value) == hint
    assert grading.strict(lesson01.check_symmetric_entry, 0.3 / 9)
    with pytest.raises(AssertionError, match="not text"):              # the hidden requirement
        grading.strict(lesson01.check_symmetric_entry, str(0.3 / 9), require="number")


@pytest.mark.parametrize("value", [0.25, 3, "truck", None, True, np.float32(0.5), np.int64(9),
                                   np.array(0.5), np.array([[1.0, 2.0]]), [1, 2], (3,), float("nan")])
def test_a_record_carries_data_only_and_comes_back_the_same(value):
    data = json.loads(json.dumps(grading.encode(value)))
    back = grading.decode(data)
    assert type(back) is type(value) or isinstance(value, np.ndarray) and isinstance(back, np.ndarray)
    assert repr(back) == repr(value)
    assert isinstance(grading.decode(grading.encode(len)), grading.Unsupported)


# ------------------------------------------------------------------ the grader's own re-check
def test_cell(source_text, outputs):
    cell = nbformat.v4.new_code_cell(source_text, metadata={"nbgrader": {"grade": True, "solution": False,
                                                                          "grade_id": "t", "points": 1}})
    cell.outputs = outputs
    return cell


test_cell.__test__ = False          # a helper, not a test


def record_output(exercise, *values):
    return nbformat.v4.new_output("display_data", data={grading.RECORD_MIME: grading.record(exercise, values),
                                                         "text/plain": "recorded"})


SOURCE = ('from nls_lessons.exercises import grading\ngrading.grade("lesson01", "check_symmetric_entry", answer)\n'
          '### BEGIN HIDDEN TESTS\ngrading.grade("lesson01", "check_symmetric_entry", answer, require="number")\n'
          '### END HIDDEN TESTS')


def verify(*cells):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    autograde.VerifyOutsideKernel().preprocess(nb, {})
    return nb.cells[-1].outputs


def test_the_kernels_verdict_is_replaced_by_the_graders():
    # a kernel whose check was monkeypatched shows no error, but the recorded answer is wrong
    out = verify(test_cell(SOURCE, [record_output("lesson01.check_symmetric_entry", 0.03)]))
    assert out[0].output_type == "error" and out[0].evalue == lesson01.check_symmetric_entry(0.03).message
    # a kernel that raised (a patched builtin broke the check) but the answer is right: points
    error = nbformat.v4.new_output("error", ename="TypeError", evalue="x", traceback=[])
    out = verify(test_cell(SOURCE, [record_output("lesson01.check_symmetric_entry", 0.3 / 9), error]))
    assert out[0].output_type == "stream" and "Correct" in out[0].text
    # the hidden test, read from the restored source: numeric text fails it
    out = verify(test_cell(SOURCE, [record_output("lesson01.check_symmetric_entry", "0.0333333")]))
    assert out[0].output_type == "error" and "not text" in out[0].evalue


def test_no_record_is_an_error_that_names_what_raised_before():
    raising = nbformat.v4.new_code_cell("1/0", metadata={"nbgrader": {"grade_id": "exercise-1-answer", "solution": True}})
    raising.outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]
    out = verify(raising, test_cell(SOURCE, []))
    assert out[0].output_type == "error"
    assert "No answer was recorded" in out[0].evalue and "exercise-1-answer raised ZeroDivisionError" in out[0].evalue
    # a record for another exercise, or one with the wrong shape, earns nothing either
    assert verify(test_cell(SOURCE, [record_output("lesson01.check_rate_sd", 0.3 / 9)]))[0].output_type == "error"


def test_keyword_arguments_come_from_the_source_never_from_the_kernel():
    calls = autograde.grade_calls('grading.grade("lesson05", "check_best_rate", answer, noise_rate=0.3, noise="pairflip")')
    assert calls == [{"exercise": "lesson05.check_best_rate", "lesson": "lesson05", "name": "check_best_rate",
                      "args": [(False, None)], "require": None, "kwargs": {"noise_rate": 0.3, "noise": "pairflip"}}]


# ------------------------------------------------------------------ deleted and renamed cells
def release_dir(tmp_path, nb):
    path = tmp_path / "release" / "a1" / "nb.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, str(path))
    return tmp_path / "release"


def restore(tmp_path, released, submitted):
    pre = autograde.RestoreCells(release_directory=str(release_dir(tmp_path, released)))
    nb, _ = pre.preprocess(submitted, {"nbgrader": {"assignment": "a1", "notebook": "nb"}})
    return nb


def test_deleted_cells_come_back_at_their_place_and_renamed_ones_get_their_id(tmp_path):
    released = source("02_label_smoothing", sheet=True)
    ids = [meta(c)["grade_id"] for c in released.cells]
    sub = copy.deepcopy(released)
    del sub.cells[ids.index("exercise-1-tests")]                        # deleted test cell
    renamed = sub.cells[[meta(c)["grade_id"] for c in sub.cells].index("exercise-2-answer")]
    renamed.metadata["nbgrader"]["grade_id"] = "my-answer"              # renamed answer cell
    renamed.source = "answer = 0.5"
    del sub.cells[0]                                                     # deleted read-only header
    nb = restore(tmp_path, released, sub)
    assert [meta(c)["grade_id"] for c in nb.cells] == ids
    assert nb.cells[ids.index("exercise-2-answer")].source == "answer = 0.5"   # the student's work kept


def test_an_unknown_id_that_fits_no_gap_becomes_an_ordinary_cell(tmp_path):
    released = source("02_label_smoothing", sheet=True)
    sub = copy.deepcopy(released)
    sub.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "mine", "grade": True,
                                                                                "points": 99, "solution": False}}))
    nb = restore(tmp_path, released, sub)
    assert "nbgrader" not in nb.cells[-1].metadata and nb.cells[-1].source == "x = 1"


# ------------------------------------------------------------------ bad input
def test_unknown_lesson_and_a_course_dir_that_is_a_file(tmp_path):
    with pytest.raises(ValueError, match=r"lesson: unknown lesson '07'.*01_label_noise"):
        assignments.build_course(tmp_path / "c", ["07"])
    with pytest.raises(ValueError, match="lesson: unknown lesson '00'"):
        assignments.lesson_stem("00")           # the welcome has no graded exercises
    assert assignments.lesson_stem("3") == assignments.lesson_stem("negative_label_smoothing") == STEMS[2]
    afile = tmp_path / "course.txt"
    afile.write_text("x")
    with pytest.raises(ValueError, match="--course-dir: .* is a file"):
        assignments.build_course(afile)
    with pytest.raises(ValueError, match=r"--timeout must be a whole number of seconds in \[1, 3600\]"):
        assignments.build_course(tmp_path / "c", timeout=0)


@pytest.mark.parametrize("student", ["../alice", "a/b", "a\\b", "", ".", "..", "-rf", "a+b", "x" * 65, None])
def test_a_student_id_with_path_separators_is_refused(tmp_path, student):
    nb = tmp_path / "n.ipynb"
    nbformat.write(source("02_label_smoothing", sheet=True), str(nb))
    with pytest.raises(ValueError, match="--student: .* is not a plain student id"):
        assignments.submit(tmp_path / "c", student, "02", nb)
    assert not (tmp_path / "c" / "submitted").exists() and not (tmp_path / "alice").exists()


def test_a_submission_that_is_not_a_notebook_or_is_empty(tmp_path):
    cases = {"empty.ipynb": ("", "is empty"), "text.ipynb": ("my answer is 0.2", "is not a Jupyter notebook"),
             "json.ipynb": ('{"a": 1}', "is not a Jupyter notebook"),
             "nocells.ipynb": (nbformat.writes(nbformat.v4.new_notebook()), "is an empty notebook")}
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=f"notebook: .*{name}.* {message}"):
            assignments.submit(tmp_path / "c", "alice", "02", tmp_path / name)
    with pytest.raises(ValueError, match="notebook: no file at"):
        assignments.submit(tmp_path / "c", "alice", "02", tmp_path / "missing.ipynb")
    good = tmp_path / "good.ipynb"
    nbformat.write(source("02_label_smoothing", sheet=True), str(good))
    out = assignments.submit(tmp_path / "c", "alice", "2", good)
    assert out == tmp_path / "c" / "submitted" / "alice" / "02_label_smoothing" / "02_label_smoothing.ipynb"


def test_the_command_line_says_what_is_wrong(tmp_path, capsys):
    with pytest.raises(SystemExit):
        assignments.main(["--course-dir", str(tmp_path / "c"), "--lessons", "nine"])
    assert "lesson: unknown lesson 'nine'" in capsys.readouterr().err
    assert re.search(r"^[A-Za-z0-9]", "alice") and assignments.main(
        ["--course-dir", str(tmp_path / "c"), "--lessons", "02", "--sheet"]) == 0


def test_make_lab_turns_the_instructor_tools_off_for_the_learner(tmp_path):
    from nls_lessons.publish import lab

    folder = lab.install_learner_config(tmp_path)
    page = json.loads((folder / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
            "@jupyter/nbgrader:course-list"} <= {k for k, v in page.items() if v}
    server = json.loads((folder / "jupyter_server_config.json").read_text())["ServerApp"]["jpserver_extensions"]
    assert server == {"nbgrader.server_extensions.formgrader": False, "nbgrader.server_extensions.course_list": False}
    assert "JUPYTER_CONFIG_PATH" in Path(lab.__file__).read_text()       # main() hands the folder to JupyterLab
