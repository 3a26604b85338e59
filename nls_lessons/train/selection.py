"""Choosing r on your own data (lesson 06): cross-fitted out-of-sample probabilities for
confident learning (:func:`out_of_sample_probs`), and the smooth rate and stopping epoch chosen
by k-fold cross-validation on the noisy labels (:func:`select_smooth_rate`) with the
one-standard-error rule (:func:`one_se_choice`)."""
from __future__ import annotations

import math
import warnings
from numbers import Real

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from nls_lessons.data import Dataset
from nls_lessons.device import resolve_device

from .config import (TrainConfig, _check_data, _check_flag, _check_rate, _check_seed, _fit_config, _is_int, _one,
                     check_grid)
from .grid import sweep
from .pairing import derive_seed
from .single import fit
from .stacked import EVAL_BATCH, DivergenceWarning, _train_chunk


def _subset(data: Dataset, train_idx, x_test: Tensor, y_test: Tensor, tag: str) -> Dataset:
    """A Dataset training on ``data``'s rows ``train_idx`` (labels as given) and testing on (x_test, y_test)."""
    idx = torch.as_tensor(train_idx, dtype=torch.int64)
    return Dataset(data.x_train[idx], data.y_train[idx], x_test, y_test, data.num_classes, f"{data.name}|{tag}")


def _every_class_present(counts: np.ndarray, caller: str) -> None:
    """A class without a single training sample cannot be fixed by fewer folds or another
    fraction: say which class, and what would fix it."""
    empty = np.flatnonzero(counts == 0).tolist()
    if empty:
        raise ValueError(f"{caller}: class {empty[0] if len(empty) == 1 else empty} has no sample in data.y_train, "
                         f"though data.num_classes = {len(counts)}; every class needs training samples (give data "
                         f"with every class, or a Dataset whose num_classes counts only the classes it has)")


def _check_fraction(value, name: str) -> float:
    if not isinstance(value, Real) or isinstance(value, (bool, np.bool_)) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return float(value)


def _check_fit_kwargs(fit_kwargs: dict, caller: str) -> dict:
    import inspect

    # every hyper-parameter of one fit, and the device; the noise is never added here
    allowed = (set(inspect.signature(_fit_config).parameters) - {"noise_kind"}) | {"device"}
    unknown = sorted(set(fit_kwargs) - allowed)
    if unknown:
        raise TypeError(f"{caller} got unexpected keyword argument(s) {unknown}; it trains on the labels as "
                        f"given (no noise_rate/noise_kind), and passes on only {sorted(allowed)}")
    return fit_kwargs


def _fit_kwargs_config(fit_kwargs: dict, caller: str) -> tuple[TrainConfig, str]:
    """(TrainConfig, device) from keyword arguments of :func:`~nls_lessons.train.fit`, its defaults filling the rest."""
    import inspect

    _check_fit_kwargs(fit_kwargs, caller)
    defaults = {k: v.default for k, v in inspect.signature(fit).parameters.items() if v.default is not v.empty}
    values = {**defaults, **fit_kwargs}
    names = inspect.signature(_fit_config).parameters
    return _fit_config(**{k: values[k] for k in names}), values["device"]


def _check_folds(folds, y: np.ndarray, num_classes: int) -> int:
    if not _is_int(folds) or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
    counts = np.bincount(y, minlength=num_classes)
    if counts.min() < folds:
        rare = int(np.argmin(counts))
        raise ValueError(f"folds={folds} needs at least {folds} samples of every class; class {rare} has "
                         f"{counts[rare]}: use fewer folds")
    return int(folds)


def _fold_split(y: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """The held-out indices of each of ``folds`` stratified folds (by the labels as given), seeded from ``seed``."""
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=derive_seed(seed, "folds") % 2**31)
    return [held for _, held in splitter.split(np.zeros(len(y)), y)]


def _train_masks(held_out: list[np.ndarray], n: int) -> Tensor:
    """(F, N) bool: fold f's model learns from every sample but its held-out ones."""
    mask = torch.ones(len(held_out), n, dtype=torch.bool)
    for f, held in enumerate(held_out):
        mask[f, torch.as_tensor(held)] = False
    return mask


def out_of_sample_probs(data: Dataset, folds: int = 5, seed: int = 0, *, smooth_rate: float = 0.0,
                        progress: bool = False, **fit_kwargs) -> np.ndarray:
    """Cross-fitted predicted probabilities for every training sample (lesson 06).

    The training set is split into ``folds`` stratified folds (by the labels *as given*, which
    may be noisy; scikit-learn's ``StratifiedKFold`` seeded from ``seed``). Fold f's model
    learns from the other folds only and predicts fold f, so no sample's probability comes from
    a model that saw its label: what confident learning needs
    (:func:`nls_lessons.noise.estimate_transition`). The ``folds`` models train together as one
    stacked model, like a sweep (each with its own initialisation and batch order, seeded from
    ``seed`` and f; the held-out samples pass through its batches with weight 0), so five folds
    cost about as much as one fit.

    Args:
        data: a Dataset whose ``y_train`` are the labels you have (noisy or not; no noise is added).
        folds: number of folds, an integer >= 2; every class needs at least ``folds`` samples.
        seed: seeds the fold split and every fold's model.
        smooth_rate: the GLS rate the fold models train with (default 0, plain CE).
        progress: a progress bar over epochs.
        **fit_kwargs: as :func:`~nls_lessons.train.fit` (model, epochs, lr, ...).

    Returns:
        float64 array of shape (N_train, K): row i is the held-out model's softmax for sample i.
    """
    from nls_lessons.progress import progress_bar

    data = _check_data(data)
    y = data.y_train.cpu().numpy()
    _every_class_present(np.bincount(y, minlength=data.num_classes), "out_of_sample_probs")
    folds = _check_folds(folds, y, data.num_classes)
    seed = _check_seed(seed, "seed")
    rate = _check_rate(_one(smooth_rate, "smooth_rate"), "smooth_rate")
    cfg, device = _fit_kwargs_config(fit_kwargs, "out_of_sample_probs")
    progress = _check_flag(progress, "progress")
    held_out = _fold_split(y, folds, seed)
    mask = _train_masks(held_out, len(y))
    fold_seeds = [derive_seed(seed, "fold", f) for f in range(folds)]
    with progress_bar(cfg.epochs, f"{folds} folds", disable=not progress) as bar:
        out = _train_chunk(data, fold_seeds, [(0.0, rate)], cfg, device, on_epoch=lambda: bar.update(1),
                           keep_model=True, train_mask=mask)
    probs = np.zeros((len(y), data.num_classes))
    with torch.no_grad():
        x = data.x_train.to(resolve_device(device))
        logits = torch.cat([out.net.class_major(x[i:i + EVAL_BATCH]) for i in range(0, len(y), EVAL_BATCH)], dim=-1)
        p = torch.softmax(logits.reshape(folds, data.num_classes, -1).double(), dim=1).cpu()    # (F, K, N)
    for f, held in enumerate(held_out):
        probs[held] = p[f][:, torch.as_tensor(held)].T.numpy()
    return probs


SELECTION_COLUMNS = ("smooth_rate", "seed", "val_acc", "val_se", "gap_se", "within_one_se", "val_epoch",
                     "test_acc", "oracle_test_acc", "diverged")
#: The rules :func:`select_smooth_rate` chooses a rate with.
SELECTION_RULES = ("one_se", "best")


def one_se_choice(correct: np.ndarray, values, prior: float, rule: str = "one_se") -> tuple[int, np.ndarray, np.ndarray]:
    """Choose among candidates scored on the same validation labels (lesson 06 derives the rule).

    Args:
        correct: (C, N) per-label scores in [0, 1] of C candidates on the same N validation labels
            (1 = the prediction matched the label; a mean over seeds may be fractional).
        values: the C candidates' values (e.g. smooth rates); ``prior`` is one of that scale.
        prior: the value preferred when the data cannot tell candidates apart.
        rule: "one_se": the candidate closest to ``prior`` among those whose mean lies within one
            *paired* standard error of the best mean, the SE of the per-label difference to the best,
            std(c_best - c)/sqrt(N); "best": the best mean (exact ties go to ``prior``'s side).

    Returns:
        ``(index, se, gap_se)``: the chosen candidate's index; each candidate's standard error of
        its mean, std/sqrt(N) over labels, (C,); and its paired SE to the best, (C,) (0 for the best).
    """
    correct = np.asarray(correct, dtype=np.float64)
    n = correct.shape[1]
    means = correct.mean(axis=1)
    best = int(np.argmax(means))
    se = correct.std(axis=1, ddof=1) / math.sqrt(n)
    gap_se = (correct[best] - correct).std(axis=1, ddof=1) / math.sqrt(n)
    margin = gap_se if rule == "one_se" else np.zeros_like(gap_se)
    eligible = means >= means[best] - margin - 1e-12
    values = [float(v) for v in values]
    index = min(np.flatnonzero(eligible), key=lambda i: (abs(values[i] - prior), abs(values[i]), -values[i]))
    return int(index), se, gap_se


def select_smooth_rate(data: Dataset, smooth_rates, *, folds: int | None = None, validation_fraction: float | None = None,
                       seeds=(0,), prior_rate: float = 0.0, rule: str = "one_se", progress: bool = False,
                       **fit_kwargs) -> tuple[float, pd.DataFrame]:
    """Choose the smooth rate and the stopping epoch on noisy labels: no clean label needed (lesson 06).

    **k-fold** (the default, ``folds=5``): the training set is split into stratified folds (by the
    labels as given; the split of :func:`out_of_sample_probs` for ``seeds[0]``); every rate trains
    once per fold and seed on the other folds, so **every training label validates once** per seed.
    All these models train as one stacked model (each fold model with its own initialisation and
    batch order, the same for every rate: paired), so the k folds cost about one sweep.
    **Single split** (``validation_fraction=0.2``, say): one stratified hold-out instead.

    Per rate, the validation score of a label is whether its held-out model's prediction matches it
    (averaged over seeds). The stopping epoch of a rate is the epoch with the best mean score over
    all validation labels (one epoch for all its folds and seeds; the first such epoch). The rate
    is then chosen from those scores with ``rule``, see :func:`one_se_choice`: by default the rate
    closest to ``prior_rate`` among those within one paired standard error of the best
    (cross-validation's one-standard-error rule, with the prior as the "simplest" model: 0, plain
    CE, unless you pass, say, the theory's prediction). Under symmetric noise eps < (K-1)/K noisy
    accuracy is increasing in clean accuracy, so in expectation it ranks models as clean accuracy
    would; the SE says how far a finite validation set can be trusted to do so.

    When ``data`` has a test set, every model is also evaluated on it each epoch, for reporting
    only: the test labels never choose anything.

    Args:
        data: a Dataset whose ``y_train`` are the labels you have; ``y_test`` clean if you have it.
        smooth_rates: the candidate rates, numbers <= 1 (a grid, as for :func:`~nls_lessons.train.sweep`).
        folds: an integer >= 2 (default 5); not together with ``validation_fraction``.
        validation_fraction: in (0, 1): a single hold-out split of that size instead of k folds.
        seeds: the seeds to average over (non-negative integers).
        prior_rate: the rate preferred when validation cannot tell rates apart (a finite number <= 1).
        rule: one of :data:`SELECTION_RULES`.
        progress, **fit_kwargs: as :func:`~nls_lessons.train.sweep` (model, epochs, lr, warmup_epochs, ...).

    Returns:
        ``(chosen_rate, table)``; table has one row per (smooth_rate, seed) and the columns
        smooth_rate, seed, val_acc (the seed's mean noisy-validation accuracy at val_epoch), val_se
        (the rate's standard error of its mean over seeds, per label), gap_se (its paired SE to the
        best rate), within_one_se (bool), val_epoch (1-based), test_acc (mean over the fold models
        of the clean test accuracy at val_epoch), oracle_test_acc (the best such mean over epochs:
        the official code's practice of keeping the best test-set epoch, an oracle for comparison
        only), diverged (any of the rate's fold models).
    """
    from sklearn.model_selection import train_test_split

    from nls_lessons.progress import progress_bar

    data = _check_data(data)
    smooth_rates, _, seeds = check_grid(smooth_rates, [0.0], seeds)
    prior = _check_rate(_one(prior_rate, "prior_rate"), "prior_rate")
    if rule not in SELECTION_RULES:
        raise ValueError(f"rule must be one of {SELECTION_RULES}, got {rule!r}")
    cfg, device = _fit_kwargs_config(fit_kwargs, "select_smooth_rate")
    progress = _check_flag(progress, "progress")
    y = data.y_train.cpu().numpy()
    _every_class_present(np.bincount(y, minlength=data.num_classes), "select_smooth_rate")
    n, g_count = len(y), len(smooth_rates)
    if validation_fraction is not None:
        if folds is not None:
            raise ValueError(f"give folds (k-fold) or validation_fraction (one split), not both: got folds={folds!r} "
                             f"and validation_fraction={validation_fraction!r}")
        fraction = _check_fraction(validation_fraction, "validation_fraction")
        counts = np.bincount(y, minlength=data.num_classes)
        n_val = int(math.ceil(fraction * n))
        if counts.min() < 2 or n_val < data.num_classes or n - n_val < data.num_classes:
            raise ValueError(f"validation_fraction={fraction} of {n} samples cannot hold out every class "
                             f"(smallest class: {counts.min()} samples): give more data or another fraction")
        _, val_idx = train_test_split(np.arange(n), test_size=fraction, stratify=y,
                                      random_state=derive_seed(seeds[0], "validation") % 2**31)
        held_out = [np.sort(val_idx)]
    else:
        held_out = _fold_split(y, _check_folds(5 if folds is None else folds, y, data.num_classes), seeds[0])
    f_count = len(held_out)
    val_idx = np.sort(np.concatenate(held_out))
    masks = _train_masks(held_out, n).repeat(len(seeds), 1)                         # (S*F, N)
    model_seeds = [derive_seed(s, "fold", f) for s in seeds for f in range(f_count)]
    # per epoch, every model's prediction on every training sample, scored against the given labels
    x_train, y_dev = data.x_train.to(resolve_device(device)), data.y_train.to(resolve_device(device))
    hits = np.zeros((cfg.epochs, len(model_seeds), g_count, n), dtype=bool)

    def score(epoch, logits_fn):
        pred = torch.cat([logits_fn(x_train[i:i + EVAL_BATCH]).argmax(dim=1) for i in range(0, n, EVAL_BATCH)], dim=1)
        hits[epoch] = (pred == y_dev).reshape(len(model_seeds), g_count, n).cpu().numpy()

    with progress_bar(cfg.epochs, f"{g_count} rates x {f_count} folds", disable=not progress) as bar:
        out = _train_chunk(data, model_seeds, [(0.0, float(r)) for r in smooth_rates], cfg, device,
                           on_epoch=lambda: bar.update(1), train_mask=masks, on_evaluate=score)
    # validation score of each label: its held-out model's hit, (E, seeds, G, N_val)
    hits = hits.reshape(cfg.epochs, len(seeds), f_count, g_count, n)
    val = np.zeros((cfg.epochs, len(seeds), g_count, n))
    for f, held in enumerate(held_out):
        val[..., held] = hits[:, :, f][..., held]
    val = val[..., val_idx]
    per_label = val.mean(axis=1)                                                    # (E, G, N_val)
    epochs = per_label.mean(axis=2).argmax(axis=0)                                  # (G,) first best epoch
    at_epoch = per_label[epochs, np.arange(g_count)]                                # (G, N_val)
    chosen, se, gap_se = one_se_choice(at_epoch, smooth_rates, prior, rule)
    within = at_epoch.mean(axis=1) >= at_epoch.mean(axis=1).max() - gap_se - 1e-12
    test = out.history["test_acc"].reshape(len(seeds), f_count, g_count, cfg.epochs).mean(axis=1)   # (seeds, G, E)
    diverged = (out.diverged_epoch.reshape(len(seeds), f_count, g_count) > 0).any(axis=1)
    seed_val = val.mean(axis=3)                                                     # (E, seeds, G)
    rows = [{"smooth_rate": float(r), "seed": int(s), "val_acc": float(seed_val[epochs[g], i, g]),
             "val_se": float(se[g]), "gap_se": float(gap_se[g]), "within_one_se": bool(within[g]),
             "val_epoch": int(epochs[g]) + 1,
             "test_acc": float(test[i, g, epochs[g]]) if len(data.y_test) else math.nan,
             "oracle_test_acc": float(test[i, g].max()) if len(data.y_test) else math.nan,
             "diverged": bool(diverged[i, g])}
            for g, r in enumerate(smooth_rates) for i, s in enumerate(seeds)]
    table = pd.DataFrame(rows, columns=list(SELECTION_COLUMNS)).sort_values(["smooth_rate", "seed"], kind="stable")
    return float(smooth_rates[chosen]), table.reset_index(drop=True)
