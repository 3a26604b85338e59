"""What one cell of lesson 05's grid trains: the protocols (recipes) and the data of a cell.

Lesson 05 (paper scale). :class:`Phase` is one SGD phase with its learning-rate schedule,
:class:`Protocol` a named recipe (model, optional CE warm-up, GLS phase); :data:`PROTOCOLS`
holds ``official``, ``direct`` and ``fast`` (a course extension), :func:`protocol_routes`
expands ``paper`` into its two routes (the package docstring, :mod:`nls_lessons.paper`,
describes each). The recipes are the official scripts' with one difference in every
protocol: a model whose loss diverges is stopped and scored on the epochs before it
(:func:`nls_lessons.paper.engine.train_models`), where the official scripts train on through
every epoch. :class:`DataSpec` says where a cell's data comes from, so that each
(Dask) worker loads its own.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass

import numpy as np

from . import cifar as cifar_module


PAPER_RATES = (0.8, 0.6, 0.4, 0.0, -0.4, -0.8, -1.0, -2.0, -4.0, -6.0)   # ICLR Table 2 rows


@dataclass(frozen=True)
class Phase:
    """One training phase: SGD with a learning-rate schedule.

    ``schedule``: "step" (multiply by ``gamma`` at each epoch in ``milestones``), "constant",
    "onecycle" (linear up to ``lr`` over the first 20% of steps, then linear down to 0) or
    "linear" (linear decay from ``lr`` to 0).
    """

    epochs: int
    lr: float
    schedule: str = "step"
    milestones: tuple = ()
    gamma: float = 0.1
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    batch_size: int = 128

    def __post_init__(self):
        if int(self.epochs) != self.epochs or self.epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if self.schedule not in ("step", "constant", "onecycle", "linear"):
            raise ValueError(f"schedule must be step, constant, onecycle or linear, got {self.schedule!r}")
        if int(self.batch_size) != self.batch_size or self.batch_size < 2:
            raise ValueError(f"batch_size must be an integer >= 2, got {self.batch_size!r}")

    def lr_at(self, progress: float) -> float:
        """Learning rate at ``progress`` epochs (fractional) into the phase."""
        if self.schedule == "constant":
            return self.lr
        if self.schedule == "step":
            return self.lr * self.gamma ** sum(progress >= m for m in self.milestones)
        frac = min(max(progress / self.epochs, 0.0), 1.0)
        if self.schedule == "linear":
            return self.lr * (1.0 - frac)
        return self.lr * (frac / 0.2 if frac < 0.2 else (1.0 - frac) / 0.8)

    def with_epochs(self, epochs: int) -> "Phase":
        """The same phase with ``epochs``; step milestones scale proportionally."""
        scale = epochs / self.epochs
        milestones = tuple(max(1, round(m * scale)) for m in self.milestones) if epochs > 1 else ()
        return dataclasses.replace(self, epochs=int(epochs), milestones=milestones)


PRECISIONS = ("fp32", "bf16")
NOISE_METHODS = ("course", "official")


@dataclass(frozen=True)
class Protocol:
    """A named recipe: model, optional CE warm-up phase, and the GLS phase.

    ``amp``: bf16 autocast on CUDA (fp16 with a gradient scaler where bf16 is missing);
    ``channels_last``: channels-last memory format on CUDA. Both are ignored on the CPU.
    ``noise_method``: how synthetic noisy labels are drawn (:func:`nls_lessons.noise.inject`);
    "official" always uses seed 0, as the official scripts do for CIFAR-10. For CIFAR-100 the
    official code draws nothing (it loads pre-generated files from ``noise_label/cifar-100/``
    that its repository does not ship), so there the same draw is the course's own labels,
    not the paper's.
    """

    name: str
    model: str
    gls: Phase
    warmup: Phase | None = None
    widths: tuple | None = None
    augment: bool = True
    amp: bool = False
    channels_last: bool = False
    noise_method: str = "official"

    @property
    def precision(self) -> str:
        return "bf16" if self.amp else "fp32"

    def noise_seed(self, seed: int) -> int:
        """The seed of the noisy-label draw for run ``seed``: 0 for the official draw."""
        return 0 if self.noise_method == "official" else int(seed)

    def config_id(self) -> str:
        """A short hash of every setting, so results of different settings never mix."""
        blob = json.dumps(dataclasses.asdict(self), sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:10]


PROTOCOLS = {
    "official": Protocol(
        "official", "resnet34",
        warmup=Phase(120, 0.1, "step", (40, 80), momentum=0.0, nesterov=False, weight_decay=0.0),
        gls=Phase(100, 1e-6, "constant", momentum=0.9, nesterov=True, weight_decay=1e-4)),
    "direct": Protocol(
        "direct", "resnet34",
        gls=Phase(200, 0.1, "step", (100, 150), momentum=0.9, nesterov=True, weight_decay=1e-4)),
    "fast": Protocol(
        "fast", "fastnet", widths=(64, 128, 256, 512),
        warmup=Phase(16, 0.4, "onecycle", momentum=0.9, nesterov=True, weight_decay=5e-4, batch_size=512),
        gls=Phase(4, 2e-3, "linear", momentum=0.9, nesterov=True, weight_decay=1e-4, batch_size=512),
        amp=True, channels_last=True, noise_method="course"),
}
#: ``paper`` is not one recipe but two routes; with noisy labels Table 2 reports the better one per
#: setting (at noise rate 0 the course does the same, its own choice).
ROUTES = {"paper": ("official", "direct")}
PROTOCOL_NAMES = ("official", "direct", "paper", "fast")


def get_protocol(name: str = "fast", *, epochs: int | None = None, warmup_epochs: int | None = None,
                 batch_size: int | None = None, lr: float | None = None, widths=None,
                 amp: bool | None = None, precision: str | None = None) -> Protocol:
    """A protocol by name, with optional overrides (epochs of the GLS phase, warm-up epochs,
    batch size of both phases, learning rate of the GLS phase, fast-net widths, precision
    "fp32"/"bf16" (``amp`` is the older spelling: True = "bf16")). For ``paper`` use
    :func:`protocol_routes`."""
    if name in ROUTES:
        raise ValueError(f"protocol {name!r} runs the routes {ROUTES[name]}; use protocol_routes({name!r})")
    if name not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOL_NAMES}, got {name!r}")
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision is not None:
        amp = precision == "bf16"
    p = PROTOCOLS[name]
    gls, warm = p.gls, p.warmup
    if epochs is not None:
        gls = gls.with_epochs(_positive_int(epochs, "epochs"))
    if warmup_epochs is not None:
        if warm is None:
            raise ValueError(f"protocol {name!r} has no warm-up phase; drop warmup_epochs")
        warm = warm.with_epochs(_positive_int(warmup_epochs, "warmup_epochs"))
    if batch_size is not None:
        gls = dataclasses.replace(gls, batch_size=batch_size)
        warm = warm and dataclasses.replace(warm, batch_size=batch_size)
    if lr is not None:
        gls = dataclasses.replace(gls, lr=float(lr))
    if widths is not None:
        if p.model != "fastnet":
            raise ValueError(f"widths apply to the fast net only; protocol {name!r} uses {p.model}")
        widths = tuple(int(w) for w in widths)
        if len(widths) != 4 or min(widths) < 1:
            raise ValueError(f"widths must be four positive integers, got {widths}")
    amp = p.amp if amp is None else bool(amp)
    return dataclasses.replace(p, gls=gls, warmup=warm, widths=widths or p.widths, amp=amp, channels_last=amp)


def protocol_routes(name: str = "fast", **overrides) -> tuple[Protocol, ...]:
    """The protocols one name stands for: ``paper`` -> (official, direct), any other name ->
    itself. ``overrides`` as :func:`get_protocol`; ``warmup_epochs`` reaches only routes
    with a warm-up."""
    if name not in PROTOCOL_NAMES:
        raise ValueError(f"protocol must be one of {PROTOCOL_NAMES}, got {name!r}")
    if name not in ROUTES:
        return (get_protocol(name, **overrides),)
    routes = []
    for route in ROUTES[name]:
        kw = dict(overrides)
        if PROTOCOLS[route].warmup is None:
            kw.pop("warmup_epochs", None)
        routes.append(get_protocol(route, **kw))
    return tuple(routes)


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class DataSpec:
    """Where a cell's data comes from; each (Dask) worker loads it itself.

    ``dataset``: "cifar10", "cifar100" or "synthetic" (CIFAR-shaped toy data, see
    :func:`nls_lessons.paper.cifar.synthetic_cifar`). ``noise``: "clean", a synthetic kind or a CIFAR-N
    label set. ``n_train`` / ``n_test``: take the first n images (synthetic: generate n).
    """

    dataset: str = "cifar10"
    noise: str = "symmetric"
    noise_rate: float = 0.0
    root: str | None = None
    verify: bool = True
    download: bool = False
    n_train: int | None = None
    n_test: int | None = None

    def load(self, seed: int, noise_method: str = "course"):
        """(train, test) :class:`~nls_lessons.paper.cifar.CifarData`; synthetic noise drawn with ``seed``
        by :func:`nls_lessons.noise.inject` with ``method=noise_method``."""
        if self.dataset == "synthetic":
            train = cifar_module.synthetic_cifar(self.n_train or 512, seed=0, noise=self.noise,
                                                 noise_rate=self.noise_rate, noise_seed=seed,
                                                 noise_method=noise_method)
            test = cifar_module.synthetic_cifar(self.n_test or 256, seed=1)
            return train, test
        train = cifar_module.cifar(self.dataset, self.root, True, self.download, self.noise,
                                   self.noise_rate, seed, self.verify, noise_method=noise_method)
        test = cifar_module.cifar(self.dataset, self.root, False, False, None, 0.0, 0, self.verify)
        if self.n_train:
            train = train.subset(self.n_train)
        if self.n_test:
            test = test.subset(self.n_test)
        return train, test
