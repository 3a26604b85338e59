"""Time estimates for lesson 05's grid: measured or assumed throughput, seconds per cell, the plan.

Lesson 05 (paper scale). ``python -m nls_lessons.paper --dry-run`` prints
:func:`describe_plan` with :func:`assumed_throughput` (or, with ``--calibrate``,
:func:`measure_throughput` on this machine); ``bench/gpu.py`` measures the numbers of
:data:`THROUGHPUT`.
"""
from __future__ import annotations

import time

import torch

from .. import losses
from .. import noise as noise_module
from ..device import resolve_device
from .engine import _Single, _Stacked
from .protocols import DataSpec, Protocol
from .resnet import autocast, build_model, prepare_model


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
    lines.append("  divergence: a model whose loss diverges (losses.diverging) is stopped and scored on the "
                 "epochs before; the official scripts train on through every epoch")
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
        elif s.dataset == "cifar100" and s.noise in noise_module.KINDS:
            label += " (the course's draw: the official CIFAR-100 noisy labels are files it does not ship)"
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
