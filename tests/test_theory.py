"""nls_lessons.theory: the closed forms, Theorem 1, backward correction = NLS (Theorem 2), unboundedness of NLS.

Theorem numbers are those of the ICLR 2022 submission (OpenReview UQQgMRq58O), as in the course.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from nls_lessons import theory
from nls_lessons.losses import gls_loss
from nls_lessons.noise import transition_matrix

FAST = settings(max_examples=30, deadline=None)
TOL = dict(rtol=0, atol=1e-10)


def batch(n=32, k=10, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, k, generator=g, dtype=torch.float64)
    labels = torch.randint(0, k, (n,), generator=g)
    return logits, labels


# --------------------------------------------------------------------------- closed forms
def test_kappa():
    assert theory.kappa(0.2, 10) == pytest.approx(10 * 0.2 / 9)
    assert theory.kappa(0.3, 2) == pytest.approx(0.6)                     # binary: kappa = 2e
    np.testing.assert_allclose(theory.kappa(np.array([0.0, 0.45]), 10), [0.0, 0.5])


@pytest.mark.parametrize("eps, expected", [(0.2, -0.286), (0.4, -0.8), (0.6, -2.0), (0.8, -8.0)])
def test_backward_correction_rate_k10(eps, expected):
    assert theory.backward_correction_rate(eps, 10) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize("e, expected", [(0.1, -0.25), (0.2, -2 / 3), (0.3, -1.5), (0.4, -4.0)])
def test_backward_correction_rate_binary_is_theorem_2(e, expected):
    assert theory.backward_correction_rate(e, 2) == pytest.approx(expected)
    assert theory.backward_correction_rate(e, 2) == pytest.approx(2 * e / (2 * e - 1))


@pytest.mark.parametrize("r_star, row", [
    (0.0, [-0.25, -0.667, -1.5, -4.0]),
    (0.1, [-0.125, -0.5, -1.25, -3.5]),
    (0.2, [0.0, -0.333, -1.0, -3.0]),
])
def test_optimal_smooth_rate_binary_table(r_star, row):
    """PAPER_NOTES §2.6 worked values, K = 2: r_opt = (r* - 2e) / (1 - 2e)."""
    got = [theory.optimal_smooth_rate(e, 2, r_star) for e in (0.1, 0.2, 0.3, 0.4)]
    np.testing.assert_allclose(got, row, atol=5e-4)


@pytest.mark.parametrize("r_star, row", [
    (0.0, [-0.286, -0.8, -2.0, -8.0]),
    (0.1, [-0.157, -0.62, -1.7, -7.1]),
    (0.2, [-0.029, -0.44, -1.4, -6.2]),
])
def test_optimal_smooth_rate_k10_table(r_star, row):
    got = [theory.optimal_smooth_rate(e, 10, r_star) for e in (0.2, 0.4, 0.6, 0.8)]
    np.testing.assert_allclose(got, row, atol=5e-3)


def test_optimal_smooth_rate_defaults_to_backward_correction():
    for eps in (0.0, 0.3, 0.7):
        assert theory.optimal_smooth_rate(eps, 10) == theory.backward_correction_rate(eps, 10)
    assert theory.optimal_smooth_rate(0.0, 10, 0.3) == pytest.approx(0.3)    # no noise: r_opt = r*


def test_nls_threshold_is_the_sign_change():
    for k in (2, 10, 100):
        for r_star in (0.05, 0.2, 0.6):
            eps0 = theory.nls_threshold(r_star, k)
            assert eps0 == pytest.approx((k - 1) * r_star / k)
            assert theory.optimal_smooth_rate(eps0, k, r_star) == pytest.approx(0.0, abs=1e-12)
            assert theory.optimal_smooth_rate(eps0 - 0.01, k, r_star) > 0
            assert theory.optimal_smooth_rate(eps0 + 0.01, k, r_star) < 0
    assert theory.nls_threshold(0.2, 2) == pytest.approx(0.1)                 # binary: e = r*/2


def test_smoothing_regime():
    assert theory.smoothing_regime(0.05, 2, 0.2) == "LS"
    assert theory.smoothing_regime(0.1, 2, 0.2) == "CE"
    assert theory.smoothing_regime(0.3, 2, 0.2) == "NLS"
    assert theory.smoothing_regime(0.2, 10) == "NLS"
    assert theory.smoothing_regime(0.0, 10) == "CE"


def test_phase_diagram_grid():
    eps = np.linspace(0.0, 0.45, 10)
    r_star = np.array([0.0, 0.1, 0.3])
    grid = theory.phase_diagram(eps, r_star, 2)
    assert grid.shape == (3, 10)
    for i, rs in enumerate(r_star):
        for j, e in enumerate(eps):
            assert grid[i, j] == pytest.approx(theory.optimal_smooth_rate(e, 2, rs))
    assert np.all(np.diff(grid, axis=1) < 0)          # more noise -> more negative r_opt
    assert np.all(np.diff(grid, axis=0) > 0)          # larger r* -> larger r_opt


def test_noisy_posterior_is_implicit_smoothing():
    p = np.array([[0.9, 0.05, 0.05], [0.2, 0.5, 0.3]])
    eps = 0.3
    got = theory.noisy_posterior(p, eps)
    np.testing.assert_allclose(got, p @ transition_matrix("symmetric", 3, eps), atol=1e-15)
    kap = theory.kappa(eps, 3)
    np.testing.assert_allclose(got - 1 / 3, (1 - kap) * (p - 1 / 3), atol=1e-15)
    pt = torch.tensor(p)
    assert isinstance(theory.noisy_posterior(pt, eps), torch.Tensor)


def test_noisy_posterior_lesson_example():
    """PAPER_NOTES §2.7: K = 10, eps = 0.6, a clean 0.9 on the true class becomes about 0.367."""
    p = np.full(10, 0.1 / 9)
    p[0] = 0.9
    assert theory.noisy_posterior(p, 0.6)[0] == pytest.approx(0.1 + (1 - 2 / 3) * (0.9 - 0.1))


# --------------------------------------------------------------------------- backward correction is NLS
@pytest.mark.parametrize("k, eps", [(k, eps) for k in (2, 3, 10, 100) for eps in (0.0, 0.1, 0.2, 0.4, 0.6)
                                    if eps < (k - 1) / k])          # kappa < 1, T invertible
def test_backward_corrected_ce_equals_gls_per_sample(k, eps):
    logits, labels = batch(n=64, k=k, seed=k)
    T = transition_matrix("symmetric", k, eps)
    r = theory.backward_correction_rate(eps, k)
    corrected = theory.backward_corrected_loss(logits, labels, T, reduction="none")
    torch.testing.assert_close(corrected, gls_loss(logits, labels, r, "none"), **TOL)


@given(eps=st.floats(0.0, 0.85), k=st.integers(2, 15), seed=st.integers(0, 10_000), scale=st.floats(0.0, 10.0))
@FAST
def test_property_backward_correction_is_nls(eps, k, seed, scale):
    if theory.kappa(eps, k) > 0.95:
        return                                        # near-singular T: 1/(1-kappa) amplifies round-off
    logits, labels = batch(n=16, k=k, seed=seed, scale=scale)
    T = transition_matrix("symmetric", k, eps)
    r = theory.backward_correction_rate(eps, k)
    corrected = theory.backward_corrected_loss(logits, labels, T, reduction="none")
    torch.testing.assert_close(corrected, gls_loss(logits, labels, r, "none"), rtol=0, atol=1e-10 * (1 + scale))


def test_backward_correction_is_unbiased():
    """E_{noisy y | clean c}[corrected loss] = clean CE against c (Patrini et al.)."""
    k = 4
    logits, _ = batch(n=8, k=k)
    T = transition_matrix("pairflip", k, 0.3)          # not symmetric: not GLS, but still unbiased
    ce_all = -F.log_softmax(logits, -1)
    for c in range(k):
        expected = sum(T[c, y] * theory.backward_corrected_loss(logits, torch.full((8,), y), T, "none") for y in range(k))
        torch.testing.assert_close(expected, ce_all[:, c], **TOL)


def test_backward_corrected_loss_stacked_and_reductions():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 10, 5, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 5, (10,), generator=g)
    T = transition_matrix("symmetric", 5, 0.2)
    out = theory.backward_corrected_loss(logits, labels, T, "none")
    assert out.shape == (3, 10)
    torch.testing.assert_close(theory.backward_corrected_loss(logits, labels, T), out.mean(-1), **TOL)
    torch.testing.assert_close(theory.backward_corrected_loss(logits, labels, torch.as_tensor(T), "sum"), out.sum(-1), **TOL)


def test_backward_corrected_loss_gradients_match_gls():
    logits, labels = batch()
    logits.requires_grad_()
    T = transition_matrix("symmetric", 10, 0.4)
    (g1,) = torch.autograd.grad(theory.backward_corrected_loss(logits, labels, T), logits)
    (g2,) = torch.autograd.grad(gls_loss(logits, labels, -0.8), logits)
    torch.testing.assert_close(g1, g2, **TOL)


# --------------------------------------------------------------------------- Theorem 1 (ICLR numbering): NLS as LS regularisation
@pytest.mark.parametrize("r", [0.0, 0.2, 0.4, 0.8, 1.0])
def test_theorem_1_per_sample(r):
    logits, labels = batch()
    ce = gls_loss(logits, labels, 0.0, "none")
    torch.testing.assert_close(gls_loss(logits, labels, -r, "none"), 2 * ce - gls_loss(logits, labels, r, "none"), **TOL)


@given(r=st.floats(0.0, 1.0), k=st.integers(2, 12), seed=st.integers(0, 10_000), scale=st.floats(0.0, 20.0))
@FAST
def test_property_theorem_1(r, k, seed, scale):
    """GLS(-r) = 2 * CE - GLS(r), sample by sample, values and gradients."""
    logits, labels = batch(n=8, k=k, seed=seed, scale=scale)
    logits.requires_grad_()
    lhs = gls_loss(logits, labels, -r, "none")
    rhs = 2 * gls_loss(logits, labels, 0.0, "none") - gls_loss(logits, labels, r, "none")
    torch.testing.assert_close(lhs, rhs, rtol=0, atol=1e-10 * (1 + scale))
    (g1,) = torch.autograd.grad(lhs.sum(), logits)
    (g2,) = torch.autograd.grad(rhs.sum(), logits)
    torch.testing.assert_close(g1, g2, rtol=0, atol=1e-10)


# --------------------------------------------------------------------------- unboundedness
def test_nls_is_unbounded_below_while_ce_and_ls_are_bounded():
    """Along z = c * e_y, NLS falls like r (1 - 1/K) c without limit; CE -> 0 and LS stays >= its minimum."""
    k, y = 10, 3
    labels = torch.tensor([y])
    scales = [1.0, 10.0, 100.0, 1e3, 1e4]
    ray = [c * F.one_hot(labels, k).double() for c in scales]
    nls = [gls_loss(z, labels, -1.0).item() for z in ray]
    assert all(b < a for a, b in zip(nls, nls[1:]))                      # strictly decreasing
    assert nls[-1] < -1e3
    for c, value in zip(scales[2:], nls[2:]):                            # slope r (1 - 1/K) = -0.9
        assert value == pytest.approx(-1.0 * (1 - 1 / k) * c, rel=1e-6)
    ce = [gls_loss(z, labels, 0.0).item() for z in ray]
    assert all(v >= 0 for v in ce) and ce[-1] < 1e-10
    # LS (r > 0) is bounded below by the entropy-like minimum it attains at softmax(z) = target
    for r in (0.1, 0.4):
        target = (1 - r) * F.one_hot(labels, k).double() + r / k
        floor = -(target * target.log()).sum().item()                     # entropy of the target
        ls = [gls_loss(z, labels, r).item() for z in ray]
        assert min(ls) >= floor - 1e-12
        assert ls[-1] > ls[1]                                            # and it rises again along the ray


def test_ce_and_ls_bounded_on_random_logits():
    g = torch.Generator().manual_seed(0)
    logits = 1e3 * torch.randn(2000, 5, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 5, (2000,), generator=g)
    assert gls_loss(logits, labels, 0.0, "none").min() >= 0
    assert gls_loss(logits, labels, 0.3, "none").min() >= 0


# --------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("eps", [0.5, 0.7])
def test_optimal_smooth_rate_kappa_at_least_one(eps):
    with pytest.raises(ValueError, match=r"noise_rate must lie in \[0, \(K-1\)/K\) = \[0, 0.5\) for K = 2"):
        theory.optimal_smooth_rate(eps, 2)
    with pytest.raises(ValueError, match=r"noise_rate must lie in \[0, \(K-1\)/K\)"):
        theory.backward_correction_rate(eps, 2)


def test_kappa_at_least_one_inside_an_array():
    with pytest.raises(ValueError, match=r"noise_rate must lie in \[0, \(K-1\)/K\) = \[0, 0.9\) for K = 10 .*got 0.95"):
        theory.phase_diagram([0.1, 0.95], [0.0], 10)


@pytest.mark.parametrize("eps", [-0.1, 1.0, float("nan")])
def test_kappa_noise_rate_outside_range(eps):
    with pytest.raises(ValueError, match=r"noise_rate must lie in \[0, 1\)"):
        theory.kappa(eps, 10)


@pytest.mark.parametrize("r_star", [1.5, float("nan"), float("inf")])
def test_clean_optimal_rate_above_one_or_not_finite(r_star):
    with pytest.raises(ValueError, match=r"clean_optimal_rate must lie in \[-inf, 1\]"):
        theory.optimal_smooth_rate(0.1, 10, r_star)
    with pytest.raises(ValueError, match=r"clean_optimal_rate must lie in \[-inf, 1\]"):
        theory.nls_threshold(r_star, 10)


def test_theory_num_classes_below_two():
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        theory.kappa(0.1, 1)


def test_phase_diagram_needs_1d():
    with pytest.raises(ValueError, match="noise_rates and clean_optimal_rates must be 1-d"):
        theory.phase_diagram(np.zeros((2, 2)), [0.0], 10)


def test_smoothing_regime_scalars_only():
    with pytest.raises(ValueError, match="scalars"):
        theory.smoothing_regime([0.1, 0.2], 10)


def test_noisy_posterior_bad_input():
    with pytest.raises(ValueError, match="clean_posterior must hold probability vectors"):
        theory.noisy_posterior([0.5, 0.6], 0.1)
    with pytest.raises(ValueError, match=r"clean_posterior must have shape \(..., K\)"):
        theory.noisy_posterior([1.0], 0.1)


def test_backward_corrected_loss_singular_T():
    logits, labels = batch(k=2)
    with pytest.raises(ValueError, match="T must be invertible"):
        theory.backward_corrected_loss(logits, labels, np.full((2, 2), 0.5))


def test_backward_corrected_loss_T_mismatch():
    logits, labels = batch(k=10)
    with pytest.raises(ValueError, match=r"T has shape \(3, 3\) but num_classes = 10"):
        theory.backward_corrected_loss(logits, labels, np.eye(3))


def test_backward_corrected_loss_bad_labels_and_reduction():
    logits, labels = batch(k=3)
    T = np.eye(3)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, num_classes\) = \[0, 3\)"):
        theory.backward_corrected_loss(logits, labels + 3, T)
    with pytest.raises(ValueError, match="labels of shape"):
        theory.backward_corrected_loss(logits, labels[:3], T)
    with pytest.raises(ValueError, match="reduction must be one of"):
        theory.backward_corrected_loss(logits, labels, T, "avg")


# --------------------------------------------------------------------------- numbering
def test_docstrings_use_the_iclr_numbering_and_say_so():
    """Backward correction = NLS is Theorem 2 of the ICLR 2022 submission (OpenReview UQQgMRq58O),
    whose numbering the course follows; the ICML paper (arXiv 2106.04149) numbers differently."""
    import re

    doc = " ".join(theory.__doc__.split())
    assert "UQQgMRq58O" in doc and "2106.04149" in doc
    assert re.search(r"backward correction \*is\* NLS, Theorem 2\)", doc)
    assert "Theorem 1" not in doc                                  # Theorem 1 is GLS(-r) = 2 CE - GLS(r)
    assert "course's own derivation" in doc
    assert "Theorem 2 of the ICLR 2022 submission" in " ".join(theory.backward_correction_rate.__doc__.split())
    assert "Theorem 3.3" in " ".join(theory.optimal_smooth_rate.__doc__.split())
