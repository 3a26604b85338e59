"""One model: :func:`fit` (lessons 02-03's live retrain, lesson 06's final model) and
:func:`reference_fit`, the textbook loop lesson 04 holds the stacked engine against.

``fit`` is a grid of one on the stacked engine (:mod:`nls_lessons.train.stacked`), so
``fit(data, r, eps, s).history`` matches the sweep's row (r, eps, s).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import Tensor, nn

from nls_lessons import output
from nls_lessons import models as _models
from nls_lessons.data import Dataset
from nls_lessons.device import resolve_device
from nls_lessons.losses import gls_loss

from .config import _check_data, _check_flag, _fit_config, _one_model
from .pairing import batch_order, noisy_labels
from .stacked import DivergenceWarning, _evaluate, _make_optimizer, _train_chunk


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
        diverged: whether the model was stopped (see :mod:`nls_lessons.train.stacked`).
        diverged_epoch: the 1-based epoch of its first diverging step, ``None`` when it never diverged.

    ``test_acc``, ``best_test_acc`` and ``best_epoch`` mean what the sweep's columns of those
    names mean (:mod:`nls_lessons.train.stacked`): always finite, for diverged models too.
    """

    model: nn.Module
    history: pd.DataFrame
    noisy_labels: Tensor
    diverged: bool
    diverged_epoch: int | None

    @classmethod
    def from_chunk(cls, out, index: int, epochs: int, noisy_labels: Tensor) -> "FitResult":
        """Model ``index`` (of M) of a trained chunk (``_train_chunk(..., keep_model=True)`` with
        one seed) as a :class:`FitResult`: the one place a chunk's model becomes what ``fit``
        returns (``fit`` itself, the training explorer's r axis)."""
        div = int(out.diverged_epoch[0, index]) or None
        history = pd.DataFrame({"epoch": np.arange(1, epochs + 1),
                                **{k: v[0, index] for k, v in out.history.items()}})
        return cls(out.net.module(0, index), history, noisy_labels, div is not None, div)

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


def fit(data: Dataset, smooth_rate: float, noise_rate: float, seed: int, *, noise_kind: str = "symmetric",
        model: str = "linear", epochs: int = 30, batch_size: int = 128, optimizer: str = "adam",
        lr: float = 1e-2, weight_decay: float = 0.0, warmup_epochs: int = 0, gls_lr_scale: float = 1.0,
        hidden: int = _models.DEFAULT_HIDDEN, channels: int = _models.DEFAULT_CHANNELS,
        warmup_restart: str = "continue", device: str = "auto", progress: bool = False,
        warn: bool = True) -> FitResult:
    """Train one model with GLS rate ``smooth_rate`` on labels with ``noise_rate`` noise.

    Lessons 02-03 (the live retrain). The same engine and pairing as
    :func:`~nls_lessons.train.sweep` (a grid of one), so ``fit(data, r, eps, s).history``
    matches the sweep's row (r, eps, s). ``smooth_rate``, ``noise_rate`` and ``seed`` are one
    number each (a 0-d tensor counts; for many, use :func:`~nls_lessons.train.sweep`). Other
    arguments as :func:`~nls_lessons.train.sweep` (``warn=False`` silences the divergence
    warning); returns a :class:`FitResult`.
    """
    from nls_lessons.progress import progress_bar

    r, eps, seed = _one_model(smooth_rate, noise_rate, seed)
    cfg = _fit_config(noise_kind, model, epochs, batch_size, optimizer, lr, weight_decay, warmup_epochs,
                      gls_lr_scale, hidden, channels, warmup_restart)
    data = _check_data(data)
    progress, warn = _check_flag(progress, "progress"), _check_flag(warn, "warn")
    with progress_bar(epochs, f"fit r={r:g} eps={eps:g}", disable=not progress) as bar:
        out = _train_chunk(data, [seed], [(eps, r)], cfg, device, on_epoch=lambda: bar.update(1),
                           keep_model=True)
    result = FitResult.from_chunk(out, 0, epochs, noisy_labels(data, noise_kind, eps, seed))
    if result.diverged and warn:
        output.warn(f"the model (r={r}, eps={eps}, seed={seed}) diverged in epoch {result.diverged_epoch} "
                     "and was stopped there; try warmup_epochs with a small gls_lr_scale",
                     DivergenceWarning)
    return result


def reference_fit(data: Dataset, smooth_rate: float, noise_rate: float, seed: int, *,
                  noise_kind: str = "symmetric", model: str = "linear", epochs: int = 30,
                  batch_size: int = 128, optimizer: str = "adam", lr: float = 1e-2,
                  weight_decay: float = 0.0, warmup_epochs: int = 0, gls_lr_scale: float = 1.0,
                  hidden: int = _models.DEFAULT_HIDDEN, channels: int = _models.DEFAULT_CHANNELS,
                  warmup_restart: str = "continue", device: str = "cpu") -> tuple[nn.Module, pd.DataFrame]:
    """The textbook loop: one ``nn.Module``, one ``torch.optim`` optimiser, one batch at a time.

    Lesson 04 uses it as the yardstick of the stacked engine (same pairing, no divergence
    handling): a test checks that :func:`~nls_lessons.train.sweep` returns the same numbers, and
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
