"""The self-checks of lesson 04: right answers pass, wrong ones fail with a hint, None is safe."""
import numpy as np
import pandas as pd
import pytest

from exercise_contract import contract_tests
from nls_lessons.exercises import Feedback
from nls_lessons.exercises import lesson04 as ex
from nls_lessons.theory import nls_threshold, optimal_smooth_rate


def _frame():
    """A tiny tidy sweep frame: at ε = 0.6 the mean is best at r = -2, but seed 0 prefers -8."""
    rows = []
    acc = {0: {-8.0: 0.80, -2.0: 0.79, 0.0: 0.60, 0.4: 0.62},
           1: {-8.0: 0.70, -2.0: 0.78, 0.0: 0.61, 0.4: 0.63}}
    for seed, by_rate in acc.items():
        for r, a in by_rate.items():
            rows.append({"noise_kind": "symmetric", "noise_rate": 0.6, "smooth_rate": r, "seed": seed,
                         "test_acc": a})
            rows.append({"noise_kind": "symmetric", "noise_rate": 0.0, "smooth_rate": r, "seed": seed,
                         "test_acc": 0.9 + 0.01 * r})
    return pd.DataFrame(rows)


FRAME = _frame()

CASES = {
    ex.check_optimal_rate: (optimal_smooth_rate(0.5, 10, 0.3), [-0.4, -0.256, -1.25, -0.8, 0.3, -3.0, "x"]),
    ex.check_threshold: (nls_threshold(0.3, 10), [0.3, 0.15, 1 / 3, 0.5, "x"]),
    ex.check_pairflip: ("b", ["a", "c", "d", "e", 1]),
}


(test_right_answer_passes, test_wrong_answers_fail_with_a_hint_that_hides_the_answer,
 test_starter_none_is_not_yet_and_never_raises) = contract_tests(
    CASES, extra_starters={ex.check_best_rate: (None, FRAME)})


def test_best_rate_reads_the_mean_over_seeds():
    assert ex.check_best_rate(-2.0, FRAME, noise_rate=0.6)
    assert ex.check_best_rate(0.4, FRAME, noise_rate=0.0)
    single_seed = ex.check_best_rate(-8.0, FRAME, noise_rate=0.6)
    assert not single_seed and "single seed" in single_seed.message
    for w in (0.0, 0.4, 5.0, "x"):
        verdict = ex.check_best_rate(w, FRAME, noise_rate=0.6)
        assert not verdict and "-2" not in verdict.message and "−2" not in verdict.message
    assert not ex.check_best_rate(-2.0, FRAME, noise_rate=0.3)   # no such ε: a clear message


def test_pairflip_accepts_letter_variants():
    assert ex.check_pairflip(" B) ")


def test_pairflip_m_inc2_answer_explains_why_it_vanishes():
    verdict = ex.check_pairflip("c")
    assert not verdict and "e_Δ" in verdict.message and "same rate" in verdict.message


def test_pairflip_rewards_what_the_data_support_not_the_mechanism():
    """The lesson's own 40 % pair-flip table (final epoch: NLS ahead on 5 of 6 seeds) and Table 2's
    30 % column contradict "NLS does not help under pair noise"; the check must not credit it."""
    mechanism = ex.check_pairflip("a")
    assert not mechanism and "40 %" in mechanism.message and "30 %" in mechanism.message
    assert ex.check_pairflip("b")


@pytest.mark.parametrize("answer", [["a"], 1, True, None.__class__, "", "ab", "e", float("nan")])
def test_pairflip_hostile_answers_get_feedback(answer):
    verdict = ex.check_pairflip(answer)
    assert isinstance(verdict, Feedback) and not verdict and '"a", "b", "c" or "d"' in verdict.message


@pytest.mark.parametrize("answer", [[-2.0], "minus two", float("nan"), True, np.array([-2.0, 0.0]), {}])
def test_best_rate_hostile_answers_get_feedback(answer):
    verdict = ex.check_best_rate(answer, FRAME, noise_rate=0.6)
    assert isinstance(verdict, Feedback) and not verdict and "number" in verdict.message


def test_best_rate_ranks_by_the_metric_asked_for():
    frame = FRAME.assign(best_test_acc=FRAME.test_acc.where(FRAME.smooth_rate != 0.4, 0.99))
    assert ex.check_best_rate(0.4, frame, noise_rate=0.6, metric="best_test_acc")
    assert not ex.check_best_rate(0.4, frame, noise_rate=0.6, metric="test_acc")
    assert "best-epoch" in ex.check_best_rate(0.4, frame, noise_rate=0.6, metric="best_test_acc").message
