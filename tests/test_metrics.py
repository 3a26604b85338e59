"""nls_lessons.metrics: accuracy, confidence, model confidence, ECE and reliability bins."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nls_lessons import metrics

FAST = settings(max_examples=25, deadline=None)


def stack(m=3, n=200, k=5, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(m, n, k, generator=g, dtype=torch.float64)
    labels = torch.randint(0, k, (n,), generator=g)
    return logits, labels


def ece_loop(probs: np.ndarray, labels: np.ndarray, n_bins: int) -> float:
    """A plain reference ECE: bins (lo, hi], bin 0 includes 0."""
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = edges[b], edges[b + 1]
        inside = (conf > lo) & (conf <= hi) if b else (conf <= hi)
        if inside.any():
            total += inside.mean() * abs((pred[inside] == labels[inside]).mean() - conf[inside].mean())
    return total


# --------------------------------------------------------------------------- accuracy
def test_accuracy_single_and_stacked():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0], [1.0, 0.0]])
    labels = torch.tensor([0, 1, 1, 1])
    assert metrics.accuracy(logits, labels) == 0.5
    assert isinstance(metrics.accuracy(logits, labels), float)
    stacked = torch.stack([logits, -logits])
    torch.testing.assert_close(metrics.accuracy(stacked, labels), torch.tensor([0.5, 0.5], dtype=torch.float64))
    per_model_labels = torch.stack([labels, 1 - labels])
    torch.testing.assert_close(metrics.accuracy(stacked, per_model_labels), torch.tensor([0.5, 0.5], dtype=torch.float64))


def test_accuracy_accepts_numpy():
    assert metrics.accuracy(np.array([[0.0, 1.0]]), np.array([1])) == 1.0


# --------------------------------------------------------------------------- confidence and MC
def test_confidence_is_max_softmax():
    logits, _ = stack(m=2, n=50)
    conf = metrics.confidence(logits)
    assert conf.shape == (2, 50) and conf.dtype == torch.float64
    torch.testing.assert_close(conf, torch.softmax(logits, -1).max(-1).values)
    assert (conf >= 1 / 5 - 1e-12).all() and (conf <= 1).all()


def test_model_confidence_examples():
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]], dtype=torch.float64)
    labels = torch.tensor([0, 0, 1])
    mc = metrics.model_confidence(p.log(), labels)
    torch.testing.assert_close(mc, torch.tensor([0.5, -0.5, -0.1], dtype=torch.float64))


def test_model_confidence_binary_is_paper_definition():
    logits, labels = stack(m=1, n=100, k=2)
    p = torch.softmax(logits[0], -1)
    expected = p.gather(1, labels[:, None]).squeeze(1) - p.gather(1, (1 - labels)[:, None]).squeeze(1)
    torch.testing.assert_close(metrics.model_confidence(logits[0], labels), expected)


@given(m=st.integers(1, 3), n=st.integers(1, 40), k=st.integers(2, 8), seed=st.integers(0, 10_000), scale=st.floats(0.0, 20.0))
@FAST
def test_property_model_confidence(m, n, k, seed, scale):
    """MC in [-1, 1]; MC > 0 implies the label is predicted; MC < 0 implies it is not."""
    logits, _ = stack(m=m, n=n, k=k, seed=seed, scale=scale)
    labels = torch.randint(0, k, (m, n), generator=torch.Generator().manual_seed(seed))
    mc = metrics.model_confidence(logits, labels)
    assert mc.shape == (m, n)
    assert (mc >= -1).all() and (mc <= 1).all()
    predicted = logits.argmax(-1) == labels
    assert predicted[mc > 0].all() and not predicted[mc < 0].any()


# --------------------------------------------------------------------------- ECE and reliability bins
@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
def test_ece_matches_plain_loop(n_bins):
    logits, labels = stack(m=3, n=500)
    ece = metrics.expected_calibration_error(logits, labels, n_bins)
    assert ece.shape == (3,)
    for m in range(3):
        ref = ece_loop(torch.softmax(logits[m], -1).numpy(), labels.numpy(), n_bins)
        assert ece[m].item() == pytest.approx(ref, abs=1e-12)
        assert metrics.expected_calibration_error(logits[m], labels, n_bins) == pytest.approx(ref, abs=1e-12)


def test_ece_zero_when_calibrated_and_large_when_overconfident():
    # 10 samples all with confidence 0.8, 8 of them right: perfectly calibrated
    logit = math.log(0.8 / 0.2)
    logits = torch.tensor([[logit, 0.0]] * 10, dtype=torch.float64)
    labels = torch.tensor([0] * 8 + [1] * 2)
    assert metrics.expected_calibration_error(logits, labels) == pytest.approx(0.0, abs=1e-12)
    # confidence ~1, half right: ECE ~ 0.5
    wrong = torch.tensor([[50.0, 0.0]] * 10, dtype=torch.float64)
    assert metrics.expected_calibration_error(wrong, torch.tensor([0, 1] * 5)) == pytest.approx(0.5, abs=1e-9)


def test_reliability_bins_table():
    logits, labels = stack(m=1, n=400)
    bins = metrics.reliability_bins(logits[0], labels, n_bins=10)
    assert bins.edges.shape == (11,) and bins.count.shape == (10,)
    assert bins.count.sum().item() == 400
    torch.testing.assert_close(bins.edges, torch.linspace(0, 1, 11, dtype=torch.float64))
    full = bins.count > 0
    assert bins.confidence[~full].isnan().all() and bins.accuracy[~full].isnan().all()
    lo, hi = bins.edges[:-1][full], bins.edges[1:][full]
    assert ((bins.confidence[full] > lo) & (bins.confidence[full] <= hi)).all()
    assert bins.ece == pytest.approx(metrics.expected_calibration_error(logits[0], labels, 10))
    frame = bins.to_frame()
    assert list(frame.columns) == ["bin", "lower", "upper", "count", "confidence", "accuracy", "gap"]
    assert len(frame) == 10 and frame["count"].sum() == 400


def test_reliability_bins_stacked_frame():
    logits, labels = stack(m=3, n=100)
    bins = metrics.reliability_bins(logits, labels, n_bins=4)
    assert bins.count.shape == (3, 4) and (bins.count.sum(-1) == 100).all()
    frame = bins.to_frame()
    assert len(frame) == 12 and set(frame["model"]) == {0, 1, 2}


def test_bin_edges_are_right_closed():
    """Confidence exactly 0.6 with 5 bins lies in (0.4, 0.6], bin 2."""
    logits = torch.tensor([[math.log(0.6), math.log(0.4)]], dtype=torch.float64)
    conf = metrics.confidence(logits).item()
    bins = metrics.reliability_bins(logits, torch.tensor([0]), n_bins=5)
    expected_bin = 2 if conf <= 0.6 else 3                       # round-off decides, not an off-by-one
    assert bins.count.tolist() == [1 if b == expected_bin else 0 for b in range(5)]


def test_diverged_model_gives_nan_only_for_itself():
    logits, labels = stack(m=3, n=100)
    logits[1, 7] = float("nan")
    ece = metrics.expected_calibration_error(logits, labels)
    assert ece[1].isnan() and not ece[0].isnan() and not ece[2].isnan()


def test_summary():
    logits, labels = stack(m=2, n=100)
    out = metrics.summary(logits, labels)
    assert set(out) == {"accuracy", "confidence", "model_confidence", "ece"}
    assert all(v.shape == (2,) for v in out.values())
    single = metrics.summary(logits[0], labels)
    assert all(isinstance(v, float) for v in single.values())
    assert single["confidence"] == pytest.approx(metrics.confidence(logits[0]).mean().item())


def test_metrics_do_not_track_gradients():
    logits, labels = stack(m=1, n=10)
    logits.requires_grad_()
    assert not metrics.confidence(logits).requires_grad


# --------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("n_bins", [0, -1, 2.5, True])
def test_bad_n_bins(n_bins):
    logits, labels = stack(m=1, n=10)
    with pytest.raises(ValueError, match=r"n_bins must be an integer >= 1"):
        metrics.expected_calibration_error(logits[0], labels, n_bins)


def test_bad_logits_shape():
    with pytest.raises(ValueError, match=r"logits must have shape \(N, K\) or \(M, N, K\) with K >= 2"):
        metrics.confidence(torch.zeros(5))
    with pytest.raises(ValueError, match=r"logits must have shape"):
        metrics.confidence(torch.zeros(5, 1))


def test_bad_logits_dtype():
    with pytest.raises(TypeError, match="logits must be floating point"):
        metrics.accuracy(torch.zeros(3, 2, dtype=torch.long), torch.zeros(3, dtype=torch.long))


def test_bad_labels():
    logits, labels = stack(m=2, n=10, k=5)
    with pytest.raises(ValueError, match=r"labels of shape \(9,\) do not match logits of shape \(2, 10, 5\)"):
        metrics.accuracy(logits, labels[:9])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, num_classes\) = \[0, 5\)"):
        metrics.model_confidence(logits, labels + 5)
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        metrics.reliability_bins(logits, labels.double())


def test_model_confidence_docstring_says_it_is_the_course_extension():
    doc = " ".join(metrics.model_confidence.__doc__.split())
    assert "course's multi-class extension of the paper's binary Definition 1" in doc
    assert "f(x)_y - f(x)_{1-y}" in doc and "UQQgMRq58O" in doc


@pytest.mark.parametrize("fn", [metrics.accuracy, metrics.expected_calibration_error, metrics.model_confidence,
                                metrics.summary])
def test_empty_inputs_raise_instead_of_nan(fn):
    with pytest.raises(ValueError, match="at least one sample"):
        fn(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))


def test_n_bins_bounded():
    logits, labels = stack(m=1)
    assert metrics.expected_calibration_error(logits[0], labels, metrics.MAX_BINS) >= 0
    with pytest.raises(ValueError, match=r"n_bins must be an integer >= 1 and <= 10000"):
        metrics.expected_calibration_error(logits[0], labels, metrics.MAX_BINS + 1)
