"""Closed forms of the paper's theory, in the course's multi-class form: implicit smoothing by
noise, the optimal smooth rate, backward loss correction.

Numbering: theorem, assumption and figure numbers are those of the ICLR 2022 submission
"Understanding Generalized Label Smoothing when Learning with Noisy Labels" (OpenReview
UQQgMRq58O), which the course follows. The ICML 2022 paper (arXiv 2106.04149) numbers them
differently: its Theorem 3.3 is reported to be the phase-transition result (Theorem 7 here;
unconfirmed), and the course knows no ICML number for the others.

The paper states its theorems for two classes. The multi-class forms below
(``kappa = K * eps / (K - 1)``, ``r_opt`` and the backward-correction rate for any K) are the
course's own derivation; at K = 2 they are the paper's formulas.

Used in lessons 02 (noise is implicit smoothing), 03 (backward correction *is* NLS,
Theorem 2) and 04 (the optimal smooth rate, Theorem 7, and the phase diagram, Figure 2).

Symmetric noise with rate eps among K classes (stay with probability 1 - eps, else a
uniformly chosen other class) turns a clean posterior p into ``(1 - kappa) * p + kappa / K``
with ``kappa = K * eps / (K - 1)``: the noisy labels are already smoothed with rate kappa.
If the best smooth rate on clean data is r* (Assumption 1), the rate that recovers the
clean optimum from noisy labels is

    r_opt = (r* - kappa) / (1 - kappa)          (binary: (r* - 2e) / (1 - 2e), Theorem 7)

which is negative (NLS) exactly when eps > (K - 1) * r* / K. With r* = 0 this is the
rate of backward loss correction, ``-kappa / (1 - kappa)`` (binary: ``2e / (2e - 1)``,
Theorem 2).

Scalar inputs give Python floats; array inputs give float64 numpy arrays.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .losses import _as_labels, _check_labels, _check_logits
from .checks import check_num_classes, check_number, is_bool, reject_bool_items, row_sum_tolerance
from .noise import check_transition_matrix

_REDUCTIONS = ("none", "mean", "sum")

MAX_GRID = 10_000_000
"""Largest number of cells (R * E) of :func:`phase_diagram`'s grid (80 MB of float64)."""


def _numbers(values, name: str) -> np.ndarray:
    """Float64 array of ``values`` (a number, array, tensor or sequence of real numbers);
    ``TypeError`` naming ``name`` for strings, None, booleans, complex or ragged input."""
    kind = None
    if values is not None and not isinstance(values, (str, bytes)) and not is_bool(values):
        reject_bool_items(values, name)
        if isinstance(values, Tensor):
            values = values.detach().cpu()
            values = values.double().numpy() if values.dtype.is_floating_point else values.numpy()
        try:
            arr = np.asarray(values)
            kind = arr.dtype.kind
        except (TypeError, ValueError):
            pass
    if kind is None or kind not in "iuf":
        raise TypeError(f"{name} must be a number or an array of real numbers, got {type(values).__name__} "
                        f"{str(values)[:40]!r}")
    return arr.astype(np.float64)


def _rates(values, name: str, low: float, high: float, high_open: bool = True) -> tuple[np.ndarray, bool]:
    """Float64 array of ``values`` (and whether the input was a scalar); ValueError if outside the range."""
    arr = _numbers(values, name)
    upper_ok = arr < high if high_open else arr <= high
    if not np.all(np.isfinite(arr) & (arr >= low) & upper_ok):
        bad = arr[~(np.isfinite(arr) & (arr >= low) & upper_ok)].flat[0]
        bracket = ")" if high_open else "]"
        low_text = "-inf" if low == -math.inf else f"{low:g}"
        raise ValueError(f"{name} must lie in [{low_text}, {high:g}{bracket} and be finite, got {bad}")
    return arr, arr.ndim == 0


def _broadcast(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    """``ValueError`` naming both arguments when their shapes do not broadcast."""
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{a_name} (shape {a.shape}) and {b_name} (shape {b.shape}) do not broadcast; give one "
                         f"of them as a single number, or both with one shape") from None


def _out(arr: np.ndarray, scalar: bool):
    return float(arr) if scalar else arr


def kappa(noise_rate, num_classes: int):
    """The implicit smooth rate of symmetric noise: ``kappa = K * eps / (K - 1)``.

    Args:
        noise_rate: eps in [0, 1), a float or an array of rates.
        num_classes: K >= 2.

    Returns:
        kappa, a float (or an array shaped like ``noise_rate``). kappa < 1 while
        eps < (K - 1) / K; at kappa = 1 the noisy labels are uniform (no information).

    Used in lessons 02 (label smoothing) and 04 (high-noise regimes).
    """
    k = check_num_classes(num_classes)
    eps, scalar = _rates(noise_rate, "noise_rate", 0.0, 1.0)
    return _out(k * eps / (k - 1), scalar)


def _kappa_below_one(noise_rate, num_classes: int) -> tuple[np.ndarray, bool]:
    k = check_num_classes(num_classes)
    eps, scalar = _rates(noise_rate, "noise_rate", 0.0, 1.0)
    limit = (k - 1) / k
    if np.any(eps >= limit):
        bad = eps[eps >= limit].flat[0]
        raise ValueError(
            f"noise_rate must lie in [0, (K-1)/K) = [0, {limit:.4g}) for K = {k} so that "
            f"kappa = K*eps/(K-1) < 1; got {bad} (at kappa >= 1 the noisy labels carry no "
            f"information about the clean class, and no smooth rate can undo that)")
    return k * eps / (k - 1), scalar


def optimal_smooth_rate(noise_rate, num_classes: int, clean_optimal_rate=0.0):
    """The smooth rate that recovers the clean optimum from symmetric noisy labels.

    ``r_opt = (r* - kappa) / (1 - kappa)`` with ``kappa = K * eps / (K - 1)`` (the course's
    multi-class form); for K = 2 this is the paper's ``(r* - 2e) / (1 - 2e)`` (Theorem 7 of
    the ICLR 2022 submission; reportedly Theorem 3.3 of the ICML paper, unconfirmed).

    Args:
        noise_rate: eps in [0, (K - 1) / K) (so that kappa < 1); a float or an array.
        num_classes: K >= 2.
        clean_optimal_rate: r* <= 1, the best smooth rate on clean data (Assumption 1 of
            the ICLR submission);
            a float or an array broadcastable against ``noise_rate``.

    Returns:
        r_opt, a float (or an array of the broadcast shape). r_opt < 0 (use NLS) exactly
        when eps > (K - 1) * r* / K, see :func:`nls_threshold`.

    Used in lesson 04 (high-noise regimes).
    """
    kap, scalar_eps = _kappa_below_one(noise_rate, num_classes)
    r_star, scalar_r = _rates(clean_optimal_rate, "clean_optimal_rate", -math.inf, 1.0, high_open=False)
    try:
        np.broadcast_shapes(kap.shape, r_star.shape)
    except ValueError:
        raise ValueError(f"noise_rate (shape {kap.shape}) and clean_optimal_rate (shape {r_star.shape}) must "
                         f"broadcast against each other: give one of them as a number, both of the same "
                         f"shape, or use phase_diagram for a grid") from None
    return _out((r_star - kap) / (1.0 - kap), scalar_eps and scalar_r)


def backward_correction_rate(noise_rate, num_classes: int):
    """The smooth rate at which GLS *is* backward loss correction under symmetric noise.

    ``r_LC = -kappa / (1 - kappa)`` (the course's multi-class form); K = 10: eps = 0.2 ->
    -0.286, 0.4 -> -0.8, 0.6 -> -2, 0.8 -> -8. Binary: ``2e / (2e - 1)``, the paper's rate
    at which backward and forward correction under symmetric noise *are* NLS (Theorem 2 of
    the ICLR 2022 submission). The same value as :func:`optimal_smooth_rate` with r* = 0.
    See :func:`backward_corrected_loss`.

    Args:
        noise_rate: eps in [0, (K - 1) / K); a float or an array.
        num_classes: K >= 2.

    Used in lesson 03 (negative label smoothing).
    """
    kap, scalar = _kappa_below_one(noise_rate, num_classes)
    return _out(-kap / (1.0 - kap), scalar)


def nls_threshold(clean_optimal_rate, num_classes: int):
    """The noise rate above which NLS is optimal: ``eps* = (K - 1) * r* / K`` (binary: r*/2,
    Theorem 7 of the ICLR 2022 submission; the multi-class form is the course's).

    Below it r_opt > 0 (use LS), at it r_opt = 0 (plain CE), above it r_opt < 0 (NLS).
    This is the boundary line of the phase diagram (Figure 2 of the ICLR submission). A negative r*
    gives a negative threshold: NLS at every noise rate.

    Args:
        clean_optimal_rate: r* <= 1; a float or an array.
        num_classes: K >= 2.

    Used in lesson 04 (high-noise regimes).
    """
    k = check_num_classes(num_classes)
    r_star, scalar = _rates(clean_optimal_rate, "clean_optimal_rate", -math.inf, 1.0, high_open=False)
    return _out((k - 1) * r_star / k, scalar)


def smoothing_regime(noise_rate, num_classes: int, clean_optimal_rate=0.0, tol: float = 1e-12) -> str:
    """Which side of the phase diagram a setting lies on: ``"LS"``, ``"CE"`` or ``"NLS"``.

    The sign of :func:`optimal_smooth_rate` (``"CE"`` when ``|r_opt| <= tol``, a finite
    ``tol >= 0``). Scalars only. Used in lesson 04 (high-noise regimes) and its exercises.
    """
    tolerance = check_number(tol, "tol", "a finite number >= 0")
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tol must be a finite number >= 0 (how close to 0 r_opt counts as CE), got {tol}")
    r = optimal_smooth_rate(noise_rate, num_classes, clean_optimal_rate)
    if isinstance(r, np.ndarray):
        raise ValueError("smoothing_regime takes one noise_rate and one clean_optimal_rate (scalars); "
                         "use optimal_smooth_rate or phase_diagram for arrays")
    if abs(r) <= tolerance:
        return "CE"
    return "LS" if r > 0 else "NLS"


def phase_diagram(noise_rates, clean_optimal_rates, num_classes: int) -> np.ndarray:
    """The grid of optimal smooth rates behind the phase diagram (Figure 2 of the ICLR 2022 submission).

    Args:
        noise_rates: E noise rates, each in [0, (K - 1) / K), 1-d.
        clean_optimal_rates: R values of r* <= 1, 1-d.
        num_classes: K >= 2.

    Returns:
        float64 array of shape (R, E): ``grid[i, j] = optimal_smooth_rate(noise_rates[j],
        K, clean_optimal_rates[i])`` (rows are r*, columns are eps, ready for
        ``pcolormesh(noise_rates, clean_optimal_rates, grid)``). Its zero contour is
        :func:`nls_threshold`. At most MAX_GRID (10 million) cells.

    Used in lesson 04 (high-noise regimes).
    """
    eps = np.atleast_1d(_numbers(noise_rates, "noise_rates"))
    r_star = np.atleast_1d(_numbers(clean_optimal_rates, "clean_optimal_rates"))
    if eps.ndim != 1 or r_star.ndim != 1:
        raise ValueError(f"noise_rates and clean_optimal_rates must be 1-d, got shapes {eps.shape} and {r_star.shape}")
    if eps.size * r_star.size > MAX_GRID:
        raise ValueError(f"the phase_diagram grid would have len(clean_optimal_rates) * len(noise_rates) = "
                         f"{r_star.size} * {eps.size} cells; at most {MAX_GRID:,} are allowed: "
                         f"use fewer noise_rates or clean_optimal_rates")
    return optimal_smooth_rate(eps[None, :], num_classes, r_star[:, None])


def noisy_posterior(clean_posterior, noise_rate):
    """The posterior of symmetric noisy labels: ``(1 - kappa) * p + kappa / K``.

    Equals ``p @ transition_matrix("symmetric", K, eps)``: noise acts like label smoothing
    with rate kappa applied to the clean posterior.

    Args:
        clean_posterior: p of shape (..., K), rows are probability vectors (numpy or torch).
        noise_rate: eps in [0, 1).

    Returns:
        the noisy posterior, same shape and type as ``clean_posterior`` (float64 for numpy).

    Used in lesson 02 (label smoothing: noise is implicit smoothing).
    """
    is_tensor = isinstance(clean_posterior, Tensor)
    if is_tensor:
        if not clean_posterior.dtype.is_floating_point:
            raise TypeError(f"clean_posterior must hold probabilities (a floating-point tensor), "
                            f"got dtype {clean_posterior.dtype}")
        p = clean_posterior
    else:
        p = _numbers(clean_posterior, "clean_posterior")
    if p.ndim < 1 or p.shape[-1] < 2:
        raise ValueError(f"clean_posterior must have shape (..., K) with K >= 2, got {tuple(p.shape)}")
    k = check_num_classes(p.shape[-1], "K = clean_posterior.shape[-1]")
    p_np = p.detach().cpu().double().numpy() if is_tensor else p
    tol = row_sum_tolerance(p.dtype)
    if not np.all(np.isfinite(p_np)) or (p_np < 0).any() or not np.allclose(p_np.sum(-1), 1.0, rtol=0, atol=tol):
        raise ValueError("clean_posterior must hold probability vectors along its last axis "
                         "(finite, non-negative, summing to 1)")
    eps, scalar = _rates(noise_rate, "noise_rate", 0.0, 1.0)
    if not scalar:
        raise ValueError(f"noise_rate must be one number in [0, 1) for noisy_posterior, got shape {eps.shape}")
    kap = kappa(float(eps), k)
    return (1.0 - kap) * p + kap / k


def backward_corrected_loss(logits: Tensor, labels: Tensor, T, reduction: str = "mean") -> Tensor:
    """Backward loss correction (Patrini et al. 2017) of cross-entropy.

    With the loss vector ``l(z) = [CE(z, 1), ..., CE(z, K)]`` the corrected loss of a
    noisy label y is ``(T^{-1} l(z))[y]``; its expectation over the noise equals the clean
    loss. Under symmetric T this equals :func:`nls_lessons.losses.gls_loss` at
    r = :func:`backward_correction_rate`, exactly, sample by sample.

    Args:
        logits: (N, K), or (M, N, K) for M stacked models; a floating tensor.
        labels: (N,) noisy labels (or (M, N)), integers in [0, K).
        T: (K, K) invertible transition matrix (numpy or torch), rows summing to 1.
        reduction: "none" (shape (N,) or (M, N)), "mean" or "sum" (shape () or (M,)).

    Returns:
        a tensor in the dtype of ``logits``, differentiable with respect to the logits.

    Used in lesson 03 (negative label smoothing).
    """
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    logits = _check_logits(logits)
    T = check_transition_matrix(T, logits.shape[-1])
    if np.linalg.cond(T) > 1e12:
        raise ValueError("T must be invertible for backward correction (it needs T^{-1}); this T is "
                         "singular, e.g. symmetric noise at eps = (K-1)/K where labels are pure noise")
    labels = _as_labels(labels, device=logits.device)
    if labels.shape != logits.shape[:-1] and not (logits.dim() == 3 and labels.shape == logits.shape[1:2]):
        raise ValueError(f"labels of shape {tuple(labels.shape)} do not match logits of shape "
                         f"{tuple(logits.shape)}: expected {tuple(logits.shape[:-1])}")
    _check_labels(labels, logits.shape[-1])
    T_inv = torch.as_tensor(np.linalg.inv(T), dtype=logits.dtype, device=logits.device)
    losses = -F.log_softmax(logits, dim=-1)                 # (..., N, K): CE against every class
    corrected = losses @ T_inv.T                            # [..., n, y] = sum_j T_inv[y, j] * l_j
    labels = labels.long().expand(logits.shape[:-1])
    loss = corrected.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    if reduction == "mean":
        return loss.mean(dim=-1)
    if reduction == "sum":
        return loss.sum(dim=-1)
    return loss


# ---------------------------------------------------------------- validating on noisy labels (lesson 06)
def noisy_accuracy(clean_accuracy, noise_rate, num_classes: int):
    """Expected accuracy against symmetric-noisy labels of a model with clean accuracy ``acc``.

    A prediction scores on a noisy label when it is right and the label stayed (1 - eps), or
    when it is wrong and the label moved to exactly that wrong class (eps / (K - 1)):

        acc_noisy = (1 - eps) * acc + eps * (1 - acc) / (K - 1)
                  = eps / (K - 1) + (1 - K * eps / (K - 1)) * acc,

    increasing in acc while eps < (K - 1) / K (kappa < 1): so noisy-validation accuracy ranks
    models as clean accuracy does. Assumes the noise is independent of the features given the
    class (symmetric, class-conditional). Lesson 06 (choosing r without clean labels).

    Args:
        clean_accuracy: acc in [0, 1], a float or an array.
        noise_rate: eps in [0, (K - 1) / K).
        num_classes: K >= 2.
    Returns:
        a float (or an array of the broadcast shape) in [0, 1].
    """
    kap, scalar_eps = _kappa_below_one(noise_rate, num_classes)
    acc, scalar_acc = _rates(clean_accuracy, "clean_accuracy", 0.0, 1.0, high_open=False)
    _broadcast(acc, "clean_accuracy", kap, "noise_rate")
    k = check_num_classes(num_classes)
    eps = kap * (k - 1) / k
    return _out(eps / (k - 1) + (1.0 - kap) * acc, scalar_eps and scalar_acc)


def clean_accuracy_estimate(noisy_accuracy, noise_rate, num_classes: int):
    """Invert :func:`noisy_accuracy`: estimate clean accuracy from accuracy on noisy labels.

    ``acc = (acc_noisy - eps / (K - 1)) / (1 - kappa)``, clipped to [0, 1] with a warning (a finite sample can
    land outside). With an *estimated* noise rate this is the T-corrected estimate of lesson 06.

    Args:
        noisy_accuracy: in [0, 1], a float or an array.
        noise_rate: eps in [0, (K - 1) / K).
        num_classes: K >= 2.
    """
    kap, scalar_eps = _kappa_below_one(noise_rate, num_classes)
    acc, scalar_acc = _rates(noisy_accuracy, "noisy_accuracy", 0.0, 1.0, high_open=False)
    _broadcast(acc, "noisy_accuracy", kap, "noise_rate")
    k = check_num_classes(num_classes)
    eps = kap * (k - 1) / k
    raw = (acc - eps / (k - 1)) / (1.0 - kap)
    outside = (raw < -1e-9) | (raw > 1 + 1e-9)
    if np.any(outside):
        from nls_lessons import output

        bad_acc, bad_eps = (float(x[outside].flat[0]) for x in np.broadcast_arrays(acc, eps))
        output.warn(f"noisy_accuracy {bad_acc:.3g} is impossible at noise_rate {bad_eps:.3g} with K = {k} (it gives "
                    f"a clean accuracy outside [0, 1], clipped): the noise rate (an estimate?) or the accuracy "
                    f"(a small sample?) is off")
    return _out(np.clip(raw, 0.0, 1.0), scalar_eps and scalar_acc)
