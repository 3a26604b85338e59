"""The self-checks of lesson 03: right answers pass, wrong ones fail with a hint, None is safe."""
from exercise_contract import contract_tests
from nls_lessons.exercises import lesson03 as ex
from nls_lessons.losses import gls_targets
from nls_lessons.theory import backward_correction_rate

CASES = {
    ex.check_nls_target: (float(gls_targets([0], 10, -4.0)[0, 0]), [5.0, -0.4, -3.4, 0.9, 3.0, "x"]),
    ex.check_theorem1: (2 * 0.5 - 0.9, [-0.4, 1.9, 1.4, 0.4, 0.0, "x"]),
    ex.check_backward_rate: (backward_correction_rate(0.5, 10), [-5 / 9, -0.5, -1.0, 1.25, 5 / 9, -2.0, "x"]),
    ex.check_wrong_confidence: ("higher", ["lower", "same", "maybe", 3]),
}


(test_right_answer_passes, test_wrong_answers_fail_with_a_hint_that_hides_the_answer,
 test_starter_none_is_not_yet_and_never_raises) = contract_tests(CASES)


def test_confidence_answer_is_case_insensitive():
    assert ex.check_wrong_confidence("  Higher ")
