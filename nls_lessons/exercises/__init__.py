"""Self-checks for the lessons' exercises: ``check_...`` functions that say right or wrong,
why, and give a hint, without revealing the solution.

One module per lesson (``lesson01``, ``lesson02``, ...); a notebook imports its own::

    from nls_lessons.exercises import lesson03 as ex
    ex.check_backward_rate(my_answer)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from ..checks import _MINUS_SIGNS, parse_number


@dataclass(frozen=True)
class Feedback:
    """The verdict of a self-check. Truthy when the answer is right.

    It prints itself as a short message in a notebook, so a bare ``check_...(answer)`` as
    the last line of a cell shows the verdict.
    """

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return ("✓ Correct. " if self.correct else "✗ Not yet. ") + self.message

    _repr_pretty_ = lambda self, p, cycle: p.text(repr(self))  # noqa: E731


def right(why: str) -> Feedback:
    return Feedback(True, why)


def wrong(hint: str) -> Feedback:
    return Feedback(False, hint)


#: What every check says to the starter value ``answer = None``.
NOT_YET = "Replace `None` with your answer, then run the cell again."


def _one_value(answer):
    """``(value, problem)``: the plain scalar inside ``answer`` (a Python or numpy number, or
    a 0-d array or tensor) and ``None``; or ``None`` and a sentence saying what is wrong."""
    if hasattr(answer, "detach") and hasattr(answer, "cpu"):          # a torch tensor
        answer = answer.detach().cpu().numpy()
    if isinstance(answer, (str, bytes)) or not isinstance(answer, (list, tuple, np.ndarray)):
        return answer, None
    try:
        arr = np.asarray(answer)
    except ValueError:                                                 # a ragged list
        return None, f"Got a {type(answer).__name__} of several values; the answer is one number."
    if arr.ndim == 0:
        return arr.item() if arr.dtype != object else arr[()], None
    what = f"a {type(answer).__name__}" if isinstance(answer, (list, tuple)) else "an array"
    if arr.size == 1:
        return None, (f"Got {what} of shape {tuple(arr.shape)} holding one value; the answer is the "
                      "number itself (write `x.item()` or drop the brackets).")
    return None, (f"Got {what} of {arr.size} values (shape {tuple(arr.shape)}); the answer is one number. "
                  "Pick the entry the question asks for, e.g. `x[i]`.")


def _short(answer) -> str:
    text = repr(answer)
    return text if len(text) <= 40 else text[:37] + "..."


def number_problem(answer) -> str | None:
    """Why ``answer`` is not one finite number, as a sentence for the learner; ``None`` when it is.

    Accepted: ints and floats (numpy's too), 0-d arrays and tensors, and numeric text such as
    ``"0.5"``. Refused, each with its own sentence: ``True``/``False`` (Python would treat
    them as 1 and 0), NaN and infinities, text that is not a number, complex numbers, lists,
    tuples, arrays and tensors with a shape (even of one value), and anything else.
    """
    if answer is None:
        return "Got None."
    value, problem = _one_value(answer)
    if problem:
        return problem
    if isinstance(value, (bool, np.bool_)):
        return f"Got {value}, a yes/no value; the answer is a number."
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            number = float(value.strip().translate(_MINUS_SIGNS))    # "−2" (U+2212, as the course prints)
        except ValueError:
            return f"Got the text {_short(value)}, which is not a number."
        if not math.isfinite(number):
            return f"Got the text {_short(value)}, which is not a finite number."
        return None
    if isinstance(value, (complex, np.complexfloating)):
        return f"Got the complex number {value}; the answer is a real number."
    if not isinstance(value, (Real, np.number)) and not hasattr(value, "__float__"):
        return f"Got {type(value).__name__} {_short(value)}, not a number."
    try:
        number = float(value)
    except OverflowError:
        return f"Got {_short(value)}, too large for a floating-point number."
    except (TypeError, ValueError):
        return f"Got {type(value).__name__} {_short(value)}, not a number."
    if math.isnan(number):
        return "Got NaN (not a number): did a computation divide 0 by 0?"
    if math.isinf(number):
        return f"Got {number}, an infinity; the answer is a finite number."
    return None


def as_number(answer) -> float | None:
    """``answer`` as a finite float, else ``None`` (see :func:`number_problem` for what counts).

    ``True``/``False`` are not numbers here, although Python would treat them as 1 and 0.
    """
    if number_problem(answer) is not None:
        return None
    value, _ = _one_value(answer)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return parse_number(value) if isinstance(value, str) else float(value)


def as_text(answer) -> str | None:
    """A text answer, stripped and lower-cased (``"  B) "`` -> ``"b)"``), else ``None``."""
    return answer.strip().lower() if isinstance(answer, str) else None


def _check_real(value, name: str, *, minimum: float | None = None) -> float:
    """``value`` as a finite float, or a clear error naming the check's argument ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.number)):
        raise TypeError(f"{name} must be a finite real number, got {type(value).__name__} {_short(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum:g}, got {value:g}")
    return value


def _check_text(value, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be a non-empty str (a sentence for the learner), got {_short(value)}")
    return value


def close(answer, expected: float, *, tol: float = 1e-2) -> bool:
    """True when ``answer`` is a finite number (:func:`as_number`) within ``tol`` (absolute)
    of ``expected``. ``expected`` and ``tol >= 0`` must be finite numbers (else an error)."""
    expected = _check_real(expected, "expected")
    tol = _check_real(tol, "tol", minimum=0.0)
    value = as_number(answer)
    return value is not None and abs(value - expected) <= tol


def _check_mistakes(mistakes, tol: float) -> list[tuple]:
    """``mistakes`` as a list of ``(target, hint, tol)``, each entry checked (see :func:`check_number`)."""
    if isinstance(mistakes, (str, bytes)) or not hasattr(mistakes, "__iter__"):
        raise TypeError(f"mistakes must be a list of (target, hint) or (target, hint, tol) tuples, "
                        f"got {_short(mistakes)}")
    checked = []
    for i, entry in enumerate(mistakes):
        if not isinstance(entry, tuple) or len(entry) not in (2, 3):
            raise TypeError(f"mistakes[{i}] must be a (target, hint) or (target, hint, tol) tuple, got {_short(entry)}")
        target, mistake_hint, *own_tol = entry
        if not callable(target):
            targets = target if isinstance(target, tuple) else (target,)
            if not targets:
                raise ValueError(f"mistakes[{i}] target must be a number, a non-empty tuple of numbers or "
                                 "a predicate, got ()")
            target = tuple(_check_real(t, f"mistakes[{i}] target") for t in targets)
        _check_text(mistake_hint, f"mistakes[{i}] hint")
        mistake_tol = _check_real(own_tol[0], f"mistakes[{i}] tol", minimum=0.0) if own_tol else tol
        checked.append((target, mistake_hint, mistake_tol))
    return checked


def check_number(answer, expected: float, *, tol: float, why: str, hint: str,
                 not_a_number: str = "Give a single number.", mistakes=()) -> Feedback:
    """The shape every numeric self-check shares, as one call::

        None                      -> wrong(NOT_YET)
        not one finite number     -> wrong(what is wrong with it + " " + not_a_number)
        within tol of expected    -> right(why)
        the first matching mistake, in order -> wrong(its hint)
        anything else             -> wrong(hint)

    Each entry of ``mistakes`` is ``(target, hint)`` or ``(target, hint, tol)``; without its
    own ``tol`` a mistake uses the check's ``tol``. ``target`` is a number, a tuple of numbers
    that share one hint, or a predicate ``value -> bool`` for a mistake recognised by a range
    rather than a value (say ``lambda v: v > 0`` for a wrong sign). What counts as a number is
    :func:`number_problem`'s rule: ``True``/``False``, NaN, infinities, text that is not a
    number and several values each get a sentence saying so.

    The check's own arguments (``expected``, ``tol``, the texts, ``mistakes``) are the lesson
    author's, not the learner's: a wrong one raises ``TypeError``/``ValueError`` naming it.
    """
    expected = _check_real(expected, "expected")
    tol = _check_real(tol, "tol", minimum=0.0)
    for text, name in ((why, "why"), (hint, "hint"), (not_a_number, "not_a_number")):
        _check_text(text, name)
    mistakes = _check_mistakes(mistakes, tol)
    if answer is None:
        return wrong(NOT_YET)
    problem = number_problem(answer)
    if problem is not None:
        return wrong(f"{problem} {not_a_number}")
    value = as_number(answer)
    if abs(value - expected) <= tol:
        return right(why)
    for target, mistake_hint, mistake_tol in mistakes:
        matched = target(value) if callable(target) else any(abs(value - t) <= mistake_tol for t in target)
        if matched:
            return wrong(mistake_hint)
    return wrong(hint)
