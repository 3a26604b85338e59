"""Label noise: transition matrices, injecting noise with a seed, measuring it.

Used in lesson 01 (``notebooks/01_label_noise``); the sweeps of lessons 02-04 inject noise with it.

A transition matrix T has ``T[i, j] = P(noisy label = j | clean label = i)``; each row
sums to 1. The noise rate epsilon is the probability that a label changes.

Which noise models are the paper's and which are the course's own: "symmetric" and, for
K = 10, "pairflip" are the official code's generators (``noisify_multiclass_symmetric``,
``noisify_pairflip``). Pair-flip for K != 10, the Patrini-style "asymmetric" kind and
``instance_dependent(noise_rate=0)`` returning the clean labels are this course's own
extensions (see each function).

The ``check_*`` helpers that the whole library shares (noise rates, numbers of classes,
seeds, numbers, booleans) live in :mod:`nls_lessons.checks`; this module re-exports them, so
``noise.check_seed`` keeps working. :func:`check_transition_matrix` is noise's own.
"""
from __future__ import annotations

import numpy as np
import torch

# the shared checks, re-exported: data, losses, theory, metrics and models import them from here
from .checks import (MAX_CLASSES, MAX_SEED, _short, check_integer, check_noise_rate, check_num_classes,
                     check_number, check_probability_rows, check_seed, is_bool, parse_number, reject_bool_items,
                     row_sum_tolerance)

KINDS = ("symmetric", "pairflip", "asymmetric")

# The official code's pair-flip swaps for CIFAR-10 (airplane<->bird, automobile<->truck,
# cat<->dog, deer<->horse, frog<->ship).
CIFAR10_PAIRS = ((0, 2), (1, 9), (3, 5), (4, 7), (6, 8))
# The classic class-dependent CIFAR-10 mapping (Patrini et al. 2017): truck->automobile,
# bird->airplane, deer->horse, cat<->dog. Other classes keep their label. The course's own
# addition: the official NLS code has no such generator (see :func:`asymmetric_target`).
CIFAR10_ASYMMETRIC = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}


def pair_partner(num_classes: int) -> np.ndarray:
    """Pair-flip partners, shape (K,): ``partner[i]`` is the class that i swaps with.

    K = 10: the official code's CIFAR-10 pairs 0<->2, 1<->9, 3<->5, 4<->7, 6<->8
    (``noisify_pairflip``, which is hard-coded for 10 classes).
    Other K: the course's own extension, neighbours (0, 1), (2, 3), ...; for odd K the last
    class has no partner of its own and flips into class 0 (one-directional).

    Used in lesson 01 (label noise).
    """
    num_classes = check_num_classes(num_classes)
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
    """Class-dependent (asymmetric) flip targets, shape (K,): the course's own noise model.

    K = 10: the classic CIFAR-10 mapping of Patrini et al. 2017 (truck->automobile,
    bird->airplane, deer->horse, cat<->dog); the other five classes never flip. Other K:
    class i flips to (i + 1) mod K (the "next class" scheme used for MNIST-like data),
    every class with rate epsilon. ``target[i] == i`` means class i stays clean.

    The course does not use it for the paper's "asym" columns (Table 2 of the ICLR 2022
    submission, OpenReview UQQgMRq58O): the official code has no Patrini generator, and the
    course reads those columns as pair-flip noise (:func:`pair_partner`), a reading that
    is unconfirmed.

    Used in lesson 01 (label noise).
    """
    num_classes = check_num_classes(num_classes)
    if num_classes == 10:
        target = np.arange(10)
        for src, dst in CIFAR10_ASYMMETRIC.items():
            target[src] = dst
        return target
    return (np.arange(num_classes) + 1) % num_classes


def transition_matrix(kind: str, num_classes: int, noise_rate: float) -> np.ndarray:
    """The (K, K) float64 transition matrix ``T[i, j] = P(noisy = j | clean = i)`` of a named noise model.

    Args:
        kind: "symmetric" (stay with prob. 1 - eps, else a uniformly chosen *other* class,
            eps / (K - 1) each, as the official code), "pairflip" (swap with the partner
            class with prob. eps, see :func:`pair_partner`; the official code's for K = 10,
            the course's extension for other K) or "asymmetric" (the course's Patrini-style
            model: flip to a class-dependent target with prob. eps, see :func:`asymmetric_target`).
        num_classes: K, an integer in [2, MAX_CLASSES] (10,000).
        noise_rate: eps in [0, 1). For "asymmetric" with K = 10 only the five mapped
            classes flip, so the overall rate is eps / 2 on balanced data.

    Returns:
        T of shape (K, K), float64, non-negative, rows summing to 1.

    Used in lesson 01 (label noise).
    """
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {_short(kind)}")
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
    """Return T as a (K, K) float64 array, or raise ``ValueError`` naming what is wrong.

    A valid T is square with 2 <= K <= MAX_CLASSES (and K == ``num_classes`` when given),
    has finite, non-negative entries and rows that sum to 1 (within 1e-6).
    """
    if isinstance(T, (str, bytes)) or T is None or is_bool(T):
        raise ValueError(f"{name} must be a (K, K) array of probabilities, got {_short(T)}")
    try:
        arr = T if isinstance(T, torch.Tensor) else np.asarray(T)
        if isinstance(arr, np.ndarray) and arr.dtype.kind not in "iuf":
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (K, K) array of probabilities, got {type(T).__name__}"
                         + (f" of dtype {arr.dtype}" if "arr" in locals() else "")) from None
    shape = tuple(arr.shape)
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 2:
        raise ValueError(f"{name} must be a square (K, K) matrix with K >= 2, got shape {shape}")
    if shape[0] > MAX_CLASSES:
        raise ValueError(f"{name} must be a (K, K) matrix with K <= {MAX_CLASSES}, got shape {shape}")
    if num_classes is not None and shape[0] != num_classes:
        raise ValueError(f"{name} has shape {shape} but num_classes = {num_classes}")
    return check_probability_rows(arr, name)


def _labels_numpy(labels, num_classes: int | None, name: str = "labels") -> np.ndarray:
    """int64 (N,) view of class indices in [0, num_classes) (only >= 0 when ``num_classes`` is None)."""
    if labels is None or isinstance(labels, (str, bytes)):
        raise ValueError(f"{name} must be a 1-d array of integer class indices, shape (N,); got {_short(labels)}")
    reject_bool_items(labels, name)
    try:
        arr = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{name} must be a 1-d array of integer class indices, shape (N,); "
                         f"got {type(labels).__name__}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of class indices, shape (N,); got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or (num_classes is not None and arr.max() >= num_classes)):
        allowed = f"[0, {num_classes}) (num_classes = {num_classes})" if num_classes is not None else ">= 0"
        raise ValueError(f"{name} must lie in {allowed}; got values from {arr.min()} to {arr.max()}")
    return arr.astype(np.int64, copy=False)


def _like(result: np.ndarray, labels):
    """Return ``result`` with the container type (numpy or torch) and dtype of ``labels``."""
    if isinstance(labels, torch.Tensor):
        return torch.as_tensor(result, dtype=labels.dtype, device=labels.device)
    dtype = np.asarray(labels).dtype
    return result.astype(dtype if np.issubdtype(dtype, np.integer) else np.int64, copy=False)


def _sample_rows(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling: for each row of ``probs`` (N, K) pick a class with one uniform ``u`` (N,).

    Rows are renormalised so that the last CDF entry is exactly 1 (x / x == 1 in IEEE
    arithmetic); a class with probability 0 can then never be drawn.
    """
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    return (u[:, None] >= cdf).sum(axis=1)


def inject(labels, T, seed: int, method: str = "course"):
    """Draw noisy labels: each label y is replaced by a sample from row ``T[y]``.

    Args:
        labels: clean labels, shape (N,), numpy or torch integers in [0, K).
        T: (K, K) transition matrix (rows sum to 1), e.g. from :func:`transition_matrix`.
        seed: integer >= 0; the same seed gives the same noisy labels.
        method: "course" (the default) or "official".

            * "course": vectorised inverse-CDF sampling with ``numpy.random.default_rng(seed)``,
              one uniform number per label and one binary search per class (50,000 labels take
              a few milliseconds, for K = 10 or K = 100).
            * "official": the draw of the official code (UCSC-REAL/negative-label-smoothing,
              ``multiclass_noisify``), reproduced bit for bit: one
              ``numpy.random.RandomState(seed)``; for every label in dataset order one
              ``multinomial(1, T[y])``, the new label being the index of the 1. The official
              scripts always pass seed 0, whatever the run's seed, so every run of a setting
              trains on the same noisy labels. A Python loop: about 0.5 s for 50,000 labels.

    Returns:
        noisy labels of shape (N,), same type (numpy/torch), dtype and device as ``labels``.

    Used in lesson 01 (label noise), by the sweeps of lessons 02-04 ("course") and by the
    paper-scale protocols of lesson 05 ("official").
    """
    if not isinstance(method, str) or method not in ("course", "official"):
        raise ValueError(f"method must be 'course' or 'official', got {method!r}")
    T = check_transition_matrix(T)
    seed = check_seed(seed)
    clean = _labels_numpy(labels, T.shape[0])
    if method == "official":
        return _like(_official_draw(clean, T, seed), labels)
    rng = np.random.default_rng(seed)
    u = rng.random(clean.shape[0])
    cdf = np.cumsum(T, axis=1)
    cdf /= cdf[:, -1:]                    # last entry exactly 1: zero-probability classes are never drawn
    # group the samples by clean class, then one binary search per class:
    # noisy = number of CDF entries <= u, i.e. the first class whose CDF exceeds u
    order = np.argsort(clean, kind="stable")
    bounds = np.searchsorted(clean[order], np.arange(T.shape[0] + 1))
    noisy = np.empty_like(clean)
    for c in range(T.shape[0]):
        chosen = order[bounds[c]:bounds[c + 1]]
        noisy[chosen] = np.searchsorted(cdf[c], u[chosen], side="right")
    return _like(noisy, labels)


def _official_draw(clean: np.ndarray, T: np.ndarray, seed: int) -> np.ndarray:
    """The official per-label multinomial draw (see :func:`inject`), shape (N,) int64.

    The legacy ``RandomState`` stream is frozen by numpy, so the result is the same on every
    numpy version; ``T`` is used as given (float64), because the draw depends on its exact bits.
    """
    rs = np.random.RandomState(seed)
    noisy = np.empty_like(clean)
    for i, y in enumerate(clean):
        noisy[i] = int(np.argmax(rs.multinomial(1, T[y])))
    return noisy


def _features_numpy(features) -> np.ndarray:
    """(N, d) view of ``features`` without copying (numpy or torch, any numeric dtype)."""
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu()
        features = (features.double() if features.dtype in (torch.bfloat16, torch.float16) else features).numpy()
    try:
        x = np.asarray(features)
    except (TypeError, ValueError):
        raise ValueError(f"features must be a numeric array of shape (N, ...), got {type(features).__name__}") from None
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or np.iscomplexobj(x):
        raise ValueError(f"features must be a numeric array of shape (N, ...), got dtype {x.dtype}")
    if x.ndim < 2:
        raise ValueError(f"features must have shape (N, d) (or (N, ...), flattened per sample), "
                         f"got shape {x.shape}")
    return x.reshape(x.shape[0], int(np.prod(x.shape[1:])))     # not -1: N = 0 must work too


_CHUNK = 4096


def _float_block(x: np.ndarray, start: int) -> np.ndarray:
    """Rows ``start:start + _CHUNK`` of ``x`` in float64, checked finite: 50,000 raw CIFAR
    images never become one 1.2 GB float64 copy."""
    block = x[start:start + _CHUNK].astype(np.float64)
    if not np.all(np.isfinite(block)):
        raise ValueError("features must be finite (no NaN or inf)")
    return block


def instance_dependent(features, labels, noise_rate: float, seed: int, *, num_classes: int | None = None):
    """Instance-dependent noise, the official generator's scheme (``noisify_instance``).

    For every sample i:

    1. a flip rate ``q_i ~ N(eps, 0.1^2)``, redrawn until it lies in (0, 1);
    2. scores ``x_i @ W`` with one random projection ``W ~ N(0, 1)`` of shape (d, K);
    3. the flip distribution ``q_i * softmax(x_i @ W)`` over the *other* classes (the
       true class is masked out) and ``1 - q_i`` on the true class;
    4. the noisy label is one draw from that distribution.

    So which wrong class a sample flips to depends on its features, and how often on
    the per-sample rate. The mean flip rate is the mean of the truncated normal: eps
    where the truncation cuts little (0.400 at eps = 0.4), more near 0 (about 0.10 at
    eps = 0.05). The official code feeds raw 0-255 pixels, which saturates the softmax so
    that each image flips to essentially one class; standardised features give softer
    flip distributions.

    ``noise_rate = 0`` returns the clean labels unchanged (no draw at all): the course's
    own choice, so that eps = 0 means clean data. The official generator draws at eps = 0
    too, from N(0, 0.1^2) truncated to (0, 1), and so still flips about 8% of the labels
    (the half-normal mean 0.1 * sqrt(2 / pi) = 0.080).

    Args:
        features: (N, d) floats, or (N, ...) flattened per sample; numpy or torch; finite.
        labels: clean labels, shape (N,), integers in [0, K).
        noise_rate: eps in [0, 1), the mean of the per-sample flip rates.
        seed: integer in [0, 2**32 - 1]; the same seed gives the same noisy labels.
        num_classes: K in [2, MAX_CLASSES]; by default ``max(labels) + 1`` (at least 2).
            Pass it when the highest class may be absent from ``labels``.

    Returns:
        noisy labels of shape (N,), same type (numpy/torch), dtype and device as ``labels``.

    Memory: the (d, K) projection plus chunks of 4,096 samples at a time, never an (N, K)
    float64 array.

    Used in lesson 01 (label noise).
    """
    eps = check_noise_rate(noise_rate)
    seed = check_seed(seed)
    x = _features_numpy(features)
    if num_classes is None:
        clean = _labels_numpy(labels, MAX_CLASSES)
        k = max(int(clean.max()) + 1, 2) if clean.size else 2
    else:
        k = check_num_classes(num_classes)
        clean = _labels_numpy(labels, k)
    if x.shape[0] != clean.shape[0]:
        raise ValueError(f"features and labels must have the same number of samples N, "
                         f"got {x.shape[0]} and {clean.shape[0]}")
    if eps == 0.0 or clean.size == 0:
        for start in range(0, x.shape[0], _CHUNK):       # same input checks as with noise
            _float_block(x, start)
        return _like(clean.copy(), labels)
    n = clean.shape[0]
    rng = np.random.default_rng(seed)
    q = rng.normal(eps, 0.1, size=n)
    bad = (q <= 0.0) | (q >= 1.0)
    while bad.any():                      # truncated normal by redrawing, vectorised
        q[bad] = rng.normal(eps, 0.1, size=int(bad.sum()))
        bad = (q <= 0.0) | (q >= 1.0)
    W = rng.standard_normal((x.shape[1], k))
    u = rng.random(n)
    noisy = np.empty(n, dtype=np.int64)
    for start in range(0, n, _CHUNK):
        scores = _float_block(x, start) @ W
        if not np.all(np.isfinite(scores)):
            raise ValueError("features are too large: x @ W overflowed; standardise the features")
        rows, y = np.arange(scores.shape[0]), clean[start:start + _CHUNK]
        q_block = q[start:start + _CHUNK]
        scores[rows, y] = -np.inf
        scores -= scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs *= (q_block / probs.sum(axis=1))[:, None]
        probs[rows, y] = 1.0 - q_block
        noisy[start:start + _CHUNK] = _sample_rows(probs, u[start:start + _CHUNK])
    return _like(noisy, labels)


def empirical_transition(clean, noisy, num_classes: int) -> np.ndarray:
    """The realised transition matrix, shape (K, K), float64.

    Row i is the distribution of noisy labels among the samples whose clean label is i;
    rows of classes that do not occur are all 0.

    Args:
        clean, noisy: labels of shape (N,), integers in [0, K) (numpy, torch or lists).
        num_classes: K in [2, MAX_CLASSES].

    Used in lesson 01 (label noise: measuring CIFAR-N's human noise).
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
    """Fraction of labels that differ between ``clean`` and ``noisy`` (both shape (N,),
    integer class indices >= 0); 0.0 for empty labels.

    Used in lesson 01 (label noise).
    """
    c = _labels_numpy(clean, None, "clean")
    n = _labels_numpy(noisy, None, "noisy")
    if c.shape != n.shape:
        raise ValueError(f"clean and noisy must have the same shape, got {c.shape} and {n.shape}")
    return float((c != n).mean()) if c.size else 0.0


# ---------------------------------------------------------------- estimating noise (lesson 06)
def _pred_probs_numpy(pred_probs, n: int) -> tuple[np.ndarray, float]:
    """pred_probs checked as (n, K) probability rows, as float64, and the row tolerance of its dtype."""
    if not isinstance(pred_probs, (np.ndarray, torch.Tensor, list, tuple)):
        raise ValueError(f"pred_probs must be an (N, K) array of predicted probabilities, got {_short(pred_probs)}")
    shape = tuple(pred_probs.shape) if isinstance(pred_probs, torch.Tensor) else np.shape(pred_probs)
    if len(shape) != 2 or shape[0] != n or shape[1] < 2:
        raise ValueError(f"pred_probs must have shape (N, K) = ({n}, K) with K >= 2, one row per entry of labels; "
                         f"got shape {shape}")
    dtype = pred_probs.dtype if isinstance(pred_probs, torch.Tensor) else np.asarray(pred_probs).dtype
    if not (dtype.is_floating_point if isinstance(dtype, torch.dtype) else np.issubdtype(dtype, np.floating)):
        raise ValueError(f"pred_probs must be floating-point probabilities, got dtype {dtype}")
    try:
        probs = check_probability_rows(pred_probs, "pred_probs")
    except ValueError as err:
        raise ValueError(f"{err} (softmax of the logits gives such rows)") from None
    return probs, row_sum_tolerance(dtype)


def _estimate_inputs(labels, pred_probs) -> tuple[np.ndarray, np.ndarray, float]:
    """labels and pred_probs checked: (N,) int labels, (N, K) float64 rows, the rows' tolerance."""
    n = len(labels) if not isinstance(labels, torch.Tensor) else labels.shape[0]
    if n == 0:
        raise ValueError("labels must not be empty: give one observed label per sample")
    probs, tolerance = _pred_probs_numpy(pred_probs, n)
    k = probs.shape[1]
    y = _labels_numpy(labels, k)
    counts = np.bincount(y, minlength=k)
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0).tolist()
        raise ValueError(f"every class must occur among the labels (num_classes = {k} from pred_probs); "
                         f"classes {missing} never occur")
    return y, probs, tolerance


def _confident_joint(y: np.ndarray, probs: np.ndarray, tolerance: float) -> np.ndarray:
    """cleanlab's calibrated confident joint as ``J[true, observed]`` (K, K), summing to 1; checked
    inputs (:func:`_estimate_inputs`). Uniform rows carry no information: refused, not estimated."""
    from cleanlab.count import estimate_joint

    if np.ptp(probs, axis=1).max() <= tolerance:
        raise ValueError("pred_probs carry no information: every row is uniform (1/K for each class), so no noise "
                         "can be estimated from them; give out-of-sample probabilities of a trained model "
                         "(nls_lessons.train.out_of_sample_probs)")
    return estimate_joint(y, probs).T        # cleanlab's rows are the given label: transpose


def estimate_transition(labels, pred_probs) -> np.ndarray:
    """Estimate the transition matrix from noisy labels alone (lesson 06), via cleanlab.

    Confident learning (Northcutt, Jiang, Chuang, JAIR 2021): ``cleanlab.count.estimate_joint``
    counts the samples whose out-of-sample predicted probability of class j clears class j's
    average self-confidence, calibrates the counts to the observed label totals, and gives the
    joint distribution of (observed label, true label).

    Args:
        labels: (N,) observed (noisy) labels, integers in [0, K).
        pred_probs: (N, K) *out-of-sample* predicted probabilities (e.g. from
            :func:`nls_lessons.train.out_of_sample_probs`); in-sample probabilities of a
            model that memorised the labels would say "no noise".

    Returns:
        T_hat of shape (K, K), float64, ``T_hat[i, j]`` = estimated P(observed = j | true = i),
        the convention of :func:`transition_matrix` (rows sum to 1).
    """
    joint = _confident_joint(*_estimate_inputs(labels, pred_probs))
    totals = joint.sum(axis=1, keepdims=True)
    return np.divide(joint, totals, out=np.eye(len(joint)), where=totals > 0)


def estimate_noise_rate(labels, pred_probs, *, model_accuracy: float | None = None) -> float:
    """Estimated fraction of wrong labels, 1 - trace of the confident joint (lesson 06).

    Arguments as :func:`estimate_transition`; returns a float in [0, 1].

    The confident joint counts (prediction, label) disagreements, so with symmetric noise and an
    out-of-fold model of clean accuracy ``a`` it estimates about eps + (1 - kappa)(1 - a),
    kappa = K eps / (K - 1): the model's own errors count as label errors (lesson 06 derives it).
    ``model_accuracy`` (optional, in (1/K, 1]): that ``a``, if you know or assume it; the
    estimate is then corrected by solving the line for eps,
    eps = (K - 1)(eps_hat - 1 + a) / (K a - 1), clipped to [0, 1]. Noisy labels alone cannot
    give ``a`` (a weak model and noisy labels look alike), so lesson 06 measures this
    correction with the true ``a`` only to show where the bias comes from.
    """
    y, probs, tolerance = _estimate_inputs(labels, pred_probs)
    k = probs.shape[1]
    if model_accuracy is not None and (
            isinstance(model_accuracy, bool) or not isinstance(model_accuracy, (int, float, np.floating))
            or not 1.0 / k < float(model_accuracy) <= 1.0):
        raise ValueError(f"model_accuracy must be a number in (1/K, 1] = ({1 / k:.3g}, 1] (the out-of-fold "
                         f"model's clean accuracy), got {model_accuracy!r}")
    estimate = float(1.0 - np.trace(_confident_joint(y, probs, tolerance)))
    if model_accuracy is None:
        return estimate
    a = float(model_accuracy)
    return float(np.clip((k - 1) * (estimate - 1 + a) / (k * a - 1), 0.0, 1.0))
