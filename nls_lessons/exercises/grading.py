"""The strict form of the lessons' self-checks, for graded homework (nbgrader, issue 27).

A lesson's ``check_...`` says "Not yet" and a hint; a grader needs a check that *fails*. One
source of truth: :func:`strict` runs the lesson's own check and raises ``AssertionError`` with
the very same hint, so the grade and the self-check can never disagree::

    from nls_lessons.exercises import grading
    grading.grade("lesson01", "check_symmetric_entry", answer)          # a test cell
    grading.grade("lesson01", "check_symmetric_entry", answer, require="number")  # a hidden one

:func:`grade` also shows a *record* of the values it was given (JSON, mimetype
:data:`RECORD_MIME`) in the cell's output. The student's code runs in the same kernel before the
tests, so nothing the kernel computes is trusted: nbgrader's autograder re-runs every check on the
recorded values outside the kernel (:mod:`nls_lessons.publish.autograde`). A record is only
data (numbers, text, arrays, tables), never code, so a forged record can only claim an answer.
"""
from __future__ import annotations

import importlib
import math

import numpy as np

from . import Feedback, number_problem

#: The output mimetype of a grading record: ``{"exercise": "lesson01.check_x", "values": [...]}``.
RECORD_MIME = "application/vnd.nls-lessons.grade+json"

#: The hidden requirements a test may add (``require=``): the answer's plain type, with its hint.
REQUIREMENTS = {
    "number": "Give the number itself (a Python or numpy number), not text, an array or a tensor.",
    "text": "Give your answer as text, e.g. \"higher\".",
    "plain": "Give one plain value (a name as text, or a whole number), not an array or a tensor.",
}


def check_function(lesson: str, name: str):
    """The check ``nls_lessons.exercises.<lesson>.<name>``; ``lesson`` is ``"lesson01"``...,
    ``name`` starts with ``check_`` (else ``ValueError`` naming the argument)."""
    if not (isinstance(lesson, str) and lesson.startswith("lesson") and lesson[6:].isdigit()):
        raise ValueError(f"lesson must be 'lessonNN' (e.g. 'lesson01'), got {lesson!r}")
    if not (isinstance(name, str) and name.startswith("check_") and name.isidentifier()):
        raise ValueError(f"name must be a check_... function name, got {name!r}")
    module = importlib.import_module(f"nls_lessons.exercises.{lesson}")
    check = getattr(module, name, None)
    if not callable(check):
        raise ValueError(f"name: nls_lessons.exercises.{lesson} has no {name!r}")
    return check


def requirement_problem(answer, require: str | None) -> str | None:
    """The hint for ``answer`` failing the hidden requirement ``require``, or ``None``."""
    if require is None:
        return None
    if require not in REQUIREMENTS:
        raise ValueError(f"require must be one of {sorted(REQUIREMENTS)} or None, got {require!r}")
    number = isinstance(answer, (int, float, np.number)) and not isinstance(answer, (bool, np.bool_))
    ok = {"number": number and number_problem(answer) is None,
          "text": isinstance(answer, str),
          "plain": isinstance(answer, str) or number}[require]
    return None if ok else REQUIREMENTS[require]


def strict(check, *args, require: str | None = None, **kwargs) -> Feedback:
    """Run ``check(*args, **kwargs)``; return its verdict when right, else raise
    ``AssertionError`` with its hint (the same text the learner's self-check shows)."""
    verdict = check(*args, **kwargs)
    if not isinstance(verdict, Feedback):
        raise TypeError(f"check must return a Feedback, got {type(verdict).__name__}")
    if not verdict:
        raise AssertionError(verdict.message)
    problem = requirement_problem(args[0] if args else None, require)
    if problem:
        raise AssertionError(problem)
    return verdict


# ------------------------------------------------------------------ records (JSON only)
def encode(value):
    """``value`` as JSON data: numbers, text, ``None``, lists; arrays and tensors as
    ``{"__array__": ...}``, data frames as ``{"__frame__": ...}``; anything else as its type name
    (which no check accepts). Floats that JSON cannot hold (NaN, inf) become ``{"__float__": "nan"}``."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):          # a torch tensor
        value = value.detach().cpu().numpy()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":   # a numpy scalar keeps its type
        return {"__numpy__": value.dtype.str, "value": encode(value.item())}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"__array__": [encode(v) for v in value.ravel().tolist()], "shape": list(value.shape),
                "dtype": value.dtype.str}
    if isinstance(value, (list, tuple)):
        return {"__" + type(value).__name__ + "__": [encode(v) for v in value]}
    if type(value).__name__ == "DataFrame" and hasattr(value, "to_json"):
        return {"__frame__": value.to_json(orient="split")}
    return {"__unsupported__": type(value).__name__}


def decode(data):
    """The value :func:`encode` wrote (an unsupported one comes back as an object no check accepts)."""
    if not isinstance(data, dict):
        return data
    if "__float__" in data:
        return float(data["__float__"])
    if "__numpy__" in data:
        return np.dtype(str(data["__numpy__"])).type(decode(data.get("value")))
    if "__array__" in data:
        flat = [decode(v) for v in data["__array__"]]
        return np.array(flat, dtype=np.dtype(str(data.get("dtype", "<f8")))).reshape(data.get("shape", [-1]))
    if "__list__" in data:
        return [decode(v) for v in data["__list__"]]
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__frame__" in data:
        import io

        import pandas as pd

        return pd.read_json(io.StringIO(str(data["__frame__"])), orient="split")
    return Unsupported(str(data.get("__unsupported__", "object")))


class Unsupported:
    """Stands for an answer of a type a record cannot carry (a function, a module, ...)."""

    def __init__(self, kind: str):
        self.kind = kind

    def __repr__(self) -> str:
        return f"<a {self.kind}>"


def record(exercise: str, values) -> dict:
    """The record :func:`grade` shows: ``{"exercise": ..., "values": [encoded ...]}``."""
    return {"exercise": exercise, "values": [encode(v) for v in values]}


def grade(lesson: str, name: str, *args, require: str | None = None, **kwargs) -> Feedback:
    """A test cell's one line: show the record of ``args``, then :func:`strict` on them.

    ``args`` are the check's positional arguments (the answer first, then any data it needs);
    ``kwargs`` its keyword arguments, which the autograder reads from the test cell's source,
    never from the kernel.
    """
    check = check_function(lesson, name)
    from IPython.display import display

    display({RECORD_MIME: record(f"{lesson}.{name}", args),
             "text/plain": f"(answer recorded for {lesson}.{name})"}, raw=True)
    return strict(check, *args, require=require, **kwargs)
