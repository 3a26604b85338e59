"""Generalized label smoothing (GLS): label smoothing for any smooth rate r <= 1.

Used in lessons 02 (``02_label_smoothing``) and 03 (``03_negative_label_smoothing``), and
by the sweep engine, which trains M models with M smooth rates in one call.

The GLS target of a label y among K classes is ``(1 - r) * onehot(y) + r / K``.
Because cross-entropy is linear in its target, the loss splits into

    GLS_r(z, y) = (1 - r) * CE(z, y) + r * CE(uniform, softmax(z)),

with ``CE(uniform, p) = -(1/K) * sum_k log p_k``. r = 0 is plain cross-entropy,
0 < r <= 1 is ordinary label smoothing (LS), r < 0 is negative label smoothing (NLS).
"""
from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .checks import check_num_classes, is_bool, reject_bool_items

_REDUCTIONS = ("none", "mean", "sum")


def check_smooth_rate(smooth_rate, name: str = "smooth_rate") -> None:
    """Raise ``ValueError`` unless every smooth rate is finite and <= 1.

    Accepts a number, a 0-d or 1-d tensor/array or a sequence of numbers; anything else
    (strings, None, booleans, complex numbers) raises ``TypeError``. O(number of rates).
    """
    if isinstance(smooth_rate, Tensor):
        if smooth_rate.dtype == torch.bool or smooth_rate.dtype.is_complex:
            raise TypeError(f"{name} must hold real numbers, got a tensor of dtype {smooth_rate.dtype}")
        values = smooth_rate.detach().double().flatten().tolist()
    elif isinstance(smooth_rate, Real) and not is_bool(smooth_rate):
        values = [float(smooth_rate)]
    else:
        values = None
        if not isinstance(smooth_rate, (str, bytes)) and not is_bool(smooth_rate) and smooth_rate is not None:
            reject_bool_items(smooth_rate, name)
            try:
                arr = np.asarray(smooth_rate)
                if arr.dtype.kind in "iuf":
                    values = arr.astype(np.float64).ravel().tolist()
            except (TypeError, ValueError):
                pass
        if values is None:
            raise TypeError(f"{name} must be a number or a sequence/tensor of numbers (each finite "
                            f"and <= 1), got {type(smooth_rate).__name__} {str(smooth_rate)[:40]!r}")
    for v in values:
        if not math.isfinite(v) or v > 1:
            raise ValueError(
                f"{name} must be a finite number <= 1 (r in [0, 1] is label smoothing, "
                f"r < 0 is negative label smoothing (NLS), r = 0 is plain cross-entropy); got {v}"
            )


def _as_labels(labels, device=None, name: str = "labels") -> Tensor:
    """``labels`` as a tensor (tensors pass through untouched); ``TypeError`` naming ``name``
    for what cannot be class indices (strings, None, objects, lists holding booleans)."""
    if isinstance(labels, Tensor):
        return labels
    if labels is None or isinstance(labels, (str, bytes)):
        raise TypeError(f"{name} must be integer class indices (a tensor, array or list), got {labels!r}")
    reject_bool_items(labels, name)
    try:
        return torch.as_tensor(labels, device=device)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be integer class indices (a tensor, array or list), "
                        f"got {type(labels).__name__}") from None


def _check_labels(labels: Tensor, num_classes: int, name: str = "labels") -> None:
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor of class indices, got dtype {labels.dtype}")
    if labels.numel():
        lo, hi = (int(v) for v in torch.stack(torch.aminmax(labels)).tolist())   # one device sync
        if lo < 0 or hi >= num_classes:
            raise ValueError(f"{name} must lie in [0, num_classes) = [0, {num_classes}); "
                             f"got values from {lo} to {hi}")


def _check_logits(logits) -> Tensor:
    if not isinstance(logits, Tensor):
        raise TypeError(f"logits must be a torch tensor, got {type(logits).__name__}")
    if not logits.dtype.is_floating_point:
        raise TypeError(f"logits must be a floating-point tensor, got dtype {logits.dtype}")
    if logits.dim() not in (2, 3) or logits.shape[-1] < 2:
        raise ValueError(f"logits must have shape (N, K) or (M, N, K) with K >= 2, got {tuple(logits.shape)}")
    return logits


def gls_targets(labels, num_classes: int, smooth_rate) -> Tensor:
    """Soft GLS targets ``(1 - r) * onehot(labels) + r / K``.

    Args:
        labels: integer class indices, shape (N,) (numpy, torch or a list).
        num_classes: K, an integer in [2, 10,000].
        smooth_rate: r <= 1: a number (one rate for every sample), or one rate per
            sample, shape (N,) or (N, 1) (a tensor, array or list). A (N,) rate is always
            read along the sample axis, also when N == K.

    Returns:
        float64 tensor of shape (N, K) whose rows sum to 1. For r < 0 the true class
        gets ``1 - r + r/K > 1`` and every other class ``r/K < 0``.

    Used in lessons 02 (label smoothing) and 03 (negative label smoothing).
    """
    num_classes = check_num_classes(num_classes)
    check_smooth_rate(smooth_rate)
    labels = _as_labels(labels)
    if labels.dim() != 1:
        raise ValueError(f"labels must have shape (N,), got {tuple(labels.shape)}")
    _check_labels(labels, num_classes)
    r = torch.as_tensor(np.asarray(smooth_rate) if not isinstance(smooth_rate, Tensor) else smooth_rate,
                        dtype=torch.float64, device=labels.device)
    n = labels.shape[0]
    if r.dim() == 0:
        pass
    elif r.shape in ((n,), (n, 1)):
        r = r.reshape(n, 1)                          # one rate per row (sample), never per class
    else:
        raise ValueError(f"smooth_rate must be a scalar (one rate for all samples) or one rate per "
                         f"sample of shape (N,) = ({n},) or (N, 1); got shape {tuple(r.shape)}")
    onehot = F.one_hot(labels.long(), num_classes).double()
    return (1 - r) * onehot + r / num_classes


def gls_loss(logits: Tensor, labels: Tensor, smooth_rate, reduction: str = "mean") -> Tensor:
    """GLS loss ``(1 - r) * CE(logits, y) + r * CE(uniform)``, stable via log-softmax.

    Args:
        logits: (N, K), or (M, N, K) for M stacked models.
        labels: (N,) integer classes, or (M, N) (one label vector per model).
        smooth_rate: a number or a 0-d tensor (one rate for all), or, with (M, N, K)
            logits, an (M,) tensor/sequence with one rate per model (broadcast against the
            leading model axis). Per-sample rates are not accepted here (see
            :func:`gls_targets`).
        reduction: "none" (shape (N,) or (M, N)), "mean" or "sum" over the samples
            (shape () or (M,)).

    Returns:
        a tensor in the dtype of ``logits``, differentiable with respect to the logits.

    Equals ``F.cross_entropy(logits, labels, label_smoothing=r)`` for r in [0, 1] and the
    soft-target cross-entropy with :func:`gls_targets` for every r <= 1. For r < 0 the
    loss is unbounded below (see ``theory``): a model that memorises can drive it to
    minus infinity.

    The checks run once per call: O(M) for the rates, plus one device sync each for the
    rates and for the label range.

    Used in lessons 02 (label smoothing) and 03 (negative label smoothing), and by the sweep.
    """
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    check_smooth_rate(smooth_rate)
    logits = _check_logits(logits)
    labels = _as_labels(labels, device=logits.device)
    if labels.shape != logits.shape[:-1] and not (logits.dim() == 3 and labels.shape == logits.shape[1:2]):
        raise ValueError(f"labels of shape {tuple(labels.shape)} do not match logits of shape "
                         f"{tuple(logits.shape)}: expected {tuple(logits.shape[:-1])}")
    if labels.device != logits.device:
        raise ValueError(f"labels are on {labels.device} but logits on {logits.device}; move them together")
    _check_labels(labels, logits.shape[-1])
    r = torch.as_tensor(smooth_rate, dtype=logits.dtype, device=logits.device)
    if r.dim() == 1 and logits.dim() == 3 and r.shape[0] == logits.shape[0]:
        r = r[:, None]
    elif r.dim() != 0:
        allowed = (f"or one rate per model of shape (M,) = ({logits.shape[0]},)" if logits.dim() == 3 else
                   "or, for stacked logits of shape (M, N, K), one rate per model of shape (M,)")
        raise ValueError(f"smooth_rate must be a scalar (one rate for all) {allowed}; got shape "
                         f"{tuple(r.shape)} for logits of shape {tuple(logits.shape)} "
                         f"(per-sample rates: see gls_targets)")
    logp = F.log_softmax(logits, dim=-1)
    if labels.shape != logp.shape[:-1]:
        labels = labels.expand(logp.shape[:-1])
    nll = -logp.gather(-1, labels.long().unsqueeze(-1)).squeeze(-1)   # (..., N)
    uniform_ce = -logp.mean(dim=-1)                                    # (..., N)
    loss = (1 - r) * nll + r * uniform_ce
    if reduction == "mean":
        return loss.mean(dim=-1)
    if reduction == "sum":
        return loss.sum(dim=-1)
    return loss


class GLSLoss(nn.Module):
    """``nn.Module`` form of :func:`gls_loss`, used like ``nn.CrossEntropyLoss``.

    Used in lessons 02 (label smoothing) and 03 (negative label smoothing).

    >>> criterion = GLSLoss(smooth_rate=-2.0)   # negative label smoothing
    >>> loss = criterion(model(x), y)
    """

    def __init__(self, smooth_rate=0.0, reduction: str = "mean"):
        super().__init__()
        check_smooth_rate(smooth_rate)
        if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.smooth_rate = smooth_rate
        self.reduction = reduction

    def forward(self, logits: Tensor, labels: Tensor) -> Tensor:
        return gls_loss(logits, labels, self.smooth_rate, self.reduction)

    def extra_repr(self) -> str:
        return f"smooth_rate={self.smooth_rate}, reduction={self.reduction!r}"


DIVERGENCE_LOSS = 1e4
"""Scale of the divergence test, see :func:`diverging`."""


def diverging(loss, smooth_rate) -> Tensor:
    """Where a training loss shows divergence: the one definition of the whole library.

    Lessons 03-05; used by :mod:`nls_lessons.train` (``fit``, ``sweep``) and by the paper-scale
    runs. A mean GLS loss (of one mini-batch or one epoch) has diverged when it is not finite,
    or when its magnitude exceeds ``DIVERGENCE_LOSS * (1 + |r|)``. A healthy GLS loss stays
    within a few times ``(1 + |r|) * log K``; past the bound the logit margins are in the
    thousands, the softmax is saturated and nothing more is learned. NLS (r < 0) runs away
    downwards (towards -inf), a too-large learning rate upwards; both are caught.

    Args:
        loss: tensor of shape (M,) (one loss per model) or a scalar.
        smooth_rate: the models' smooth rates, a float or a tensor broadcastable to ``loss``.
    Returns:
        bool tensor of ``loss``'s shape, True where the model diverged.

    A model is reported as ``diverged=True`` with ``diverged_epoch`` = the 1-based epoch of its
    first diverging step; a model that never diverged has ``diverged_epoch`` missing
    (``pandas.NA`` in a results table, ``None`` on a single fit).
    """
    loss = torch.as_tensor(loss)
    rate = torch.as_tensor(smooth_rate, dtype=loss.dtype if loss.is_floating_point() else torch.float64,
                           device=loss.device)
    bound = DIVERGENCE_LOSS * (1 + rate.abs())
    return ~torch.isfinite(loss) | (loss.abs() > bound)
