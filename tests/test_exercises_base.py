import pytest

from nls_lessons.exercises import NOT_YET, Feedback, check_number, close, right, wrong


def test_feedback_truthiness_and_text():
    assert right("because") and not wrong("hint")
    assert repr(right("because")).startswith("✓ Correct") and "because" in repr(right("because"))
    assert repr(wrong("try κ")).startswith("✗ Not yet") and "try κ" in repr(wrong("try κ"))
    assert isinstance(right("x"), Feedback)


def test_close_rejects_non_numbers_and_nan():
    assert close(0.2001, 0.2, tol=1e-3)
    assert not close(0.3, 0.2, tol=1e-3)
    assert not close("abc", 0.2) and not close(float("nan"), 0.2) and not close(None, 0.2)


def _check(answer):
    """A check in the lessons' shape: 0.5 is right, 0.45 and (0.4, 0.6) are known mistakes."""
    return check_number(answer, 0.5, tol=1e-3, why="why", hint="general", not_a_number="a number",
                        mistakes=[(0.45, "mistake A"), ((0.4, 0.6), "mistake B"),
                                  (3.0, "mistake C", 0.5), (lambda v: v < 0, "negative")])


@pytest.mark.parametrize("answer, correct, message", [
    (0.5, True, "why"), ("0.5004", True, "why"), (0.45, False, "mistake A"), (0.4, False, "mistake B"),
    (0.6005, False, "mistake B"), (3.4, False, "mistake C"), (-2.0, False, "negative"),
    (0.55, False, "general"), (2.4, False, "general"),
    (None, False, NOT_YET), ("abc", False, "a number"), (float("nan"), False, "a number"),
    (float("inf"), False, "a number"), ([0.5, 0.5], False, "a number"), ([0.5], False, "a number"),
    (True, False, "a number"), (False, False, "a number"),
])
def test_check_number_follows_the_shape(answer, correct, message):
    fb = _check(answer)
    assert isinstance(fb, Feedback) and bool(fb) is correct
    if message == "a number":     # what is wrong with the answer, then the check's request
        assert fb.message.endswith(" a number") and fb.message.startswith("Got "), fb.message
    else:
        assert fb.message == message


def test_check_number_tests_mistakes_in_order_and_defaults():
    fb = check_number(0.3, 0.0, tol=1e-3, why="w", hint="h", mistakes=[(0.3, "first"), (0.3, "second")])
    assert fb.message == "first"
    assert check_number("x", 0.0, tol=1e-3, why="w", hint="h").message == \
        "Got the text 'x', which is not a number. Give a single number."
    assert check_number(0.3, 0.0, tol=1e-3, why="w", hint="h").message == "h"   # no mistakes given


from exercise_contract import exercise_problems, notebook_cells, notebook_shape_tests, undefined_names  # noqa: E402

# Lesson 00's self-check is an exercise too (check_number inline, no lesson module).
test_exercises_have_prompt_starter_check_solution, test_learner_version_and_live_slides_define_every_name_they_use = \
    notebook_shape_tests("00_welcome")


def test_the_notebook_checks_catch_what_they_guard_against():
    """A skipped import cell, a solution-only name, and a solution that shows its answer first."""
    code = lambda src, **meta: {"cell_type": "code", "source": src, "metadata": meta}  # noqa: E731
    md = {"cell_type": "markdown", "source": "**Exercise.**", "metadata": {}}
    skipped_import = [code("import numpy as np", slideshow={"slide_type": "skip"}), code("np.zeros(3)")]
    assert undefined_names(skipped_import) == []
    assert undefined_names([c for c in skipped_import if c["metadata"].get("slideshow", {}).get("slide_type") != "skip"]) \
        == [(0, "np")]
    solution_only = [code("off = 3", tags=["solution"]), code("print(off)")]
    assert undefined_names([c for c in solution_only if "solution" not in c["metadata"].get("tags", [])]) == [(0, "off")]
    answer_first = [md, code("answer = None  # your answer"), code("ex.check_x(answer)"),
                    code("answer = 0.3 / 9\nex.check_x(answer)", tags=["solution"])]
    assert len(exercise_problems(answer_first)) == 2      # no solution comment first, no assert last
    assert exercise_problems([md, code("answer = None\nex.check_x(answer)"), code("x = 1"),
                              code("# Solution: open this cell only after you have tried the exercise.\n"
                                   "assert ex.check_x(0.1)", tags=["solution"])]) != []


from exercise_contract import NOTEBOOKS  # noqa: E402

LESSONS_WITH_EXERCISES = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if '"solution"' in p.read_text())


@pytest.mark.parametrize("stem", LESSONS_WITH_EXERCISES)
def test_every_lesson_has_one_exercise_shape(stem):
    """Every lesson, not only those whose test module adopts notebook_shape_tests: prompt, a
    one-line starter, a check cell, then the collapsed "Solution: open this cell only after ..."
    cell that asserts its check (the shape lessons 01-02 set)."""
    cells = notebook_cells(stem)
    assert exercise_problems(cells) == []
    learner = [c for c in cells if "solution" not in c["metadata"].get("tags", [])]
    assert undefined_names(learner) == [], "the learner version (solutions removed) uses a name it never defines"
