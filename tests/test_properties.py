"""Properties of the core library that hold for every valid input (hypothesis).

GLS targets are probability-like rows for any finite r <= 1, noise models are stochastic
matrices, the closed forms of ``theory`` satisfy their identities, noise injection keeps
length and range, and ECE is a number in [0, 1]. Example counts stay modest so that the
suite stays fast.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from nls_lessons import metrics, noise, theory
from nls_lessons.losses import gls_targets

PROPERTY = settings(max_examples=50, deadline=None)
rates = st.floats(min_value=-1e6, max_value=1.0, allow_nan=False, allow_infinity=False)
classes = st.integers(2, 40)
seeds = st.integers(0, noise.MAX_SEED)


# --------------------------------------------------------------------------- losses
@given(r=rates, k=classes, labels=st.lists(st.integers(0, 39), min_size=1, max_size=20))
@PROPERTY
def test_targets_sum_to_one_for_any_finite_rate(r, k, labels):
    y = torch.tensor(labels) % k
    t = gls_targets(y, k, r)
    assert t.shape == (len(labels), k)
    torch.testing.assert_close(t.sum(dim=1), torch.ones(len(labels), dtype=torch.float64),
                               rtol=0, atol=1e-12 * (1 + abs(r)))


@given(k=classes, data=st.data())
@PROPERTY
def test_per_sample_rates_give_rows_that_sum_to_one(k, data):
    """One rate per sample, including N == K, where a per-class reading would break the sums."""
    n = data.draw(st.sampled_from([k, 1, k + 1, 2 * k]))
    r = torch.tensor(data.draw(st.lists(rates, min_size=n, max_size=n)), dtype=torch.float64)
    y = torch.tensor(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    t = gls_targets(y, k, r)
    scale = 1 + r.abs()
    assert ((t.sum(dim=1) - 1).abs() <= 1e-12 * scale).all()
    onehot = torch.nn.functional.one_hot(y, k).double()
    torch.testing.assert_close(t - 1 / k, (1 - r)[:, None] * (onehot - 1 / k), rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- noise
@given(kind=st.sampled_from(noise.KINDS), k=st.integers(2, 120),
       eps=st.floats(0.0, 1.0, exclude_max=True))
@PROPERTY
def test_transition_matrix_is_stochastic(kind, k, eps):
    T = noise.transition_matrix(kind, k, eps)
    assert T.shape == (k, k) and T.dtype == np.float64
    assert (T >= 0).all()
    np.testing.assert_allclose(T.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all((np.diag(T) == 1.0) | np.isclose(np.diag(T), 1.0 - eps, rtol=0, atol=1e-15))
    noise.check_transition_matrix(T, k)


@given(kind=st.sampled_from(noise.KINDS), k=st.integers(2, 30), eps=st.floats(0.0, 0.95),
       n=st.integers(0, 300), seed=seeds, torch_in=st.booleans())
@PROPERTY
def test_inject_preserves_length_range_and_type(kind, k, eps, n, seed, torch_in):
    clean = np.random.default_rng(seed).integers(0, k, n)
    labels = torch.as_tensor(clean) if torch_in else clean
    noisy = noise.inject(labels, noise.transition_matrix(kind, k, eps), seed)
    assert type(noisy) is type(labels) and noisy.shape == (n,) and noisy.dtype == labels.dtype
    values = np.asarray(noisy)
    assert values.size == 0 or (values.min() >= 0 and values.max() < k)
    assert np.array_equal(np.asarray(noise.inject(labels, noise.transition_matrix(kind, k, eps), seed)), values)


@given(k=st.integers(2, 12), d=st.integers(1, 5), n=st.integers(0, 60),
       eps=st.floats(0.0, 0.9), seed=seeds)
@PROPERTY
def test_instance_dependent_preserves_length_and_range(k, d, n, eps, seed):
    rng = np.random.default_rng(seed)
    x, clean = rng.normal(size=(n, d)), rng.integers(0, k, n)
    noisy = noise.instance_dependent(x, clean, eps, seed, num_classes=k)
    assert noisy.shape == (n,) and noisy.dtype == clean.dtype
    assert n == 0 or (noisy.min() >= 0 and noisy.max() < k)
    if eps == 0.0:
        assert np.array_equal(noisy, clean)


# --------------------------------------------------------------------------- theory
fractions = st.floats(0.0, 1.0, exclude_max=True)


@given(k=classes, fraction=fractions, r_star=st.floats(-20.0, 1.0))
@PROPERTY
def test_optimal_smooth_rate_identities(k, fraction, r_star):
    eps = fraction * (k - 1) / k                         # every eps in [0, (K-1)/K)
    kap = theory.kappa(eps, k)
    assume(kap < 1 - 1e-6)
    r_opt = theory.optimal_smooth_rate(eps, k, r_star)
    # total smoothing: noise shrinks the deviation from uniform by (1 - kappa), GLS by (1 - r);
    # r_opt makes the product the clean optimum's (1 - r*)
    assert (1 - r_opt) * (1 - kap) == pytest.approx(1 - r_star, rel=1e-9, abs=1e-9)
    assert theory.optimal_smooth_rate(eps, k) == pytest.approx(theory.backward_correction_rate(eps, k), rel=1e-12)
    assert r_opt <= 1
    threshold = theory.nls_threshold(r_star, k)
    if abs(eps - threshold) > 1e-9:
        assert (r_opt < 0) == (eps > threshold)
        assert theory.smoothing_regime(eps, k, r_star) == ("NLS" if eps > threshold else "LS")


@given(k=classes, r_star=st.floats(0.0, 1.0, exclude_max=True))
@example(k=7, r_star=0.9999999999999998)      # the edge hypothesis found (fails a fixed 1e-9)
@example(k=3, r_star=0.9999999999999999)      # its threshold rounds to (K-1)/K: no noise rate
@PROPERTY
def test_no_smoothing_at_the_threshold(k, r_star):
    threshold = theory.nls_threshold(r_star, k)
    # (K-1) r*/K < (K-1)/K for every r* < 1, but within a unit of rounding of r* = 1 the float
    # product is (K-1)/K itself, where kappa = 1 and optimal_smooth_rate refuses the noise rate
    assume(threshold < (k - 1) / k)
    # r_opt = (r* - kappa) / (1 - kappa): at the threshold the numerator is the few units of
    # rounding (u = 2**-53) of threshold and kappa, divided by 1 - kappa = 1 - r*. So r_opt is 0
    # within 16 u / (1 - r*): 1e-9 for r* up to 1 - 4e-6, nothing near r* = 1, where the formula
    # is singular (hypothesis found r* = 1 - 2**-52, K = 7: r_opt = 1/3 from one unit of rounding).
    conditioning = 16 * 2.0**-53 / (1.0 - r_star)
    assert theory.optimal_smooth_rate(threshold, k, r_star) == pytest.approx(0.0, abs=max(1e-12, conditioning))
    assert theory.kappa(threshold, k) == pytest.approx(r_star, abs=1e-12)


@given(k=st.integers(2, 12), eps=st.floats(0.0, 0.99), seed=seeds)
@PROPERTY
def test_noisy_posterior_is_p_times_T(k, eps, seed):
    p = np.random.default_rng(seed).dirichlet(np.ones(k), size=5)
    expected = p @ noise.transition_matrix("symmetric", k, eps)
    np.testing.assert_allclose(theory.noisy_posterior(p, eps), expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- metrics
@given(n=st.integers(1, 200), k=st.integers(2, 12), scale=st.floats(0.0, 50.0),
       n_bins=st.integers(1, 40), stacked=st.booleans(), seed=seeds)
@PROPERTY
def test_ece_and_accuracy_lie_in_unit_interval(n, k, scale, n_bins, stacked, seed):
    g = torch.Generator().manual_seed(seed)
    shape = (3, n, k) if stacked else (n, k)
    logits = scale * torch.randn(shape, generator=g, dtype=torch.float64)
    labels = torch.randint(0, k, (n,), generator=g)
    ece = torch.as_tensor(metrics.expected_calibration_error(logits, labels, n_bins))
    acc = torch.as_tensor(metrics.accuracy(logits, labels))
    for value in (ece, acc):
        assert value.shape == ((3,) if stacked else ()) and ((value >= 0) & (value <= 1)).all()
    mc = metrics.model_confidence(logits, labels)
    assert ((mc >= -1) & (mc <= 1)).all()
