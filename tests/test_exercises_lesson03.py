"""The self-checks of lesson 03: right answers pass, wrong ones fail with a hint, None is safe."""
import pytest

from nls_lessons.exercises import Feedback
from nls_lessons.exercises import lesson03 as ex
from nls_lessons.losses import gls_targets
from nls_lessons.theory import backward_correction_rate

CASES = {
    ex.check_nls_target: (float(gls_targets([0], 10, -4.0)[0, 0]), [5.0, -0.4, -3.4, 0.9, 3.0, "x"]),
    ex.check_theorem1: (2 * 0.5 - 0.9, [-0.4, 1.9, 1.4, 0.4, 0.0, "x"]),
    ex.check_backward_rate: (backward_correction_rate(0.5, 10), [-5 / 9, -0.5, -1.0, 1.25, 5 / 9, -2.0, "x"]),
    ex.check_wrong_confidence: ("higher", ["lower", "same", "maybe", 3]),
}


@pytest.mark.parametrize("check", list(CASES), ids=lambda f: f.__name__)
def test_right_answer_passes(check):
    answer, _ = CASES[check]
    verdict = check(answer)
    assert isinstance(verdict, Feedback) and verdict, verdict
    assert verdict.message


@pytest.mark.parametrize("check", list(CASES), ids=lambda f: f.__name__)
def test_wrong_answers_fail_with_a_hint_that_hides_the_answer(check):
    answer, wrongs = CASES[check]
    for w in wrongs:
        verdict = check(w)
        assert isinstance(verdict, Feedback) and not verdict, (w, verdict)
        assert len(verdict.message) > 20
        if not isinstance(answer, str):
            for text in (f"{answer:.2f}", f"{answer:g}"):
                assert text not in verdict.message, (w, verdict.message)
        else:
            assert f'"{answer}"' not in verdict.message or "one of" in verdict.message


@pytest.mark.parametrize("check", list(CASES), ids=lambda f: f.__name__)
def test_starter_none_is_not_yet_and_never_raises(check):
    verdict = check(None)
    assert not verdict and "None" in verdict.message


def test_confidence_answer_is_case_insensitive():
    assert ex.check_wrong_confidence("  Higher ")
