"""Reproduce the paper's CIFAR experiments: protocols, a resumable grid, a command line.

Lesson 05 (paper scale). Run ``python -m nls_lessons.reproduce --help``.

Three protocols (PAPER_NOTES §3.2-3.3; epoch counts are parameters):

* ``official``: ResNet-34; 120 epochs of CE warm-up with plain SGD (no momentum, no weight
  decay), learning rate 0.1 / 0.01 / 0.001 in steps of 40 epochs; keep the checkpoint with the
  best test accuracy; then GLS for 100 epochs from it at learning rate 1e-6, momentum 0.9,
  Nesterov, weight decay 1e-4, BatchNorm in train mode.
* ``direct``: ResNet-34 trained with GLS from scratch for 200 epochs, SGD momentum 0.9,
  Nesterov, weight decay 1e-4, learning rate 0.1 / 0.01 / 0.001 at epochs 100 and 150.
* ``fast``: the fast ResNet-9-style net; a short CE warm-up (one-cycle learning rate, batch
  512), then short GLS fine-tunes for *all* smooth rates from the shared warm-up checkpoint.

In every protocol the models of one (noise, seed) cell share the noisy labels, the
initialisation (or warm-up checkpoint) and the batch order, so comparisons across smooth rates
are paired. The fine-tunes of all rates are trained as one stacked model
(``torch.func.stack_module_state`` + ``vmap(functional_call)``), or in a loop over rates.
Accuracies are in percent, like the paper's tables; ``best_acc`` is the best test accuracy over
epochs (what the official code reports), ``final_acc`` the last epoch's.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import cifar as cifar_module
from . import losses
from . import noise as noise_module
from .device import resolve_device
from .resnet import autocast, build_model, grad_scaler, prepare_model

PAPER_DIR = Path(__file__).resolve().parent.parent / "data" / "paper"
PAPER_RATES = (0.8, 0.6, 0.4, 0.0, -0.4, -0.8, -1.0, -2.0, -4.0, -6.0)   # ICLR Table 2 rows
TABLE2_NOISE_RATES = (0.0, 0.2, 0.4, 0.6)                                 # C10 symmetric columns
from .plots import PALETTE as OKABE_ITO  # noqa: E402  (the course palette, defined once in plots)
DEFAULT_OUT = Path("artifacts") / "reproduce"

# Training throughput (images / s, forward + backward) used by --dry-run when not calibrating.
# CPU: measured by bench/gpu.py on the course's 2-core CI machine. CUDA: rough assumptions for
# one H100 with bf16 (NOT measured here; run bench/gpu.py on your GPU, or --dry-run --calibrate).
THROUGHPUT = {
    ("resnet34", "cpu"): 20.0,
    ("fastnet", "cpu"): 110.0,
    ("resnet34", "cuda"): 12_000.0,
    ("fastnet", "cuda"): 60_000.0,
}


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


@dataclass(frozen=True)
class Protocol:
    """A named recipe: model, optional CE warm-up phase, and the GLS phase."""

    name: str
    model: str
    gls: Phase
    warmup: Phase | None = None
    widths: tuple | None = None
    augment: bool = True
    amp: bool = True           # bf16/fp16 autocast on CUDA only

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
        gls=Phase(4, 2e-3, "linear", momentum=0.9, nesterov=True, weight_decay=1e-4, batch_size=512)),
}


def get_protocol(name: str = "fast", *, epochs: int | None = None, warmup_epochs: int | None = None,
                 batch_size: int | None = None, lr: float | None = None, widths=None,
                 amp: bool | None = None) -> Protocol:
    """A protocol by name, with optional overrides (epochs of the GLS phase, warm-up epochs,
    batch size of both phases, learning rate of the GLS phase, fast-net widths, autocast)."""
    if name not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {tuple(PROTOCOLS)}, got {name!r}")
    p = PROTOCOLS[name]
    gls, warm = p.gls, p.warmup
    if epochs is not None:
        gls = gls.with_epochs(epochs)
    if warmup_epochs is not None:
        if warm is None:
            raise ValueError(f"protocol {name!r} has no warm-up phase; drop warmup_epochs")
        warm = warm.with_epochs(warmup_epochs)
    if batch_size is not None:
        gls = dataclasses.replace(gls, batch_size=int(batch_size))
        warm = warm and dataclasses.replace(warm, batch_size=int(batch_size))
    if lr is not None:
        gls = dataclasses.replace(gls, lr=float(lr))
    if widths is not None:
        if p.model != "fastnet":
            raise ValueError(f"widths apply to the fast net only; protocol {name!r} uses {p.model}")
        widths = tuple(int(w) for w in widths)
        if len(widths) != 4 or min(widths) < 1:
            raise ValueError(f"widths must be four positive integers, got {widths}")
    return dataclasses.replace(p, gls=gls, warmup=warm, widths=widths or p.widths,
                               amp=p.amp if amp is None else bool(amp))


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

    def load(self, seed: int):
        """(train, test) :class:`~nls_lessons.cifar.CifarData`; synthetic noise drawn with ``seed``."""
        if self.dataset == "synthetic":
            train = cifar_module.synthetic_cifar(self.n_train or 512, seed=0, noise=self.noise,
                                                 noise_rate=self.noise_rate, noise_seed=seed)
            test = cifar_module.synthetic_cifar(self.n_test or 256, seed=1)
            return train, test
        train = cifar_module.cifar(self.dataset, self.root, True, self.download, self.noise,
                                   self.noise_rate, seed, self.verify)
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


def _normalise(x: torch.Tensor, mean_std, device) -> torch.Tensor:
    mean, std = (torch.tensor(v, device=device).view(1, 3, 1, 1) for v in mean_std)
    x = (x.float() / 255.0 - mean) / std
    return x.contiguous(memory_format=torch.channels_last) if device.type == "cuda" else x


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
def evaluate(stack, data, device, amp: bool = True, batch_size: int = 1000) -> np.ndarray:
    """Test accuracy (%) of each of the M stacked models, shape (M,)."""
    stack.train(False)
    correct = torch.zeros(stack.m, device=device)
    for start in range(0, len(data), batch_size):
        x = _normalise(data.images[start:start + batch_size].to(device), data.mean_std, device)
        y = data.labels[start:start + batch_size].to(device)
        with autocast(device, amp):
            logits = stack(x)
        correct += (logits.argmax(-1) == y).sum(-1).float()
    return (100.0 * correct / max(len(data), 1)).cpu().numpy()


def train_models(init_state: dict, model_fn, rates, train, test, phase: Phase, *, seed: int = 0,
                 device="cpu", amp: bool = True, augment: bool = True, stacked: bool = True,
                 keep_best_state: bool = False, progress=None, desc: str = "") -> list[dict]:
    """Train one model per smooth rate from the same ``init_state`` with the same batches.

    Args:
        init_state: state dict every model starts from (a fresh init or a warm-up checkpoint).
        model_fn: builds an untrained model of the right architecture (on CPU).
        rates: smooth rates, one model each (``0.0`` alone is the CE warm-up).
        train, test: :class:`~nls_lessons.cifar.CifarData`; training uses ``noisy_labels``,
            testing the clean ``labels``.
        phase: optimiser and schedule.
        seed: seeds the batch order and augmentation (the same for every rate).
        stacked: train all rates as one vmapped model (True) or one after another (False);
            both give the same numbers up to floating-point round-off.
        keep_best_state: also return the best-test-accuracy state dict of each model.

    Returns:
        one dict per rate: smooth_rate, best_acc, best_epoch, final_acc, history (per-epoch
        test accuracy), train_loss (last epoch mean), diverged, diverged_epoch, [best_state].
    """
    rates = [float(r) for r in rates]
    losses.check_smooth_rate(rates, "smooth_rates")
    device = resolve_device(device)
    if not stacked and len(rates) > 1:
        return [train_models(init_state, model_fn, [r], train, test, phase, seed=seed, device=device,
                             amp=amp, augment=augment, stacked=True, keep_best_state=keep_best_state,
                             progress=progress, desc=f"{desc} r={r:g}")[0] for r in rates]
    models = []
    for _ in rates:
        m = model_fn()
        m.load_state_dict(init_state)
        models.append(prepare_model(m, device))
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
    history, best = [], [(-1.0, -1, None)] * m_count
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
            x = _normalise(x, train.mean_std, device)
            with autocast(device, amp):
                logits = stack(x)
            loss_m = losses.gls_loss(logits.float(), labels[idx], r, reduction="mean")   # (M,)
            bad = ~torch.isfinite(loss_m)
            if bool((bad & ~diverged).any()):
                for i in torch.nonzero(bad & ~diverged).flatten().tolist():
                    diverged_epoch[i] = epoch
                diverged |= bad
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
            loss_sum += loss_m.detach().nan_to_num(0.0)
        last_loss = torch.where(diverged, torch.nan, loss_sum / steps).cpu().numpy()
        acc = evaluate(stack, test, device, amp)
        history.append(acc)
        for i in range(m_count):
            if acc[i] > best[i][0] and not (diverged[i] and diverged_epoch[i] is not None
                                             and diverged_epoch[i] <= epoch):
                best[i] = (float(acc[i]), epoch + 1, stack.state_dict(i) if keep_best_state else None)
        if bar is not None:
            bar.set_postfix(loss=f"{np.nanmean(last_loss):.3f}", acc=f"{np.nanmax(acc):.1f}")
            bar.update(1)
    if bar is not None:
        bar.close()
    out = []
    for i, rate in enumerate(rates):
        best_acc, best_epoch, state = best[i]
        row = dict(smooth_rate=rate, best_acc=best_acc if best_epoch > 0 else float("nan"),
                   best_epoch=best_epoch, final_acc=float(history[-1][i]),
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
    """The seeded initialisation shared by every smooth rate of a cell."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return _model_fn(protocol, num_classes)().state_dict()


def run_cell(spec: DataSpec, smooth_rates, protocol: Protocol, seed: int = 0, device="auto",
             stacked: bool = True, max_stack: int | None = None, checkpoint_dir=None,
             progress: bool = False) -> list[dict]:
    """Train one (dataset, noise, noise rate, seed) cell for every smooth rate; one row each.

    The warm-up (if the protocol has one) runs once; every smooth rate fine-tunes from its
    best-test-accuracy checkpoint. With ``checkpoint_dir`` the warm-up checkpoint is saved and
    reused, so resuming a cell with missing rates does not warm up again. ``max_stack`` caps
    how many rates train as one stacked model (CUDA out-of-memory halves it automatically).
    """
    device = resolve_device(device)
    t0 = time.perf_counter()
    train, test = spec.load(seed)
    k = train.num_classes
    model_fn = _model_fn(protocol, k)
    state = initial_state(protocol, k, seed)
    warm = None
    if protocol.warmup is not None:
        ckpt = None
        if checkpoint_dir is not None:
            ckpt = Path(checkpoint_dir) / f"warmup-{_cell_key(spec, protocol, seed)}.pt"
        if ckpt is not None and ckpt.exists():
            warm = torch.load(ckpt, map_location="cpu", weights_only=True)
        else:
            res = train_models(state, model_fn, [0.0], train, test, protocol.warmup, seed=seed,
                               device=device, amp=protocol.amp, augment=protocol.augment,
                               keep_best_state=True, progress=progress, desc=f"warm-up seed {seed}")[0]
            warm = dict(state=res.pop("best_state"), best_acc=res["best_acc"], best_epoch=res["best_epoch"],
                        diverged=res["diverged"])
            if ckpt is not None:
                ckpt.parent.mkdir(parents=True, exist_ok=True)
                torch.save(warm, ckpt)
        state = warm["state"]
    rates = [float(r) for r in smooth_rates]
    chunk = len(rates) if max_stack is None else max(1, int(max_stack))
    results, i = [], 0
    while i < len(rates):
        part = rates[i:i + chunk]
        try:
            results += train_models(state, model_fn, part, train, test, protocol.gls, seed=seed,
                                    device=device, amp=protocol.amp, augment=protocol.augment,
                                    stacked=stacked, progress=progress,
                                    desc=f"GLS x{len(part)} seed {seed}")
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
            warmup_best_epoch=warm["best_epoch"] if warm else 0,
            warmup_epochs=protocol.warmup.epochs if protocol.warmup else 0,
            epochs=protocol.gls.epochs, n_train=len(train), n_test=len(test),
            device=str(device), seconds=round(seconds / len(results), 2), config=protocol.config_id()))
    return rows


def _cell_key(spec: DataSpec, protocol: Protocol, seed: int) -> str:
    blob = f"{spec.dataset}|{spec.noise}|{spec.noise_rate}|{spec.n_train}|{spec.n_test}|{seed}|{protocol.config_id()}"
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


# --------------------------------------------------------------------------------------------
# The grid: resumable, optionally on a Dask cluster
# --------------------------------------------------------------------------------------------
KEY = ["dataset", "noise", "noise_rate", "protocol", "config", "n_train", "n_test", "seed", "smooth_rate"]


def load_results(path) -> "pd.DataFrame":
    """The results CSV (empty frame when it does not exist yet)."""
    import pandas as pd

    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=KEY)
    return pd.read_csv(path)


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
            cells.append(dict(spec=spec, seed=int(seed), rates=todo, done=len(smooth_rates) - len(todo)))
    return cells


def _row_key(dataset, noise, noise_rate, protocol, config, n_train, n_test, seed, rate):
    def opt_int(v):
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
    return (str(dataset), str(noise), round(float(noise_rate), 6), str(protocol), str(config),
            opt_int(n_train), opt_int(n_test), int(seed), round(float(rate), 6))


def _rows_for_csv(rows, spec: DataSpec):
    # the key stores the *requested* sizes (None = full), the measured ones stay in n_train/n_test
    out = []
    for r in rows:
        r = dict(r)
        r["n_train_used"], r["n_test_used"] = r.pop("n_train"), r.pop("n_test")
        r["n_train"], r["n_test"] = spec.n_train, spec.n_test
        out.append(r)
    return out


def run_grid(specs, smooth_rates=PAPER_RATES, protocol: Protocol | str = "fast", seeds=(0,), out=None,
             device="auto", stacked: bool = True, max_stack: int | None = None, client=None,
             progress: bool = True):
    """Run every (spec, seed) cell that is not finished yet; append rows to ``out/results.csv``.

    Args:
        specs: :class:`DataSpec` objects (one per noise setting).
        smooth_rates, seeds: the grid.
        protocol: a :class:`Protocol` or a name.
        out: output folder (results.csv, checkpoints/); None keeps nothing on disk.
        client: a ``dask.distributed.Client``: cells are submitted to it (each worker loads its
            own data), results are appended here as they finish.

    Returns:
        ``pandas.DataFrame`` with the rows of the requested grid (finished earlier or now).
    """
    import pandas as pd

    protocol = get_protocol(protocol) if isinstance(protocol, str) else protocol
    losses.check_smooth_rate(list(smooth_rates), "smooth_rates")
    csv = Path(out) / "results.csv" if out is not None else None
    ckpt_dir = Path(out) / "checkpoints" if out is not None else None
    done = load_results(csv) if csv is not None else None
    cells = [c for c in plan_grid(specs, smooth_rates, protocol, seeds, done) if c["rates"]]
    new_rows = []

    def record(cell, rows):
        rows = _rows_for_csv(rows, cell["spec"])
        new_rows.extend(rows)
        if csv is not None:
            pd.DataFrame(rows).to_csv(csv, mode="a", header=not csv.exists() or csv.stat().st_size == 0,
                                      index=False)

    if client is None:
        outer = _bar(progress and len(cells) > 1, len(cells), "cells")
        for cell in cells:
            record(cell, run_cell(cell["spec"], cell["rates"], protocol, cell["seed"], device, stacked,
                                  max_stack, ckpt_dir, progress))
            if outer is not None:
                outer.update(1)
        if outer is not None:
            outer.close()
    else:
        from distributed import as_completed

        futures = {client.submit(run_cell, c["spec"], c["rates"], protocol, c["seed"], device, stacked,
                                 max_stack, ckpt_dir, False, pure=False): c for c in cells}
        for fut in as_completed(list(futures)):
            record(futures[fut], fut.result())
    frame = load_results(csv) if csv is not None else pd.DataFrame(new_rows)
    if csv is not None and len(frame):
        frame.to_csv(csv, index=False)     # normalise: one header, consistent columns
    return select(frame, specs, smooth_rates, protocol, seeds)


def select(frame, specs, smooth_rates, protocol: Protocol, seeds):
    """The rows of ``frame`` that belong to this grid (last one wins on duplicates)."""
    if frame is None or not len(frame):
        return frame
    wanted = {_row_key(s.dataset, s.noise, s.noise_rate, protocol.name, protocol.config_id(), s.n_train,
                       s.n_test, seed, r) for s in specs for seed in seeds for r in smooth_rates}
    keys = [_row_key(*row) for row in frame[KEY].itertuples(index=False)]
    mask = np.array([k in wanted for k in keys], dtype=bool)
    sub = frame[mask].copy()
    sub["_key"] = [k for k, m in zip(keys, mask) if m]
    return sub.drop_duplicates("_key", keep="last").drop(columns="_key").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The paper's numbers, the summary table, the figure
# --------------------------------------------------------------------------------------------
def paper_table2():
    """The paper's Table 2 (ICLR version; PAPER_NOTES §4.2) as a DataFrame with a source column."""
    import pandas as pd

    return pd.read_csv(PAPER_DIR / "table2.csv")


def paper_cifar_n():
    """CIFAR-N accuracies for CE / PLS / NLS from secondary sources (PAPER_NOTES §4.3)."""
    import pandas as pd

    return pd.read_csv(PAPER_DIR / "cifar_n.csv")


def summarize(results, paper=None):
    """One row per (dataset, noise, noise_rate, smooth_rate): our mean ± std over seeds of the
    best-epoch and final accuracy, divergences, and the paper's Table 2 value where it exists."""
    import pandas as pd

    paper = paper_table2() if paper is None else paper
    keys = ["dataset", "noise", "noise_rate", "smooth_rate"]
    g = results.groupby(keys, sort=False)
    table = pd.DataFrame({
        "seeds": g["seed"].nunique(),
        "best_mean": g["best_acc"].mean(), "best_std": g["best_acc"].std(ddof=0),
        "final_mean": g["final_acc"].mean(), "final_std": g["final_acc"].std(ddof=0),
        "diverged": g["diverged"].apply(lambda s: int(s.astype(str).str.lower().eq("true").sum())),
    }).reset_index()
    table["noise_rate"] = table["noise_rate"].astype(float).round(6)
    table["smooth_rate"] = table["smooth_rate"].astype(float).round(6)
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
        lines.append(f"\n{head}  (test accuracy %, best epoch / final epoch; paper = ICLR Table 2)")
        lines.append(f"{'r':>6} {'seeds':>5} {'best':>15} {'final':>15} {'div':>4} {'paper':>15} {'best-paper':>10}")
        for row in sub.itertuples(index=False):
            paper = "—" if math.isnan(row.paper_mean) else f"{row.paper_mean:.2f} ± {row.paper_std:.2f}"
            delta = "—" if math.isnan(row.best_minus_paper) else f"{row.best_minus_paper:+.2f}"
            lines.append(f"{row.smooth_rate:>6g} {row.seeds:>5d} {row.best_mean:>7.2f} ± {row.best_std:<5.2f}"
                         f" {row.final_mean:>7.2f} ± {row.final_std:<5.2f} {row.diverged:>4d} {paper:>15} {delta:>10}")
        if noise in cifar_module.CIFAR_N_LABEL_SETS.get(dataset, ()):
            ref = paper_cifar_n()
            ref = ref[(ref["dataset"] == dataset) & (ref["label_set"] == noise)]
            if len(ref):
                vals = ", ".join(f"{m.method} {m.accuracy:.2f}{'' if str(m.confirmed) == 'True' else '*'}"
                                 for m in ref.itertuples())
                lines.append(f"  paper (CIFAR-N, secondary sources, * unconfirmed): {vals}")
    return "\n".join(lines)


def plot_results(table, title: str | None = None):
    """Accuracy against smooth rate, ours (best and final epoch, mean ± std) next to Table 2.

    One panel per noise setting; x positions are the rates in the paper's order (0.8 ... -6).
    Returns the matplotlib Figure.
    """
    from .plots import new_figure

    groups = list(table.groupby(["dataset", "noise", "noise_rate"], sort=False))
    ncol = min(4, len(groups))
    nrow = math.ceil(len(groups) / ncol)
    fig, axes = new_figure(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow))
    axes = np.asarray(axes, dtype=object).reshape(nrow, ncol)
    for ax, ((dataset, noise, rate), sub) in zip(axes.flat, groups):
        sub = sub.sort_values("smooth_rate", ascending=False)
        x = np.arange(len(sub))
        ax.errorbar(x, sub["best_mean"], yerr=sub["best_std"], color=OKABE_ITO[0], marker="o", capsize=3,
                    label="ours, best epoch")
        ax.errorbar(x, sub["final_mean"], yerr=sub["final_std"], color=OKABE_ITO[1], marker="^", ls="--",
                    capsize=3, label="ours, final epoch")
        if sub["paper_mean"].notna().any():
            ax.errorbar(x, sub["paper_mean"], yerr=sub["paper_std"], color=OKABE_ITO[3], marker="s", ls=":",
                        capsize=3, label="paper (Table 2)")
        ax.axvline(int(np.argmin(np.abs(sub["smooth_rate"].to_numpy()))), color="0.6", lw=0.8)
        ax.set_xticks(x, [f"{r:g}" for r in sub["smooth_rate"]])
        ax.set_xlabel("smooth rate r  (left: LS, right: NLS)")
        ax.set_ylabel("clean test accuracy (%)")
        label = f"{noise} {rate:g}" if noise in noise_module.KINDS else noise
        ax.set_title(f"{dataset}, {label}")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(title or "Test accuracy vs smooth rate: this run and the paper")
    return fig


def plot_table2(dataset: str = "cifar10", noise: str = "symmetric", ax=None):
    """The paper's Table 2 as curves: accuracy against smooth rate, one line per noise rate.

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
    ax.set_title(f"Paper Table 2: {dataset}, {noise} noise (★ = best rate)")
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
    models = [prepare_model(fn(), device) for _ in range(num_models)]
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
    thr = throughput or THROUGHPUT[(protocol.model, device_type)]
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
                 + ("; every rate starts from the warm-up checkpoint" if protocol.warmup else "; from scratch"))
    lines.append(f"  smooth rates: {' '.join(f'{r:g}' for r in smooth_rates)}")
    total, todo_cells = 0.0, 0
    for c in cells:
        s = c["spec"]
        n_train, n_test = _sizes(s)
        label = f"{s.dataset} {s.noise}" + (f" {s.noise_rate:g}" if s.noise in noise_module.KINDS else "")
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
# Exercise check
# --------------------------------------------------------------------------------------------
def check_best_rate(answer, noise_rate: float, dataset: str = "cifar10", noise: str = "symmetric") -> bool:
    """Exercise (lesson 05): which smooth rate did the paper's Table 2 rank best for this setting?

    Prints right or wrong with a hint, and returns True when right.
    """
    t = paper_table2()
    sub = t[(t["dataset"] == dataset) & (t["noise"] == noise) & np.isclose(t["noise_rate"], noise_rate)]
    if not len(sub):
        settings = sorted({(d, n, e) for d, n, e in t[["dataset", "noise", "noise_rate"]].itertuples(index=False)})
        raise ValueError(f"Table 2 has no column {dataset} {noise} {noise_rate}; it has {settings}")
    best = sub.loc[sub["mean"].idxmax()]
    try:
        value = float(answer)
    except (TypeError, ValueError):
        print(f"Not a number: {answer!r}. Answer with a smooth rate such as 0.4 or -2.")
        return False
    if math.isclose(value, float(best["smooth_rate"]), abs_tol=1e-9):
        print(f"Right: r = {best['smooth_rate']:g} reaches {best['mean']:.2f} % in Table 2.")
        return True
    mine = sub[np.isclose(sub["smooth_rate"], value)]
    where = (f"r = {value:g} reaches {float(mine['mean'].iloc[0]):.2f} %, " if len(mine)
             else f"r = {value:g} is not a row of Table 2 (rows: {', '.join(f'{r:g}' for r in PAPER_RATES)}); ")
    sign = "negative (NLS)" if best["smooth_rate"] < 0 else "non-negative (LS or CE)"
    print(f"Not quite: {where}the best is higher. Hint: the best rate here is {sign}; "
          f"the theory's r_opt = (r* - κ)/(1 - κ) falls as the noise rate grows.")
    return False


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m nls_lessons.reproduce",
        description="Reproduce the CIFAR experiments of Wei et al. (ICML 2022): train every smooth rate of a "
                    "grid, write a resumable results CSV, print the table next to the paper's Table 2, "
                    "save a figure.",
        epilog="example: python -m nls_lessons.reproduce --dataset cifar10 --noise symmetric --noise-rate 0.6 "
               "--smooth-rates 0.4 0 -0.8 -4 --protocol fast --seeds 0 1 2")
    p.add_argument("--dataset", default="cifar10", choices=("cifar10", "cifar100", "synthetic"),
                   help="synthetic = CIFAR-shaped toy data for a CPU smoke run")
    p.add_argument("--noise", default="symmetric",
                   help="clean | symmetric | pairflip | asymmetric (synthetic, need --noise-rate) | "
                        "aggre | worst | random1 | random2 | random3 (CIFAR-10N) | noisy (CIFAR-100N)")
    p.add_argument("--noise-rate", type=float, nargs="+", default=None, metavar="EPS",
                   help="one or more synthetic noise rates in [0, 1), e.g. 0 0.2 0.4 0.6")
    p.add_argument("--smooth-rates", type=float, nargs="+", default=list(PAPER_RATES), metavar="R",
                   help="smooth rates r <= 1 (default: the 10 rates of Table 2)")
    p.add_argument("--protocol", default="fast", choices=tuple(PROTOCOLS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=None, help="epochs of the GLS phase (override)")
    p.add_argument("--warmup-epochs", type=int, default=None, help="epochs of the CE warm-up (override)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="learning rate of the GLS phase (override)")
    p.add_argument("--widths", type=int, nargs=4, default=None, metavar="W", help="fast-net widths")
    p.add_argument("--no-amp", action="store_true", help="no mixed precision on CUDA")
    p.add_argument("--n-train", type=int, default=None, help="use the first N training images")
    p.add_argument("--n-test", type=int, default=None, help="use the first N test images")
    p.add_argument("--root", default=None, help=f"data folder (default ${cifar_module.ENV_VAR} or data/)")
    p.add_argument("--download", action="store_true", help="download CIFAR with torchvision (online only)")
    p.add_argument("--no-verify", action="store_true", help="skip torchvision's MD5 check of the files")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="folder for results.csv, results.png, checkpoints")
    p.add_argument("--loop", action="store_true", help="train the rates one after another, not stacked")
    p.add_argument("--max-stack", type=int, default=None, help="at most this many rates stacked at once")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address: run cells on that cluster")
    p.add_argument("--local-cluster", type=int, default=None, metavar="N",
                   help="start a Dask LocalCluster with N worker processes")
    p.add_argument("--dry-run", action="store_true", help="print the plan and estimated time, train nothing")
    p.add_argument("--calibrate", action="store_true", help="with --dry-run: measure throughput here")
    p.add_argument("--no-progress", action="store_true")
    return p


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
    for name in ("n_train", "n_test", "max_stack", "local_cluster"):
        v = getattr(args, name)
        if v is not None and v < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {v}")
    return [DataSpec(args.dataset, args.noise, float(eps), args.root, not args.no_verify, args.download,
                     args.n_train, args.n_test) for eps in rates]


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    specs = _specs_from_args(args, parser)
    try:
        losses.check_smooth_rate(args.smooth_rates, "--smooth-rates")
        protocol = get_protocol(args.protocol, epochs=args.epochs, warmup_epochs=args.warmup_epochs,
                                batch_size=args.batch_size, lr=args.lr, widths=args.widths,
                                amp=not args.no_amp)
        device = resolve_device(args.device)
    except (ValueError, TypeError) as err:
        parser.error(str(err))
    if len(set(args.smooth_rates)) != len(args.smooth_rates):
        parser.error("--smooth-rates has duplicates")
    if args.scheduler and args.local_cluster:
        parser.error("use either --scheduler or --local-cluster, not both")
    out = Path(args.out)
    if args.dataset != "synthetic" and not args.download:
        if not cifar_module.is_available(args.dataset, args.root):
            print(cifar_module.missing_message(args.dataset, args.root), file=sys.stderr)
            if not args.dry_run:
                return 1
    done = load_results(out / "results.csv")
    cells = plan_grid(specs, args.smooth_rates, protocol, args.seeds, done)
    if args.dry_run:
        if args.calibrate:
            thr = measure_throughput(protocol.model, device, min(protocol.gls.batch_size, 64), steps=3,
                                     widths=protocol.widths, amp=protocol.amp)
            source = "measured here just now"
        else:
            thr = THROUGHPUT[(protocol.model, device.type)]
            source = ("reference number for this model on " + device.type +
                      (" (the full-width net; --calibrate measures this machine)"))
        print(describe_plan(cells, protocol, args.smooth_rates, device, thr, source))
        if device.type == "cpu":
            gpu = THROUGHPUT[(protocol.model, "cuda")]
            sec = sum(estimate_seconds(protocol, *_sizes(c["spec"]), len(c["rates"]), gpu) for c in cells)
            print(f"on one GPU (assumed {gpu:,.0f} images/s, an H100 with bf16; not measured here): "
                  f"~{format_duration(sec)}")
        return 0
    client = cluster = None
    if args.scheduler or args.local_cluster:
        from distributed import Client, LocalCluster

        if args.local_cluster:
            cluster = LocalCluster(n_workers=args.local_cluster, threads_per_worker=1, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(args.scheduler)
    try:
        results = run_grid(specs, args.smooth_rates, protocol, args.seeds, out, device, not args.loop,
                           args.max_stack, client, not args.no_progress)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    table = summarize(results)
    print(format_table(table))
    fig = plot_results(table)
    fig.savefig(out / "results.png", dpi=120)
    print(f"\nresults: {out / 'results.csv'}  figure: {out / 'results.png'}")
    n_div = int(results["diverged"].astype(str).str.lower().eq("true").sum())
    if n_div:
        print(f"warning: {n_div} run(s) diverged (non-finite loss); see the 'diverged' column", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
