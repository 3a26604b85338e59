"""Reproduce the paper's CIFAR experiments: protocols, a resumable grid, a command line.

Lesson 05 (paper scale). Run ``python -m nls_lessons.reproduce --help``.

Four protocols (PAPER_NOTES §3.2-3.4; epoch counts are parameters):

* ``official``: the official warm-up route (``main_warmup.py`` + ``main_GLS_load.py``):
  ResNet-34; 120 epochs of CE warm-up with plain SGD (no momentum, no weight decay), learning
  rate 0.1 / 0.01 / 0.001 in steps of 40 epochs; keep the checkpoint with the best test
  accuracy; then GLS for 100 epochs from it with a fresh optimiser at learning rate 1e-6,
  momentum 0.9, Nesterov, weight decay 1e-4, BatchNorm in train mode.
* ``direct``: the official direct route (``main_GLS_direct_train.py``): ResNet-34 trained with
  GLS from scratch for 200 epochs, SGD momentum 0.9, Nesterov, weight decay 1e-4, learning rate
  0.1 / 0.01 / 0.001 at epochs 100 and 150.
* ``paper``: both routes above for every setting; :func:`summarize` reports, per (dataset,
  noise, noise rate, smooth rate), the better of the two, as the paper's Table 2 does.
* ``fast`` (**a course extension**, not the paper's recipe): a ResNet-9-style net, a 16-epoch
  one-cycle CE warm-up (batch 512), then 4-epoch GLS fine-tunes of *all* smooth rates at
  learning rate 2e-3 from the shared warm-up checkpoint. It exists to run the whole grid in
  minutes on one GPU; how close it comes to Table 2 is unmeasured until a GPU run measures it.

``official``, ``direct`` and ``paper`` train in fp32 on the official noisy labels
(:func:`nls_lessons.noise.inject` with ``method="official"``: ``RandomState(0)`` for every run,
as the official scripts do); bf16 autocast and channels-last are opt-in there
(``precision="bf16"``, command line ``--precision bf16``) and the default of ``fast``, which
draws its noise with the course's sampler seeded by the run's seed.

In every protocol the models of one (noise, seed) cell share the noisy labels, the
initialisation (or warm-up checkpoint) and the batch order, so comparisons across smooth rates
are paired. The fine-tunes of all rates are trained as one stacked model
(``torch.func.stack_module_state`` + ``vmap(functional_call)``), or in a loop over rates.
Accuracies are in percent, like the paper's tables; ``best_acc`` is the best test accuracy over
epochs (what the official code reports), ``final_acc`` the last epoch's. Divergence has the one
definition of the library, :func:`nls_lessons.losses.diverging`; ``diverged_epoch`` is the
1-based epoch of the first diverging step, missing when the model never diverged.

Results are stored one JSON file per finished (cell, smooth rate) row in ``<out>/rows/``,
written atomically (temporary file + ``os.replace``) and named by the row's key, so a run
killed at any moment, or two runs writing the same ``--out`` at once, never leave a
half-written or a duplicated row. ``<out>/results.csv`` is an export rebuilt from ``rows/``.

Course extensions, marked as such wherever they appear: pair-flip noise for K != 10 (the
official pair table exists for CIFAR-10 only), the Patrini-style ``asymmetric`` kind, and the
``fast`` protocol. The paper's "asym" columns are read as the official pair-flip generator;
that reading is UNCONFIRMED (PAPER_NOTES §3.1).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import hashlib
import json
import math
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import cifar as cifar_module
from . import losses
from . import noise as noise_module
from .device import resolve_device
from .resnet import autocast, build_model, grad_scaler, init_parameters, prepare_model

PAPER_DIR = Path(__file__).resolve().parent.parent / "data" / "paper"
PAPER_RATES = (0.8, 0.6, 0.4, 0.0, -0.4, -0.8, -1.0, -2.0, -4.0, -6.0)   # ICLR Table 2 rows
TABLE2_NOISE_RATES = (0.0, 0.2, 0.4, 0.6)                                 # C10 symmetric columns
from .plots import PALETTE as OKABE_ITO  # noqa: E402  (the course palette, defined once in plots)
DEFAULT_OUT = Path("artifacts") / "reproduce"
#: Where the command line's default ``--out`` lands when run from the repository root, as the
#: README does; lesson 05 reads it from here (working copies sit in another folder).
COURSE_RESULTS = Path(__file__).resolve().parent.parent / DEFAULT_OUT

# Training throughput (images / s, forward + backward) used by --dry-run when not calibrating.
# CPU: measured by bench/gpu.py on the course's 2-core CI machine. CUDA: rough assumptions for
# one H100 with bf16 (NOT measured here; run bench/gpu.py on your GPU, or --dry-run --calibrate).
THROUGHPUT = {
    ("resnet34", "cpu"): 20.0,
    ("fastnet", "cpu"): 110.0,
    ("resnet34", "cuda"): 12_000.0,
    ("fastnet", "cuda"): 60_000.0,
}
#: Assumed slow-down of fp32 against bf16 on CUDA (an assumption too; bench/gpu_check.py measures it).
FP32_FACTOR_CUDA = 0.4


def assumed_throughput(protocol: Protocol, device_type: str) -> float:
    """The reference images/s of :data:`THROUGHPUT` for this protocol's model and precision."""
    thr = THROUGHPUT[(protocol.model, device_type)]
    return thr * (FP32_FACTOR_CUDA if device_type == "cuda" and not protocol.amp else 1.0)


# --------------------------------------------------------------------------------------------
# Protocols
# --------------------------------------------------------------------------------------------
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
    "official" always uses seed 0, as the official scripts do.
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
#: ``paper`` is not one recipe but two routes; Table 2 reports the better one per setting.
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


# --------------------------------------------------------------------------------------------
# Data for one cell
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DataSpec:
    """Where a cell's data comes from; each (Dask) worker loads it itself.

    ``dataset``: "cifar10", "cifar100" or "synthetic" (CIFAR-shaped toy data, see
    :func:`nls_lessons.cifar.synthetic_cifar`). ``noise``: "clean", a synthetic kind or a CIFAR-N
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
        """(train, test) :class:`~nls_lessons.cifar.CifarData`; synthetic noise drawn with ``seed``
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


# --------------------------------------------------------------------------------------------
# The training engine: M models (one per smooth rate) trained in lock-step
# --------------------------------------------------------------------------------------------
class _Single:
    """One model behind the stacked interface: forward returns (1, B, K)."""

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self.m = 1

    def parameters(self):
        return list(self.model.parameters())

    def train(self, mode=True):
        self.model.train(mode)

    def __call__(self, x):
        return self.model(x).unsqueeze(0)

    def state_dict(self, i: int) -> dict:
        return {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}


class _Stacked:
    """M copies of one architecture as a single vmapped model; forward returns (M, B, K)."""

    def __init__(self, models: list):
        from torch.func import functional_call, stack_module_state, vmap

        params, self.buffers = stack_module_state(models)
        self.params = {k: torch.nn.Parameter(v) for k, v in params.items()}
        self.base = copy.deepcopy(models[0]).to("meta")
        self.m = len(models)

        def one(p, b, x):
            return functional_call(self.base, (p, b), (x,))

        self._fn = vmap(one, in_dims=(0, 0, None), randomness="different")

    def parameters(self):
        return list(self.params.values())

    def train(self, mode=True):
        self.base.train(mode)

    def __call__(self, x):
        return self._fn(self.params, self.buffers, x)

    def state_dict(self, i: int) -> dict:
        out = {k: v[i].detach().cpu().clone() for k, v in self.params.items()}
        out.update({k: v[i].detach().cpu().clone() for k, v in self.buffers.items()})
        return out


def _normalise(x: torch.Tensor, mean_std, device, channels_last: bool = False) -> torch.Tensor:
    mean, std = (torch.tensor(v, device=device).view(1, 3, 1, 1) for v in mean_std)
    x = (x.float() / 255.0 - mean) / std
    return x.contiguous(memory_format=torch.channels_last) if channels_last and device.type == "cuda" else x


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """RandomCrop(32, padding=4) with zero padding and a random horizontal flip, batched."""
    b = x.shape[0]
    shifts = torch.randint(0, 9, (2, b), generator=gen).to(x.device)
    flip = (torch.rand(b, generator=gen) < 0.5).to(x.device)
    padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
    ar = torch.arange(32, device=x.device)
    rows = (shifts[0][:, None] + ar)[:, :, None]
    cols = (shifts[1][:, None] + ar)[:, None, :]
    cols = torch.where(flip[:, None, None], cols.flip(-1), cols)
    out = padded[torch.arange(b, device=x.device)[:, None, None], :, rows, cols]   # (B, 32, 32, C)
    return out.permute(0, 3, 1, 2)


@torch.no_grad()
def evaluate(stack, data, device, amp: bool = False, batch_size: int = 1000, channels_last: bool | None = None) -> np.ndarray:
    """Test accuracy (%) of each of the M stacked models, shape (M,)."""
    channels_last = amp if channels_last is None else channels_last
    stack.train(False)
    correct = torch.zeros(stack.m, device=device)
    for start in range(0, len(data), batch_size):
        x = _normalise(data.images[start:start + batch_size].to(device), data.mean_std, device, channels_last)
        y = data.labels[start:start + batch_size].to(device)
        with autocast(device, amp):
            logits = stack(x)
        correct += (logits.argmax(-1) == y).sum(-1).float()
    return (100.0 * correct / max(len(data), 1)).cpu().numpy()


def train_models(init_state: dict, model_fn, rates, train, test, phase: Phase, *, seed: int = 0,
                 device="cpu", amp: bool = False, augment: bool = True, stacked: bool = True,
                 keep_best_state: bool = False, progress=None, desc: str = "",
                 channels_last: bool | None = None) -> list[dict]:
    """Train one model per smooth rate from the same ``init_state`` with the same batches.

    Args:
        init_state: state dict every model starts from (a fresh init or a warm-up checkpoint).
        model_fn: builds an untrained model of the right architecture (on CPU).
        rates: smooth rates, one model each (``0.0`` alone is the CE warm-up).
        train, test: :class:`~nls_lessons.cifar.CifarData`; training uses ``noisy_labels``,
            testing the clean ``labels``.
        phase: optimiser and schedule; a fresh optimiser (no state carried over).
        seed: seeds the batch order and augmentation (the same for every rate).
        amp, channels_last: bf16 autocast and channels-last on CUDA (``channels_last``
            defaults to ``amp``); fp32 and the default layout when False.
        stacked: train all rates as one vmapped model (True) or one after another (False);
            both give the same numbers up to floating-point round-off.
        keep_best_state: also return the best-test-accuracy state dict of each model.

    Returns:
        one dict per rate: smooth_rate, best_acc, best_epoch, final_acc, history (per-epoch
        test accuracy), train_loss (last epoch mean), diverged, diverged_epoch, [best_state].

    Divergence is :func:`nls_lessons.losses.diverging` on each step's mean loss. A model that
    diverges is stopped: its gradients are zeroed from that step on and its later epochs are
    NaN in ``history``; ``best_acc``/``best_epoch``/``final_acc`` come from the epochs before
    (NaN / None when it diverged in its first epoch); ``diverged_epoch`` is 1-based, None
    when it never diverged.
    """
    rates = [float(r) for r in rates]
    losses.check_smooth_rate(rates, "smooth_rates")
    device = resolve_device(device)
    channels_last = bool(amp) if channels_last is None else bool(channels_last)
    if not stacked and len(rates) > 1:
        return [train_models(init_state, model_fn, [r], train, test, phase, seed=seed, device=device,
                             amp=amp, augment=augment, stacked=True, keep_best_state=keep_best_state,
                             progress=progress, desc=f"{desc} r={r:g}", channels_last=channels_last)[0]
                for r in rates]
    models = []
    for _ in rates:
        m = model_fn()
        m.load_state_dict(init_state)
        models.append(prepare_model(m, device, channels_last))
    stack = _Single(models[0]) if len(models) == 1 else _Stacked(models)
    opt = torch.optim.SGD(stack.parameters(), lr=phase.lr, momentum=phase.momentum,
                          nesterov=phase.nesterov and phase.momentum > 0, weight_decay=phase.weight_decay)
    scaler = grad_scaler(device, amp)
    r = torch.tensor(rates, device=device)
    images, labels = train.images.to(device), train.noisy_labels.to(device)
    gen = torch.Generator().manual_seed(int(seed) + 7919)
    m_count, n = len(rates), len(train)
    bs = int(phase.batch_size)
    steps = max(1, n // bs + (n % bs >= 2))          # drop a last batch of one (BatchNorm)
    diverged = torch.zeros(m_count, dtype=torch.bool, device=device)
    diverged_epoch = [None] * m_count
    history, best = [], [(float("nan"), None, None)] * m_count
    last_loss = np.full(m_count, np.nan)
    bar = _bar(progress, phase.epochs, desc)
    for epoch in range(phase.epochs):
        stack.train(True)
        perm = torch.randperm(n, generator=gen).to(device)
        loss_sum = torch.zeros(m_count, device=device)
        for step in range(steps):
            idx = perm[step * bs:(step + 1) * bs]
            for group in opt.param_groups:
                group["lr"] = phase.lr_at(epoch + step / steps)
            x = images[idx]
            if augment:
                x = _augment(x, gen)
            x = _normalise(x, train.mean_std, device, channels_last)
            with autocast(device, amp):
                logits = stack(x)
            loss_m = losses.gls_loss(logits.float(), labels[idx], r, reduction="mean")   # (M,)
            newly = losses.diverging(loss_m.detach(), r) & ~diverged
            if bool(newly.any()):
                for i in torch.nonzero(newly).flatten().tolist():
                    diverged_epoch[i] = epoch + 1
                diverged |= newly
            total = torch.where(diverged, torch.zeros_like(loss_m), loss_m).sum()
            opt.zero_grad(set_to_none=True)
            scaler.scale(total).backward()
            if bool(diverged.any()):                   # keep NaNs of a diverged model to itself
                for p in stack.parameters():
                    if p.grad is not None:
                        if m_count > 1:
                            p.grad[diverged] = 0.0
                        else:
                            p.grad.zero_()
            scaler.step(opt)
            scaler.update()
            loss_sum += torch.where(diverged, torch.zeros_like(loss_m), loss_m.detach())
        last_loss = torch.where(diverged, torch.nan, loss_sum / steps).cpu().numpy()
        acc = evaluate(stack, test, device, amp, channels_last=channels_last)
        acc = np.where(diverged.cpu().numpy(), np.nan, acc)      # a stopped model has no accuracy
        history.append(acc)
        for i in range(m_count):
            if math.isfinite(acc[i]) and not acc[i] <= best[i][0]:
                best[i] = (float(acc[i]), epoch + 1, stack.state_dict(i) if keep_best_state else None)
        if bar is not None:
            bar.set_postfix(loss=f"{np.nanmean(last_loss):.3f}" if np.isfinite(last_loss).any() else "nan",
                            acc=f"{np.nanmax(acc):.1f}" if np.isfinite(acc).any() else "nan")
            bar.update(1)
    if bar is not None:
        bar.close()
    out = []
    for i, rate in enumerate(rates):
        best_acc, best_epoch, state = best[i]
        finite = [float(h[i]) for h in history if math.isfinite(h[i])]
        row = dict(smooth_rate=rate, best_acc=best_acc, best_epoch=best_epoch,
                   final_acc=finite[-1] if finite else float("nan"),
                   history=[float(h[i]) for h in history], train_loss=float(last_loss[i]),
                   diverged=bool(diverged[i]), diverged_epoch=diverged_epoch[i])
        if keep_best_state:
            row["best_state"] = state if state is not None else stack.state_dict(i)
        out.append(row)
    return out


def _bar(progress, total, desc):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, unit="epoch")


def _model_fn(protocol: Protocol, num_classes: int):
    widths = protocol.widths if protocol.model == "fastnet" else None
    return lambda: build_model(protocol.model, num_classes, widths)


def initial_state(protocol: Protocol, num_classes: int, seed: int) -> dict:
    """The seeded initialisation shared by every smooth rate of a cell (an explicit
    ``torch.Generator``; torch's global random state is neither read nor changed)."""
    with torch.device("meta"):
        model = _model_fn(protocol, num_classes)()
    model = model.to_empty(device="cpu")
    init_parameters(model, torch.Generator().manual_seed(int(seed)))
    return model.state_dict()


def run_cell(spec: DataSpec, smooth_rates, protocol: Protocol, seed: int = 0, device="auto",
             stacked: bool = True, max_stack: int | None = None, checkpoint_dir=None,
             progress: bool = False) -> list[dict]:
    """Train one (dataset, noise, noise rate, seed) cell for every smooth rate; one row each.

    The warm-up (if the protocol has one) runs once; every smooth rate fine-tunes from its
    best-test-accuracy checkpoint with a fresh optimiser, as the official ``main_GLS_load.py``
    does. With ``checkpoint_dir`` the warm-up checkpoint is saved (atomically) and reused, so
    resuming a cell with missing rates does not warm up again. ``max_stack`` caps how many
    rates train as one stacked model (CUDA out-of-memory halves it automatically).
    """
    device = resolve_device(device)
    t0 = time.perf_counter()
    train, test = spec.load(protocol.noise_seed(seed), protocol.noise_method)
    k = train.num_classes
    model_fn = _model_fn(protocol, k)
    state = initial_state(protocol, k, seed)
    precision = dict(amp=protocol.amp, channels_last=protocol.channels_last, augment=protocol.augment)
    warm = None
    if protocol.warmup is not None:
        ckpt = None
        if checkpoint_dir is not None:
            ckpt = Path(checkpoint_dir) / f"warmup-{_cell_key(spec, protocol, seed)}.pt"
            warm = _load_checkpoint(ckpt)
        if warm is None:
            res = train_models(state, model_fn, [0.0], train, test, protocol.warmup, seed=seed,
                               device=device, keep_best_state=True, progress=progress,
                               desc=f"warm-up seed {seed}", **precision)[0]
            warm = dict(state=res.pop("best_state"), best_acc=res["best_acc"], best_epoch=res["best_epoch"],
                        diverged=res["diverged"])
            if ckpt is not None:
                ckpt.parent.mkdir(parents=True, exist_ok=True)
                _atomic_write(ckpt, lambda f: torch.save(warm, f), binary=True)
        state = warm["state"]
    rates = [float(r) for r in smooth_rates]
    chunk = len(rates) if max_stack is None else max(1, int(max_stack))
    results, i = [], 0
    while i < len(rates):
        part = rates[i:i + chunk]
        try:
            results += train_models(state, model_fn, part, train, test, protocol.gls, seed=seed,
                                    device=device, stacked=stacked, progress=progress,
                                    desc=f"GLS x{len(part)} seed {seed}", **precision)
            i += len(part)
        except torch.cuda.OutOfMemoryError:
            if chunk == 1:
                raise
            chunk = max(1, chunk // 2)
            torch.cuda.empty_cache()
    seconds = time.perf_counter() - t0
    rows = []
    for res in results:
        res.pop("history")
        rows.append(dict(
            dataset=spec.dataset, noise=spec.noise, noise_rate=spec.noise_rate,
            realised_noise_rate=round(train.realised_noise_rate, 5), protocol=protocol.name,
            model=protocol.model, seed=int(seed), **res,
            warmup_best_acc=warm["best_acc"] if warm else float("nan"),
            warmup_best_epoch=warm["best_epoch"] if warm else None,
            warmup_epochs=protocol.warmup.epochs if protocol.warmup else 0,
            epochs=protocol.gls.epochs, n_train=len(train), n_test=len(test), precision=protocol.precision,
            noise_method=protocol.noise_method,
            device=str(device), seconds=round(seconds / len(results), 2), config=protocol.config_id()))
    return rows


def _load_checkpoint(path: Path):
    """A saved warm-up checkpoint, or None when it is absent or unreadable (then it is retrained)."""
    if not path.exists():
        return None
    try:
        warm = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(warm, dict) and "state" in warm:
            return warm
    except Exception as err:   # noqa: BLE001  (a damaged file of any kind: retrain, say so)
        warnings.warn(f"warm-up checkpoint {path} is unreadable ({type(err).__name__}); training the warm-up "
                      f"again", stacklevel=2)
        return None
    warnings.warn(f"warm-up checkpoint {path} has an unexpected content; training the warm-up again", stacklevel=2)
    return None


def _cell_key(spec: DataSpec, protocol: Protocol, seed: int) -> str:
    blob = f"{spec.dataset}|{spec.noise}|{spec.noise_rate}|{spec.n_train}|{spec.n_test}|{seed}|{protocol.config_id()}"
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# The results store: one atomically written JSON file per row, named by its key
# --------------------------------------------------------------------------------------------
KEY = ["dataset", "noise", "noise_rate", "protocol", "config", "n_train", "n_test", "seed", "smooth_rate"]
ROWS_DIR = "rows"
_INT_COLUMNS = ("best_epoch", "diverged_epoch", "warmup_best_epoch")


def _atomic_write(path: Path, write, binary: bool = False) -> None:
    """Write ``path`` through a uniquely named temporary file in the same folder and
    ``os.replace`` it into place: readers see the old file or the new one, never a part."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            if callable(write):
                write(f)
            else:
                f.write(write)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _json_value(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(f"cannot store {type(v).__name__} in a results row")


def save_rows(out, rows) -> None:
    """Store ``rows`` (dicts with the :data:`KEY` columns) in ``out/rows/``, one file each.

    A row's file name is a hash of its key, so saving the same row again (a resumed or a
    concurrent run) replaces it instead of adding a duplicate.
    """
    folder = Path(out) / ROWS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".tmp-*"):          # left by a writer killed an hour or more ago
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink()
    for row in rows:
        key = _row_key(*(row[k] for k in KEY))
        name = hashlib.sha1(repr(key).encode()).hexdigest()[:20] + ".json"
        _atomic_write(folder / name, json.dumps(row, default=_json_value, sort_keys=True))


def _valid_key(row) -> bool:
    try:
        _row_key(*(row[k] for k in KEY))
    except (KeyError, TypeError, ValueError):
        return False
    return all(row[k] is not None and not (isinstance(row[k], float) and math.isnan(row[k]))
               for k in KEY if k not in ("n_train", "n_test"))


def load_results(path) -> "pd.DataFrame":
    """The stored results as a DataFrame (empty, with the key columns, when there are none).

    ``path``: the ``--out`` folder (its ``rows/`` store; an older ``results.csv`` alone is read
    too), or a ``results.csv`` file. Unreadable row files and incomplete CSV rows are skipped
    with a warning naming them, so a damaged store never stops a run: the missing rows are
    simply trained again.
    """
    import pandas as pd

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be an output folder or a results.csv path, got {type(path).__name__}")
    path = Path(path)
    folder = path.parent if path.suffix == ".csv" else path
    rows_dir = folder / ROWS_DIR
    if rows_dir.is_dir():
        rows, bad = [], []
        for f in sorted(rows_dir.glob("*.json")):
            if f.name.startswith("."):          # a temporary file of a writer (maybe killed): not a row
                continue
            try:
                row = json.loads(f.read_bytes().decode("utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                bad.append(f.name)
                continue
            (rows if isinstance(row, dict) and _valid_key(row) else bad).append(row if isinstance(row, dict) else f.name)
        bad = [b if isinstance(b, str) else "?" for b in bad]
        if bad:
            warnings.warn(f"skipped {len(bad)} unreadable file(s) in {rows_dir} ({', '.join(bad[:3])}"
                          f"{', ...' if len(bad) > 3 else ''}); their rows will be trained again", stacklevel=2)
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=KEY)
    else:
        csv = path if path.suffix == ".csv" else folder / "results.csv"
        frame = _read_csv(csv)
    frame = _typed(frame)
    if len(frame):
        keys = [_row_key(*row) for row in frame[KEY].itertuples(index=False)]
        frame = frame.assign(_key=keys).drop_duplicates("_key", keep="last").drop(columns="_key")
        frame = frame.sort_values(KEY[:5] + ["seed", "smooth_rate"], ascending=True, kind="stable")
    return frame.reset_index(drop=True)


def _typed(frame):
    """Epoch columns as nullable integers: ``diverged_epoch`` / ``best_epoch`` missing = pandas.NA."""
    import pandas as pd

    for col in _INT_COLUMNS:
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    return frame


def _read_csv(csv: Path):
    """An exported or older results.csv, keeping only complete rows (warns about the rest)."""
    import pandas as pd

    if not csv.is_file() or csv.stat().st_size == 0:
        return pd.DataFrame(columns=KEY)
    try:
        frame = pd.read_csv(csv, on_bad_lines="skip")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as err:
        warnings.warn(f"{csv} is unreadable ({type(err).__name__}); ignoring it", stacklevel=3)
        return pd.DataFrame(columns=KEY)
    if not set(KEY) <= set(frame.columns):
        warnings.warn(f"{csv} has no results columns ({', '.join(KEY)}); ignoring it", stacklevel=3)
        return pd.DataFrame(columns=KEY)
    ok = np.array([_valid_key(dict(zip(KEY, r))) for r in frame[KEY].itertuples(index=False)], dtype=bool)
    ok &= frame.drop(columns=KEY).notna().any(axis=1).to_numpy() if frame.shape[1] > len(KEY) else ok
    if not ok.all():
        warnings.warn(f"skipped {int((~ok).sum())} incomplete row(s) of {csv} (a run stopped while "
                      f"writing); they will be trained again", stacklevel=3)
    return frame[ok].reset_index(drop=True)


def export_csv(out) -> Path:
    """Rebuild ``out/results.csv`` (atomically) from the ``rows/`` store; returns its path."""
    out = Path(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = load_results(out)
    csv = out / "results.csv"
    _atomic_write(csv, frame.to_csv(index=False))
    return csv


def plan_grid(specs, smooth_rates, protocol: Protocol, seeds, done=None) -> list[dict]:
    """The cells to run: one dict per (spec, seed) with the rates still missing."""
    done_keys = set()
    if done is not None and len(done):
        for row in done[KEY].itertuples(index=False):
            done_keys.add(_row_key(*row))
    cells = []
    for spec in specs:
        for seed in seeds:
            todo = [float(r) for r in smooth_rates
                    if _row_key(spec.dataset, spec.noise, spec.noise_rate, protocol.name, protocol.config_id(),
                                spec.n_train, spec.n_test, seed, r) not in done_keys]
            cells.append(dict(spec=spec, seed=int(seed), rates=todo, done=len(smooth_rates) - len(todo),
                              protocol=protocol))
    return cells


def _row_key(dataset, noise, noise_rate, protocol, config, n_train, n_test, seed, rate):
    def opt_int(v):       # None, NaN and pandas.NA all mean "not given"
        try:
            return None if v is None else int(v)
        except (TypeError, ValueError):
            return None
    return (str(dataset), str(noise), round(float(noise_rate), 6), str(protocol), str(config),
            opt_int(n_train), opt_int(n_test), int(seed), round(float(rate), 6))


def _rows_for_store(rows, spec: DataSpec):
    # the key stores the *requested* sizes (None = full), the measured ones stay in n_train/n_test
    out = []
    for r in rows:
        r = dict(r)
        r["n_train_used"], r["n_test_used"] = r.pop("n_train"), r.pop("n_test")
        r["n_train"], r["n_test"] = spec.n_train, spec.n_test
        out.append(r)
    return out


def _as_routes(protocol) -> tuple[Protocol, ...]:
    if isinstance(protocol, str):
        return protocol_routes(protocol)
    if isinstance(protocol, Protocol):
        return (protocol,)
    routes = tuple(protocol)
    if not routes or not all(isinstance(p, Protocol) for p in routes):
        raise TypeError(f"protocol must be a name {PROTOCOL_NAMES}, a Protocol or a sequence of Protocols, "
                        f"got {protocol!r}")
    return routes


def run_grid(specs, smooth_rates=PAPER_RATES, protocol: Protocol | str = "fast", seeds=(0,), out=None,
             device="auto", stacked: bool = True, max_stack: int | None = None, client=None,
             progress: bool = True):
    """Run every (spec, seed) cell that is not finished yet; store each finished cell's rows.

    Args:
        specs: :class:`DataSpec` objects (one per noise setting).
        smooth_rates, seeds: the grid.
        protocol: a name (``"paper"`` runs both the official and the direct route), a
            :class:`Protocol`, or a sequence of Protocols (routes).
        out: output folder (``rows/`` store, ``results.csv`` export, ``checkpoints/``); None
            keeps nothing on disk.
        client: a ``dask.distributed.Client``: cells are submitted to it (each worker loads its
            own data), results are stored here as they finish.

    Returns:
        ``pandas.DataFrame`` with the rows of the requested grid (finished earlier or now).
        A ``KeyboardInterrupt`` propagates after the finished cells are stored.
    """
    import pandas as pd

    routes = _as_routes(protocol)
    losses.check_smooth_rate(list(smooth_rates), "smooth_rates")
    ckpt_dir = Path(out) / "checkpoints" if out is not None else None
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        done = load_results(out)
        if not (Path(out) / ROWS_DIR).is_dir() and len(done):
            save_rows(out, done.astype(object).where(done.notna(), None).to_dict("records"))   # migrate
    else:
        done = None
    cells = [c for p in routes for c in plan_grid(specs, smooth_rates, p, seeds, done) if c["rates"]]
    new_rows = []

    def record(cell, rows):
        rows = _rows_for_store(rows, cell["spec"])
        new_rows.extend(rows)
        if out is not None:
            save_rows(out, rows)
            export_csv(out)

    try:
        if client is None:
            outer = _bar(progress and len(cells) > 1, len(cells), "cells")
            for cell in cells:
                record(cell, run_cell(cell["spec"], cell["rates"], cell["protocol"], cell["seed"], device,
                                      stacked, max_stack, ckpt_dir, progress))
                if outer is not None:
                    outer.update(1)
            if outer is not None:
                outer.close()
        else:
            from distributed import as_completed

            futures = {client.submit(run_cell, c["spec"], c["rates"], c["protocol"], c["seed"], device, stacked,
                                     max_stack, ckpt_dir, False, pure=False): c for c in cells}
            for fut in as_completed(list(futures)):
                record(futures[fut], fut.result())
    finally:
        if out is not None and new_rows:
            export_csv(out)
    frame = load_results(out) if out is not None else _typed(pd.DataFrame(new_rows))
    return select(frame, specs, smooth_rates, routes, seeds)


def grid_size(specs, smooth_rates, protocol, seeds) -> int:
    """Number of rows of the grid (all routes)."""
    return len(_as_routes(protocol)) * len(specs) * len(seeds) * len(smooth_rates)


def select(frame, specs, smooth_rates, protocol, seeds):
    """The rows of ``frame`` that belong to this grid (last one wins on duplicates)."""
    if frame is None or not len(frame):
        return frame
    wanted = {_row_key(s.dataset, s.noise, s.noise_rate, p.name, p.config_id(), s.n_train,
                       s.n_test, seed, r) for p in _as_routes(protocol) for s in specs for seed in seeds
              for r in smooth_rates}
    keys = [_row_key(*row) for row in frame[KEY].itertuples(index=False)]
    mask = np.array([k in wanted for k in keys], dtype=bool)
    sub = frame[mask].copy()
    sub["_key"] = [k for k, m in zip(keys, mask) if m]
    return sub.drop_duplicates("_key", keep="last").drop(columns="_key").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The paper's numbers, the summary table, the figure
# --------------------------------------------------------------------------------------------
def paper_table2():
    """Table 2 of the ICLR 2022 submission ("Understanding Generalized Label Smoothing when
    Learning with Noisy Labels", OpenReview UQQgMRq58O; PAPER_NOTES §4.2) as a DataFrame with a
    source column. The ICML 2022 paper (arXiv 2106.04149) re-ran these tables; its values
    differ a little. Each value is the better of the direct and the warm-up route."""
    import pandas as pd

    return pd.read_csv(PAPER_DIR / "table2.csv")


def paper_cifar_n():
    """CIFAR-N accuracies of the paper that a primary source confirms (PAPER_NOTES §4.3), one
    row each with its source. Today none is confirmed (the paper's CIFAR-N table is in the
    ICML version, which the course could not read), so the frame is empty; values from
    secondary sources are not shipped."""
    import pandas as pd

    return pd.read_csv(PAPER_DIR / "cifar_n.csv")


_SUMMARY_NEEDS = ("dataset", "noise", "noise_rate", "smooth_rate", "seed", "best_acc", "final_acc", "diverged",
                  "protocol")


def summarize(results, paper=None):
    """One row per (dataset, noise, noise_rate, smooth_rate): mean ± std over seeds of the
    best-epoch and final accuracy, divergences, and Table 2's value where it exists.

    ``results`` holds the rows of one or more routes (column ``protocol``). When a setting has
    rows of several routes (the ``paper`` protocol: official and direct), the row reports the
    route with the higher mean best-epoch accuracy, as Table 2 reports the better of its two
    routes; ``route`` names it and ``routes`` lists each route's mean.
    """
    import pandas as pd

    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame of result rows (from run_grid or load_results), "
                        f"got {type(results).__name__}")
    missing = [c for c in _SUMMARY_NEEDS if c not in results]
    if missing:
        raise ValueError(f"results lacks the columns {missing}; it needs {list(_SUMMARY_NEEDS)} "
                         f"(rows from run_grid or load_results)")
    paper = paper_table2() if paper is None else paper
    keys = ["dataset", "noise", "noise_rate", "smooth_rate"]
    res = results.assign(noise_rate=results["noise_rate"].astype(float).round(6),
                         smooth_rate=results["smooth_rate"].astype(float).round(6),
                         diverged=results["diverged"].astype(str).str.lower().eq("true"))
    g = res.groupby(keys + ["protocol"], sort=False)
    per_route = pd.DataFrame({
        "seeds": g["seed"].nunique(),
        "best_mean": g["best_acc"].mean(), "best_std": g["best_acc"].std(ddof=0),
        "final_mean": g["final_acc"].mean(), "final_std": g["final_acc"].std(ddof=0),
        "diverged": g["diverged"].sum().astype(int),
    }).reset_index()
    rank = per_route["best_mean"].fillna(-np.inf)
    order = per_route.assign(_rank=rank).sort_values("_rank", ascending=False, kind="stable")
    listing = order.groupby(keys, sort=False).apply(
        lambda d: " / ".join(f"{p} {m:.2f}" for p, m in zip(d["protocol"], d["best_mean"])), include_groups=False)
    table = order.drop_duplicates(keys, keep="first").drop(columns="_rank").rename(columns={"protocol": "route"})
    table = table.merge(listing.rename("routes").reset_index(), on=keys, how="left")
    p = paper.rename(columns={"mean": "paper_mean", "std": "paper_std"})[keys + ["paper_mean", "paper_std"]]
    p = p.assign(noise_rate=p["noise_rate"].round(6), smooth_rate=p["smooth_rate"].round(6))
    table = table.merge(p, on=keys, how="left")
    table["best_minus_paper"] = table["best_mean"] - table["paper_mean"]
    return table.sort_values(["dataset", "noise", "noise_rate", "smooth_rate"],
                             ascending=[True, True, True, False]).reset_index(drop=True)


def format_table(table) -> str:
    """The summary as printable text (accuracy in %, mean ± std)."""
    lines = []
    for (dataset, noise, rate), sub in table.groupby(["dataset", "noise", "noise_rate"], sort=False):
        head = f"{dataset}  {noise}" + (f" {rate:g}" if noise in noise_module.KINDS else "")
        lines.append(f"\n{head}  (test accuracy %, best epoch / final epoch; paper = ICLR 2022 submission's "
                     f"Table 2, the better of its direct and warm-up routes)")
        lines.append(f"{'r':>6} {'route':>8} {'seeds':>5} {'best':>15} {'final':>15} {'div':>4} {'paper':>15} "
                     f"{'best-paper':>10}")
        for row in sub.itertuples(index=False):
            paper = "—" if math.isnan(row.paper_mean) else f"{row.paper_mean:.2f} ± {row.paper_std:.2f}"
            delta = "—" if math.isnan(row.best_minus_paper) else f"{row.best_minus_paper:+.2f}"
            lines.append(f"{row.smooth_rate:>6g} {row.route:>8} {row.seeds:>5d} {row.best_mean:>7.2f} ± "
                         f"{row.best_std:<5.2f} {row.final_mean:>7.2f} ± {row.final_std:<5.2f} {row.diverged:>4d} "
                         f"{paper:>15} {delta:>10}")
        if set(sub["route"]) == {"official"}:
            lines.append("  note: warm-up route only; Table 2 is the better of direct and warm-up "
                         "(--protocol paper runs both)")
        if noise in cifar_module.CIFAR_N_LABEL_SETS.get(dataset, ()):
            ref = paper_cifar_n()
            ref = ref[(ref["dataset"] == dataset) & (ref["label_set"] == noise)]
            if len(ref):
                vals = ", ".join(f"{m.method} {m.accuracy:.2f} ({m.source})" for m in ref.itertuples())
                lines.append(f"  paper (CIFAR-N): {vals}")
            else:
                lines.append("  paper (CIFAR-N): no value confirmed by a primary source; none shown")
    return "\n".join(lines)


def plot_results(table, title: str | None = None):
    """Accuracy against smooth rate, ours (best and final epoch, mean ± std) next to Table 2.

    One panel per noise setting; x positions are the rates in the paper's order (0.8 ... -6).
    The y-axis spans at least 10 points, so that differences of a tenth of a point are not
    blown up to fill the panel. Returns the matplotlib Figure.
    """
    from .plots import new_figure

    groups = list(table.groupby(["dataset", "noise", "noise_rate"], sort=False))
    ncol = min(4, len(groups))
    nrow = math.ceil(len(groups) / ncol)
    fig, axes = new_figure(nrow, ncol, figsize=(4.6 * ncol, 3.8 * nrow))
    axes = np.asarray(axes, dtype=object).reshape(nrow, ncol)
    for ax, ((dataset, noise, rate), sub) in zip(axes.flat, groups):
        sub = sub.sort_values("smooth_rate", ascending=False)
        x = np.arange(len(sub))
        routes = "/".join(sorted(set(sub["route"])))
        ax.errorbar(x, sub["best_mean"], yerr=sub["best_std"], color=OKABE_ITO[0], marker="o", capsize=3,
                    label=f"this run ({routes}), best epoch")
        ax.errorbar(x, sub["final_mean"], yerr=sub["final_std"], color=OKABE_ITO[1], marker="^", ls="--",
                    capsize=3, label="this run, final epoch")
        if sub["paper_mean"].notna().any():
            ax.errorbar(x, sub["paper_mean"], yerr=sub["paper_std"], color=OKABE_ITO[3], marker="s", ls=":",
                        capsize=3, label="ICLR Table 2 (best of direct, warm-up)")
        ax.axvline(int(np.argmin(np.abs(sub["smooth_rate"].to_numpy()))), color="0.6", lw=0.8)
        ax.set_xticks(x, [f"{r:g}" for r in sub["smooth_rate"]])
        ax.set_xlabel("smooth rate r  (left: LS, right: NLS)")
        ax.set_ylabel("clean test accuracy (%)")
        values = sub[["best_mean", "final_mean", "paper_mean"]].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            lo, hi = float(values.min()), float(values.max())
            pad = max(0.0, 10.0 - (hi - lo)) / 2 + 1.0
            ax.set_ylim(max(0.0, lo - pad), min(100.0, hi + pad))
        label = f"{noise} {rate:g}" if noise in noise_module.KINDS else noise
        ax.set_title(f"{dataset}, {label}")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    import textwrap

    title = title or "Test accuracy vs smooth rate: this run and the ICLR 2022 submission's Table 2"
    fig.suptitle("\n".join(textwrap.wrap(title, width=45 * ncol)))
    return fig


def plot_table2(dataset: str = "cifar10", noise: str = "symmetric", ax=None):
    """Table 2 of the ICLR 2022 submission as curves: accuracy against smooth rate, one line per noise rate.

    Returns the matplotlib Axes (its ``.figure`` is the Figure). Colours are Okabe-Ito; rates in
    the paper's order (0.8 ... -6).
    """
    from .plots import new_figure

    t = paper_table2()
    t = t[(t["dataset"] == dataset) & (t["noise"] == noise)]
    if not len(t):
        raise ValueError(f"Table 2 has no {dataset} {noise} columns")
    if ax is None:
        _, ax = new_figure(figsize=(6.4, 3.8))
    for i, (eps, sub) in enumerate(t.groupby("noise_rate")):
        sub = sub.sort_values("smooth_rate", ascending=False)
        x = np.arange(len(sub))
        ax.errorbar(x, sub["mean"], yerr=sub["std"], marker="os^Dv"[i % 5], capsize=2,
                    color=OKABE_ITO[i % len(OKABE_ITO)], label=f"ε = {eps:g}")
        best = int(np.argmax(sub["mean"].to_numpy()))
        ax.plot(x[best], sub["mean"].iloc[best], marker="*", ms=14, color=OKABE_ITO[i % len(OKABE_ITO)],
                mec="black", ls="none")
    ax.set_xticks(x, [f"{r:g}" for r in sub["smooth_rate"]])
    ax.axvline(int(np.argmin(np.abs(sub["smooth_rate"].to_numpy()))), color="0.6", lw=0.8)
    ax.set_xlabel("smooth rate r  (left of the grey line: LS; right: NLS)")
    ax.set_ylabel("clean test accuracy (%)")
    ax.set_title(f"ICLR 2022 submission, Table 2: {dataset}, {noise} noise (★ = best rate)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return ax


# --------------------------------------------------------------------------------------------
# Time estimates
# --------------------------------------------------------------------------------------------
def measure_throughput(model: str = "fastnet", device="auto", batch_size: int = 128, steps: int = 5,
                       num_models: int = 1, widths=None, amp: bool = True, warmup_steps: int = 2) -> float:
    """Training images per second (forward + backward + SGD step) on random CIFAR-shaped data.

    With ``num_models`` > 1 the models are stacked (vmap) and the number counts each model's
    images, i.e. the throughput of the whole grid of fine-tunes.
    """
    device = resolve_device(device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    fn = lambda: build_model(model, 10, widths if model == "fastnet" else None)   # noqa: E731
    models = [prepare_model(fn(), device, amp) for _ in range(num_models)]
    stack = _Single(models[0]) if num_models == 1 else _Stacked(models)
    opt = torch.optim.SGD(stack.parameters(), lr=1e-3, momentum=0.9, nesterov=True)
    x = torch.randn(batch_size, 3, 32, 32, device=device)
    if device.type == "cuda":
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch_size,), device=device)
    r = torch.linspace(0.8, -6.0, num_models, device=device)
    stack.train(True)

    def step():
        with autocast(device, amp):
            logits = stack(x)
        loss = losses.gls_loss(logits.float(), y, r).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup_steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch_size * steps * num_models / (time.perf_counter() - t0)


def estimate_seconds(protocol: Protocol, n_train: int, n_test: int, n_rates: int, throughput: float,
                     stacked_efficiency: float = 1.0) -> float:
    """Seconds for one cell: warm-up + fine-tunes of ``n_rates`` rates, evaluation included
    (an evaluation image costs about a third of a training image)."""
    t = 0.0
    if protocol.warmup is not None:
        t += protocol.warmup.epochs * (n_train + n_test / 3) / throughput
    t += protocol.gls.epochs * n_rates * (n_train + n_test / 3) / (throughput * stacked_efficiency)
    return t


def grid_estimate(protocol: Protocol, n_cells: int, n_rates: int, n_train: int = 50_000, n_test: int = 10_000,
                  device_type: str = "cuda", throughput: float | None = None) -> float:
    """Projected seconds of a grid of ``n_cells`` cells × ``n_rates`` rates (no speed-up assumed
    from stacking)."""
    thr = throughput or assumed_throughput(protocol, device_type)
    return n_cells * estimate_seconds(protocol, n_train, n_test, n_rates, thr)


def format_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def describe_plan(cells, protocol: Protocol, smooth_rates, device: torch.device, throughput: float,
                  throughput_source: str) -> str:
    lines = [f"protocol {protocol.name!r} (config {protocol.config_id()}), model {protocol.model}"
             + (f" widths {protocol.widths}" if protocol.model == "fastnet" else "")]
    if protocol.warmup is not None:
        w = protocol.warmup
        lines.append(f"  warm-up: CE, {w.epochs} epochs, SGD lr {w.lr:g} ({w.schedule}"
                     f"{' at ' + str(list(w.milestones)) if w.milestones else ''}), momentum {w.momentum:g}"
                     f"{' Nesterov' if w.nesterov else ''}, weight decay {w.weight_decay:g}, batch {w.batch_size};"
                     f" keep the best-test-accuracy checkpoint")
    g = protocol.gls
    lines.append(f"  GLS: {g.epochs} epochs, SGD lr {g.lr:g} ({g.schedule}"
                 f"{' at ' + str(list(g.milestones)) if g.milestones else ''}), momentum {g.momentum:g}"
                 f"{' Nesterov' if g.nesterov else ''}, weight decay {g.weight_decay:g}, batch {g.batch_size}"
                 + ("; every rate starts from the warm-up checkpoint, fresh optimiser" if protocol.warmup
                    else "; from scratch"))
    lines.append(f"  precision {protocol.precision}" + (" (bf16 autocast + channels-last on CUDA)" if protocol.amp else "")
                 + f"; noisy labels: {protocol.noise_method} draw"
                 + (" (RandomState(0), as the official code, for every seed)" if protocol.noise_method == "official"
                    else " (course sampler, seeded by the run's seed)")
                 + ("; course extension, not the paper's recipe" if protocol.name == "fast" else ""))
    lines.append(f"  smooth rates: {' '.join(f'{r:g}' for r in smooth_rates)}")
    total, todo_cells = 0.0, 0
    for c in cells:
        s = c["spec"]
        n_train, n_test = _sizes(s)
        label = f"{s.dataset} {s.noise}" + (f" {s.noise_rate:g}" if s.noise in noise_module.KINDS else "")
        if s.noise == "asymmetric" or (s.noise == "pairflip" and s.dataset == "cifar100"):
            label += " (course extension)"
        if not c["rates"]:
            lines.append(f"  [done] {label} seed {c['seed']} ({c['done']} rates already in the CSV)")
            continue
        sec = estimate_seconds(protocol, n_train, n_test, len(c["rates"]), throughput)
        total += sec
        todo_cells += 1
        lines.append(f"  [todo] {label} seed {c['seed']}: {len(c['rates'])} rates, "
                     f"{n_train} train / {n_test} test images, ~{format_duration(sec)}")
    lines.append(f"{todo_cells} cell(s) to run on {device}; estimated {format_duration(total)} "
                 f"at {throughput:,.0f} training images/s ({throughput_source})")
    return "\n".join(lines)


def _sizes(spec: DataSpec):
    if spec.dataset == "synthetic":
        return spec.n_train or 512, spec.n_test or 256
    return min(spec.n_train or 50_000, 50_000), min(spec.n_test or 10_000, 10_000)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m nls_lessons.reproduce",
        description="Reproduce the CIFAR experiments of Wei et al. (ICML 2022; numbering and Table 2 of the ICLR "
                    "2022 submission): train every smooth rate of a grid, store each finished row (resumable, "
                    "safe to kill), print the table next to Table 2, save a figure.",
        epilog="example: python -m nls_lessons.reproduce --dataset cifar10 --noise symmetric --noise-rate 0.6 "
               "--smooth-rates 0.4 0 -0.8 -4 --protocol paper --seeds 0 1 2")
    p.add_argument("--dataset", default="cifar10", choices=("cifar10", "cifar100", "synthetic"),
                   help="synthetic = CIFAR-shaped toy data for a CPU smoke run")
    p.add_argument("--noise", default="symmetric",
                   help="clean | symmetric | pairflip | asymmetric (synthetic, need --noise-rate; asymmetric and "
                        "pair-flip for K != 10 are course extensions) | aggre | worst | random1 | random2 | random3 "
                        "(CIFAR-10N) | noisy (CIFAR-100N)")
    p.add_argument("--noise-rate", type=float, nargs="+", default=None, metavar="EPS",
                   help="one or more synthetic noise rates in [0, 1), e.g. 0 0.2 0.4 0.6")
    p.add_argument("--smooth-rates", type=float, nargs="+", default=list(PAPER_RATES), metavar="R",
                   help="smooth rates r <= 1 (default: the 10 rates of Table 2)")
    p.add_argument("--protocol", default="fast", choices=PROTOCOL_NAMES,
                   help="official (warm-up route) | direct | paper (both routes, the better per setting, as "
                        "Table 2) | fast (course extension: minutes on one GPU, agreement with Table 2 unmeasured)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=None, help="epochs of the GLS phase (override)")
    p.add_argument("--warmup-epochs", type=int, default=None, help="epochs of the CE warm-up (override)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="learning rate of the GLS phase (override)")
    p.add_argument("--widths", type=int, nargs=4, default=None, metavar="W", help="fast-net widths")
    p.add_argument("--precision", default=None,
                   help="fp32 | bf16 (bf16 autocast + channels-last on CUDA). Default: fp32 for official/direct/"
                        "paper (as the official runs), bf16 for fast")
    p.add_argument("--no-amp", action="store_true", help="same as --precision fp32")
    p.add_argument("--n-train", type=int, default=None, help="use the first N training images")
    p.add_argument("--n-test", type=int, default=None, help="use the first N test images")
    p.add_argument("--root", default=None, help=f"data folder (default ${cifar_module.ENV_VAR} or data/)")
    p.add_argument("--download", action="store_true", help="download CIFAR with torchvision (online only)")
    p.add_argument("--no-verify", action="store_true", help="skip torchvision's MD5 check of the files")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--out", default=str(DEFAULT_OUT),
                   help="folder for rows/ (the store), results.csv, results.png, checkpoints/")
    p.add_argument("--loop", action="store_true", help="train the rates one after another, not stacked")
    p.add_argument("--max-stack", type=int, default=None, help="at most this many rates stacked at once")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address: run cells on that cluster")
    p.add_argument("--local-cluster", type=int, default=None, metavar="N",
                   help="start a Dask LocalCluster with N worker processes")
    p.add_argument("--dry-run", action="store_true", help="print the plan and estimated time, train nothing")
    p.add_argument("--calibrate", action="store_true", help="with --dry-run: measure throughput here")
    p.add_argument("--no-progress", action="store_true")
    return p


_CLI_NAMES = {"warmup_epochs": "--warmup-epochs", "epochs": "--epochs", "batch_size": "--batch-size",
              "lr": "--lr", "widths": "--widths", "precision": "--precision", "smooth_rates": "--smooth-rates"}


def _cli_message(err: Exception) -> str:
    """A library error message with its argument names spelled as command-line flags."""
    import re

    return re.sub(r"(?<![-\w])(" + "|".join(_CLI_NAMES) + r")(?!\w)", lambda m: _CLI_NAMES[m.group(1)], str(err))


def _no_repeats(values, flag: str, parser) -> None:
    seen, repeated = set(), []
    for v in values:
        key = round(float(v), 9)
        if key in seen and v not in repeated:
            repeated.append(v)
        seen.add(key)
    if repeated:
        parser.error(f"{flag} must not repeat values; {', '.join(f'{v:g}' for v in repeated)} "
                     f"given more than once (each value trains its own models)")


def _specs_from_args(args, parser) -> list[DataSpec]:
    kinds = noise_module.KINDS
    label_sets = () if args.dataset == "synthetic" else cifar_module.CIFAR_N_LABEL_SETS[args.dataset]
    if args.noise in kinds:
        if not args.noise_rate:
            parser.error(f"--noise {args.noise} needs --noise-rate (e.g. --noise-rate 0.6)")
        rates = args.noise_rate
    elif args.noise == "clean" or args.noise in label_sets:
        if args.noise_rate:
            parser.error(f"--noise {args.noise} has its own noise rate; drop --noise-rate")
        rates = [0.0]
    else:
        allowed = ("clean",) + kinds + tuple(label_sets)
        extra = " (CIFAR-N label sets need --dataset cifar10/cifar100)" if args.dataset == "synthetic" else ""
        parser.error(f"--noise for {args.dataset} must be one of {', '.join(allowed)}; got {args.noise!r}{extra}")
    for eps in rates:
        try:
            noise_module.check_noise_rate(eps, "--noise-rate")
        except (ValueError, TypeError) as err:
            parser.error(str(err))
    _no_repeats(rates, "--noise-rate", parser)
    for name in ("n_train", "n_test", "max_stack", "local_cluster"):
        v = getattr(args, name)
        if v is not None and v < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {v}")
    return [DataSpec(args.dataset, args.noise, float(eps), args.root, not args.no_verify, args.download,
                     args.n_train, args.n_test) for eps in rates]


def _check_out(out: Path, parser, create: bool = True) -> None:
    """``--out`` must be (or become) a writable folder: checked before anything trains. A dry
    run (``create=False``) checks the same without creating anything."""
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} is a file; --out must name a folder (it gets rows/, results.csv, checkpoints/)")
    base = out
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        parser.error(f"--out {out} lies under {base}, which is a file; --out must name a folder")
    if not create:
        if not os.access(base, os.W_OK | os.X_OK):
            parser.error(f"--out {out} is not writable (no write permission in {base}); choose another --out")
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        parser.error(f"--out {out} is not a writable folder ({err.strerror or err}); choose another --out")


def _check_args(args, parser):
    """Every argument, checked before anything is trained or downloaded. Returns
    (specs, routes, device)."""
    specs = _specs_from_args(args, parser)
    if args.calibrate and not args.dry_run:
        parser.error("--calibrate only works with --dry-run (it measures the throughput the plan uses); "
                     "add --dry-run or drop --calibrate")
    if args.scheduler and args.local_cluster:
        parser.error("use either --scheduler or --local-cluster, not both")
    if args.download and args.dataset == "synthetic":
        parser.error("--download fetches CIFAR; --dataset synthetic needs no download")
    if args.download and args.no_verify:
        parser.error("--download always verifies the checksums; drop --no-verify")
    for seed in args.seeds:
        try:
            noise_module.check_seed(seed, "--seeds")
        except (ValueError, TypeError) as err:
            parser.error(str(err))
    _no_repeats(args.seeds, "--seeds", parser)
    _no_repeats(args.smooth_rates, "--smooth-rates", parser)
    precision = "fp32" if args.no_amp else args.precision
    try:
        losses.check_smooth_rate(args.smooth_rates, "--smooth-rates")
        if args.widths is not None and min(args.widths) < 1:
            raise ValueError(f"widths must be four positive integers, got {tuple(args.widths)}")
        routes = protocol_routes(args.protocol, epochs=args.epochs, warmup_epochs=args.warmup_epochs,
                                 batch_size=args.batch_size, lr=args.lr, widths=args.widths, precision=precision)
        device = resolve_device(args.device)
    except (ValueError, TypeError) as err:
        parser.error(_cli_message(err))
    _check_out(Path(args.out), parser, create=not args.dry_run)
    return specs, routes, device


def _download(args) -> bool:
    """Fetch CIFAR when ``--download`` is given; False (after one clear line) when it fails."""
    if not args.download:
        return True
    try:
        cifar_module.fetch(args.dataset, args.root)
    except cifar_module.DownloadError as err:
        print(f"error: {err}", file=sys.stderr)
        return False
    return True


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    specs, routes, device = _check_args(args, parser)
    out = Path(args.out)
    if not _download(args):
        return 1
    if args.dataset != "synthetic" and not cifar_module.is_available(args.dataset, args.root):
        print(cifar_module.missing_message(args.dataset, args.root), file=sys.stderr)
        if not args.dry_run:
            return 1
    done = load_results(out)
    cells = [c for p in routes for c in plan_grid(specs, args.smooth_rates, p, args.seeds, done)]
    if args.dry_run:
        return _dry_run(args, cells, routes, device)
    client = cluster = None
    total = grid_size(specs, args.smooth_rates, routes, args.seeds)
    try:
        if args.scheduler or args.local_cluster:
            from distributed import Client, LocalCluster

            if args.local_cluster:
                cluster = LocalCluster(n_workers=args.local_cluster, threads_per_worker=1, dashboard_address=None)
                client = Client(cluster)
            else:
                client = Client(args.scheduler)
        results = run_grid(specs, args.smooth_rates, routes, args.seeds, out, device, not args.loop,
                           args.max_stack, client, not args.no_progress)
    except KeyboardInterrupt:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            saved = select(load_results(out), specs, args.smooth_rates, routes, args.seeds)
        n = 0 if saved is None else len(saved)
        print(f"\ninterrupted: {n} of {total} rows of this grid are saved in {out / ROWS_DIR} "
              f"(a cell's rows are saved when the cell finishes). To resume, run the same command again: "
              f"saved rows are not retrained.", file=sys.stderr)
        return 130
    except (FileNotFoundError, cifar_module.DownloadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    table = summarize(results)
    print(format_table(table))
    fig = plot_results(table)
    _atomic_write(out / "results.png", lambda f: fig.savefig(f, dpi=120, format="png"), binary=True)
    print(f"\nresults: {out / 'results.csv'} (store: {out / ROWS_DIR})  figure: {out / 'results.png'}")
    n_div = int(results["diverged"].astype(str).str.lower().eq("true").sum())
    if n_div:
        print(f"warning: {n_div} run(s) diverged (losses.diverging: non-finite or |loss| > "
              f"{losses.DIVERGENCE_LOSS:g}(1 + |r|)); see the 'diverged' column", file=sys.stderr)
    return 0


def _dry_run(args, cells, routes, device) -> int:
    for protocol in routes:
        mine = [c for c in cells if c["protocol"] is protocol]
        if args.calibrate:
            thr = measure_throughput(protocol.model, device, min(protocol.gls.batch_size, 64), steps=3,
                                     widths=protocol.widths, amp=protocol.amp)
            source = "measured here just now"
        else:
            thr = assumed_throughput(protocol, device.type)
            source = ("reference number for this model on " + device.type +
                      " (the full-width net; --calibrate measures this machine)")
        print(describe_plan(mine, protocol, args.smooth_rates, device, thr, source))
        if device.type == "cpu":
            gpu = assumed_throughput(protocol, "cuda")
            sec = sum(estimate_seconds(protocol, *_sizes(c["spec"]), len(c["rates"]), gpu) for c in mine)
            print(f"on one GPU (assumed {gpu:,.0f} images/s, an H100 in {protocol.precision}; not measured "
                  f"here): ~{format_duration(sec)}")
    if len(routes) > 1:
        print("protocol 'paper': both routes above; the summary reports the better one per setting, as Table 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
