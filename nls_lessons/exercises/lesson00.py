"""Self-check for lesson 00 (``notebooks/00_welcome``): the first taste of a smoothed target.

Like every lesson's checks, ``check_...`` returns a :class:`~nls_lessons.exercises.Feedback`:
truthy with the reason when the answer is right, falsy with a hint (never the answer) when it
is not; ``None``, the starter value, gives "not yet" feedback without raising. The reason and
the hints live here, not in the notebook, so a learner sees them only by answering.
"""
from __future__ import annotations

from . import Feedback, check_number


def check_true_class_target(answer) -> Feedback:
    """The smoothed target of the true class with K = 5 classes and smooth rate r = 0.5."""
    return check_number(
        answer, 1 - 0.5 + 0.5 / 5, tol=1e-3,
        not_a_number="Give a single number: the true class's entry of the target vector.",
        why="(1 − r) + r/K = 0.5 + 0.1 = 0.6: the true class keeps 1 − r of the one-hot mass and "
            "gets its share r/K of the uniform part, like every other class.",
        mistakes=[(0.5, "That is the one-hot part only; the true class also gets its share r/K."),
                  (0.1, "That is the entry of every *other* class; the true class also keeps 1 − r.")],
        hint="The target is (1 − r)·y + r/K with y one-hot: add the two parts where y = 1.")
