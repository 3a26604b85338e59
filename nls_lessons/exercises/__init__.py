"""Self-checks for the lessons' exercises: ``check_...`` functions that say right or wrong,
why, and give a hint, without revealing the solution.

One module per lesson (``lesson01``, ``lesson02``, ...); a notebook imports its own::

    from nls_lessons.exercises import lesson03 as ex
    ex.check_backward_rate(my_answer)
"""
from __future__ import annotations

import math
from dataclasses import dataclass


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


def as_number(answer) -> float | None:
    """``answer`` as a finite float (numbers and numeric strings), else ``None``.

    ``True``/``False`` are not numbers here, although Python would treat them as 1 and 0.
    """
    if isinstance(answer, bool) or answer is None:
        return None
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def as_text(answer) -> str | None:
    """A text answer, stripped and lower-cased (``"  B) "`` -> ``"b)"``), else ``None``."""
    return answer.strip().lower() if isinstance(answer, str) else None


def close(answer, expected: float, *, tol: float = 1e-2) -> bool:
    """True when ``answer`` is a finite number within ``tol`` (absolute) of ``expected``."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return False
    return math.isfinite(value) and abs(value - expected) <= tol


def check_number(answer, expected: float, *, tol: float, why: str, hint: str,
                 not_a_number: str = "Give a single number.", mistakes=()) -> Feedback:
    """The shape every numeric self-check shares, as one call::

        None                      -> wrong(NOT_YET)
        not a number (as_number)  -> wrong(not_a_number)
        within tol of expected    -> right(why)
        the first matching mistake, in order -> wrong(its hint)
        anything else             -> wrong(hint)

    Each entry of ``mistakes`` is ``(target, hint)`` or ``(target, hint, tol)``; without its
    own ``tol`` a mistake uses the check's ``tol``. ``target`` is a number, a tuple of numbers
    that share one hint, or a predicate ``value -> bool`` for a mistake recognised by a range
    rather than a value (say ``lambda v: v > 0`` for a wrong sign). ``True``/``False`` and
    non-finite values are "not a number", as in :func:`as_number`.
    """
    if answer is None:
        return wrong(NOT_YET)
    value = as_number(answer)
    if value is None:
        return wrong(not_a_number)
    if close(value, expected, tol=tol):
        return right(why)
    for target, mistake_hint, *own_tol in mistakes:
        mistake_tol = own_tol[0] if own_tol else tol
        if callable(target):
            matched = target(value)
        else:
            targets = target if isinstance(target, tuple) else (target,)
            matched = any(close(value, t, tol=mistake_tol) for t in targets)
        if matched:
            return wrong(mistake_hint)
    return wrong(hint)
