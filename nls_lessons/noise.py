"""Label noise: transition matrices, injecting noise with a seed, measuring it.

Lesson 01 (label noise).

A transition matrix T has ``T[i, j] = P(noisy label = j | clean label = i)``; each row
sums to 1. The noise rate epsilon is the probability that a label changes.
"""
from __future__ import annotations

import math

import numpy as np
import torch

KINDS = ("symmetric", "pairflip", "asymmetric")

# The official code's pair-flip swaps for CIFAR-10 (airplane<->bird, automobile<->truck,
# cat<->dog, deer<->horse, frog<->ship).
CIFAR10_PAIRS = ((0, 2), (1, 9), (3, 5), (4, 7), (6, 8))
# The classic class-dependent CIFAR-10 mapping (Patrini et al. 2017): truck->automobile,
# bird->airplane, deer->horse, cat<->dog. Other classes keep their label.
CIFAR10_ASYMMETRIC = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}


def check_noise_rate(noise_rate, name: str = "noise_rate") -> float:
    """Return ``noise_rate`` as a float, or raise ``ValueError`` unless it lies in [0, 1)."""
    try:
        value = float(noise_rate)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number in [0, 1), got {noise_rate!r}") from None
    if math.isnan(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must lie in [0, 1) (the fraction of labels that change), got {noise_rate}")
    return value


def check_num_classes(num_classes, name: str = "num_classes") -> int:
    if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"{name} must be an integer >= 2, got {num_classes!r}")
    return int(num_classes)


def pair_partner(num_classes: int) -> np.ndarray:
    """Pair-flip partners: the CIFAR-10 pairs for K = 10; otherwise (0,1), (2,3), ...

    For odd K the last class pairs with class 0's partner scheme cyclically: it swaps
    into class 0 (one-directional). Returns an int array ``partner[i]``.
    """
    if num_classes == 10:
        partner = np.empty(10, dtype=np.int64)
        for a, b in CIFAR10_PAIRS:
            partner[a], partner[b] = b, a
        return partner
    partner = np.arange(num_classes) ^ 1
    if num_classes % 2:
        partner[-1] = 0
    return partner


def asymmetric_target(num_classes: int) -> np.ndarray:
    """Class-dependent (asymmetric) flip targets.

    K = 10: the classic CIFAR-10 mapping (truck->automobile, bird->airplane, deer->horse,
    cat<->dog); other classes never flip. Other K: class i flips to (i + 1) mod K
    (the "next class" scheme used for MNIST-like data), every class with rate epsilon.
    ``target[i] == i`` means class i stays clean.
    """
    if num_classes == 10:
        target = np.arange(10)
        for src, dst in CIFAR10_ASYMMETRIC.items():
            target[src] = dst
        return target
    return (np.arange(num_classes) + 1) % num_classes


def transition_matrix(kind: str, num_classes: int, noise_rate: float) -> np.ndarray:
    """The (K, K) float64 transition matrix of a named noise model.

    Args:
        kind: "symmetric" (stay with prob. 1 - eps, else a uniformly chosen *other* class,
            eps / (K - 1) each, as the official code), "pairflip" (swap with the partner
            class with prob. eps, see :func:`pair_partner`) or "asymmetric" (flip to a
            class-dependent target with prob. eps, see :func:`asymmetric_target`).
        num_classes: K >= 2.
        noise_rate: eps in [0, 1).

    Returns:
        T of shape (K, K), rows summing to 1.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    k = check_num_classes(num_classes)
    eps = check_noise_rate(noise_rate)
    if kind == "symmetric":
        T = np.full((k, k), eps / (k - 1))
        np.fill_diagonal(T, 1.0 - eps)
        return T
    target = pair_partner(k) if kind == "pairflip" else asymmetric_target(k)
    T = np.zeros((k, k))
    rows = np.arange(k)
    T[rows, rows] = 1.0
    flips = target != rows
    T[rows[flips], rows[flips]] = 1.0 - eps
    T[rows[flips], target[flips]] += eps
    return T


def check_transition_matrix(T, num_classes: int | None = None, name: str = "T") -> np.ndarray:
    """Return T as a float64 array, or raise ``ValueError`` if it is not a valid (K, K) matrix."""
    T = np.asarray(T.detach().cpu() if isinstance(T, torch.Tensor) else T, dtype=np.float64)
    if T.ndim != 2 or T.shape[0] != T.shape[1] or T.shape[0] < 2:
        raise ValueError(f"{name} must be a square (K, K) matrix with K >= 2, got shape {T.shape}")
    if num_classes is not None and T.shape[0] != num_classes:
        raise ValueError(f"{name} has shape {T.shape} but num_classes = {num_classes}")
    if not np.all(np.isfinite(T)) or (T < 0).any():
        raise ValueError(f"{name} must have finite, non-negative entries (probabilities)")
    sums = T.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-6):
        bad = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(f"every row of {name} must sum to 1; row {bad} sums to {sums[bad]:.6g}")
    return T


def _labels_numpy(labels, num_classes: int, name: str = "labels") -> np.ndarray:
    arr = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of class indices, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(f"{name} must lie in [0, {num_classes}) (num_classes = {num_classes}); "
                         f"got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.int64, copy=False)


def _like(result: np.ndarray, labels):
    """Return ``result`` with the container type (numpy or torch) and dtype of ``labels``."""
    if isinstance(labels, torch.Tensor):
        return torch.as_tensor(result, dtype=labels.dtype, device=labels.device)
    return result.astype(np.asarray(labels).dtype, copy=False)


def inject(labels, T, seed: int):
    """Draw noisy labels: each label y is replaced by a sample from row ``T[y]``.

    Args:
        labels: clean labels, shape (N,), numpy or torch integers in [0, K).
        T: (K, K) transition matrix (rows sum to 1).
        seed: integer seed; the same seed gives the same noisy labels.

    Returns:
        noisy labels of shape (N,), same type (numpy/torch) and dtype as ``labels``.

    Vectorised inverse-CDF sampling: one uniform number per label.
    """
    T = check_transition_matrix(T)
    clean = _labels_numpy(labels, T.shape[0])
    rng = np.random.default_rng(seed)
    u = rng.random(clean.shape[0])
    cdf = np.cumsum(T, axis=1)
    cdf[:, -1] = 1.0                      # guard against round-off in the last column
    noisy = (u[:, None] >= cdf[clean]).sum(axis=1)
    return _like(noisy, labels)


def empirical_transition(clean, noisy, num_classes: int) -> np.ndarray:
    """The realised transition matrix: row i is the distribution of noisy labels
    among samples whose clean label is i. Shape (K, K); rows of absent classes are 0.
    """
    k = check_num_classes(num_classes)
    c = _labels_numpy(clean, k, "clean")
    n = _labels_numpy(noisy, k, "noisy")
    if c.shape != n.shape:
        raise ValueError(f"clean and noisy must have the same shape, got {c.shape} and {n.shape}")
    counts = np.bincount(c * k + n, minlength=k * k).reshape(k, k).astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def noise_rate_of(clean, noisy) -> float:
    """Fraction of labels that differ between ``clean`` and ``noisy``."""
    c = np.asarray(clean.cpu() if isinstance(clean, torch.Tensor) else clean)
    n = np.asarray(noisy.cpu() if isinstance(noisy, torch.Tensor) else noisy)
    if c.shape != n.shape:
        raise ValueError(f"clean and noisy must have the same shape, got {c.shape} and {n.shape}")
    return float((c != n).mean()) if c.size else 0.0
