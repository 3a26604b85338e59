"""Training: one model (:func:`fit`), and a whole grid of models at once (:func:`sweep`).

Lessons 02-03 (``fit`` behind the live retrain), 04 (``sweep``: smooth rate r x noise
rate eps x seed on digits in seconds), 05 (the warm-up protocol).

How a sweep is paired. For a seed s and a noise rate eps:
  * the noisy training labels are ``noise.inject`` with a seed derived from
    (s, noise kind, eps) (:func:`noisy_labels`), the same for every smooth rate r;
  * the initial weights are :func:`nls_lessons.models.plain_model` under seed s;
  * the mini-batch order is drawn from a generator seeded from s (:func:`batch_order`).
So two rows of a sweep that differ only in r differ only in the loss.

The stacked engine. All models of a chunk of the grid train as one
:class:`nls_lessons.models.Stacked` model: each step gathers every seed's mini-batch once,
computes the (M, B, K) logits of all M models, their M GLS losses, and takes one optimiser
step on the stacked parameters. Adam and SGD act element by element, so this is exactly
M separate optimisers; a test checks the result against a plain ``nn.Module`` +
``torch.optim`` loop (:func:`reference_fit`).

Divergence. NLS (r < 0) is unbounded below, so a model can run away. A model is stopped
at the first step where its mini-batch loss is not finite or below
``DIVERGENCE_LOSS * (1 - r)`` (logit margins of thousands: its softmax is saturated and
nothing more is learned), or where a gradient is not finite. Its parameters are frozen at
their values of one step before (the last ones whose loss passed the check); it is flagged ``diverged=True`` with the epoch it happened in,
and one :class:`DivergenceWarning` lists every stopped model. Its test accuracy and
confidences keep being evaluated on the frozen parameters (always finite numbers); its
``train_loss`` is NaN from the divergence epoch on. The other models go on untouched.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import warnings
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

import nls_lessons
from nls_lessons import models as _models
from nls_lessons import noise as _noise
from nls_lessons.data import Dataset
from nls_lessons.device import resolve_device
from nls_lessons.losses import check_smooth_rate, gls_loss

OPTIMIZERS = ("adam", "sgd")
SGD_MOMENTUM = 0.9
DIVERGENCE_LOSS = -1e4
"""A model whose mini-batch loss falls below ``DIVERGENCE_LOSS * (1 - r)`` is stopped."""
DEFAULT_MEMORY_BUDGET = {"cpu": 2 * 2**30, "cuda": None}
"""Bytes a chunk of models may use; ``None`` on CUDA means half of the free GPU memory."""
EVAL_BATCH = 2048

EPOCH_METRICS = ("train_loss", "test_acc", "confidence", "model_confidence")
"""Measured after every epoch (see :func:`sweep`)."""
RESULT_COLUMNS = ("noise_kind", "noise_rate", "smooth_rate", "seed", "test_acc", "best_test_acc",
                  "best_epoch", "confidence", "model_confidence", "train_loss", "diverged", "diverged_epoch")
HISTORY_COLUMNS = ("noise_kind", "noise_rate", "smooth_rate", "seed", "epoch", *EPOCH_METRICS)


class DivergenceWarning(RuntimeWarning):
    """Some models of a sweep ran away (NLS is unbounded below) and were stopped."""


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

    def __post_init__(self):
        if self.noise_kind not in _noise.KINDS:
            raise ValueError(f"noise_kind must be one of {_noise.KINDS}, got {self.noise_kind!r}")
        _models.check_architecture(self.model)
        if self.optimizer not in OPTIMIZERS:
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
            if not isinstance(value, Real) or not math.isfinite(value) or value < 0 or (positive and value == 0):
                raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, "
                                 f"got {value!r}")

    def lr_at(self, epoch: int) -> float:
        """Learning rate of (0-based) ``epoch``: lr in the CE warm-up, lr x gls_lr_scale after."""
        return self.lr if epoch < self.warmup_epochs else self.lr * self.gls_lr_scale


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _as_list(values, name: str) -> list:
    if isinstance(values, (Real, np.number)) and not isinstance(values, (bool, np.bool_)):
        values = [values]
    try:
        values = list(values.tolist() if isinstance(values, (np.ndarray, Tensor)) else values)
    except TypeError:
        raise ValueError(f"{name} must be a number or a non-empty sequence of numbers, got {values!r}") from None
    if not values:
        raise ValueError(f"{name} must not be empty: give at least one value")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} must not repeat values, got {values}")
    return values


def check_grid(smooth_rates, noise_rates, seeds) -> tuple[list[float], list[float], list[int]]:
    """Validate a sweep grid; a single number counts as a grid of one. Returns three lists."""
    smooth_rates = _as_list(smooth_rates, "smooth_rates")
    if not all(isinstance(r, (Real, np.number)) and not isinstance(r, (bool, np.bool_)) for r in smooth_rates):
        raise ValueError(f"smooth_rates must be numbers <= 1, got {smooth_rates!r}")
    smooth_rates = [float(r) for r in smooth_rates]
    check_smooth_rate(smooth_rates, "smooth_rates")
    noise_rates = [_noise.check_noise_rate(e, "noise_rates") for e in _as_list(noise_rates, "noise_rates")]
    seeds = _as_list(seeds, "seeds")
    for s in seeds:
        if not _is_int(s) or s < 0:
            raise ValueError(f"seeds must be non-negative integers, got {s!r} in {seeds}")
    return smooth_rates, noise_rates, [int(s) for s in seeds]


def _check_data(data) -> Dataset:
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be an nls_lessons.data.Dataset (e.g. data.digits()), "
                         f"got {type(data).__name__}")
    if len(data.feature_shape) != 1:
        raise ValueError(f"the sweep's models read flat features (N, D); got feature shape "
                         f"{data.feature_shape}")
    return data


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
def stacked_gls_loss(logits: Tensor, labels: Tensor, smooth_rate: Tensor) -> Tensor:
    """Mean GLS loss per model: logits (M, K, B), labels (M, B), smooth_rate (M,) -> (M,)."""
    logp = torch.log_softmax(logits, dim=1)
    nll = -logp.gather(1, labels.unsqueeze(1)).squeeze(1)             # (M, B)
    uniform_ce = -logp.mean(dim=1)                                     # (M, B)
    r = smooth_rate[:, None]
    return ((1 - r) * nll + r * uniform_ce).mean(dim=1)


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
    diverged_epoch of shape (S, G) (0 = never, else the 1-based epoch)."""

    history: dict[str, np.ndarray]
    diverged_epoch: np.ndarray
    net: _models.Stacked | None = field(default=None, repr=False)


def _train_chunk(data: Dataset, seeds: list[int], configs: list[tuple[float, float]], cfg: TrainConfig,
                 device: str, on_epoch=None, keep_model: bool = False) -> _ChunkResult:
    """Train len(seeds) x len(configs) models, configs being (noise_rate, smooth_rate) pairs."""
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

    net = _models.Stacked(cfg.model, data.in_features, data.num_classes, seeds, g_count, device=dev,
                          hidden=cfg.hidden, channels=cfg.channels)
    params = net.parameters()
    opt = _make_optimizer(params, cfg)
    orders = [batch_order(n, s) for s in seeds]
    limit = DIVERGENCE_LOSS * (1 - rates)
    alive = torch.ones(m, dtype=torch.bool, device=dev)
    with torch.no_grad():
        previous = [p.detach().clone() for p in params]   # parameters one step back
    frozen = None                                          # where stopped models stay
    history = {k: torch.zeros(m, cfg.epochs, device=dev) for k in EPOCH_METRICS}
    diverged_epoch = torch.zeros(m, dtype=torch.int64, device=dev)

    for epoch in range(cfg.epochs):
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
            loss = stacked_gls_loss(logits, yb.reshape(m, -1), r)                            # (M,)
            ok = alive & torch.isfinite(loss) & (loss >= limit)
            opt.zero_grad()
            torch.where(ok, loss, 0.0).sum().backward()
            ok &= torch.isfinite(sum(p.grad.reshape(m, -1).sum(dim=1) for p in params))    # NaN/inf propagate
            loss_sum += loss.detach() * idx.shape[1]
            with torch.no_grad():
                if not bool(ok.all()):
                    # models stop now or stopped earlier: they stay at their parameters of one
                    # step back, the last ones whose loss was finite and above the limit
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
        history["train_loss"][:, epoch] = torch.where(alive, loss_sum / n, math.nan)
        scores = _evaluate(lambda xb: net.class_major(xb).reshape(m, data.num_classes, -1), x_test, y_test)
        for name, values in scores.items():
            history[name][:, epoch] = values
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
        model: the trained plain ``nn.Module`` ((N, D) -> (N, K) logits), on the training device.
        history: DataFrame, one row per epoch: epoch (1-based), train_loss (mean GLS loss
            on the noisy labels), test_acc (clean test labels, fraction), confidence (mean
            max-softmax probability on the test set), model_confidence (mean
            MC = p_y - max_{k!=y} p_k on the clean test labels, in [-1, 1]).
        noisy_labels: the (N_train,) labels it was trained on.
        diverged, diverged_epoch: see the module docstring (diverged_epoch 0 = never).
    """

    model: nn.Module
    history: pd.DataFrame
    noisy_labels: Tensor
    diverged: bool
    diverged_epoch: int

    @property
    def test_acc(self) -> float:
        return float(self.history["test_acc"].iloc[-1])


def fit(data: Dataset, smooth_rate: float, noise_rate: float, seed: int, *, noise_kind: str = "symmetric",
        model: str = "linear", epochs: int = 30, batch_size: int = 128, optimizer: str = "adam",
        lr: float = 1e-2, weight_decay: float = 0.0, warmup_epochs: int = 0, gls_lr_scale: float = 1.0,
        hidden: int = _models.DEFAULT_HIDDEN, channels: int = _models.DEFAULT_CHANNELS,
        device: str = "auto", progress: bool = False, warn: bool = True) -> FitResult:
    """Train one model with GLS rate ``smooth_rate`` on labels with ``noise_rate`` noise.

    Lessons 02-03 (the live retrain). The same engine and pairing as :func:`sweep` (a grid
    of one), so ``fit(data, r, eps, s).history`` matches the sweep's row (r, eps, s).
    Arguments as :func:`sweep` (``warn=False`` silences the divergence warning); returns a
    :class:`FitResult`.
    """
    from tqdm.auto import tqdm

    (r,), (eps,), (seed,) = check_grid(smooth_rate, noise_rate, seed)
    cfg = TrainConfig(noise_kind, model, epochs, batch_size, optimizer, lr, weight_decay, warmup_epochs,
                      gls_lr_scale, hidden, channels)
    with tqdm(total=epochs, disable=not progress, unit="epoch", desc=f"fit r={r:g} eps={eps:g}") as bar:
        out = _train_chunk(_check_data(data), [seed], [(eps, r)], cfg, device, on_epoch=lambda: bar.update(1),
                           keep_model=True)
    div = int(out.diverged_epoch[0, 0])
    if div and warn:
        warnings.warn(f"the model (r={r}, eps={eps}, seed={seed}) diverged in epoch {div} and was stopped "
                      "there; try warmup_epochs with a small gls_lr_scale", DivergenceWarning, stacklevel=2)
    history = pd.DataFrame({"epoch": np.arange(1, epochs + 1), **{k: v[0, 0] for k, v in out.history.items()}})
    return FitResult(out.net.module(0, 0), history, noisy_labels(data, noise_kind, eps, seed), bool(div), div)


def reference_fit(data: Dataset, smooth_rate: float, noise_rate: float, seed: int, *,
                  noise_kind: str = "symmetric", model: str = "linear", epochs: int = 30,
                  batch_size: int = 128, optimizer: str = "adam", lr: float = 1e-2,
                  weight_decay: float = 0.0, warmup_epochs: int = 0, gls_lr_scale: float = 1.0,
                  hidden: int = _models.DEFAULT_HIDDEN, channels: int = _models.DEFAULT_CHANNELS,
                  device: str = "cpu") -> tuple[nn.Module, pd.DataFrame]:
    """The textbook loop: one ``nn.Module``, one ``torch.optim`` optimiser, one batch at a time.

    Lesson 04 uses it as the yardstick of the stacked engine (same pairing, no divergence
    handling): a test checks that :func:`sweep` returns the same numbers, and
    ``bench/sweep.py`` times it. Returns (model, history) with history as in :class:`FitResult`.
    """
    (r,), (eps,), (seed,) = check_grid(smooth_rate, noise_rate, seed)
    cfg = TrainConfig(noise_kind, model, epochs, batch_size, optimizer, lr, weight_decay, warmup_epochs,
                      gls_lr_scale, hidden, channels)
    dev = resolve_device(device)
    net = _models.plain_model(model, data.in_features, data.num_classes, seed, hidden=hidden,
                              channels=channels).to(dev)
    opt = _make_optimizer(net.parameters(), cfg)
    x, y = data.x_train.to(dev), noisy_labels(data, noise_kind, eps, seed).to(dev)
    order = batch_order(len(y), seed)
    rows = []
    for epoch in range(epochs):
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
        scores = _evaluate(lambda xb: net(xb).T, data.x_test.to(dev), data.y_test.to(dev))
        rows.append({"epoch": epoch + 1, "train_loss": total / len(y), **{k: float(v) for k, v in scores.items()}})
    return net, pd.DataFrame(rows)


# ---------------------------------------------------------------- the grid
def _chunks(seeds: list[int], configs: list, max_models: int) -> list[tuple[list[int], list]]:
    """Split seeds x configs into rectangular blocks of at most ``max_models`` models
    (whole seeds when possible, so a block shares each batch gather among many models)."""
    per_block = max(1, min(len(configs), max_models))
    seeds_per_block = max(1, max_models // per_block)
    return [(seeds[i:i + seeds_per_block], configs[j:j + per_block])
            for i in range(0, len(seeds), seeds_per_block) for j in range(0, len(configs), per_block)]


def models_per_chunk(data: Dataset, cfg: TrainConfig, device: str, memory_budget: int | None = None) -> int:
    """How many models fit one chunk: parameters with gradients and optimiser state, and
    the activations of a training batch and of an evaluation batch, within the budget
    (bytes; default :data:`DEFAULT_MEMORY_BUDGET`)."""
    dev = resolve_device(device)
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


def _cache_key(data: Dataset, smooth_rates, noise_rates, seeds, cfg: TrainConfig) -> tuple[str, dict]:
    config = {"data": {"name": data.name, "fingerprint": data.fingerprint(), "num_classes": data.num_classes,
                       "train_shape": list(data.x_train.shape), "test_shape": list(data.x_test.shape)},
              "smooth_rates": smooth_rates, "noise_rates": noise_rates, "seeds": seeds, "train": asdict(cfg),
              "divergence_loss": DIVERGENCE_LOSS, "nls_lessons": nls_lessons.__version__,
              "torch": torch.__version__.split("+")[0]}
    text = json.dumps(config, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24], config


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def sweep(data: Dataset, smooth_rates, noise_rates, seeds, *, noise_kind: str = "symmetric",
          model: str = "linear", epochs: int = 30, batch_size: int = 128, optimizer: str = "adam",
          lr: float = 1e-2, weight_decay: float = 0.0, warmup_epochs: int = 0, gls_lr_scale: float = 1.0,
          hidden: int = _models.DEFAULT_HIDDEN, channels: int = _models.DEFAULT_CHANNELS,
          device: str = "auto", progress: bool = True, cache: str | os.PathLike | None = None,
          client=None, max_models_per_chunk: int | None = None, memory_budget: int | None = None,
          return_history: bool = False):
    """Train every (noise rate, smooth rate, seed) model of a grid; lesson 04's workhorse.

    Args:
        data: a :class:`nls_lessons.data.Dataset` with flat features (N, D).
        smooth_rates: GLS rates r <= 1 (r < 0 is NLS); a number counts as a grid of one.
        noise_rates: noise rates eps in [0, 1) of kind ``noise_kind``.
        seeds: non-negative integers; each seeds the initialisation, the batch order and
            (with eps and the kind) the noisy labels, shared by every r (paired comparisons).
        noise_kind: "symmetric", "pairflip" or "asymmetric" (see ``noise.transition_matrix``).
        model: "linear", "mlp" (``hidden`` units) or "cnn" (``channels``), see ``models``.
        epochs: total epochs, the warm-up included.
        batch_size, optimizer ("adam", or "sgd" with momentum 0.9), lr, weight_decay: as torch.optim.
        warmup_epochs: the official protocol: this many epochs of plain CE at ``lr`` first,
            then GLS at ``lr * gls_lr_scale`` (the optimiser state carries over).
        gls_lr_scale: the GLS phase's learning-rate factor.
        device: "auto" (CUDA when present), "cpu" or "cuda".
        progress: show a tqdm progress bar over epochs x chunks.
        cache: a directory. Results are stored there as CSV + JSON under a hash of the full
            configuration (data fingerprint, grid, every hyper-parameter, library and torch
            versions) and read back instantly when the same sweep is asked for again. The
            device is not part of the key: a CPU and a GPU run agree to float tolerance.
        client: a ``dask.distributed.Client``; each chunk then runs as one task on its
            workers (same numbers as the local run).
        max_models_per_chunk, memory_budget: bound the models trained together (default:
            as many as fit ``memory_budget`` bytes, see :func:`models_per_chunk`).
        return_history: also return the per-epoch history.

    Returns:
        ``results``: a DataFrame with one row per (noise_rate, smooth_rate, seed), in grid
        order, and columns noise_kind, noise_rate, smooth_rate, seed, test_acc (final
        epoch), best_test_acc, best_epoch (1-based; the paper reports best-epoch test
        accuracy), confidence (final mean max-softmax probability on the test set),
        model_confidence (final mean MC = p_y - max_{k!=y} p_k, clean test labels), train_loss
        (final epoch's mean GLS loss on the noisy labels), diverged, diverged_epoch
        (0 = never). Accuracies are fractions in [0, 1] on the clean test labels.
        With ``return_history=True``: ``(results, history)``, history a long DataFrame with
        one row per model and epoch (noise_kind, noise_rate, smooth_rate, seed, epoch,
        train_loss, test_acc, confidence, model_confidence), ready for ``groupby`` plots.

    A model that diverges is stopped, flagged and reported in one :class:`DivergenceWarning`;
    see the module docstring.
    """
    data = _check_data(data)
    smooth_rates, noise_rates, seeds = check_grid(smooth_rates, noise_rates, seeds)
    cfg = TrainConfig(noise_kind, model, epochs, batch_size, optimizer, lr, weight_decay, warmup_epochs,
                      gls_lr_scale, hidden, channels)
    if max_models_per_chunk is not None and (not _is_int(max_models_per_chunk) or max_models_per_chunk < 1):
        raise ValueError(f"max_models_per_chunk must be an integer >= 1, got {max_models_per_chunk!r}")
    if memory_budget is not None and (not isinstance(memory_budget, Real) or not memory_budget > 0):
        raise ValueError(f"memory_budget must be a number of bytes > 0, got {memory_budget!r}")
    resolve_device(device)

    paths = None
    if cache is not None:
        key, config = _cache_key(data, smooth_rates, noise_rates, seeds, cfg)
        directory = Path(cache)
        directory.mkdir(parents=True, exist_ok=True)
        paths = {part: directory / f"sweep-{key}{suffix}" for part, suffix in
                 (("results", ".csv"), ("history", "-history.csv"), ("config", ".json"))}
        if all(p.exists() for p in paths.values()):
            results = pd.read_csv(paths["results"])
            history = pd.read_csv(paths["history"])
            return (results, history) if return_history else results

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
        _write_atomic(paths["results"], results.to_csv(index=False))
        _write_atomic(paths["history"], history.to_csv(index=False))
        _write_atomic(paths["config"], json.dumps(config, indent=1, sort_keys=True))
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

        remote_data = client.scatter(data, broadcast=True)
        futures = [client.submit(_run_chunk, remote_data, seeds, configs, cfg, device, pure=False)
                   for seeds, configs in chunks]
        for _ in as_completed(futures):
            bar.update(cfg.epochs)
        return client.gather(futures)
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
                             float(curves["train_loss"][-1]), div > 0, div))
                hist.append(pd.DataFrame({"noise_kind": cfg.noise_kind, "noise_rate": eps, "smooth_rate": r,
                                          "seed": seed, "epoch": np.arange(1, cfg.epochs + 1), **curves}))
    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
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
    allowed = {"model", "epochs", "batch_size", "optimizer", "lr", "weight_decay", "warmup_epochs",
               "gls_lr_scale", "hidden", "channels", "device"}
    unknown = sorted(set(fit_kwargs) - allowed)
    if unknown:
        raise TypeError(f"{caller} got unexpected keyword argument(s) {unknown}; it trains on the labels as "
                        f"given (no noise_rate/noise_kind), and passes on only {sorted(allowed)}")
    return fit_kwargs


def out_of_sample_probs(data: Dataset, folds: int = 5, seed: int = 0, *, smooth_rate: float = 0.0,
                        progress: bool = False, **fit_kwargs) -> np.ndarray:
    """Cross-fitted predicted probabilities for every training sample (lesson 06).

    The training set is split into ``folds`` stratified folds (by the labels *as given*, which
    may be noisy; scikit-learn's ``StratifiedKFold`` seeded from ``seed``). For each fold a
    model is trained on the other folds with :func:`fit` (no noise added, GLS rate
    ``smooth_rate``, default plain CE) and predicts the held-out fold, so no sample's
    probability comes from a model that saw its label: what confident learning needs
    (:func:`nls_lessons.noise.estimate_transition`). The folds are ``folds`` separate small
    fits (a second each on digits).

    Args:
        data: a Dataset whose ``y_train`` are the labels you have (noisy or not).
        folds: number of folds, an integer >= 2; every class needs at least ``folds`` samples.
        seed: seeds the fold split and every fold's model.
        smooth_rate, progress, **fit_kwargs: as :func:`fit` (model, epochs, lr, ...).

    Returns:
        float64 array of shape (N_train, K): row i is the held-out model's softmax for sample i.
    """
    from sklearn.model_selection import StratifiedKFold
    from tqdm.auto import tqdm

    data = _check_data(data)
    if not _is_int(folds) or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
    if not _is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    check_smooth_rate(smooth_rate)
    _check_fit_kwargs(fit_kwargs, "out_of_sample_probs")
    y = data.y_train.cpu().numpy()
    counts = np.bincount(y, minlength=data.num_classes)
    if counts.min() < folds:
        rare = int(np.argmin(counts))
        raise ValueError(f"folds={folds} needs at least {folds} samples of every class; class {rare} has "
                         f"{counts[rare]}: use fewer folds")
    splitter = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=derive_seed(seed, "folds") % 2**31)
    probs = np.zeros((len(y), data.num_classes))
    for fold, (train_idx, held_idx) in enumerate(tqdm(list(splitter.split(np.zeros(len(y)), y)),
                                                      disable=not progress, desc="folds", unit="fold")):
        held = torch.as_tensor(held_idx, dtype=torch.int64)
        part = _subset(data, train_idx, data.x_train[held], data.y_train[held], f"fold{fold}/{folds}")
        result = fit(part, smooth_rate, 0.0, seed, warn=False, **fit_kwargs)
        with torch.no_grad():
            x = part.x_test.to(next(result.model.parameters()).device)
            probs[held_idx] = torch.softmax(result.model(x).double(), dim=1).cpu().numpy()
    return probs


SELECTION_COLUMNS = ("smooth_rate", "seed", "val_acc", "val_epoch", "test_acc", "oracle_test_acc", "diverged")


def select_smooth_rate(data: Dataset, smooth_rates, *, validation_fraction: float = 0.2, seeds=(0,),
                       progress: bool = False, **fit_kwargs) -> tuple[float, pd.DataFrame]:
    """Choose the smooth rate on a noisy validation split: no clean label needed (lesson 06).

    ``validation_fraction`` of the training set (stratified by the labels as given, split seeded
    from ``seeds[0]``) is held out. Every rate trains on the rest with :func:`sweep` (labels as
    given, no noise added; paired: each seed has one initialisation and batch order for every
    rate). Each model's stopping epoch is the one with the best accuracy on the *noisy*
    validation labels, and the chosen rate is the one with the best mean (over seeds) of that
    accuracy. Under symmetric noise eps < (K-1)/K noisy accuracy is increasing in clean accuracy,
    so it ranks models as clean accuracy would (lesson 06 derives this).

    When ``data`` has a test set, the same models are evaluated on it (a second, identical run:
    the training is deterministic) for reporting only: the test labels never choose anything.

    Args:
        data: a Dataset whose ``y_train`` are the labels you have; ``y_test`` clean if you have it.
        smooth_rates: the candidate rates, numbers <= 1 (a grid, as for :func:`sweep`).
        validation_fraction: in (0, 1).
        seeds: the seeds to average over (non-negative integers).
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
    chosen = float(means.idxmax())
    return chosen, table
