"""Training: one model (:func:`fit`), and a whole grid of models at once (:func:`sweep`).

Lessons 02-03 (``fit`` behind the live retrain), 04 (``sweep``: smooth rate r x noise
rate eps x seed on digits in seconds), 05 (the warm-up protocol).

How a sweep is paired. For a seed s and a noise rate eps:
  * the noisy training labels are ``noise.inject`` with a seed derived from
    (s, noise kind, eps) (:func:`noisy_labels`), the same for every smooth rate r;
  * the initial weights are :func:`nls_lessons.models.plain_model` under seed s;
  * the mini-batch order is drawn from a generator seeded from s (:func:`batch_order`).
So two rows of a sweep that differ only in r differ only in the loss. Every one of these
draws uses its own explicit generator (numpy ``default_rng`` or ``torch.Generator``), never a
global random state: models trained in threads, on a threaded Dask client or on Dask worker
processes are the models trained alone, bit for bit (same torch build and thread settings).

The stacked engine. All models of a chunk of the grid train as one
:class:`nls_lessons.models.Stacked` model: each step gathers every seed's mini-batch once,
computes the (M, B, K) logits of all M models, their M GLS losses, and takes one optimiser
step on the stacked parameters. Adam and SGD act element by element, so this is exactly
M separate optimisers; a test checks the result against a plain ``nn.Module`` +
``torch.optim`` loop (:func:`reference_fit`).

Divergence. NLS (r < 0) is unbounded below, so a model can run away; a too-large learning
rate blows any loss up. There is one definition for the whole library,
:func:`nls_lessons.losses.diverging`: a mini-batch loss that is not finite or whose magnitude
exceeds ``losses.DIVERGENCE_LOSS * (1 + |r|)`` (r being the rate the step trains with: 0 in
a CE warm-up). A model is stopped at its first such step, or at a step whose gradient is not
finite (the step cannot be taken). Its parameters are frozen at their values of one step
before (the last ones whose loss passed the check); it is flagged ``diverged=True`` with
``diverged_epoch``, the 1-based epoch of that step (missing when the model never diverged:
``pandas.NA`` in a results table, ``None`` in a :class:`FitResult`), and one
:class:`DivergenceWarning` lists every stopped model. The other models go on untouched.

What the accuracy columns mean, for every model, diverged or not. After every epoch the
model is evaluated on the clean test set with its parameters of that moment; a stopped
model's parameters are the frozen last-good ones, so from its divergence epoch on it is
evaluated on those (a model that diverges at its very first step: on its initial
parameters). ``test_acc`` is the last epoch's accuracy, ``best_test_acc`` the largest over
all epochs and ``best_epoch`` (1-based) the first epoch that reached it. They are always
finite numbers (never NaN, never -1); only ``train_loss`` is NaN from the divergence epoch on.
Input features with NaN or inf are rejected before training (they are bad data, not
divergence).

The warm-up (``warmup_epochs``). The first epochs train with plain CE at ``lr``, the rest
with GLS at ``lr * gls_lr_scale``. ``warmup_restart`` says how the GLS phase starts:
"continue" (the default; the course's toy runs of lessons 03-04 use it) goes on from the
last warm-up epoch with the optimiser state carried over; "best" restarts from each model's
best warm-up epoch (highest clean test accuracy, the first such epoch) with a fresh
optimiser. "best" is what the official code does (UCSC-REAL/negative-label-smoothing:
``main_GLS_load.py`` loads the warm-up checkpoint with the best test accuracy and builds a
new optimiser for GLS); note that it selects on the test set. The other differences of the
official route (its SGD settings, its 1e-6 GLS learning rate) are hyper-parameters here.

The cache (``sweep(cache=...)``). An entry is a results CSV, a history CSV and a JSON sidecar
that holds the full configuration and the SHA-256 of both CSVs. Its key hashes that
configuration together with a fingerprint of the source of the modules that determine the
numbers (:data:`CODE_FINGERPRINT`), so editing the training code never serves stale results.
A read checks everything (the sidecar's configuration, both checksums, the exact columns,
one row per grid point in grid order, one history row per model and epoch); an entry that
fails any check is recomputed with a :class:`SweepCacheWarning` that names the file. Every
file is written to a unique temporary file in the same directory and moved into place with
``os.replace``, the sidecar last, so readers never see half an entry and concurrent writers
of one key do not collide.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import os
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

import nls_lessons
from nls_lessons import data as _data
from nls_lessons import losses as _losses
from nls_lessons import metrics as _metrics
from nls_lessons import models as _models
from nls_lessons import noise as _noise
from nls_lessons.data import Dataset
from nls_lessons.device import resolve_device
from nls_lessons.losses import check_smooth_rate, diverging, gls_loss

OPTIMIZERS = ("adam", "sgd")
SGD_MOMENTUM = 0.9
WARMUP_RESTARTS = ("continue", "best")
"""How the GLS phase starts after a warm-up (see the module docstring)."""
DEFAULT_MEMORY_BUDGET = {"cpu": 2 * 2**30, "cuda": None}
"""Bytes a chunk of models may use; ``None`` on CUDA means half of the free GPU memory."""
EVAL_BATCH = 2048

EPOCH_METRICS = ("train_loss", "test_acc", "confidence", "model_confidence")
"""Measured after every epoch (see :func:`sweep`)."""
RESULT_COLUMNS = ("noise_kind", "noise_rate", "smooth_rate", "seed", "test_acc", "best_test_acc",
                  "best_epoch", "confidence", "model_confidence", "train_loss", "diverged", "diverged_epoch")
HISTORY_COLUMNS = ("noise_kind", "noise_rate", "smooth_rate", "seed", "epoch", *EPOCH_METRICS)
_RESULT_DTYPES = {"seed": "int64", "best_epoch": "int64", "diverged": "bool", "diverged_epoch": "Int64"}


def _code_fingerprint() -> str:
    """SHA-256 of the source of the modules that determine a sweep's numbers."""
    h = hashlib.sha256()
    for module in (_data, _losses, _metrics, _models, _noise):
        h.update(module.__name__.encode())
        h.update(Path(module.__file__).read_bytes())
    h.update(__name__.encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()


CODE_FINGERPRINT = _code_fingerprint()
"""Fingerprint of the training code as imported (train, models, losses, noise, data, metrics):
part of every sweep cache key."""


class DivergenceWarning(RuntimeWarning):
    """Some models of a sweep ran away (NLS is unbounded below) and were stopped."""


class SweepCacheWarning(UserWarning):
    """A sweep cache entry failed a check (or could not be written) and is recomputed."""


# ---------------------------------------------------------------- configuration
@dataclass(frozen=True)
class TrainConfig:
    """The hyper-parameters every model of a sweep shares (see :func:`sweep`)."""

    noise_kind: str = "symmetric"
    model: str = "linear"
    epochs: int = 30
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-2
    weight_decay: float = 0.0
    warmup_epochs: int = 0
    gls_lr_scale: float = 1.0
    hidden: int = _models.DEFAULT_HIDDEN
    channels: int = _models.DEFAULT_CHANNELS
    warmup_restart: str = "continue"

    def __post_init__(self):
        if not isinstance(self.noise_kind, str) or self.noise_kind not in _noise.KINDS:
            raise ValueError(f"noise_kind must be one of {_noise.KINDS}, got {self.noise_kind!r}")
        _models.check_architecture(self.model)
        if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        for name, low in (("epochs", 1), ("batch_size", 1), ("warmup_epochs", 0), ("hidden", 1),
                          ("channels", 1)):
            value = getattr(self, name)
            if not _is_int(value) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if self.warmup_epochs >= self.epochs:
            raise ValueError(f"warmup_epochs must lie in [0, epochs) = [0, {self.epochs}) (epochs counts "
                             f"the warm-up too), got {self.warmup_epochs}")
        for name, positive in (("lr", True), ("gls_lr_scale", True), ("weight_decay", False)):
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value) or value < 0 or (positive and value == 0):
                raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, "
                                 f"got {value!r}")
        if not isinstance(self.warmup_restart, str) or self.warmup_restart not in WARMUP_RESTARTS:
            raise ValueError(f"warmup_restart must be one of {WARMUP_RESTARTS}, got {self.warmup_restart!r}")
        if self.warmup_restart == "best" and self.warmup_epochs == 0:
            raise ValueError("warmup_restart='best' restarts GLS from the best warm-up epoch: it needs "
                             "warmup_epochs >= 1 (got 0)")

    def lr_at(self, epoch: int) -> float:
        """Learning rate of (0-based) ``epoch``: lr in the CE warm-up, lr x gls_lr_scale after."""
        return self.lr if epoch < self.warmup_epochs else self.lr * self.gls_lr_scale


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _item(value):
    """A 0-d tensor or array as the Python number it holds; anything else unchanged."""
    if isinstance(value, (Tensor, np.ndarray)) and value.ndim == 0:
        return value.item()
    return value


def _as_list(values, name: str) -> list:
    values = _item(values)
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a number or a non-empty sequence of numbers, got the string {values!r}")
    if isinstance(values, (Real, np.number, np.bool_)):
        return [values]
    try:
        values = values.tolist() if isinstance(values, (np.ndarray, Tensor)) else list(values)
    except TypeError:
        raise TypeError(f"{name} must be a number or a non-empty sequence of numbers, "
                        f"got {type(values).__name__}") from None
    if not values:
        raise ValueError(f"{name} must not be empty: give at least one value")
    return [_item(v) for v in values]


def _no_repeats(values: list, name: str) -> list:
    if len(set(values)) != len(values):
        raise ValueError(f"{name} must not repeat values, got {values}")
    return values


def _check_rate(value, name: str) -> float:
    """One smooth rate: a finite number <= 1 (TypeError for anything but a number)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a number <= 1 (a float, not a string or bool), got {value!r}")
    check_smooth_rate(float(value), name)
    return float(value)


def check_grid(smooth_rates, noise_rates, seeds) -> tuple[list[float], list[float], list[int]]:
    """Validate a sweep grid; a single number (or 0-d tensor) counts as a grid of one.

    Returns three lists: smooth rates (finite, <= 1), noise rates (in [0, 1)) and seeds
    (integers >= 0), each without repeats.
    """
    smooth_rates = _no_repeats([_check_rate(r, "smooth_rates") for r in _as_list(smooth_rates, "smooth_rates")],
                               "smooth_rates")
    noise_rates = _no_repeats([_check_noise_rate(e, "noise_rates") for e in _as_list(noise_rates, "noise_rates")],
                              "noise_rates")
    seeds = _no_repeats([_check_seed(s, "seeds") for s in _as_list(seeds, "seeds")], "seeds")
    return smooth_rates, noise_rates, seeds


def _check_noise_rate(value, name: str) -> float:
    if isinstance(value, np.bool_):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    return _noise.check_noise_rate(value, name)


def _check_seed(value, name: str) -> int:
    if not _is_int(value):
        what = "integers >= 0 (explicit seeds)" if name.endswith("s") else "an integer >= 0 (an explicit seed)"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return _noise.check_seed(value, name)


def _one(value, name: str):
    """``value`` as one number for :func:`fit`: a number or a 0-d tensor/array, not a sequence."""
    value = _item(value)
    if isinstance(value, (Tensor, np.ndarray)) or (not isinstance(value, (str, bytes)) and hasattr(value, "__len__")):
        raise ValueError(f"{name} must be one number: fit trains one model (use train.sweep for a grid of "
                         f"many), got {value!r}")
    return value


def _check_data(data) -> Dataset:
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be an nls_lessons.data.Dataset (e.g. data.digits()), "
                         f"got {type(data).__name__}")
    if len(data.feature_shape) != 1:
        raise ValueError(f"the sweep's models read flat features (N, D); got feature shape "
                         f"{data.feature_shape}")
    for split in ("x_train", "x_test"):
        x = getattr(data, split)
        if x.is_floating_point() and not bool(torch.isfinite(x).all()):
            rows = int((~torch.isfinite(x)).reshape(len(x), -1).any(dim=1).sum())
            raise ValueError(f"data.{split} of {data.name} has NaN or infinite features in {rows} of {len(x)} "
                             "rows; training needs finite inputs (drop or impute those rows first)")
    return data


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# ---------------------------------------------------------------- pairing: labels, batches
def derive_seed(seed: int, *tags) -> int:
    """A 32-bit seed derived from ``seed`` and a few tags (strings or numbers), stable
    across platforms and Python versions."""
    text = json.dumps([int(seed), *[t if isinstance(t, str) else repr(float(t)) for t in tags]])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def noisy_labels(data: Dataset, noise_kind: str, noise_rate: float, seed: int) -> Tensor:
    """The noisy training labels of (seed, noise kind, noise rate): int64 (N_train,).

    The same for every smooth rate, so a sweep's comparisons across r are paired.
    """
    T = _noise.transition_matrix(noise_kind, data.num_classes, noise_rate)
    return _noise.inject(data.y_train, T, derive_seed(seed, "labels", noise_kind, noise_rate))


def batch_order(n: int, seed: int):
    """Yield, epoch after epoch, a random permutation of range(n) (int64 (n,)) drawn from a
    generator seeded from ``seed``: the mini-batch order every model of that seed uses."""
    gen = torch.Generator().manual_seed(derive_seed(seed, "batches"))
    while True:
        yield torch.randperm(n, generator=gen)


def _make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr_at(0), weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr_at(0), momentum=SGD_MOMENTUM, weight_decay=cfg.weight_decay)


# ---------------------------------------------------------------- class-major loss and metrics
# The engine keeps logits class-major, (M, K, B): on CPU a softmax over a short last axis
# (K = 10) is about 20x slower than over the middle one. These two functions are
# losses.gls_loss and metrics.accuracy / metrics.model_confidence in that layout (a test
# checks they agree).
def stacked_gls_loss(logits: Tensor, labels: Tensor, smooth_rate: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean GLS loss per model: logits (M, K, B), labels (M, B), smooth_rate (M,) -> (M,).

    ``weight`` (M, B) of 0/1 (optional): each model averages over its own samples only (the
    cross-fitting folds of :func:`out_of_sample_probs`); a model with none in the batch gets 0.
    """
    logp = torch.log_softmax(logits, dim=1)
    nll = -logp.gather(1, labels.unsqueeze(1)).squeeze(1)             # (M, B)
    uniform_ce = -logp.mean(dim=1)                                     # (M, B)
    r = smooth_rate[:, None]
    per_sample = (1 - r) * nll + r * uniform_ce
    if weight is None:
        return per_sample.mean(dim=1)
    return (per_sample * weight).sum(dim=1) / weight.sum(dim=1).clamp_min(1.0)


@torch.no_grad()
def _evaluate(logits_fn, x: Tensor, y: Tensor) -> dict[str, Tensor]:
    """Test accuracy, mean confidence max_k p_k and mean model confidence
    MC = p_y - max_{k != y} p_k, all on the clean labels y.

    ``logits_fn`` maps a (B, D) batch to class-major (..., K, B) logits; returns a dict of
    (...) tensors. A prediction is correct when MC > 0, i.e. the true class has the largest
    probability (argmax without its tie-break to the lowest index; argmax over the
    class axis of a class-major tensor is slow on CPU).
    """
    correct = conf = model_conf = 0.0
    for start in range(0, len(y), EVAL_BATCH):
        logits, yb = logits_fn(x[start:start + EVAL_BATCH]), y[start:start + EVAL_BATCH]
        index = yb.expand(*logits.shape[:-2], 1, len(yb))              # (..., 1, B)
        p = torch.softmax(logits, dim=-2)
        p_y = p.gather(-2, index).squeeze(-2)
        p_other = p.scatter(-2, index, -1.0).amax(dim=-2)
        margin = p_y - p_other
        correct = correct + (margin > 0).sum(dim=-1)
        conf = conf + p.amax(dim=-2).sum(dim=-1)
        model_conf = model_conf + margin.sum(dim=-1)
    return {"test_acc": correct / len(y), "confidence": conf / len(y), "model_confidence": model_conf / len(y)}


# ---------------------------------------------------------------- the stacked engine
@dataclass
class _ChunkResult:
    """Per-model numbers of one chunk: history[metric] of shape (S, G, epochs),
    diverged_epoch of shape (S, G) (0 = never, else the 1-based epoch; the public tables
    turn 0 into a missing value)."""

    history: dict[str, np.ndarray]
    diverged_epoch: np.ndarray
    net: _models.Stacked | None = field(default=None, repr=False)


def _train_chunk(data: Dataset, seeds: list[int], configs: list[tuple[float, float]], cfg: TrainConfig,
                 device: str, on_epoch=None, keep_model: bool = False, train_mask: Tensor | None = None) -> _ChunkResult:
    """Train len(seeds) x len(configs) models, configs being (noise_rate, smooth_rate) pairs.

    ``train_mask`` (S, N) bool (optional): seed s's models learn only from the training samples
    where it is True (the others still pass through their batches, with weight 0)."""
    dev = resolve_device(device)
    s_count, g_count = len(seeds), len(configs)
    m = s_count * g_count
    eps_values = sorted({e for e, _ in configs})
    eps_index = torch.tensor([eps_values.index(e) for e, _ in configs], device=dev)            # (G,)
    rates = torch.tensor([r for _, r in configs], dtype=torch.float32, device=dev).repeat(s_count)  # (M,)
    ce_rates = torch.zeros_like(rates)
    labels = torch.stack([torch.stack([noisy_labels(data, cfg.noise_kind, e, s) for e in eps_values])
                          for s in seeds]).to(dev)                                             # (S, E, N)
    x_train, x_test, y_test = data.x_train.to(dev), data.x_test.to(dev), data.y_test.to(dev)
    n = len(data.y_train)
    if train_mask is not None:
        train_mask = train_mask.to(dev)
        weights = train_mask.float()                                                          # (S, N)
        n_model = weights.sum(dim=1).repeat_interleave(g_count)                              # (M,)
    else:
        n_model = torch.full((m,), float(n), device=dev)

    net = _models.Stacked(cfg.model, data.in_features, data.num_classes, seeds, g_count, device=dev,
                          hidden=cfg.hidden, channels=cfg.channels)
    params = net.parameters()
    opt = _make_optimizer(params, cfg)
    orders = [batch_order(n, s) for s in seeds]
    alive = torch.ones(m, dtype=torch.bool, device=dev)
    with torch.no_grad():
        previous = [p.detach().clone() for p in params]   # parameters one step back
    frozen = None                                          # where stopped models stay
    history = {k: torch.zeros(m, cfg.epochs, device=dev) for k in EPOCH_METRICS}
    diverged_epoch = torch.zeros(m, dtype=torch.int64, device=dev)
    restart = cfg.warmup_restart == "best"
    if restart:                                            # each model's best warm-up parameters
        best_acc = torch.full((m,), -1.0, device=dev)
        best_params = [p.detach().clone() for p in params]

    for epoch in range(cfg.epochs):
        if restart and epoch == cfg.warmup_epochs:
            # the official route: GLS starts from the best warm-up epoch, with a fresh optimiser
            with torch.no_grad():
                for p, b in zip(params, best_params):
                    p.copy_(torch.where(_expand(alive, p, s_count, g_count), b, p))
            opt = _make_optimizer(params, cfg)
        for group in opt.param_groups:
            group["lr"] = cfg.lr_at(epoch)
        r = ce_rates if epoch < cfg.warmup_epochs else rates
        perm = torch.stack([next(o) for o in orders]).to(dev)                                  # (S, N)
        loss_sum = torch.zeros(m, device=dev)
        for start in range(0, n, cfg.batch_size) if bool(alive.any()) else ():
            idx = perm[:, start:start + cfg.batch_size]                                       # (S, B)
            xb = x_train[idx]                                                                 # (S, B, D)
            yb = labels.gather(2, idx.unsqueeze(1).expand(-1, len(eps_values), -1))[:, eps_index]  # (S, G, B)
            logits = net.class_major(xb).reshape(m, data.num_classes, -1)                   # (M, K, B)
            wb = None if train_mask is None else \
                weights.gather(1, idx).repeat_interleave(g_count, dim=0)                     # (M, B)
            loss = stacked_gls_loss(logits, yb.reshape(m, -1), r, wb)                        # (M,)
            ok = alive & ~diverging(loss.detach(), r)
            opt.zero_grad()
            torch.where(ok, loss, 0.0).sum().backward()
            ok &= torch.isfinite(sum(p.grad.reshape(m, -1).sum(dim=1) for p in params))    # NaN/inf propagate
            loss_sum += loss.detach() * (idx.shape[1] if wb is None else wb.sum(dim=1))
            with torch.no_grad():
                if not bool(ok.all()):
                    # models stop now or stopped earlier: they stay at their parameters of one
                    # step back, the last ones whose loss passed the divergence check
                    newly = alive & ~ok
                    if bool(newly.any()):
                        diverged_epoch[newly] = epoch + 1
                        frozen = [q.clone() for q in previous] if frozen is None else [
                            torch.where(_expand(newly, f, s_count, g_count), q, f) for q, f in zip(previous, frozen)]
                        alive = ok
                    for p in params:
                        p.grad.masked_fill_(~_expand(alive, p, s_count, g_count), 0.0)
                for p, q in zip(params, previous):
                    q.copy_(p)
                opt.step()
                if frozen is not None:
                    for p, f in zip(params, frozen):
                        p.copy_(torch.where(_expand(alive, p, s_count, g_count), p, f))
        history["train_loss"][:, epoch] = torch.where(alive, loss_sum / n_model, math.nan)
        scores = _evaluate(lambda xb: net.class_major(xb).reshape(m, data.num_classes, -1), x_test, y_test)
        for name, values in scores.items():
            history[name][:, epoch] = values
        if restart and epoch < cfg.warmup_epochs:
            with torch.no_grad():
                better = scores["test_acc"] > best_acc                  # first best epoch, as argmax
                best_acc = torch.where(better, scores["test_acc"], best_acc)
                for b, p in zip(best_params, params):
                    b.copy_(torch.where(_expand(better, p, s_count, g_count), p, b))
        if on_epoch is not None:
            on_epoch()

    shape = (s_count, g_count)
    as_np = lambda t: (t.double() if t.is_floating_point() else t).cpu().numpy().reshape(*shape, *t.shape[1:])
    return _ChunkResult({k: as_np(v) for k, v in history.items()}, as_np(diverged_epoch),
                        net if keep_model else None)


def _expand(mask: Tensor, like: Tensor, s: int, g: int) -> Tensor:
    """(M,) model mask -> broadcastable to a stacked parameter of shape (S, G, ...)."""
    return mask.view(s, g, *([1] * (like.dim() - 2)))


# ---------------------------------------------------------------- one model
@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        model: the trained plain ``nn.Module`` ((N, D) -> (N, K) logits), on the training device
            (a model that diverged: its frozen last-good parameters).
        history: DataFrame, one row per epoch: epoch (1-based), train_loss (mean GLS loss
            on the noisy labels; NaN from the divergence epoch on), test_acc (clean test
            labels, fraction), confidence (mean max-softmax probability on the test set),
            model_confidence (mean MC = p_y - max_{k!=y} p_k on the clean test labels, in [-1, 1]).
        noisy_labels: the (N_train,) labels it was trained on.
        diverged: whether the model was stopped (see the module docstring).
        diverged_epoch: the 1-based epoch of its first diverging step, ``None`` when it never diverged.

    ``test_acc``, ``best_test_acc`` and ``best_epoch`` mean what the sweep's columns of those
    names mean (module docstring): always finite, for diverged models too.
    """

    model: nn.Module
    history: pd.DataFrame
    noisy_labels: Tensor
    diverged: bool
    diverged_epoch: int | None

    @property
    def test_acc(self) -> float:
        """The last epoch's clean test accuracy."""
        return float(self.history["test_acc"].iloc[-1])

    @property
    def best_test_acc(self) -> float:
        """The largest clean test accuracy over the epochs."""
        return float(self.history["test_acc"].max())

    @property
    def best_epoch(self) -> int:
        """The first (1-based) epoch that reached :attr:`best_test_acc`."""
        return int(self.history["epoch"].iloc[int(np.argmax(self.history["test_acc"].to_numpy()))])


def _fit_config(noise_kind, model, epochs, batch_size, optimizer, lr, weight_decay, warmup_epochs, gls_lr_scale,
                hidden, channels, warmup_restart) -> TrainConfig:
    return TrainConfig(noise_kind=noise_kind, model=model, epochs=epochs, batch_size=batch_size,
                       optimizer=optimizer, lr=_item(lr), weight_decay=_item(weight_decay),
                       warmup_epochs=warmup_epochs, gls_lr_scale=_item(gls_lr_scale), hidden=hidden,
                       channels=channels, warmup_restart=warmup_restart)


def _one_model(smooth_rate, noise_rate, seed) -> tuple[float, float, int]:
    return (_check_rate(_one(smooth_rate, "smooth_rate"), "smooth_rate"),
            _check_noise_rate(_one(noise_rate, "noise_rate"), "noise_rate"),
            _check_seed(_one(seed, "seed"), "seed"))


def fit(data: Dataset, smooth_rate: float, noise_rate: float, seed: int, *, noise_kind: str = "symmetric",
        model: str = "linear", epochs: int = 30, batch_size: int = 128, optimizer: str = "adam",
        lr: float = 1e-2, weight_decay: float = 0.0, warmup_epochs: int = 0, gls_lr_scale: float = 1.0,
        hidden: int = _models.DEFAULT_HIDDEN, channels: int = _models.DEFAULT_CHANNELS,
        warmup_restart: str = "continue", device: str = "auto", progress: bool = False,
        warn: bool = True) -> FitResult:
    """Train one model with GLS rate ``smooth_rate`` on labels with ``noise_rate`` noise.

    Lessons 02-03 (the live retrain). The same engine and pairing as :func:`sweep` (a grid
    of one), so ``fit(data, r, eps, s).history`` matches the sweep's row (r, eps, s).
    ``smooth_rate``, ``noise_rate`` and ``seed`` are one number each (a 0-d tensor counts;
    for many, use :func:`sweep`). Other arguments as :func:`sweep` (``warn=False`` silences
    the divergence warning); returns a :class:`FitResult`.
    """
    from tqdm.auto import tqdm

    r, eps, seed = _one_model(smooth_rate, noise_rate, seed)
    cfg = _fit_config(noise_kind, model, epochs, batch_size, optimizer, lr, weight_decay, warmup_epochs,
                      gls_lr_scale, hidden, channels, warmup_restart)
    data = _check_data(data)
    progress, warn = _check_flag(progress, "progress"), _check_flag(warn, "warn")
    with tqdm(total=epochs, disable=not progress, unit="epoch", desc=f"fit r={r:g} eps={eps:g}") as bar:
        out = _train_chunk(data, [seed], [(eps, r)], cfg, device, on_epoch=lambda: bar.update(1),
                           keep_model=True)
    div = int(out.diverged_epoch[0, 0]) or None
    if div and warn:
        warnings.warn(f"the model (r={r}, eps={eps}, seed={seed}) diverged in epoch {div} and was stopped "
                      "there; try warmup_epochs with a small gls_lr_scale", DivergenceWarning, stacklevel=2)
    history = pd.DataFrame({"epoch": np.arange(1, epochs + 1), **{k: v[0, 0] for k, v in out.history.items()}})
    return FitResult(out.net.module(0, 0), history, noisy_labels(data, noise_kind, eps, seed), div is not None, div)


def reference_fit(data: Dataset, smooth_rate: float, noise_rate: float, seed: int, *,
                  noise_kind: str = "symmetric", model: str = "linear", epochs: int = 30,
                  batch_size: int = 128, optimizer: str = "adam", lr: float = 1e-2,
                  weight_decay: float = 0.0, warmup_epochs: int = 0, gls_lr_scale: float = 1.0,
                  hidden: int = _models.DEFAULT_HIDDEN, channels: int = _models.DEFAULT_CHANNELS,
                  warmup_restart: str = "continue", device: str = "cpu") -> tuple[nn.Module, pd.DataFrame]:
    """The textbook loop: one ``nn.Module``, one ``torch.optim`` optimiser, one batch at a time.

    Lesson 04 uses it as the yardstick of the stacked engine (same pairing, no divergence
    handling): a test checks that :func:`sweep` returns the same numbers, and
    ``bench/sweep.py`` times it. With ``warmup_restart="best"`` it keeps a copy of the
    ``state_dict`` of the best warm-up epoch, loads it when GLS starts and builds a new
    optimiser, as the official code does. Returns (model, history) with history as in
    :class:`FitResult`.
    """
    import copy

    r, eps, seed = _one_model(smooth_rate, noise_rate, seed)
    cfg = _fit_config(noise_kind, model, epochs, batch_size, optimizer, lr, weight_decay, warmup_epochs,
                      gls_lr_scale, hidden, channels, warmup_restart)
    data = _check_data(data)
    dev = resolve_device(device)
    net = _models.plain_model(model, data.in_features, data.num_classes, seed, hidden=hidden,
                              channels=channels).to(dev)
    opt = _make_optimizer(net.parameters(), cfg)
    x, y = data.x_train.to(dev), noisy_labels(data, noise_kind, eps, seed).to(dev)
    order = batch_order(len(y), seed)
    rows, best = [], (-1.0, None)
    for epoch in range(epochs):
        if warmup_restart == "best" and epoch == warmup_epochs:
            net.load_state_dict(best[1])
            opt = _make_optimizer(net.parameters(), cfg)
        for group in opt.param_groups:
            group["lr"] = cfg.lr_at(epoch)
        rate = 0.0 if epoch < warmup_epochs else r
        perm, total = next(order).to(dev), 0.0
        for start in range(0, len(y), batch_size):
            idx = perm[start:start + batch_size]
            loss = gls_loss(net(x[idx]), y[idx], rate)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        scores = {k: float(v) for k, v in
                  _evaluate(lambda xb: net(xb).T, data.x_test.to(dev), data.y_test.to(dev)).items()}
        if epoch < warmup_epochs and scores["test_acc"] > best[0]:
            best = (scores["test_acc"], copy.deepcopy(net.state_dict()))
        rows.append({"epoch": epoch + 1, "train_loss": total / len(y), **scores})
    return net, pd.DataFrame(rows)


# ---------------------------------------------------------------- the grid
def _chunks(seeds: list[int], configs: list, max_models: int) -> list[tuple[list[int], list]]:
    """Split seeds x configs into rectangular blocks of at most ``max_models`` models
    (whole seeds when possible, so a block shares each batch gather among many models)."""
    per_block = max(1, min(len(configs), max_models))
    seeds_per_block = max(1, max_models // per_block)
    return [(seeds[i:i + seeds_per_block], configs[j:j + per_block])
            for i in range(0, len(seeds), seeds_per_block) for j in range(0, len(configs), per_block)]


def _check_memory_budget(memory_budget) -> float | None:
    memory_budget = _item(memory_budget)
    if memory_budget is None:
        return None
    if not _is_real(memory_budget):
        raise TypeError(f"memory_budget must be a number of bytes > 0 (or None for the default), "
                        f"got {memory_budget!r}")
    if not math.isfinite(memory_budget) or memory_budget <= 0:
        raise ValueError(f"memory_budget must be a finite number of bytes > 0 (or None for the default), "
                         f"got {memory_budget!r}")
    return float(memory_budget)


def models_per_chunk(data: Dataset, cfg: TrainConfig, device: str, memory_budget: int | None = None) -> int:
    """How many models fit one chunk: parameters with gradients and optimiser state, and
    the activations of a training batch and of an evaluation batch, within the budget
    (bytes, a finite number > 0; default :data:`DEFAULT_MEMORY_BUDGET`)."""
    dev = resolve_device(device)
    memory_budget = _check_memory_budget(memory_budget)
    if memory_budget is None:
        memory_budget = DEFAULT_MEMORY_BUDGET.get(dev.type)
        if memory_budget is None:
            free, _ = torch.cuda.mem_get_info(dev)
            memory_budget = free // 2
    numel = _models.Stacked(cfg.model, data.in_features, data.num_classes, [0], 1,
                            hidden=cfg.hidden, channels=cfg.channels).numel_per_model()
    acts = _models.activations_per_sample(cfg.model, data.in_features, data.num_classes,
                                          hidden=cfg.hidden, channels=cfg.channels)
    eval_acts = acts // 4 * min(EVAL_BATCH, len(data.y_test))      # no gradients kept
    per_model = 4 * (6 * numel + acts * cfg.batch_size + eval_acts + len(EPOCH_METRICS) * cfg.epochs)
    return max(1, int(memory_budget // per_model))


def _run_chunk(data, seeds, configs, cfg, device) -> _ChunkResult:
    """What a Dask worker runs: one chunk, numbers only."""
    return _train_chunk(data, seeds, configs, cfg, device)


# ---------------------------------------------------------------- the cache
CACHE_FORMAT = 2
"""Version of the cache entry layout (CSV + CSV + JSON sidecar with checksums)."""


class _Unusable(Exception):
    """A cache entry failed a check: ``path`` is the file, ``reason`` what was wrong."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _cache_key(data: Dataset, smooth_rates, noise_rates, seeds, cfg: TrainConfig) -> tuple[str, dict]:
    config = {"data": {"name": data.name, "fingerprint": data.fingerprint(), "num_classes": data.num_classes,
                       "train_shape": list(data.x_train.shape), "test_shape": list(data.x_test.shape)},
              "smooth_rates": smooth_rates, "noise_rates": noise_rates, "seeds": seeds, "train": asdict(cfg),
              "divergence_loss": _losses.DIVERGENCE_LOSS, "nls_lessons": nls_lessons.__version__,
              "code": CODE_FINGERPRINT, "torch": torch.__version__.split("+")[0], "format": CACHE_FORMAT}
    text = json.dumps(config, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24], json.loads(text)


def _cache_paths(cache, key: str) -> dict[str, Path]:
    if not isinstance(cache, (str, os.PathLike)):
        raise TypeError(f"cache must be a directory path (str or pathlib.Path) or None, got {type(cache).__name__}")
    directory = Path(cache)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"cache must be a directory, but {str(directory)!r} is an existing file; "
                         "pass a directory (it is created if missing) or cache=None")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cache={str(directory)!r} cannot be created as a directory: {exc.strerror or exc}") from None
    return {part: directory / f"sweep-{key}{suffix}" for part, suffix in
            (("results", ".csv"), ("history", "-history.csv"), ("meta", ".json"))}


def _read_cache(paths: dict[str, Path], config: dict, cfg: TrainConfig, smooth_rates, noise_rates, seeds):
    """The cached (results, history), or None when there is no entry or it fails a check
    (then a :class:`SweepCacheWarning` names the file). Never raises on a bad file."""
    if not any(p.exists() for p in paths.values()):
        return None
    try:
        meta = _read_meta(paths["meta"])
        if meta.get("config") != config:
            raise _Unusable(paths["meta"], "it describes another configuration")
        frames = {part: _read_csv(paths[part], meta) for part in ("results", "history")}
        try:
            _check_frames(frames, paths, cfg, smooth_rates, noise_rates, seeds)
        except _Unusable:
            raise
        except Exception as exc:       # whatever a forged but checksummed file holds: recompute
            raise _Unusable(paths["results"], f"unexpected content ({type(exc).__name__})") from None
    except _Unusable as bad:
        warnings.warn(f"sweep cache file {bad.path} is unusable ({bad.reason}); recomputing the sweep",
                      SweepCacheWarning, stacklevel=3)
        return None
    return frames["results"], frames["history"]


def _read_meta(path: Path) -> dict:
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise _Unusable(path, "the entry's JSON sidecar is missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _Unusable(path, f"not a readable JSON sidecar: {type(exc).__name__}") from None
    if not isinstance(meta, dict) or meta.get("format") != CACHE_FORMAT or not isinstance(meta.get("files"), dict):
        raise _Unusable(path, f"not a format-{CACHE_FORMAT} sidecar")
    return meta


def _read_csv(path: Path, meta: dict) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _Unusable(path, f"cannot be read ({type(exc).__name__})") from None
    expected = meta["files"].get(path.name)
    if not isinstance(expected, dict) or hashlib.sha256(raw).hexdigest() != expected.get("sha256"):
        raise _Unusable(path, "its SHA-256 does not match the sidecar's (truncated, edited or replaced)")
    try:
        frame = pd.read_csv(io.BytesIO(raw),
                            dtype={k: v for k, v in _RESULT_DTYPES.items() if k != "diverged"})
    except Exception as exc:       # a checksummed file should parse; if not, recompute
        raise _Unusable(path, f"cannot be parsed ({type(exc).__name__})") from None
    if len(frame) != expected.get("rows"):
        raise _Unusable(path, f"{len(frame)} rows, the sidecar says {expected.get('rows')}")
    return frame


def _check_frames(frames, paths, cfg, smooth_rates, noise_rates, seeds) -> None:
    """Columns, dtypes and one row per grid point (results) / model and epoch (history)."""
    grid = pd.DataFrame(list(itertools.product(noise_rates, smooth_rates, seeds)),
                        columns=["noise_rate", "smooth_rate", "seed"])
    for part, columns, repeat in (("results", RESULT_COLUMNS, 1), ("history", HISTORY_COLUMNS, cfg.epochs)):
        frame, path = frames[part], paths[part]
        if list(frame.columns) != list(columns):
            raise _Unusable(path, f"columns {list(frame.columns)}, expected {list(columns)}")
        if len(frame) != len(grid) * repeat:
            raise _Unusable(path, f"{len(frame)} rows, expected {len(grid) * repeat} for this grid")
        keys = grid.loc[grid.index.repeat(repeat)].reset_index(drop=True)
        same = all(np.array_equal(frame[c].to_numpy(dtype=float), keys[c].to_numpy(dtype=float)) for c in keys)
        if not same or not (frame["noise_kind"] == cfg.noise_kind).all():
            raise _Unusable(path, "its rows are not this sweep's grid")
        if part == "history" and not np.array_equal(frame["epoch"].to_numpy(),
                                                    np.tile(np.arange(1, cfg.epochs + 1), len(grid))):
            raise _Unusable(path, f"its epochs are not 1..{cfg.epochs} per model")
    results = frames["results"]
    if results["diverged"].dtype != bool or not (results["diverged"] == results["diverged_epoch"].notna()).all():
        raise _Unusable(paths["results"], "its diverged / diverged_epoch columns disagree")
    results["diverged_epoch"] = results["diverged_epoch"].astype("Int64")


def _write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to a unique temporary file next to ``path``, then move it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_cache(paths: dict[str, Path], config: dict, results: pd.DataFrame, history: pd.DataFrame) -> None:
    """The two CSVs first, then the sidecar with their checksums (readers check it)."""
    files = {}
    try:
        for part, frame in (("results", results), ("history", history)):
            payload = frame.to_csv(index=False).encode("utf-8")
            _write_atomic(paths[part], payload)
            files[paths[part].name] = {"sha256": hashlib.sha256(payload).hexdigest(), "rows": len(frame)}
        meta = {"format": CACHE_FORMAT, "config": config, "files": files}
        _write_atomic(paths["meta"], json.dumps(meta, indent=1, sort_keys=True).encode("utf-8"))
    except OSError as exc:
        warnings.warn(f"the sweep cache entry {paths['meta']} could not be written ({exc}); the results are "
                      "returned but not cached", SweepCacheWarning, stacklevel=3)


# ---------------------------------------------------------------- the sweep
def sweep(data: Dataset, smooth_rates, noise_rates, seeds, *, noise_kind: str = "symmetric",
          model: str = "linear", epochs: int = 30, batch_size: int = 128, optimizer: str = "adam",
          lr: float = 1e-2, weight_decay: float = 0.0, warmup_epochs: int = 0, gls_lr_scale: float = 1.0,
          hidden: int = _models.DEFAULT_HIDDEN, channels: int = _models.DEFAULT_CHANNELS,
          warmup_restart: str = "continue", device: str = "auto", progress: bool = True,
          cache: str | os.PathLike | None = None, client=None, max_models_per_chunk: int | None = None,
          memory_budget: int | None = None, return_history: bool = False):
    """Train every (noise rate, smooth rate, seed) model of a grid; lesson 04's workhorse.

    Args:
        data: a :class:`nls_lessons.data.Dataset` with flat features (N, D), all finite.
        smooth_rates: GLS rates r <= 1 (r < 0 is NLS); a number counts as a grid of one.
        noise_rates: noise rates eps in [0, 1) of kind ``noise_kind``.
        seeds: non-negative integers; each seeds the initialisation, the batch order and
            (with eps and the kind) the noisy labels, shared by every r (paired comparisons).
        noise_kind: "symmetric", "pairflip" or "asymmetric" (see ``noise.transition_matrix``).
        model: "linear", "mlp" (``hidden`` units) or "cnn" (``channels``), see ``models``.
        epochs: total epochs, the warm-up included.
        batch_size, optimizer ("adam", or "sgd" with momentum 0.9), lr, weight_decay: as torch.optim.
        warmup_epochs: this many epochs of plain CE at ``lr`` first, then GLS at
            ``lr * gls_lr_scale`` (the warm-up route of the official protocol).
        gls_lr_scale: the GLS phase's learning-rate factor.
        warmup_restart: how the GLS phase starts after the warm-up. "continue" (default):
            from the last warm-up epoch, the optimiser state carried over (the course's toy
            route, lessons 03-04). "best": from each model's best warm-up epoch (highest clean
            test accuracy) with a fresh optimiser: what the official code does
            (``main_GLS_load.py`` loads the best-test-accuracy warm-up checkpoint).
        device: "auto" (CUDA when present), "cpu" or "cuda".
        progress: show a tqdm progress bar over epochs x chunks.
        cache: a directory (created if missing; an existing file is an error). Results are
            stored there as CSV + CSV + JSON sidecar under a hash of the full configuration
            (data fingerprint, grid, every hyper-parameter, a fingerprint of the training
            code, library and torch versions) and read back instantly when the same sweep is
            asked for again; an entry that fails a check is recomputed with a
            :class:`SweepCacheWarning` (module docstring). The device is not part of the key:
            a CPU and a GPU run agree to float tolerance.
        client: a ``dask.distributed.Client``; each chunk then runs as one task on its
            workers (the local numbers, bit for bit, with the same torch build and threads).
        max_models_per_chunk, memory_budget: bound the models trained together (default:
            as many as fit ``memory_budget`` bytes, a finite number > 0, see :func:`models_per_chunk`).
        return_history: also return the per-epoch history.

    Returns:
        ``results``: a DataFrame with one row per (noise_rate, smooth_rate, seed), in grid
        order, and columns noise_kind, noise_rate, smooth_rate, seed, test_acc (final
        epoch), best_test_acc (the largest over epochs), best_epoch (1-based, the first epoch
        that reached it; the official code reports the best-epoch test accuracy),
        confidence (final mean max-softmax probability on the test set), model_confidence
        (final mean MC = p_y - max_{k!=y} p_k, clean test labels), train_loss (final
        epoch's mean GLS loss on the noisy labels; NaN for a diverged model), diverged
        (bool), diverged_epoch (nullable Int64: the 1-based epoch of the first diverging
        step, ``pandas.NA`` when never). Accuracies are fractions in [0, 1] on the clean
        test labels, always finite (diverged models: see the module docstring).
        With ``return_history=True``: ``(results, history)``, history a long DataFrame with
        one row per model and epoch (noise_kind, noise_rate, smooth_rate, seed, epoch,
        train_loss, test_acc, confidence, model_confidence), ready for ``groupby`` plots.

    A model that diverges is stopped, flagged and reported in one :class:`DivergenceWarning`;
    see the module docstring.
    """
    data = _check_data(data)
    smooth_rates, noise_rates, seeds = check_grid(smooth_rates, noise_rates, seeds)
    cfg = _fit_config(noise_kind, model, epochs, batch_size, optimizer, lr, weight_decay, warmup_epochs,
                      gls_lr_scale, hidden, channels, warmup_restart)
    max_models_per_chunk = _item(max_models_per_chunk)
    if max_models_per_chunk is not None and (not _is_int(max_models_per_chunk) or max_models_per_chunk < 1):
        raise ValueError(f"max_models_per_chunk must be an integer >= 1 (or None), got {max_models_per_chunk!r}")
    memory_budget = _check_memory_budget(memory_budget)
    progress, return_history = _check_flag(progress, "progress"), _check_flag(return_history, "return_history")
    if client is not None and not all(callable(getattr(client, name, None)) for name in ("scatter", "submit", "gather")):
        raise TypeError(f"client must be a dask.distributed.Client (or None to train here), "
                        f"got {type(client).__name__}")
    resolve_device(device)

    paths = None
    if cache is not None:
        key, config = _cache_key(data, smooth_rates, noise_rates, seeds, cfg)
        paths = _cache_paths(cache, key)
        hit = _read_cache(paths, config, cfg, smooth_rates, noise_rates, seeds)
        if hit is not None:
            return hit if return_history else hit[0]

    configs = list(itertools.product(noise_rates, smooth_rates))
    capacity = max_models_per_chunk or models_per_chunk(data, cfg, device, memory_budget)
    chunks = _chunks(seeds, configs, capacity)
    outputs = _run_chunks(data, chunks, cfg, device, progress, client)
    results, history = _tidy(chunks, outputs, cfg, smooth_rates, noise_rates, seeds)

    stopped = results[results["diverged"]]
    if len(stopped):
        listed = ", ".join(f"(eps={row.noise_rate:g}, r={row.smooth_rate:g}, seed={row.seed}, "
                           f"epoch {row.diverged_epoch})" for row in stopped.itertuples())
        warnings.warn(f"{len(stopped)} of {len(results)} models diverged and were stopped: {listed}. "
                      "Their rows have diverged=True; try warmup_epochs with a small gls_lr_scale.",
                      DivergenceWarning, stacklevel=2)
    if paths is not None:
        _write_cache(paths, config, results, history)
    return (results, history) if return_history else results


def _run_chunks(data, chunks, cfg, device, progress, client) -> list[_ChunkResult]:
    from tqdm.auto import tqdm

    n_models = sum(len(s) * len(c) for s, c in chunks)
    bar = tqdm(total=len(chunks) * cfg.epochs, disable=not progress, unit="epoch",
               desc=f"sweep: {n_models} models in {len(chunks)} chunk{'s' * (len(chunks) > 1)}")
    try:
        if client is None:
            return [_train_chunk(data, seeds, configs, cfg, device, on_epoch=lambda: bar.update(1))
                    for seeds, configs in chunks]
        from dask.distributed import as_completed

        # hash=False: a fresh key for every sweep. With content hashing, a sweep on the same
        # data reused the previous sweep's key while the scheduler was still releasing it,
        # and its tasks failed with "lost dependencies". The future stays referenced until
        # every result is gathered.
        remote_data = client.scatter(data, broadcast=True, hash=False)
        futures = [client.submit(_run_chunk, remote_data, seeds, configs, cfg, device, pure=False)
                   for seeds, configs in chunks]
        for _ in as_completed(futures):
            bar.update(cfg.epochs)
        outputs = client.gather(futures)
        del futures, remote_data
        return outputs
    finally:
        bar.close()


def _tidy(chunks, outputs, cfg, smooth_rates, noise_rates, seeds) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chunk arrays -> the results and history frames, rows in grid order (eps, r, seed)."""
    rows, hist = [], []
    for (chunk_seeds, chunk_configs), out in zip(chunks, outputs):
        for si, seed in enumerate(chunk_seeds):
            for gi, (eps, r) in enumerate(chunk_configs):
                curves = {k: v[si, gi] for k, v in out.history.items()}
                acc = curves["test_acc"]
                best = int(np.argmax(acc))
                div = int(out.diverged_epoch[si, gi])
                rows.append((cfg.noise_kind, eps, r, seed, float(acc[-1]), float(acc[best]), best + 1,
                             float(curves["confidence"][-1]), float(curves["model_confidence"][-1]),
                             float(curves["train_loss"][-1]), div > 0, div if div else pd.NA))
                hist.append(pd.DataFrame({"noise_kind": cfg.noise_kind, "noise_rate": eps, "smooth_rate": r,
                                          "seed": seed, "epoch": np.arange(1, cfg.epochs + 1), **curves}))
    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).astype(_RESULT_DTYPES)
    order = {"noise_rate": noise_rates, "smooth_rate": smooth_rates, "seed": seeds}
    rank = lambda col: col.map({v: i for i, v in enumerate(order[col.name])})
    results = results.sort_values(list(order), key=rank, kind="stable").reset_index(drop=True)
    history = pd.concat(hist, ignore_index=True).sort_values(list(order) + ["epoch"], key=lambda c: (
        c if c.name == "epoch" else rank(c)), kind="stable").reset_index(drop=True)
    return results, history


# ---------------------------------------------------------------- choosing r on your own data (lesson 06)
def _subset(data: Dataset, train_idx, x_test: Tensor, y_test: Tensor, tag: str) -> Dataset:
    """A Dataset training on ``data``'s rows ``train_idx`` (labels as given) and testing on (x_test, y_test)."""
    idx = torch.as_tensor(train_idx, dtype=torch.int64)
    return Dataset(data.x_train[idx], data.y_train[idx], x_test, y_test, data.num_classes, f"{data.name}|{tag}")


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
    """(TrainConfig, device) from keyword arguments of :func:`fit`, its defaults filling the rest."""
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
        **fit_kwargs: as :func:`fit` (model, epochs, lr, ...).

    Returns:
        float64 array of shape (N_train, K): row i is the held-out model's softmax for sample i.
    """
    from sklearn.model_selection import StratifiedKFold
    from tqdm.auto import tqdm

    data = _check_data(data)
    if not _is_int(folds) or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
    seed = _check_seed(seed, "seed")
    rate = _check_rate(_one(smooth_rate, "smooth_rate"), "smooth_rate")
    cfg, device = _fit_kwargs_config(fit_kwargs, "out_of_sample_probs")
    progress = _check_flag(progress, "progress")
    y = data.y_train.cpu().numpy()
    counts = np.bincount(y, minlength=data.num_classes)
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
    with tqdm(total=cfg.epochs, disable=not progress, unit="epoch", desc=f"{folds} folds") as bar:
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
    from ``seeds[0]``) is held out. Every rate trains on the rest with :func:`sweep` (labels as
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
        smooth_rates: the candidate rates, numbers <= 1 (a grid, as for :func:`sweep`).
        validation_fraction: in (0, 1).
        seeds: the seeds to average over (non-negative integers).
        prior_rate: breaks ties (a finite number <= 1).
        progress, **fit_kwargs: as :func:`sweep` (model, epochs, lr, warmup_epochs, ...).

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
