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
