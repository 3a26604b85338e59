"""Choosing r on your own data (lesson 06): cross-fitted out-of-sample probabilities for
confident learning (:func:`out_of_sample_probs`) and the smooth rate chosen on a noisy
validation split (:func:`select_smooth_rate`)."""
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
    from sklearn.model_selection import StratifiedKFold

    from nls_lessons.progress import progress_bar

    data = _check_data(data)
    if not _is_int(folds) or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
    seed = _check_seed(seed, "seed")
    rate = _check_rate(_one(smooth_rate, "smooth_rate"), "smooth_rate")
    cfg, device = _fit_kwargs_config(fit_kwargs, "out_of_sample_probs")
    progress = _check_flag(progress, "progress")
    y = data.y_train.cpu().numpy()
    counts = np.bincount(y, minlength=data.num_classes)
    _every_class_present(counts, "out_of_sample_probs")
    if counts.min() < folds:
        rare = int(np.argmin(counts))
        raise ValueError(f"folds={folds} needs at least {folds} samples of every class; class {rare} has "
                         f"{counts[rare]}: use fewer folds")
    splitter = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=derive_seed(seed, "folds") % 2**31)
    held_out = [held for _, held in splitter.split(np.zeros(len(y)), y)]
    mask = torch.ones(folds, len(y), dtype=torch.bool)
    for f, held in enumerate(held_out):
        mask[f, torch.as_tensor(held)] = False
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


SELECTION_COLUMNS = ("smooth_rate", "seed", "val_acc", "val_epoch", "test_acc", "oracle_test_acc", "diverged")


def select_smooth_rate(data: Dataset, smooth_rates, *, validation_fraction: float = 0.2, seeds=(0,),
                       prior_rate: float = 0.0, progress: bool = False, **fit_kwargs) -> tuple[float, pd.DataFrame]:
    """Choose the smooth rate on a noisy validation split: no clean label needed (lesson 06).

    ``validation_fraction`` of the training set (stratified by the labels as given, split seeded
    from ``seeds[0]``) is held out. Every rate trains on the rest with :func:`~nls_lessons.train.sweep` (labels as
    given, no noise added; paired: each seed has one initialisation and batch order for every
    rate). Each model's stopping epoch is the one with the best accuracy on the *noisy*
    validation labels, and the chosen rate is the one with the best mean (over seeds) of that
    accuracy. A tie (a few hundred noisy validation labels make ties common) goes to the rate
    closest to ``prior_rate``: by default 0, the mildest change from plain CE; lesson 06 passes
    the theory's prediction from the estimated noise rate. Under symmetric noise eps < (K-1)/K noisy accuracy is increasing in clean accuracy,
    so it ranks models as clean accuracy would (lesson 06 derives this).

    When ``data`` has a test set, the same models are evaluated on it (a second, identical run:
    the training is deterministic) for reporting only: the test labels never choose anything.

    Args:
        data: a Dataset whose ``y_train`` are the labels you have; ``y_test`` clean if you have it.
        smooth_rates: the candidate rates, numbers <= 1 (a grid, as for :func:`~nls_lessons.train.sweep`).
        validation_fraction: in (0, 1).
        seeds: the seeds to average over (non-negative integers).
        prior_rate: breaks ties (a finite number <= 1).
        progress, **fit_kwargs: as :func:`~nls_lessons.train.sweep` (model, epochs, lr, warmup_epochs, ...).

    Returns:
        ``(chosen_rate, table)``; table has one row per (smooth_rate, seed) and the columns
        smooth_rate, seed, val_acc (best noisy-validation accuracy), val_epoch (its 1-based epoch),
        test_acc (clean test accuracy at val_epoch), oracle_test_acc (best clean test accuracy over
        epochs, the paper's practice: an oracle, for comparison only), diverged.
    """
    from sklearn.model_selection import train_test_split

    data = _check_data(data)
    smooth_rates, _, seeds = check_grid(smooth_rates, [0.0], seeds)
    fraction = _check_fraction(validation_fraction, "validation_fraction")
    prior = _check_rate(_one(prior_rate, "prior_rate"), "prior_rate")
    _check_fit_kwargs(fit_kwargs, "select_smooth_rate")
    y = data.y_train.cpu().numpy()
    counts = np.bincount(y, minlength=data.num_classes)
    _every_class_present(counts, "select_smooth_rate")
    n_val = int(math.ceil(fraction * len(y)))
    if counts.min() < 2 or n_val < data.num_classes or len(y) - n_val < data.num_classes:
        raise ValueError(f"validation_fraction={fraction} of {len(y)} samples cannot hold out every class "
                         f"(smallest class: {counts.min()} samples): give more data or another fraction")
    train_idx, val_idx = train_test_split(np.arange(len(y)), test_size=fraction, stratify=y,
                                          random_state=derive_seed(seeds[0], "validation") % 2**31)
    val = torch.as_tensor(val_idx, dtype=torch.int64)
    runs = {"val": _subset(data, train_idx, data.x_train[val], data.y_train[val], "validation")}
    if len(data.y_test):
        runs["test"] = _subset(data, train_idx, data.x_test, data.y_test, "test")
    kw = dict(progress=progress, return_history=True, **fit_kwargs)
    histories = {}
    for part, dataset in runs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            results, histories[part] = sweep(dataset, smooth_rates, [0.0], seeds, **kw)
    keys = ["smooth_rate", "seed"]
    hist = histories["val"][keys + ["epoch", "test_acc"]].rename(columns={"test_acc": "val_acc"})
    if "test" in histories:
        hist = hist.merge(histories["test"][keys + ["epoch", "test_acc"]], on=keys + ["epoch"])
    else:
        hist["test_acc"] = math.nan
    best = hist.loc[hist.groupby(keys, sort=False)["val_acc"].idxmax()]      # first best epoch
    table = best.rename(columns={"epoch": "val_epoch"}).merge(
        hist.groupby(keys, sort=False)["test_acc"].max().rename("oracle_test_acc").reset_index(), on=keys)
    table = table.merge(results[keys + ["diverged"]], on=keys)
    table = table[list(SELECTION_COLUMNS)].sort_values(keys, kind="stable").reset_index(drop=True)
    means = table.groupby("smooth_rate", sort=True)["val_acc"].mean()
    tied = [float(r) for r, v in means.items() if v >= means.max() - 1e-12]
    chosen = min(tied, key=lambda r: (abs(r - prior), abs(r), -r))     # a tie goes to the prior's side
    return chosen, table
