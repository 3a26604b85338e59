"""nls_lessons.losses: GLS targets and loss, checked against torch and against the soft-target CE."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from nls_lessons import losses
from nls_lessons.losses import GLSLoss, gls_loss, gls_targets

FAST = settings(max_examples=30, deadline=None)
TOL = dict(rtol=0, atol=1e-10)
CANDIDATES = [0.8, 0.6, 0.4, 0.2, 0.0, -0.2, -0.4, -0.6, -0.8, -1.0, -2.0, -4.0, -6.0, -8.0]


def batch(n=32, k=10, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    logits = (scale * torch.randn(n, k, generator=g, dtype=torch.float64)).requires_grad_()
    labels = torch.randint(0, k, (n,), generator=g)
    return logits, labels


def soft_ce(logits, targets, reduction="mean"):
    per_sample = -(targets * F.log_softmax(logits, dim=-1)).sum(dim=-1)
    return {"none": per_sample, "mean": per_sample.mean(), "sum": per_sample.sum()}[reduction]


def grad(fn, logits):
    (g,) = torch.autograd.grad(fn(logits), logits)
    return g


# --------------------------------------------------------------------------- targets
def test_gls_targets_paper_example():
    t = gls_targets([1], 3, 0.3)                       # K = 3, r = 0.3: [0,1,0] -> [0.1, 0.8, 0.1]
    torch.testing.assert_close(t, torch.tensor([[0.1, 0.8, 0.1]], dtype=torch.float64), **TOL)


def test_gls_targets_nls_entries():
    t = gls_targets(torch.tensor([4]), 10, -2.0)     # K = 10, r = -2: 2.8 on the label, -0.2 elsewhere
    assert t[0, 4].item() == pytest.approx(2.8) and t[0, 0].item() == pytest.approx(-0.2)
    assert t.sum().item() == pytest.approx(1.0)


@given(r=st.floats(-50, 1), k=st.integers(2, 20), y=st.integers(0, 19))
@FAST
def test_gls_targets_sum_to_one_and_sharpen_around_uniform(r, k, y):
    y = y % k
    t = gls_targets([y], k, r)[0]
    assert t.sum().item() == pytest.approx(1.0, abs=1e-9 * (1 + abs(r)))
    onehot = F.one_hot(torch.tensor(y), k).double()
    torch.testing.assert_close(t - 1 / k, (1 - r) * (onehot - 1 / k), rtol=0, atol=1e-12 * (1 + abs(r)))


def test_gls_targets_one_rate_per_sample_when_n_equals_k():
    """A rate tensor of shape (N,) is one rate per sample (a row each), even when N == K."""
    labels = torch.tensor([0, 1, 2])
    rates = torch.tensor([0.1, -2.0, 0.5], dtype=torch.float64)
    t = gls_targets(labels, 3, rates)
    torch.testing.assert_close(t.sum(dim=1), torch.ones(3, dtype=torch.float64), **TOL)
    for i, r in enumerate(rates.tolist()):
        torch.testing.assert_close(t[i], gls_targets(labels[i:i + 1], 3, r)[0], **TOL)


@pytest.mark.parametrize("rates", [[0.2, -1.0, 0.0, 0.6], np.array([0.2, -1.0, 0.0, 0.6]),
                                   torch.tensor([[0.2], [-1.0], [0.0], [0.6]])])
def test_gls_targets_one_rate_per_sample_when_n_differs_from_k(rates):
    labels = torch.tensor([0, 1, 2, 0])
    t = gls_targets(labels, 3, rates)
    assert t.shape == (4, 3)
    torch.testing.assert_close(t.sum(dim=1), torch.ones(4, dtype=torch.float64), **TOL)
    torch.testing.assert_close(t[1], gls_targets([1], 3, -1.0)[0], **TOL)


@pytest.mark.parametrize("shape", [(2,), (3,), (4, 3), (1, 4), (2, 2)])
def test_gls_targets_wrongly_shaped_rate(shape):
    with pytest.raises(ValueError, match=r"smooth_rate .*scalar.*\(N,\) = \(4,\)"):
        gls_targets(torch.tensor([0, 1, 2, 0]), 3, torch.zeros(shape))


def test_gls_loss_rate_shape_error_names_smooth_rate_and_allowed_shapes():
    logits, labels = batch(n=10, k=10)
    with pytest.raises(ValueError, match=r"smooth_rate .*scalar.*\(M,\)"):
        gls_loss(logits, labels, torch.zeros(10))
    with pytest.raises(ValueError, match=r"smooth_rate .*scalar.*\(M,\) = \(2,\)"):
        gls_loss(torch.zeros(2, 10, 10), labels, torch.zeros(3))


# --------------------------------------------------------------------------- equality with torch on [0, 1]
@pytest.mark.parametrize("r", [0.0, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_equals_torch_label_smoothing_values_and_gradients(r, reduction):
    logits, labels = batch()
    ours = gls_loss(logits, labels, r, reduction)
    ref = F.cross_entropy(logits, labels, label_smoothing=r, reduction=reduction)
    torch.testing.assert_close(ours, ref, **TOL)

    def total(fn):
        return lambda z: fn(z).sum()

    g_ours = grad(total(lambda z: gls_loss(z, labels, r, reduction)), logits)
    g_ref = grad(total(lambda z: F.cross_entropy(z, labels, label_smoothing=r, reduction=reduction)), logits)
    torch.testing.assert_close(g_ours, g_ref, **TOL)


def test_glsloss_module_matches_cross_entropy_loss():
    logits, labels = batch()
    torch.testing.assert_close(GLSLoss(0.1)(logits, labels), torch.nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels), **TOL)
    assert "smooth_rate=-2.0" in repr(GLSLoss(-2.0))


# --------------------------------------------------------------------------- soft-target CE for every r <= 1
@pytest.mark.parametrize("r", CANDIDATES + [-8.0, -50.0])
def test_equals_soft_target_ce_values_and_gradients(r):
    logits, labels = batch(k=7, seed=3)
    targets = gls_targets(labels, 7, r)
    torch.testing.assert_close(gls_loss(logits, labels, r, "none"), soft_ce(logits, targets, "none"), **TOL)
    g_ours = grad(lambda z: gls_loss(z, labels, r), logits)
    g_ref = grad(lambda z: soft_ce(z, targets), logits)
    torch.testing.assert_close(g_ours, g_ref, **TOL)


def test_gradient_is_softmax_minus_target():
    """d GLS / dz = softmax(z) - y^{GLS,r}: NLS pushes the label's logit up *past* probability 1."""
    logits, labels = batch(n=5, k=4)
    for r in (0.4, -2.0):
        g = grad(lambda z: gls_loss(z, labels, r, "sum"), logits)
        torch.testing.assert_close(g, torch.softmax(logits, -1) - gls_targets(labels, 4, r), **TOL)


@given(
    r=st.floats(-8.0, 1.0),
    k=st.integers(2, 12),
    n=st.integers(1, 16),
    scale=st.floats(0.0, 30.0),
    seed=st.integers(0, 10_000),
)
@FAST
def test_property_soft_target_identity(r, k, n, scale, seed):
    logits, labels = batch(n=n, k=k, seed=seed, scale=scale)
    ours = gls_loss(logits, labels, r, "none")
    ref = soft_ce(logits, gls_targets(labels, k, r), "none")
    torch.testing.assert_close(ours, ref, rtol=0, atol=1e-10 * (1 + scale))


@given(r=st.floats(0.0, 1.0), k=st.integers(2, 12), seed=st.integers(0, 10_000))
@FAST
def test_property_equals_torch_on_unit_interval(r, k, seed):
    logits, labels = batch(n=8, k=k, seed=seed)
    torch.testing.assert_close(gls_loss(logits, labels, r), F.cross_entropy(logits, labels, label_smoothing=r), **TOL)


@given(r=st.floats(-10.0, 1.0), seed=st.integers(0, 10_000))
@FAST
def test_property_linear_in_r(r, seed):
    """GLS_r = (1 - r) * CE + r * CE(uniform): linear in r, so GLS_r = (1 - r) GLS_0 + r GLS_1."""
    logits, labels = batch(n=8, k=5, seed=seed)
    ce, uni = gls_loss(logits, labels, 0.0, "none"), gls_loss(logits, labels, 1.0, "none")
    torch.testing.assert_close(gls_loss(logits, labels, r, "none"), (1 - r) * ce + r * uni, rtol=0, atol=1e-10 * (1 + abs(r)))


# --------------------------------------------------------------------------- stacked models
def test_stacked_models_with_one_rate_each():
    rates = torch.tensor([0.4, 0.0, -2.0], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 20, 6, generator=g, dtype=torch.float64)
    shared = torch.randint(0, 6, (20,), generator=g)
    per_model = torch.randint(0, 6, (3, 20), generator=g)
    for labels in (shared, per_model):
        out = gls_loss(logits, labels, rates, "none")
        assert out.shape == (3, 20)
        for m, r in enumerate(rates.tolist()):
            y = labels if labels.dim() == 1 else labels[m]
            torch.testing.assert_close(out[m], gls_loss(logits[m], y, r, "none"), **TOL)
        assert gls_loss(logits, labels, rates).shape == (3,)
        assert gls_loss(logits, labels, -1.0, "sum").shape == (3,)


def test_float32_logits_keep_dtype():
    logits, labels = batch()
    out = gls_loss(logits.detach().float(), labels, -2.0)
    assert out.dtype == torch.float32


def test_smooth_rate_as_zero_dim_tensor():
    logits, labels = batch()
    torch.testing.assert_close(gls_loss(logits, labels, torch.tensor(-2.0)), gls_loss(logits, labels, -2.0), **TOL)


def test_labels_as_numpy_are_accepted():
    logits, labels = batch()
    torch.testing.assert_close(gls_loss(logits, labels.numpy(), 0.2), gls_loss(logits, labels, 0.2), **TOL)


# --------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("r", [1.01, 2.0, float("inf"), float("-inf"), float("nan")])
def test_smooth_rate_above_one_or_not_finite(r):
    logits, labels = batch()
    message = r"smooth_rate must be a finite number <= 1 .*r < 0 is negative label smoothing \(NLS\)"
    with pytest.raises(ValueError, match=message):
        gls_loss(logits, labels, r)
    with pytest.raises(ValueError, match=message):
        GLSLoss(r)
    with pytest.raises(ValueError, match=message):
        gls_targets(labels, 10, r)


def test_smooth_rate_tensor_with_a_bad_entry():
    logits = torch.zeros(2, 4, 3)
    with pytest.raises(ValueError, match="smooth_rate must be a finite number <= 1"):
        gls_loss(logits, torch.zeros(4, dtype=torch.long), torch.tensor([0.0, 1.5]))


def test_one_rate_per_model_needs_stacked_logits():
    logits, labels = batch()
    with pytest.raises(ValueError, match=r"smooth_rate must be a scalar .*for stacked logits of shape \(M, N, K\), one rate per model"):
        gls_loss(logits, labels, torch.tensor([0.1, 0.2]))


def test_bad_reduction():
    logits, labels = batch()
    with pytest.raises(ValueError, match=r"reduction must be one of \('none', 'mean', 'sum'\)"):
        gls_loss(logits, labels, 0.1, "avg")


def test_labels_outside_range():
    logits, labels = batch(k=10)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, num_classes\) = \[0, 10\)"):
        gls_loss(logits, labels + 5, 0.1)


def test_labels_wrong_shape():
    logits, labels = batch()
    with pytest.raises(ValueError, match=r"labels of shape \(31,\) do not match logits of shape \(32, 10\)"):
        gls_loss(logits, labels[:-1], 0.1)


def test_labels_float():
    logits, labels = batch()
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        gls_loss(logits, labels.double(), 0.1)


def test_logits_wrong_rank_or_type():
    with pytest.raises(ValueError, match=r"logits must have shape \(N, K\) or \(M, N, K\)"):
        gls_loss(torch.zeros(5), torch.zeros(5, dtype=torch.long), 0.1)
    with pytest.raises(TypeError, match="logits must be a torch tensor"):
        gls_loss(np.zeros((2, 3)), torch.zeros(2, dtype=torch.long), 0.1)
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        gls_loss(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, dtype=torch.long), 0.1)


def test_gls_targets_bad_num_classes():
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        gls_targets([0], 1, 0.1)


def test_divergence_is_two_sided_on_the_loss_magnitude():
    """Lesson 03 says a model is stopped when |loss| passes DIVERGENCE_LOSS * (1 + |r|), downwards
    (NLS running to -inf) or upwards (a too-large learning rate): both directions, the same bound."""
    r = torch.tensor([-2.0, -2.0, -2.0, -2.0, 0.4])
    bound = losses.DIVERGENCE_LOSS * (1 + r.abs())
    loss = torch.stack([-1.01 * bound[0], 1.01 * bound[1], -0.99 * bound[2], torch.tensor(float("nan")),
                        1.01 * bound[4]])
    assert losses.diverging(loss, r).tolist() == [True, True, False, True, True]
