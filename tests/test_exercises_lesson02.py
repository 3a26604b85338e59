"""Lesson 02's self-checks: right answers pass, wrong ones fail with a hint that does not
give the answer away, and the starter value None is "not yet" without an exception."""
import pytest

from nls_lessons import losses, theory
from nls_lessons.exercises import Feedback
from nls_lessons.exercises import lesson02 as ex

CHECKS = [ex.check_true_class_target, ex.check_kappa, ex.check_total_shrinkage, ex.check_loss_minimum]


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("junk", [None, "abc", float("inf"), False, {}, object()])
def test_starter_and_junk_are_not_yet(check, junk):
    fb = check(junk)
    assert isinstance(fb, Feedback) and not fb and fb.message


def test_true_class_target_matches_the_library():
    assert ex.check_true_class_target(float(losses.gls_targets([3], 10, 0.3)[0, 3]))
    for bad in (0.7, 0.03, 0.82, 1.0, 0.9):
        fb = ex.check_true_class_target(bad)
        assert not fb and "0.73" not in fb.message


def test_kappa_matches_the_library():
    assert ex.check_kappa(theory.kappa(0.45, 10)) and ex.check_kappa("0.5")
    for bad in (0.45, 0.405, 0.55):
        fb = ex.check_kappa(bad)
        assert not fb and "0.5" not in fb.message


def test_total_shrinkage():
    good = (1 - 0.5) * (1 - theory.kappa(0.3, 10))
    assert ex.check_total_shrinkage(good) and ex.check_total_shrinkage(1 / 3)
    for bad in (0.35, 0.5, 2 / 3, 1 - good, 0.9):
        fb = ex.check_total_shrinkage(bad)
        assert not fb and "0.333" not in fb.message


def test_loss_minimum_is_the_target():
    assert ex.check_loss_minimum(float(losses.gls_targets([0], 5, 0.4)[0, 0]))
    for bad in (1.0, 0.6, 0.2):
        fb = ex.check_loss_minimum(bad)
        assert not fb and "0.68" not in fb.message


from exercise_contract import notebook_shape_tests  # noqa: E402

test_exercises_have_prompt_starter_check_solution, test_learner_version_and_live_slides_define_every_name_they_use = \
    notebook_shape_tests("02_label_smoothing")
