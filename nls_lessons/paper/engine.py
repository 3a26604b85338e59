"""The training engine of lesson 05: M models, one per smooth rate, trained in lock-step.

Lesson 05 (paper scale). :func:`train_models` trains every smooth rate of a cell from the
same initial state with the same batches and augmentation, as one stacked model
(``torch.func.stack_module_state`` + ``vmap(functional_call)``) or in a loop over rates;
:func:`evaluate` gives each model's test accuracy (%). Divergence is the library's one
definition, :func:`nls_lessons.losses.diverging`.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch

from .. import losses
from ..device import resolve_device
from .protocols import Phase
from .resnet import autocast, grad_scaler, prepare_model


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
        train, test: :class:`~nls_lessons.paper.cifar.CifarData`; training uses ``noisy_labels``,
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
    when it never diverged. This is the course's behaviour, not the official scripts': they
    train on through every epoch and keep the best test accuracy of all of them.
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
    from nls_lessons.progress import progress_bar

    return progress_bar(total, desc, leave=False)
