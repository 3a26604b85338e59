"""One notion of "a number" and of "a probability row" for the whole library (issue 25, items 4-6).

- a probability row the checks accept must be usable afterwards (numpy's multinomial of
  ``method="official"`` included): rows are renormalised once, by the check;
- the tolerance of a row sum fits the dtype (a float16/bfloat16 softmax is a probability row);
- a low-precision number (float32/float16/bfloat16, 0-d tensor or numpy scalar) means the
  decimal it shows: 0.2 as float32 is the noise rate 0.2, and draws the labels 0.2 draws;
- the minus sign the course prints (U+2212) is a minus sign;
- meaningless answers raise or warn, and errors name the argument (table cases).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from bad_input import Case, check_case
from nls_lessons import checks, noise, theory
from nls_lessons.exercises import as_number, number_problem

G = torch.Generator().manual_seed(0)
LABELS = np.repeat(np.arange(3), 40)


def probs(dtype=torch.float64, n=120, k=3):
    logits = torch.randn(n, k, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 3
    return torch.softmax(logits, dim=1).to(dtype)


# ------------------------------------------------------------------ probability rows
def test_a_matrix_the_check_accepts_draws_with_the_official_method():
    T = np.array([[0.6, 0.4000009, 0.0], [0.1, 0.8, 0.1], [0.0, 0.2, 0.8]])      # row 0 sums to 1 + 9e-7
    checked = noise.check_transition_matrix(T)
    assert np.allclose(checked.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    labels = noise.inject(LABELS, T, seed=0, method="official")
    assert np.array_equal(labels, noise.inject(LABELS, checked, seed=0, method="official"))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32], ids=str)
def test_a_low_precision_softmax_is_a_probability_row(dtype):
    p = probs(dtype)
    assert noise.estimate_transition(LABELS, p).shape == (3, 3)
    assert 0.0 <= noise.estimate_noise_rate(LABELS, p) <= 1.0
    post = theory.noisy_posterior(p, 0.2)
    assert torch.allclose(post.double().sum(-1), torch.ones(len(p), dtype=torch.float64), atol=2e-2)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64], ids=str)
def test_the_row_tolerance_fits_the_dtype(dtype):
    tol = checks.row_sum_tolerance(np.dtype(dtype))
    assert tol >= 1e-6 and tol >= 2 * np.finfo(dtype).eps
    ok = np.full((1, 4), 0.25, dtype=np.float64)
    ok[0, 0] += tol / 2
    checks.check_probability_rows(ok.astype(dtype) if dtype != np.float64 else ok, "p")
    bad = np.full((1, 4), 0.25)
    bad[0, 0] += 4 * tol
    with pytest.raises(ValueError, match="p"):
        checks.check_probability_rows(bad.astype(dtype), "p")


# ------------------------------------------------------------------ numbers
@pytest.mark.parametrize("value", [np.float32(0.2), torch.tensor(0.2), torch.tensor(0.2, dtype=torch.float16),
                                   torch.tensor(0.2, dtype=torch.bfloat16), np.array(0.2, dtype=np.float32)],
                         ids=["np.float32", "tensor-f32", "tensor-f16", "tensor-bf16", "0d-f32-array"])
def test_a_low_precision_number_is_the_decimal_it_shows(value):
    assert checks.check_noise_rate(value) == 0.2
    T = noise.transition_matrix("symmetric", 3, value)
    assert np.array_equal(T, noise.transition_matrix("symmetric", 3, 0.2))
    assert np.array_equal(noise.inject(LABELS, T, seed=3), noise.inject(LABELS, noise.transition_matrix(
        "symmetric", 3, 0.2), seed=3))


@pytest.mark.parametrize("text, value", [("\u22120.5", -0.5), (" \u22122 ", -2.0), ("\u22121e-3", -1e-3),
                                         ("-0.5", -0.5)])
def test_the_courses_minus_sign_is_a_minus_sign(text, value):
    assert number_problem(text) is None
    assert as_number(text) == value
    assert checks.parse_number(text) == value


# ------------------------------------------------------------------ meaningless answers
def test_uniform_predictions_give_no_noise_estimate():
    uniform = np.full((len(LABELS), 3), 1 / 3)
    for fn in (noise.estimate_transition, noise.estimate_noise_rate):
        with pytest.raises(ValueError, match="pred_probs.*uniform"):
            fn(LABELS, uniform)


def test_an_impossible_clean_accuracy_is_not_clipped_silently():
    with pytest.warns(UserWarning, match="noisy_accuracy"):
        assert theory.clean_accuracy_estimate(0.01, 0.5, 10) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert 0.0 < theory.clean_accuracy_estimate(0.5, 0.2, 10) < 1.0


# ------------------------------------------------------------------ errors that name the argument
CASES = [
    Case("noisy_accuracy/shapes-do-not-broadcast", theory.noisy_accuracy, ([0.5, 0.6], [0.1, 0.2, 0.3], 10),
         words=("clean_accuracy", "noise_rate", "broadcast")),
    Case("clean_accuracy_estimate/shapes-do-not-broadcast", theory.clean_accuracy_estimate,
         ([0.5, 0.6], [0.1, 0.2, 0.3], 10), words=("noisy_accuracy", "noise_rate", "broadcast")),
    Case("estimate_transition/labels-longer", noise.estimate_transition, (np.arange(4) % 2, np.full((3, 2), 0.5)),
         words=("pred_probs", "labels", "(4, K)")),
    Case("estimate_transition/labels-2d", noise.estimate_transition, (np.zeros((3, 2), dtype=int),
                                                                      np.tile([0.7, 0.3], (3, 1))), words=("labels", "1-d")),
    Case("estimate_transition/rows-do-not-sum", noise.estimate_transition, (LABELS, np.full((120, 3), 0.4)),
         words=("pred_probs", "sum to 1")),
    Case("estimate_transition/negative-row", noise.estimate_transition,
         (LABELS, np.tile([1.2, -0.1, -0.1], (120, 1))), words=("pred_probs", ">= 0")),
    Case("estimate_noise_rate/text", noise.estimate_noise_rate, (LABELS, "probs"), words=("pred_probs",)),
    Case("check_transition_matrix/row-off-by-1e-4", noise.check_transition_matrix,
         (np.array([[0.5, 0.5001], [0.2, 0.8]]),), words=("T", "sum to 1", "1e-06")),
    Case("check_transition_matrix/float16-row-off", noise.check_transition_matrix,
         (np.array([[0.5, 0.52], [0.2, 0.8]], dtype=np.float16),), words=("T", "sum to 1")),
    Case("check_noise_rate/text-with-unicode-minus", checks.check_noise_rate, ("\u22120.2",), exc=TypeError,
         words=("noise_rate", "[0, 1)")),
    Case("check_number/1-element-tensor", checks.check_number, (torch.tensor([0.2]), "x", "a number"),
         exc=TypeError, words=("x", "a number")),
    Case("parse_number/not-a-number", lambda t: checks.parse_number(t), ("zero point two",), words=("text", "number")),
    Case("parse_number/nan-text", lambda t: checks.parse_number(t), ("nan",), words=("text", "finite")),
    Case("parse_number/not-text", lambda t: checks.parse_number(t), (0.2,), exc=TypeError, words=("text", "str")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_number_or_row_names_the_argument(case):
    check_case(case)


# ------------------------------------------------------------------ the training grid: one number, one rate
from nls_lessons import data as data_module  # noqa: E402
from nls_lessons import train  # noqa: E402


def test_a_float_and_its_float32_are_one_rate_of_a_grid():
    with pytest.raises(ValueError, match="smooth_rates must not repeat"):
        train.check_grid([0.1, np.float32(0.1)], [0.2], [0])
    with pytest.raises(ValueError, match="noise_rates must not repeat"):
        train.check_grid([0.0], [0.2, torch.tensor(0.2)], [0])
    assert train.check_grid(torch.tensor([0.1, -2.0]), torch.tensor(0.2), [0])[:2] == ([0.1, -2.0], [0.2])
    assert train.check_grid(np.array([0.4], dtype=np.float32), [np.float16(0.6)], [0])[:2] == ([0.4], [0.6])


def three_classes_one_missing():
    return data_module.Dataset(x_train=torch.randn(12, 2, generator=G), y_train=torch.tensor([0, 1] * 6),
                               x_test=torch.zeros(2, 2), y_test=torch.tensor([0, 1]), num_classes=3, name="toy")


EMPTY_CLASS = [
    Case("out_of_sample_probs/class-without-samples", lambda: train.out_of_sample_probs(three_classes_one_missing(),
                                                                                        folds=2),
         words=("class 2", "no sample", "num_classes")),
    Case("select_smooth_rate/class-without-samples", lambda: train.select_smooth_rate(three_classes_one_missing(),
                                                                                      [0.0, -1.0]),
         words=("class 2", "no sample", "num_classes")),
]


@pytest.mark.parametrize("case", [c.param() for c in EMPTY_CLASS])
def test_a_class_without_samples_is_named_not_answered_with_fewer_folds(case):
    check_case(case)
    with pytest.raises(ValueError) as info:
        case.fn()
    assert "fewer folds" not in str(info.value) and "another fraction" not in str(info.value)


# ------------------------------------------------------------------ lessons 02-05: the same notion of a number
from nls_lessons.exercises import lesson05  # noqa: E402
from nls_lessons.widgets import smoothing_widget  # noqa: E402


@pytest.mark.parametrize("eps", [np.float32(0.4), torch.tensor(0.4), torch.tensor(0.4, dtype=torch.float64),
                                 np.array(0.4, dtype=np.float32)], ids=["np.float32", "tensor-f32", "tensor-f64", "0d"])
def test_a_low_precision_noise_rate_finds_its_table2_column(eps):
    assert lesson05.nls_ls_gap(eps) == lesson05.nls_ls_gap(0.4)


def test_a_0d_tensor_is_a_smooth_rate_for_the_explorer_too():
    assert smoothing_widget.smoothing_compute(torch.tensor(-0.5))["smooth_rate"] == -0.5


CURVES = [
    Case("smoothing_compute/curve-rates-text", smoothing_widget.smoothing_compute, (0.1,),
         dict(curve_rates="0.1 0.2"), exc=TypeError, words=("curve_rates", "<= 1")),
    Case("smoothing_compute/curve-rate-above-1", smoothing_widget.smoothing_compute, (0.1,),
         dict(curve_rates=[0.1, 5.0]), words=("curve_rates", "<= 1")),
    Case("smoothing_compute/curve-rate-nan", smoothing_widget.smoothing_compute, (0.1,),
         dict(curve_rates=[float("nan")]), words=("curve_rates", "finite")),
    Case("smoothing_compute/curve-rates-none", smoothing_widget.smoothing_compute, (0.1,),
         dict(curve_rates=None), exc=TypeError, words=("curve_rates",)),
    Case("smoothing_compute/rate-1-element-tensor", smoothing_widget.smoothing_compute, (torch.tensor([0.1]),),
         exc=TypeError, words=("smooth_rate", "<= 1")),
]


@pytest.mark.parametrize("case", [c.param() for c in CURVES])
def test_bad_curve_rates_name_the_argument(case):
    check_case(case)


def test_the_recipe_warns_where_noisy_validation_ranks_backwards(monkeypatch):
    import pandas as pd

    from nls_lessons.widgets import recipe_widget

    def table(rates):
        return pd.DataFrame(dict(smooth_rate=list(rates), seed=0, val_acc=0.5, val_se=0.01, gap_se=0.01,
                                 within_one_se=True, val_epoch=3, test_acc=0.5, oracle_test_acc=0.5, diverged=False))
    monkeypatch.setattr(train, "out_of_sample_probs", lambda d, **k: np.full((len(d.y_train), 10), 0.1))
    monkeypatch.setattr(noise, "estimate_transition", lambda y, p: np.eye(10))
    monkeypatch.setattr(train, "select_smooth_rate", lambda d, rates, **k: (0.0, table(rates)))
    for eps_hat, warned in ((0.95, True), (0.3, False)):
        monkeypatch.setattr(noise, "estimate_noise_rate", lambda y, p, e=eps_hat: e)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            recipe_widget.recipe_compute("symmetric", 0.3)
        said = [str(w.message) for w in caught if "ranks models backwards" in str(w.message)]
        assert bool(said) == warned, said
