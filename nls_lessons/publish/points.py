"""Points for the classroom assignments (issue 27): the one place where they are set.

:mod:`nls_lessons.publish.assignments` reads this table when it writes the nbgrader course;
every released notebook shows its own lesson's points in its first cell, and nbgrader's
gradebook and CSV export add them up. Change a number here and run ``make assignments`` again.

- ``EXERCISE_POINTS``: what an autograded exercise is worth unless its lesson says otherwise;
- ``LESSONS[NN]["exercises"]``: per-exercise overrides, keyed by the lesson's check function;
- ``LESSONS[NN]["discussion"]``: the instructor notes' discussion questions that become
  manually graded answers, ``{question number: points}``; each has a rubric under
  "Classroom grading rubric" in ``notebooks/instructor/NN_*.md`` (a test checks it).
"""
from __future__ import annotations

EXERCISE_POINTS = 1

LESSONS: dict[str, dict[str, dict]] = {
    "01": {"exercises": {"check_most_confused_class": 2}, "discussion": {2: 2}},
    "02": {"exercises": {}, "discussion": {1: 2}},
    "03": {"exercises": {}, "discussion": {3: 2}},
    "04": {"exercises": {"check_best_rate": 2}, "discussion": {2: 2}},
    "05": {"exercises": {}, "discussion": {3: 2}},
    "06": {"exercises": {}, "discussion": {1: 2}},
}


def exercise_points(lesson: str, check: str) -> int:
    """Points of the exercise graded by ``check`` in lesson ``lesson`` (``"01"``...)."""
    return LESSONS.get(lesson, {}).get("exercises", {}).get(check, EXERCISE_POINTS)


def discussion_points(lesson: str) -> dict[int, int]:
    """``{question number: points}`` of lesson ``lesson``'s manually graded discussion questions."""
    return dict(LESSONS.get(lesson, {}).get("discussion", {}))
