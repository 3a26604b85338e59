"""One lesson as an nbgrader *source* notebook (issue 27): the cells, taken from the lesson.

:func:`assignment_notebook` turns a lesson (``notebooks/NN_*.py``) into the instructor's version
of its assignment; ``nbgrader generate_assignment`` then makes the learner's release from it.

- Every exercise (prompt, starter ``answer = None``, check cell ``ex.check_...(answer)``, solution
  cell tagged ``solution``; the shape ``notebooks/instructor/README.md`` sets) becomes
  an *autograded answer* cell: the starter, then the solution cell's code between nbgrader's
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers; and
  an *autograder tests* cell (read-only, with its points): the lesson's own check call, made strict
  by :func:`nls_lessons.exercises.grading.grade`, and a hidden test between
  ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` (the answer's plain type: a number, not
  the text ``"0.2"`` or a tensor; see :func:`hidden_requirement`) that the release does not contain.
- The discussion questions named in :mod:`nls_lessons.publish.points` (from the instructor notes)
  become a locked prompt and a *manually graded answer* cell with its points; the notes' short
  answer is the cell's solution (the release shows "YOUR ANSWER HERE").
- Every other cell (prose, demos, plots) is a locked read-only cell; a first cell lists the points.

``sheet=True`` keeps only what the exercises need (the set-up cell and every code cell that
defines a name the exercises use, found statically), for homework that grades in seconds.
"""
from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from pathlib import Path

from .learner import is_solution, learner_notebook, strip_outputs
from .points import discussion_points, exercise_points

SOLUTION_COMMENT = "# Solution: open this cell only after you have tried the exercise."
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


@dataclass(frozen=True)
class Exercise:
    """One exercise of a lesson: its number, check call and the cells it came from."""

    number: int
    check: str                 # the check's function name, e.g. "check_symmetric_entry"
    args: tuple[str, ...]      # the check call's positional arguments, as source ("answer", "results")
    kwargs: tuple[tuple[str, str], ...]   # its keyword arguments, as (name, literal source)
    starter: str
    solution: str
    cells: tuple[int, int, int]           # indices of the starter, check and solution cells


def _nbgrader(grade_id: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def _check_call(source: str, stem: str, index: int):
    """``(name, args, kwargs, starter)`` of a check cell ``ex.check_x(answer, ...)`` (its last
    statement; what comes before it is a starter written in the same cell), else ``ValueError``."""
    try:
        tree = ast.parse(source.strip())
    except SyntaxError as err:
        raise ValueError(f"{stem}: cell {index} is not Python ({err.msg})") from None
    last = tree.body[-1] if tree.body else None
    if (not isinstance(last, ast.Expr) or not isinstance(last.value, ast.Call)
            or not isinstance(last.value.func, ast.Attribute) or not last.value.func.attr.startswith("check_")):
        raise ValueError(f"{stem}: cell {index} before a solution must end with one check call "
                         f"`ex.check_...(answer)`, got {source.strip()[:60]!r}")
    call = last.value
    args = tuple(ast.unparse(a) for a in call.args)
    kwargs = []
    for kw in call.keywords:
        ast.literal_eval(kw.value)          # raises ValueError: the grader reads only literals
        kwargs.append((kw.arg, ast.unparse(kw.value)))
    if not args or args[0] != "answer":
        raise ValueError(f"{stem}: cell {index}: a check's first argument must be `answer`")
    starter = "\n".join(source.strip().splitlines()[:last.lineno - 1]).strip()
    return call.func.attr, args, tuple(kwargs), starter


def _solution_code(source: str, check: str) -> str:
    """The solution cell's code without its warning comment and its own check lines."""
    keep = []
    for line in source.strip().splitlines():
        text = line.strip()
        if text == SOLUTION_COMMENT or re.match(rf"^(assert\s+)?\w+\.{check}\(", text):
            continue
        keep.append(line)
    return "\n".join(keep).strip()


def find_exercises(nb, stem: str) -> list[Exercise]:
    """The lesson's exercises, in order (see the module docstring for the shape they keep)."""
    exercises = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not is_solution(cell):
            continue
        if i < 1 or nb.cells[i - 1].cell_type != "code":
            raise ValueError(f"{stem}: solution cell {i} must follow a check cell")
        name, args, kwargs, starter = _check_call(nb.cells[i - 1].source, stem, i - 1)
        start = i - 1
        if not starter and i >= 2 and nb.cells[i - 2].cell_type == "code":
            start, starter = i - 2, nb.cells[i - 2].source.strip()
        if not starter.startswith("answer = None"):
            raise ValueError(f"{stem}: cell {start} must be the starter `answer = None ...`, got {starter[:40]!r}")
        exercises.append(Exercise(len(exercises) + 1, name, args, kwargs, starter,
                                  _solution_code(cell.source, name), (start, i - 1, i)))
    return exercises


def hidden_requirement(ex: Exercise) -> str:
    """The hidden test's requirement on the answer's type (:data:`~nls_lessons.exercises.grading.REQUIREMENTS`):
    ``"plain"`` when the starter asks for a name or an index, ``"text"`` when the solution's
    answer is a string literal, else ``"number"``."""
    comment = ex.starter.partition("#")[2].lower()
    if "name" in comment or "index" in comment:
        return "plain"
    for node in ast.walk(ast.parse(ex.solution)):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "answer" for t in node.targets)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return "text"
    return "number"


def test_source(lesson: str, ex: Exercise, points: int) -> str:
    """The autograder tests cell of ``ex``: the strict check, then its hidden test."""
    call = ", ".join([f'"lesson{lesson}"', f'"{ex.check}"', *ex.args, *(f"{k}={v}" for k, v in ex.kwargs)])
    lines = [f"# Autograder tests · Exercise {ex.number} · {points} point{'s' * (points != 1)}. "
             "Read-only: nbgrader restores this cell before grading.",
             "from nls_lessons.exercises import grading",
             "", f"grading.grade({call})"]
    lines += [BEGIN_HIDDEN, f'grading.grade({call}, require="{hidden_requirement(ex)}")', END_HIDDEN]
    return "\n".join(lines)


def discussion_questions(notes: Path) -> dict[int, tuple[str, str]]:
    """``{n: (question, short answer)}`` from the "## Discussion questions" list of ``notes``;
    the short answer is the question's closing parenthesis (empty when it has none)."""
    text = notes.read_text(encoding="utf-8")
    section = re.search(r"^## Discussion questions\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not section:
        raise ValueError(f"notes: {notes.name} has no '## Discussion questions' section")
    questions = {}
    for m in re.finditer(r"^(\d+)\.\s+(.*?)(?=^\d+\.\s|\Z)", section.group(1), re.S | re.M):
        body = " ".join(m.group(2).split())
        answer = ""
        if body.endswith(")"):
            depth, k = 0, len(body) - 1
            for k in range(len(body) - 1, -1, -1):
                depth += {")": 1, "(": -1}.get(body[k], 0)
                if depth == 0:
                    break
            body, answer = body[:k].strip(), body[k + 1:-1].strip()
        questions[int(m.group(1))] = (body, answer)
    return questions


def _needed_cells(nb, exercises: list[Exercise]) -> set[int]:
    """Indices of the code cells the exercises need: the first code cell (set-up) and, going
    backwards, the last cell before a use that defines each name used (transitively)."""
    def names(source: str):
        try:
            tree = ast.parse("\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!"))))
        except SyntaxError:
            return set(), set()
        stored, loaded = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                stored |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                stored.add(node.name)
        return stored, loaded
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and not is_solution(c)]
    keep = {code[0]} | {i for ex in exercises for i in ex.cells}
    wanted = [(i, n) for ex in exercises for i in ex.cells[:2] for n in names(nb.cells[i].source)[1]]
    wanted += [(ex.cells[2], n) for ex in exercises for n in names(ex.solution)[1]]
    while wanted:
        at, name = wanted.pop()
        for j in reversed([j for j in code if j < at]):
            stored, loaded = names(nb.cells[j].source)
            if name in stored:
                if j not in keep:
                    keep.add(j)
                    wanted += [(j, n) for n in loaded]
                break
    return keep


def assignment_notebook(nb, stem: str, notes: Path | None = None, *, sheet: bool = False):
    """The nbgrader source notebook of lesson ``stem`` (``"01_label_noise"``) from its notebook
    ``nb`` (nbformat v4; not changed) and its instructor ``notes``; see the module docstring."""
    import nbformat

    lesson = stem[:2]
    exercises = find_exercises(nb, stem)
    if not exercises:
        raise ValueError(f"{stem}: the lesson has no exercises to grade")
    by_start = {ex.cells[0]: ex for ex in exercises}
    skip = {i for ex in exercises for i in ex.cells}
    needed = _needed_cells(nb, exercises) if sheet else None
    asked = discussion_points(lesson)
    questions = discussion_questions(notes) if asked else {}
    for q in asked:
        if q not in questions:
            raise ValueError(f"points: lesson {lesson} grades discussion question {q}, which "
                             f"{notes.name} does not have (it has {sorted(questions)})")
    source = learner_notebook(copy.deepcopy(nb))       # hints folded; solutions are not used here
    cells, serial = [], 0

    def locked(cell):
        nonlocal serial
        serial += 1
        cell = copy.deepcopy(cell)
        cell.metadata["nbgrader"] = _nbgrader(f"locked-{serial:03d}", locked=True)
        cells.append(cell)

    title = next((c.source.splitlines()[0].lstrip("# ") for c in nb.cells if c.cell_type == "markdown"), stem)
    table = [f"| Exercise {ex.number} (autograded) | {exercise_points(lesson, ex.check)} |" for ex in exercises]
    table += [f"| Discussion question {q} (graded by hand) | {p} |" for q, p in asked.items()]
    total = sum(exercise_points(lesson, ex.check) for ex in exercises) + sum(asked.values())
    locked(nbformat.v4.new_markdown_cell(
        f"# Assignment: {title}\n\nAnswer in the cells that say *your answer*; every other cell is "
        "read-only and is restored before grading. Run the whole notebook before you submit.\n\n"
        "| question | points |\n|---|---|\n" + "\n".join(table) + f"\n| **total** | **{total}** |"))
    prompts = {ex.cells[0] - 1 for ex in exercises}
    for i, cell in enumerate(source.cells):
        if i in by_start:
            ex = by_start[i]
            pts = exercise_points(lesson, ex.check)
            cells.append(nbformat.v4.new_code_cell(
                f"{ex.starter}\n{BEGIN_SOLUTION}\n{ex.solution}\n{END_SOLUTION}",
                metadata={"nbgrader": _nbgrader(f"exercise-{ex.number}-answer", solution=True)}))
            cells.append(nbformat.v4.new_code_cell(
                test_source(lesson, ex, pts),
                metadata={"nbgrader": _nbgrader(f"exercise-{ex.number}-tests", grade=True, locked=True,
                                                points=pts)}))
            if ex is exercises[-1]:
                for q, p in asked.items():
                    question, answer = questions[q]
                    locked(nbformat.v4.new_markdown_cell(
                        f"**Discussion question {q}** ({p} points, graded by hand). {question}"))
                    cells.append(nbformat.v4.new_markdown_cell(
                        f"{BEGIN_SOLUTION}\n{answer or 'See the instructor notes.'}\n{END_SOLUTION}",
                        metadata={"nbgrader": _nbgrader(f"discussion-{q}", grade=True, solution=True,
                                                        points=p)}))
            continue
        if i in skip or (sheet and i not in needed and i not in prompts):
            continue
        locked(cell)
    out = strip_outputs(nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(nb.metadata)))
    out.metadata.pop("jupytext", None)
    return out
