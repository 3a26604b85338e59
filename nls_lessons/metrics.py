"""What we measure: accuracy, confidence, model confidence (MC) and calibration (ECE).

Used in lessons 02 (label smoothing: calibration, reliability diagrams), 03 (negative label
smoothing: MC histograms as in Figure 3 of the ICLR 2022 submission, OpenReview UQQgMRq58O,
whose numbering the course follows; the ICML 2022 version, arXiv 2106.04149, numbers its
figures differently) and 04, and by the sweep engine.

Every function takes logits of shape (N, K), or (M, N, K) for M stacked models, and
labels of shape (N,) (shared by all models) or (M, N). Pass *clean* labels to measure a
model against the truth. Logits may be torch tensors or numpy arrays; the metrics are
measurements, computed in float64 on detached logits (no gradients).

Return types:

* per-sample metrics (:func:`confidence`, :func:`model_confidence`) are float64 tensors
  of shape (N,) or (M, N);
* per-model summaries (:func:`accuracy`, :func:`expected_calibration_error`,
  :func:`summary`) are Python floats for (N, K) logits and float64 tensors of shape (M,)
  for (M, N, K) logits.

A diverged model (NaN logits) gives NaN confidences and a NaN ECE for that model only.
Empty inputs (no samples, or no models) raise ``ValueError``: a mean over nothing is not
a measurement.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .losses import _as_labels, _check_labels
from .checks import check_integer

MAX_BINS = 10_000
"""Largest ``n_bins`` of :func:`reliability_bins` / :func:`expected_calibration_error`."""


def _logits(logits) -> Tensor:
    if not isinstance(logits, Tensor):
        if logits is None or isinstance(logits, (str, bytes)):
            raise TypeError(f"logits must be a tensor or array of shape (N, K) or (M, N, K), "
                            f"got {type(logits).__name__}")
        try:
            logits = torch.as_tensor(logits)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"logits must be a tensor or array of shape (N, K) or (M, N, K), "
                            f"got {type(logits).__name__}") from None
    if not logits.dtype.is_floating_point:
        raise TypeError(f"logits must be floating point, got dtype {logits.dtype}")
    if logits.dim() not in (2, 3) or logits.shape[-1] < 2:
        raise ValueError(f"logits must have shape (N, K) or (M, N, K) with K >= 2, got {tuple(logits.shape)}")
    if logits.shape[-2] == 0 or (logits.dim() == 3 and logits.shape[0] == 0):
        raise ValueError(f"logits must hold at least one sample (N >= 1) and one model (M >= 1), "
                         f"got shape {tuple(logits.shape)}: accuracy, confidence and calibration "
                         f"of no samples are undefined")
    return logits.detach().double()


def _labels(labels, logits: Tensor) -> Tensor:
    labels = _as_labels(labels).to(logits.device)
    if labels.shape != logits.shape[:-1] and not (logits.dim() == 3 and labels.shape == logits.shape[1:2]):
        raise ValueError(f"labels of shape {tuple(labels.shape)} do not match logits of shape "
                         f"{tuple(logits.shape)}: expected {tuple(logits.shape[:-1])}"
                         + (f" or {tuple(logits.shape[1:2])}" if logits.dim() == 3 else ""))
    _check_labels(labels, logits.shape[-1])
    return labels.long().expand(logits.shape[:-1])


def _per_model(values: Tensor, stacked: bool):
    """Mean over the sample axis: a float for one model, an (M,) tensor for a stack."""
    means = values.double().mean(dim=-1)
    return means if stacked else float(means)


def _check_n_bins(n_bins) -> int:
    return check_integer(n_bins, "n_bins", 1, MAX_BINS, what="the number of equal-width bins on [0, 1]")


def accuracy(logits, labels):
    """Fraction of samples whose arg-max prediction equals the label.

    Args:
        logits: (N, K) or (M, N, K).
        labels: (N,) or (M, N) integer classes.

    Returns:
        a float for (N, K) logits, a float64 tensor of shape (M,) for (M, N, K) logits.

    Used in lessons 02-04 and by the sweep.
    """
    z = _logits(logits)
    y = _labels(labels, z)
    return _per_model((z.argmax(dim=-1) == y).double(), z.dim() == 3)


def confidence(logits) -> Tensor:
    """Max-softmax confidence ``max_k softmax(z)_k`` of every sample.

    This is confidence in whatever class is *predicted*, right or wrong.

    Args:
        logits: (N, K) or (M, N, K).

    Returns:
        float64 tensor of shape (N,) or (M, N), values in [1/K, 1].

    Used in lessons 02 (calibration) and 03 (NLS is confident even when wrong).
    """
    return torch.softmax(_logits(logits), dim=-1).amax(dim=-1)


def model_confidence(logits, labels) -> Tensor:
    """Model confidence ``MC = p_y - max_{k != y} p_k`` of every sample.

    This max form is the course's multi-class extension of the paper's binary Definition 1,
    ``MC = f(x)_y - f(x)_{1-y}`` (Definition 1 of the ICLR 2022 submission, OpenReview
    UQQgMRq58O; the paper's own multi-class definition is not known to the course). For
    K = 2 the two agree.

    MC measures confidence in the *label* y: MC > 0 exactly when the prediction is y
    (up to ties), MC near +1 is a confident right answer, near -1 a confident wrong one.

    Args:
        logits: (N, K) or (M, N, K).
        labels: (N,) or (M, N) integer classes (clean labels to measure against the truth).

    Returns:
        float64 tensor of shape (N,) or (M, N), values in [-1, 1].

    Used in lesson 03 (negative label smoothing: MC histograms, as in the ICLR submission's Figure 3).
    """
    z = _logits(logits)
    y = _labels(labels, z).unsqueeze(-1)
    p = torch.softmax(z, dim=-1)
    p_y = p.gather(-1, y).squeeze(-1)
    p_other = p.scatter(-1, y, -1.0).amax(dim=-1)
    return p_y - p_other


class ReliabilityBins(NamedTuple):
    """The reliability table: equal-width confidence bins and what happens in each.

    Bin b holds the samples with confidence in ``(edges[b], edges[b + 1]]`` (bin 0 also
    includes 0). ``confidence`` and ``accuracy`` are NaN in empty bins.

    Fields (shapes for (N, K) logits; a leading M axis is added for (M, N, K)):
        edges: (n_bins + 1,) float64, from 0 to 1.
        count: (n_bins,) int64, samples per bin.
        confidence: (n_bins,) float64, mean max-softmax confidence in the bin.
        accuracy: (n_bins,) float64, fraction of correct predictions in the bin.
    """

    edges: Tensor
    count: Tensor
    confidence: Tensor
    accuracy: Tensor

    @property
    def ece(self):
        """Expected calibration error ``sum_b (n_b / N) * |accuracy_b - confidence_b|``."""
        gap = (self.accuracy - self.confidence).abs()
        weights = self.count.double()
        # empty bins have NaN gaps and weight 0: they contribute nothing
        terms = torch.where(self.count > 0, weights * gap, torch.zeros_like(gap))
        ece = terms.sum(dim=-1) / weights.sum(dim=-1)
        return ece if ece.dim() else float(ece)

    def to_frame(self):
        """A tidy ``pandas.DataFrame``: one row per (model, bin) with lower, upper, count,
        confidence, accuracy and gap = accuracy - confidence."""
        import pandas as pd

        count = self.count.reshape(-1, self.count.shape[-1])
        conf = self.confidence.reshape(count.shape)
        acc = self.accuracy.reshape(count.shape)
        n_models, n_bins = count.shape
        rows = {
            "model": torch.arange(n_models).repeat_interleave(n_bins).numpy(),
            "bin": torch.arange(n_bins).repeat(n_models).numpy(),
            "lower": self.edges[:-1].repeat(n_models).cpu().numpy(),
            "upper": self.edges[1:].repeat(n_models).cpu().numpy(),
            "count": count.flatten().cpu().numpy(),
            "confidence": conf.flatten().cpu().numpy(),
            "accuracy": acc.flatten().cpu().numpy(),
        }
        frame = pd.DataFrame(rows)
        frame["gap"] = frame["accuracy"] - frame["confidence"]
        return frame if self.count.dim() > 1 else frame.drop(columns="model")


def reliability_bins(logits, labels, n_bins: int = 15) -> ReliabilityBins:
    """Bin samples by max-softmax confidence into ``n_bins`` equal-width bins on [0, 1].

    Args:
        logits: (N, K) or (M, N, K).
        labels: (N,) or (M, N) integer classes.
        n_bins: number of equal-width bins, an integer in [1, MAX_BINS] (10,000; default 15,
            as Guo et al. 2017).

    Returns:
        a :class:`ReliabilityBins` table (``.ece`` and ``.to_frame()`` on it). The
        reliability diagram plots ``accuracy`` against ``confidence`` per bin.

    Used in lesson 02 (label smoothing: reliability diagrams).
    """
    n_bins = _check_n_bins(n_bins)
    z = _logits(logits)
    y = _labels(labels, z)
    stacked = z.dim() == 3
    if not stacked:
        z, y = z.unsqueeze(0), y.unsqueeze(0)
    p = torch.softmax(z, dim=-1)
    conf, pred = p.max(dim=-1)                                   # (M, N)
    correct = (pred == y).double()
    edges = torch.linspace(0.0, 1.0, n_bins + 1, dtype=torch.float64, device=z.device)
    idx = torch.bucketize(conf, edges[1:-1], right=False).clamp_(0, n_bins - 1)
    n_models = z.shape[0]
    flat = (idx + n_bins * torch.arange(n_models, device=z.device)[:, None]).flatten()
    size = n_models * n_bins
    count = torch.bincount(flat, minlength=size)
    sum_conf = torch.zeros(size, dtype=torch.float64, device=z.device).scatter_add_(0, flat, conf.flatten())
    sum_correct = torch.zeros(size, dtype=torch.float64, device=z.device).scatter_add_(0, flat, correct.flatten())
    denom = count.double()
    nan = torch.full_like(denom, float("nan"))
    mean_conf = torch.where(count > 0, sum_conf / denom.clamp(min=1), nan)
    mean_acc = torch.where(count > 0, sum_correct / denom.clamp(min=1), nan)
    shape = (n_models, n_bins) if stacked else (n_bins,)
    return ReliabilityBins(edges, count.reshape(shape), mean_conf.reshape(shape), mean_acc.reshape(shape))


def expected_calibration_error(logits, labels, n_bins: int = 15):
    """Expected calibration error with equal-width bins: ``sum_b (n_b / N) |acc_b - conf_b|``.

    0 means perfectly calibrated: in every bin the accuracy equals the mean confidence.

    Args:
        logits: (N, K) or (M, N, K).
        labels: (N,) or (M, N) integer classes.
        n_bins: number of equal-width bins on [0, 1], an integer in [1, 10,000] (default 15).

    Returns:
        a float in [0, 1] for (N, K) logits, a float64 tensor of shape (M,) for (M, N, K).

    Used in lesson 02 (label smoothing lowers ECE on clean data; NLS raises it).
    """
    return reliability_bins(logits, labels, n_bins).ece


def summary(logits, labels, n_bins: int = 15) -> dict:
    """Accuracy, mean confidence, mean model confidence and ECE in one call.

    Returns:
        dict with keys ``accuracy``, ``confidence`` (mean max-softmax), ``model_confidence``
        (mean MC) and ``ece``; floats for (N, K) logits, (M,) float64 tensors for (M, N, K).

    Used by the sweep engine and lessons 02-04.
    """
    stacked = _logits(logits).dim() == 3
    return {
        "accuracy": accuracy(logits, labels),
        "confidence": _per_model(confidence(logits), stacked),
        "model_confidence": _per_model(model_confidence(logits, labels), stacked),
        "ece": expected_calibration_error(logits, labels, n_bins),
    }
