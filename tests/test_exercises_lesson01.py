"""Lesson 01's self-checks: right answers pass, wrong ones fail with a hint that does not
give the answer away, and the starter value None is "not yet" without an exception."""
import math

import numpy as np
import pytest

from nls_lessons import data, noise
from nls_lessons.exercises import Feedback
from nls_lessons.exercises import lesson01 as ex

CHECKS = [ex.check_symmetric_entry, ex.check_rate_sd, ex.check_asymmetric_rate, ex.check_most_confused_class]


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("junk", [None, "abc", float("nan"), True, [1, 2], object()])
def test_starter_and_junk_are_not_yet(check, junk):
    fb = check(junk)
    assert isinstance(fb, Feedback) and not fb and fb.message


def test_symmetric_entry():
    assert ex.check_symmetric_entry(0.3 / 9)
    assert ex.check_symmetric_entry(noise.transition_matrix("symmetric", 10, 0.3)[2, 5])
    for bad in (0.03, 0.3, 0.7, 0.1):
        fb = ex.check_symmetric_entry(bad)
        assert not fb and "0.0333" not in fb.message


def test_rate_sd():
    good = math.sqrt(0.3 * 0.7 / 1257)
    assert ex.check_rate_sd(good) and ex.check_rate_sd(round(good, 4))
    for bad in (0.3 * 0.7 / 1257, math.sqrt(0.21), math.sqrt(0.21 * 1257), 0.05, math.sqrt(0.16 / 1257)):
        fb = ex.check_rate_sd(bad)
        assert not fb and f"{good:.4f}" not in fb.message


def test_asymmetric_rate_matches_the_library():
    T = noise.transition_matrix("asymmetric", 10, 0.3)
    assert ex.check_asymmetric_rate(float(np.mean(1 - np.diag(T))))
    for bad in (0.3, 0.2, 0.1, 1.5):
        fb = ex.check_asymmetric_rate(bad)
        assert not fb and "0.15" not in fb.message


def test_most_confused_class_matches_the_data():
    clean, noisy = data.load_cifar_n("cifar10", "worst")
    T = noise.empirical_transition(clean, noisy, 10)
    off = T - np.diag(np.diag(T))
    row = int(np.unravel_index(np.argmax(off), off.shape)[0])
    assert ex.check_most_confused_class(row)
    assert ex.check_most_confused_class(ex.CIFAR10_CLASSES[row])
    assert ex.check_most_confused_class(" Truck ")
    for bad in ("automobile", 1, "cat", "dog", "bird", 0):
        fb = ex.check_most_confused_class(bad)
        assert not fb and "truck" not in fb.message.lower()
    for invalid in (12, -1, 2.5, "lorry"):       # not a class: the hint lists all ten names
        fb = ex.check_most_confused_class(invalid)
        assert not fb and "class name" in fb.message


from exercise_contract import notebook_shape_tests  # noqa: E402

test_exercises_have_prompt_starter_check_solution, test_learner_version_and_live_slides_define_every_name_they_use = \
    notebook_shape_tests("01_label_noise")
