"""nbgrader preprocessors that grade the course's exercises without trusting the student's kernel.

The course's ``nbgrader_config.py`` (written by :mod:`nls_lessons.publish.assignments`) adds two:

- :class:`RestoreCells` (sanitizing, before nbgrader's ``OverwriteCells``): a submission that
  deleted a graded or read-only cell gets it back from the release, at its place; a cell whose
  nbgrader id was changed gets its id back when it stands where the missing cell stood (else it
  becomes an ordinary, ungraded cell). nbgrader then restores every locked cell's source from
  the gradebook by checksum, hidden tests included.
- :class:`VerifyOutsideKernel` (right after nbgrader's ``Execute``): the student's code ran in the
  same kernel as the tests, so a test cell's verdict there proves nothing (the student may have
  monkeypatched ``nls_lessons.exercises``, rebound a check, edited ``builtins`` or told IPython to
  swallow errors). For every ``grading.grade(...)`` call in a test cell's *restored* source, this
  preprocessor takes the recorded values (JSON data, :data:`~nls_lessons.exercises.grading.RECORD_MIME`)
  and runs the lesson's check again here, in nbgrader's own process, with the keyword arguments
  read from the source, never from the kernel. The cell's outputs are replaced by that verdict:
  a hint as an ``AssertionError`` (no points) or the check's reason (full points). No record, or a
  notebook that raised before the test, gives an error saying so.

The checks are imported when this module is imported, before any submission runs, so a
submission that rewrites the library's files on disk cannot change them for the grader either.
What it does not protect against: student code runs as the grader's user (see the README's
"Using the course in a class": run autograding in a container or as a throw-away user).
"""
from __future__ import annotations

import ast
import importlib
import json
import pkgutil
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode

import nls_lessons.exercises as _exercises
from nls_lessons.exercises import grading

#: Every lesson's checks, loaded now (see the module docstring).
CHECK_MODULES = {m.name: importlib.import_module(f"nls_lessons.exercises.{m.name}")
                 for m in pkgutil.iter_modules(_exercises.__path__) if m.name.startswith("lesson")}


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_calls(source: str) -> list[dict]:
    """The ``grading.grade(...)`` calls of a test cell: for each, its exercise
    (``"lesson01.check_x"``), the positional arguments (a literal's value, or ``None`` for a
    name whose value the record carries), the keyword arguments and ``require``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "grade"):
            continue
        try:
            lesson, name = (ast.literal_eval(a) for a in node.args[:2])
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
        except (ValueError, TypeError, SyntaxError):
            continue
        literal = []
        for arg in node.args[2:]:
            try:
                literal.append((True, ast.literal_eval(arg)))
            except (ValueError, SyntaxError):
                literal.append((False, None))
        calls.append({"exercise": f"{lesson}.{name}", "lesson": lesson, "name": name, "args": literal,
                      "require": kwargs.pop("require", None), "kwargs": kwargs})
    return sorted(calls, key=lambda c: c["require"] is not None)     # the public test first


def verdict(call: dict, records: list[dict]) -> tuple[bool, str]:
    """``(passed, message)`` for one grade call, from the records a test cell's outputs hold."""
    record = next((r for r in records if isinstance(r, dict) and r.get("exercise") == call["exercise"]), None)
    if record is None:
        return False, f"No answer was recorded for {call['exercise']}."
    values = record.get("values")
    if not isinstance(values, list) or len(values) != len(call["args"]):
        return False, f"The answer recorded for {call['exercise']} does not match its test."
    args = [value if is_literal else grading.decode(data)
            for (is_literal, value), data in zip(call["args"], values)]
    module = CHECK_MODULES.get(call["lesson"])
    check = getattr(module, call["name"], None) if module else None
    if not callable(check):
        return False, f"The grader has no check {call['exercise']}."
    try:
        result = grading.strict(check, *args, require=call["require"], **call["kwargs"])
    except AssertionError as err:
        return False, str(err)
    except Exception as err:            # a check that cannot read the answer at all
        return False, f"The answer could not be checked ({type(err).__name__}: {err})."
    return True, result.message


def _error(ename: str, evalue: str):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class VerifyOutsideKernel(Preprocessor):
    """Replace each graded test cell's outputs by the verdict of its checks run here (module docstring)."""

    enabled = Bool(True).tag(config=True)         # nbconvert's preprocessors are off by default

    def preprocess(self, nb, resources):
        first_error = answer_error = None
        for cell in nb.cells:
            if cell.get("cell_type") != "code":
                continue
            meta = _nbgrader(cell)
            if meta.get("grade") and not meta.get("solution"):
                self._verify(cell, first_error, answer_error)
                continue
            err = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
            said = None if err is None else f"{err.get('ename')}: {err.get('evalue')}".rstrip(": ")
            if meta.get("solution"):
                answer_error = said
            if first_error is None and said:
                first_error = f"{meta.get('grade_id') or 'a cell'} raised {said}"
        return nb, resources

    def _verify(self, cell, first_error: str | None, answer_error: str | None = None) -> None:
        calls = grade_calls(cell.source)
        if not calls:
            return                                   # not one of the course's tests: nbgrader's rule
        outputs = cell.get("outputs", [])
        records = [o["data"][grading.RECORD_MIME] for o in outputs
                   if o.get("output_type") in ("display_data", "execute_result")
                   and grading.RECORD_MIME in o.get("data", {})]
        own_error = next((o for o in outputs if o.get("output_type") == "error"), None)
        for call in calls:
            passed, message = verdict(call, records)
            if not passed:
                if not records:
                    where = (f" This cell stopped with {own_error.get('ename')}: {own_error.get('evalue')}."
                             if own_error is not None else "")
                    before = f" Earlier, {first_error}." if first_error else ""
                    message = f"{message}{where}{before} Run the notebook top to bottom without errors."
                elif answer_error:
                    message = f"Your answer cell raised {answer_error}. {message}"
                cell.outputs = [_error("AssertionError", message)]
                return
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"✓ Correct. {message}\n")]


class CellTimeout:
    """nbgrader's per-cell timeout, as nbclient's ``timeout_func``: ``student`` seconds for a cell
    the student's code can reach (answer cells, test cells, cells without nbgrader metadata),
    ``lesson`` seconds for the lesson's own read-only cells (imports and demos, which take longer
    on a busy machine). A cell that runs past its limit is interrupted; the notebook goes on.
    (Functions are written as classes here so the course config can set them by value.)"""

    def __init__(self, student: int, lesson: int):
        self.student, self.lesson = int(student), int(lesson)

    def __call__(self, cell) -> int:
        meta = _nbgrader(cell)
        own = meta.get("locked") and not meta.get("grade") and not meta.get("solution")
        return self.lesson if own else self.student


class RestoreCells(Preprocessor):
    """Give a submission back the graded and read-only cells it deleted or renamed (module docstring).

    ``release_directory`` is the course's ``release/`` folder; the notebook is found there by
    the assignment and notebook names nbgrader passes in ``resources``.
    """

    release_directory = Unicode("", help="the course's release/ folder").tag(config=True)
    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        path = Path(self.release_directory) / str(info.get("assignment", "")) / f"{info.get('notebook', '')}.ipynb"
        if not self.release_directory or not path.is_file():
            self.log.warning("RestoreCells: no release notebook at %s; cells not restored", path)
            return nb, resources
        release = nbformat.read(str(path), as_version=4)
        order = [_nbgrader(c).get("grade_id") for c in release.cells if _nbgrader(c).get("grade_id")]
        by_id = {_nbgrader(c)["grade_id"]: c for c in release.cells if _nbgrader(c).get("grade_id")}
        cells = list(nb.cells)
        seen = {_nbgrader(c).get("grade_id") for c in cells}
        for k, grade_id in enumerate(order):
            if grade_id in seen:
                continue
            after = next((i for i, c in enumerate(cells) if k and _nbgrader(c).get("grade_id") == order[k - 1]), -1)
            upto = next((i for i, c in enumerate(cells) if i > after and _nbgrader(c).get("grade_id") in by_id), len(cells))
            strangers = [i for i in range(after + 1, upto) if _nbgrader(cells[i]).get("grade_id") not in (None, *by_id)]
            if len(strangers) == 1 and cells[strangers[0]].cell_type == by_id[grade_id].cell_type:
                cells[strangers[0]].metadata["nbgrader"] = json.loads(json.dumps(_nbgrader(by_id[grade_id])))
                self.log.warning("RestoreCells: cell id %s given back to a renamed cell", grade_id)
            else:
                cells.insert(after + 1, nbformat.from_dict(json.loads(json.dumps(by_id[grade_id]))))
                self.log.warning("RestoreCells: deleted cell %s restored from the release", grade_id)
            seen.add(grade_id)
        for cell in cells:                           # ids nbgrader does not know: ordinary cells
            if _nbgrader(cell) and _nbgrader(cell).get("grade_id") not in by_id:
                del cell.metadata["nbgrader"]
        nb.cells = cells
        return nb, resources
