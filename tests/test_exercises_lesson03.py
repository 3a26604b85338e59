"""The self-checks of lesson 03: right answers pass, wrong ones fail with a hint, None is safe,
hostile answers get feedback instead of an exception."""
import numpy as np
import pytest
import torch

from exercise_contract import contract_tests
from nls_lessons.exercises import Feedback
from nls_lessons.exercises import lesson03 as ex
from nls_lessons.losses import gls_targets
from nls_lessons.theory import backward_correction_rate

CASES = {
    ex.check_nls_target: (float(gls_targets([0], 10, -4.0)[0, 0]), [5.0, -0.4, -3.4, 0.9, 3.0, "x"]),
    ex.check_theorem1: (2 * 0.55 - 0.87, [-0.32, 1.97, 1.42, 0.32, 0.1, 0.0, "x"]),
    ex.check_backward_rate: (backward_correction_rate(0.5, 10), [-5 / 9, -0.5, -1.0, 1.25, 5 / 9, -2.0, "x"]),
    ex.check_wrong_confidence: ("higher", ["lower", "same", "maybe", 3]),
}


(test_right_answer_passes, test_wrong_answers_fail_with_a_hint_that_hides_the_answer,
 test_starter_none_is_not_yet_and_never_raises) = contract_tests(CASES)


def test_confidence_answer_is_case_insensitive():
    assert ex.check_wrong_confidence("  Higher ")


HOSTILE_ANSWERS = [[4.6], (4.6,), {"answer": 4.6}, float("nan"), float("inf"), True, 1 + 2j,
                   np.array([4.6, 1.0]), torch.tensor([4.6, -0.4]), "", "   ", "4,6", object()]


@pytest.mark.parametrize("check", [ex.check_nls_target, ex.check_theorem1, ex.check_backward_rate,
                                   ex.check_wrong_confidence], ids=lambda c: c.__name__)
def test_hostile_answers_get_feedback_never_an_exception(check):
    for answer in HOSTILE_ANSWERS:
        verdict = check(answer)
        assert isinstance(verdict, Feedback) and not verdict, (answer, verdict)
        assert "answer" in verdict.message.lower() or "number" in verdict.message.lower(), verdict.message


def test_numeric_answers_in_other_types_are_read_as_numbers():
    for answer in (4.6, "4.6", " 4.6 ", np.float64(4.6), np.float32(4.6), torch.tensor(4.6)):
        assert ex.check_nls_target(answer), answer


def test_confidence_answer_tolerates_quotes_and_punctuation():
    for answer in ('"higher"', "higher.", "(higher)", "HIGHER!"):
        assert ex.check_wrong_confidence(answer), answer
    verdict = ex.check_wrong_confidence("more confident")
    assert not verdict and "higher" in verdict.message and "lower" in verdict.message   # lists the choices
