"""The configuration of a training run and the checks of every argument of ``fit``/``sweep``.

Lessons 02-06: every training entry point (:func:`nls_lessons.train.fit`,
:func:`~nls_lessons.train.sweep`, :func:`~nls_lessons.train.out_of_sample_probs`,
:func:`~nls_lessons.train.select_smooth_rate`) builds one :class:`TrainConfig` (the
hyper-parameters every model of a run shares) and validates its grid, seeds, data and flags
here, with one clear message per argument.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
from torch import Tensor

from nls_lessons import checks as _checks
from nls_lessons import models as _models
from nls_lessons import noise as _noise
from nls_lessons.data import Dataset
from nls_lessons.losses import check_smooth_rate

OPTIMIZERS = ("adam", "sgd")
SGD_MOMENTUM = 0.9
WARMUP_RESTARTS = ("continue", "best")
"""How the GLS phase starts after a warm-up (see :mod:`nls_lessons.train.stacked`)."""


@dataclass(frozen=True)
class TrainConfig:
    """The hyper-parameters every model of a sweep shares (see :func:`~nls_lessons.train.sweep`)."""

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
    """A 0-d tensor or array (or numpy scalar) as the Python number it holds, a low-precision
    float as the decimal it shows (0.2 in float32 is 0.2); anything else unchanged."""
    return _checks.as_python_number(value)


def _as_list(values, name: str) -> list:
    values = _item(values)
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a number or a non-empty sequence of numbers, got the string {values!r}")
    if isinstance(values, (Real, np.number, np.bool_)):
        return [values]
    try:
        values = list(values.reshape(-1)) if isinstance(values, (np.ndarray, Tensor)) and values.ndim == 1 else (
            values.tolist() if isinstance(values, (np.ndarray, Tensor)) else list(values))
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
    return _checks.check_noise_rate(value, name)


def _check_seed(value, name: str) -> int:
    if not _is_int(value):
        what = "integers >= 0 (explicit seeds)" if name.endswith("s") else "an integer >= 0 (an explicit seed)"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return _checks.check_seed(value, name)


def _one(value, name: str):
    """``value`` as one number for :func:`~nls_lessons.train.fit`: a number or a 0-d tensor/array, not a sequence."""
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
