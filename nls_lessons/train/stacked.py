"""The stacked engine: M models trained as one (lessons 02-06; every fit and sweep runs here).

All models of a chunk of the grid train as one :class:`nls_lessons.models.Stacked` model:
each step gathers every seed's mini-batch once, computes the (M, B, K) logits of all M
models, their M GLS losses, and takes one optimiser step on the stacked parameters. Adam and
SGD act element by element, so this is exactly M separate optimisers; a test checks the
result against a plain ``nn.Module`` + ``torch.optim`` loop
(:func:`nls_lessons.train.reference_fit`).

Divergence. NLS (r < 0) is unbounded below, so a model can run away; a too-large learning
rate blows any loss up. There is one definition for the whole library,
:func:`nls_lessons.losses.diverging`: a mini-batch loss that is not finite or whose magnitude
exceeds ``losses.DIVERGENCE_LOSS * (1 + |r|)`` (r being the rate the step trains with: 0 in
a CE warm-up). A model is stopped at its first such step, or at a step whose gradient is not
finite (the step cannot be taken). Its parameters are frozen at their values of one step
before (the last ones whose loss passed the check); it is flagged ``diverged=True`` with
``diverged_epoch``, the 1-based epoch of that step (missing when the model never diverged:
``pandas.NA`` in a results table, ``None`` in a :class:`~nls_lessons.train.FitResult`), and
one :class:`DivergenceWarning` lists every stopped model. The other models go on untouched.

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
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from nls_lessons import models as _models
from nls_lessons.data import Dataset
from nls_lessons.device import resolve_device
from nls_lessons.losses import diverging

from .config import SGD_MOMENTUM, TrainConfig
from .pairing import batch_order, noisy_labels

EVAL_BATCH = 2048

EPOCH_METRICS = ("train_loss", "test_acc", "confidence", "model_confidence")
"""Measured after every epoch (see :func:`~nls_lessons.train.sweep`)."""


class DivergenceWarning(RuntimeWarning):
    """Some models of a sweep ran away (NLS is unbounded below) and were stopped."""


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
    cross-fitting folds of :func:`~nls_lessons.train.out_of_sample_probs`); a model with none in the batch gets 0.
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


@dataclass
class _ChunkResult:
    """Per-model numbers of one chunk: history[metric] of shape (S, G, epochs),
    diverged_epoch of shape (S, G) (0 = never, else the 1-based epoch; the public tables
    turn 0 into a missing value)."""

    history: dict[str, np.ndarray]
    diverged_epoch: np.ndarray
    net: _models.Stacked | None = field(default=None, repr=False)


def _train_chunk(data: Dataset, seeds: list[int], configs: list[tuple[float, float]], cfg: TrainConfig,
                 device: str, on_epoch=None, keep_model: bool = False, train_mask: Tensor | None = None,
                 on_evaluate=None) -> _ChunkResult:
    """Train len(seeds) x len(configs) models, configs being (noise_rate, smooth_rate) pairs.

    ``train_mask`` (S, N) bool (optional): seed s's models learn only from the training samples
    where it is True (the others still pass through their batches, with weight 0).
    ``on_evaluate`` (optional): called after every epoch's evaluation with ``(epoch, logits_fn)``,
    ``logits_fn`` mapping a (B, D) batch to the (M, K, B) logits of every model at that moment
    (lesson 06's k-fold selection scores each fold's models on its own held-out labels)."""
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
        logits_fn = lambda xb: net.class_major(xb).reshape(m, data.num_classes, -1)
        scores = _evaluate(logits_fn, x_test, y_test)
        for name, values in scores.items():
            history[name][:, epoch] = values
        if on_evaluate is not None:
            with torch.no_grad():
                on_evaluate(epoch, logits_fn)
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
