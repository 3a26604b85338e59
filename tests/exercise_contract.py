"""The contract every lesson's self-checks keep, as tests a lesson's test module adopts::

    test_right_answer_passes, test_wrong_answers_fail_with_a_hint_that_hides_the_answer, \\
        test_starter_none_is_not_yet_and_never_raises = contract_tests(CASES)

``CASES`` maps each check to ``(right answer, [wrong answers])``: the right answer passes with a
reason, each wrong one fails with a hint that does not state the answer, and the starter value
``None`` is "not yet" without an exception.
"""
from __future__ import annotations

import pytest

from nls_lessons.exercises import Feedback


def _name(check) -> str:
    return check.__name__


def contract_tests(cases: dict, *, extra_starters: dict | None = None):
    """The three contract tests for ``cases``. ``extra_starters`` maps further checks (ones that
    need more arguments than the answer) to the arguments of their starter call, e.g.
    ``{check_best_rate: (None, FRAME)}``; they join only the "None is not yet" test."""
    starters = {check: (None,) for check in cases} | dict(extra_starters or {})

    @pytest.mark.parametrize("check", list(cases), ids=_name)
    def test_right_answer_passes(check):
        answer, _ = cases[check]
        verdict = check(answer)
        assert isinstance(verdict, Feedback) and verdict, verdict
        assert verdict.message

    @pytest.mark.parametrize("check", list(cases), ids=_name)
    def test_wrong_answers_fail_with_a_hint_that_hides_the_answer(check):
        answer, wrongs = cases[check]
        for w in wrongs:
            verdict = check(w)
            assert isinstance(verdict, Feedback) and not verdict, (w, verdict)
            assert len(verdict.message) > 20
            if not isinstance(answer, str):
                for text in (f"{answer:.2f}", f"{answer:g}"):
                    assert text not in verdict.message, (w, verdict.message)
            else:
                assert f'"{answer}"' not in verdict.message or "one of" in verdict.message

    @pytest.mark.parametrize("check", list(starters), ids=_name)
    def test_starter_none_is_not_yet_and_never_raises(check):
        verdict = check(*starters[check])
        assert not verdict and "None" in verdict.message

    return (test_right_answer_passes, test_wrong_answers_fail_with_a_hint_that_hides_the_answer,
            test_starter_none_is_not_yet_and_never_raises)


# ------------------------------------------------------------------ the notebook side
# What a lesson's notebook keeps (issue 15, items 1 and 3): every exercise is prompt, starter,
# check, solution; and the cells a learner or a live slide show runs define every name they use.
import ast
import builtins
import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTION_FIRST_LINE = "# Solution: open this cell only after you have tried the exercise."
_IPYTHON_NAMES = {"display", "get_ipython", "In", "Out"}


def notebook_cells(stem: str) -> list[dict]:
    return json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())["cells"]


def _source(cell) -> str:
    return "".join(cell["source"])


def _tags(cell) -> set:
    return set(cell["metadata"].get("tags", []))


def _skipped(cell) -> bool:
    return cell["metadata"].get("slideshow", {}).get("slide_type") == "skip"


def _names(code: str) -> tuple[set, set]:
    """(names a cell defines, names it reads), IPython magics ignored. Liberal about scopes:
    a name bound anywhere in the cell (a function's local too) counts as defined."""
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    defined, used = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, (ast.Store, ast.Del)) else used).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    return defined, used


def undefined_names(cells) -> list[tuple[int, str]]:
    """(cell position, name) for every name a code cell reads before any earlier (or the same)
    cell of ``cells`` defines it."""
    known = set(dir(builtins)) | _IPYTHON_NAMES
    missing = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        defined, used = _names(_source(cell))
        known |= defined
        missing += [(i, name) for name in sorted(used - known)]
    return missing


def exercise_problems(cells) -> list[str]:
    """Every solution cell must follow a prompt, a starter (`answer = None ...`) and a check cell
    (`ex.check_...(answer)` or `check_...(answer...)`), start with the solution comment, assert its
    check and print nothing."""
    problems = []
    for i, cell in enumerate(cells):
        if "solution" not in _tags(cell):
            continue
        prompt, starter, check = (cells[i - 3], cells[i - 2], cells[i - 1]) if i >= 3 else (None,) * 3
        src = _source(cell).strip().splitlines()
        if not (prompt and prompt["cell_type"] == "markdown"):
            problems.append(f"cell {i}: no markdown prompt three cells before the solution")
        if not (starter and starter["cell_type"] == "code"
                and _source(starter).strip().startswith("answer = None") and len(_source(starter).strip().splitlines()) == 1):
            problems.append(f"cell {i}: the cell two before the solution is not a one-line `answer = None` starter")
        if not (check and check["cell_type"] == "code" and "check" in _source(check) and "(answer" in _source(check)
                and "answer =" not in _source(check)):
            problems.append(f"cell {i}: the cell before the solution is not a check of `answer`")
        if not src or src[0] != SOLUTION_FIRST_LINE:
            problems.append(f"cell {i}: a solution starts with {SOLUTION_FIRST_LINE!r} (a collapsed cell shows its first line)")
        if not src or not src[-1].startswith("assert "):
            problems.append(f"cell {i}: a solution ends by asserting its check (and so prints nothing)")
    return problems


def notebook_shape_tests(stem: str):
    """The notebook-side tests for one lesson: its exercises' shape, and that the learner version
    (solutions removed) and a live slide show (``skip`` cells not run either) use no name before
    it is defined."""

    def test_exercises_have_prompt_starter_check_solution():
        cells = notebook_cells(stem)
        assert any("solution" in _tags(c) for c in cells), f"{stem} has no exercise"
        assert exercise_problems(cells) == []

    def test_learner_version_and_live_slides_define_every_name_they_use():
        learner = [c for c in notebook_cells(stem) if "solution" not in _tags(c)]
        assert undefined_names(learner) == [], "learner version (solutions removed)"
        assert undefined_names([c for c in learner if not _skipped(c)]) == [], "live slides (skip cells not run)"
        first_code = next(c for c in learner if c["cell_type"] == "code")
        assert not _skipped(first_code), "the set-up cell must be on a slide"

    return test_exercises_have_prompt_starter_check_solution, test_learner_version_and_live_slides_define_every_name_they_use
