"""Bad arguments to the self-checks of lessons 03-04 raise a clear error naming the argument and
what is allowed (a wrong *answer* never raises: it gets feedback, see test_exercises_lesson0[34])."""
import numpy as np
import pandas as pd
import pytest

from bad_input import Case, check_case
from nls_lessons.exercises import lesson04


def _frame(**overrides):
    """A two-seed tidy sweep frame at ε = 0.6 (the columns train.sweep returns that the check reads)."""
    rows = [{"noise_kind": "symmetric", "noise_rate": 0.6, "smooth_rate": r, "seed": seed,
             "test_acc": a, "best_test_acc": a + 0.01}
            for seed in (0, 1) for r, a in ((-2.0, 0.8), (0.0, 0.6), (0.4, 0.62))]
    frame = pd.DataFrame(rows)
    for column, value in overrides.items():
        frame[column] = value
    return frame


FRAME = _frame()
check = lesson04.check_best_rate

CASES = [
    Case("metric-bogus", check, (-2.0, FRAME), dict(metric="bogus"), ValueError,
         ("metric", "test_acc", "best_test_acc", "bogus")),
    Case("metric-none", check, (-2.0, FRAME), dict(metric=None), ValueError, ("metric", "best_test_acc")),
    Case("metric-confidence", check, (-2.0, FRAME), dict(metric="confidence"), ValueError,
         ("metric", "one of")),
    Case("noise-rate-text", check, (-2.0, FRAME), dict(noise_rate="high"), TypeError, ("noise_rate", "[0, 1)")),
    Case("noise-rate-nan", check, (-2.0, FRAME), dict(noise_rate=float("nan")), TypeError, ("noise_rate", "[0, 1)")),
    Case("noise-rate-bool", check, (-2.0, FRAME), dict(noise_rate=True), TypeError, ("noise_rate", "number")),
    Case("noise-rate-above-one", check, (-2.0, FRAME), dict(noise_rate=1.5), ValueError, ("noise_rate", "[0, 1)")),
    Case("noise-rate-negative", check, (-2.0, FRAME), dict(noise_rate=-0.1), ValueError, ("noise_rate", "[0, 1)")),
    Case("results-list", check, (-2.0, [1, 2, 3]), {}, TypeError, ("results", "DataFrame", "list")),
    Case("results-none", check, (-2.0, None), {}, TypeError, ("results", "DataFrame")),
    Case("results-array", check, (-2.0, np.zeros((3, 4))), {}, TypeError, ("results", "DataFrame")),
    Case("results-missing-column", check, (-2.0, FRAME.drop(columns="smooth_rate")), {}, ValueError,
         ("results", "missing", "smooth_rate")),
    Case("results-missing-metric", check, (-2.0, FRAME.drop(columns="best_test_acc")),
         dict(metric="best_test_acc"), ValueError, ("results", "best_test_acc")),
    Case("results-empty", check, (-2.0, FRAME.iloc[:0]), {}, ValueError, ("results", "empty")),
    Case("results-text-accuracy", check, (-2.0, _frame(test_acc="high")), {}, ValueError,
         ("results", "test_acc", "numeric")),
    Case("results-pairflip-only", check, (-2.0, _frame(noise_kind="pairflip")), {}, ValueError,
         ("results", "symmetric", "pairflip")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_argument_raises_a_clear_error(case):
    check_case(case)


def test_bad_arguments_raise_even_with_the_starter_answer():
    """The starter cell (answer = None) already reports a wrong argument, not only the answer."""
    with pytest.raises(ValueError, match="metric"):
        check(None, FRAME, metric="bogus")


def test_good_arguments_still_give_feedback():
    assert check(-2.0, FRAME, noise_rate=0.6)
    assert check(-2.0, FRAME, noise_rate=np.float32(0.6), metric="best_test_acc")
    assert not check(-2.0, FRAME, noise_rate=0.4)          # a rate the frame lacks: feedback, no error
