"""Lessons 02-03's training explorer: every change of r, ε, noise kind or data retrains a small model.

Owns the live datasets (:func:`live_dataset`, :func:`decision_grid`), :func:`training_compute`
(train one model with :func:`nls_lessons.train.fit` and summarise it), :class:`TrainingExplorer`
(the live widget on :class:`nls_lessons.plots.TrainingPanel`), its static frames and
:func:`training_explorer`.
"""
from __future__ import annotations

import functools
import time

import numpy as np

from nls_lessons import noise as _noise
from nls_lessons import plots
from nls_lessons.widgets import frames as _frames
from nls_lessons.widgets.base import (STATIC_VALUES, Explorer, hub_mode, progress_clock, static_html,
                                      static_mode)
from nls_lessons.widgets.rate_axis import HUB_NICE, AxisWorker, noise_neighbours, train_axis
from nls_lessons.widgets.controls import (MAX_GRID, SMOOTH_SLIDER, TRAIN_NOISE_SLIDER, _check_choice, _check_int,
                                          _check_slider, _check_smooth_rate, _device_toggle, _float_slider, _minus,
                                          _r)

#: Live training (lessons 02-03): small enough to retrain in well under a second on a CPU.
TOY_DATASETS = {
    "blobs": "2-D toy: 3 blobs",
    "moons": "2-D toy: 2 moons",
    "digits": "digits (8×8 images)",
}
LIVE_TRAIN = {
    "blobs": {"model": "mlp", "epochs": 40},
    "moons": {"model": "mlp", "epochs": 40},
    "digits": {"model": "linear", "epochs": 30},
}
#: The explorer's stable summary: test accuracy averaged over this many last epochs (one epoch
#: of a small MLP on 540 noisy points can move by tens of points; the average barely does).
RECENT_EPOCHS = 10


@functools.lru_cache(maxsize=4)
def live_dataset(name: str = "blobs"):
    """The small datasets of the live training explorer (cached): blobs, moons or digits."""
    from nls_lessons import data

    _check_choice(name, "dataset", TOY_DATASETS)
    if name == "blobs":
        return data.toy2d("blobs", n=600, seed=0, num_classes=3, noise=0.05)
    if name == "moons":
        return data.toy2d("moons", n=600, seed=0, noise=0.25)
    return data.digits(seed=0)


@functools.lru_cache(maxsize=8)
def decision_grid(dataset: str, grid: int):
    """The decision-region grid of a 2-D live dataset (cached): xx, yy (G, G) numpy and the
    flattened points, a (G·G, 2) float32 CPU tensor, spanning the training points plus a margin."""
    import torch

    x = live_dataset(dataset).x_train.numpy()
    lo, hi = x.min(0) - 0.4, x.max(0) + 0.4
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid))
    pts = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], 1), dtype=torch.float32)
    for a in (xx, yy):
        a.flags.writeable = False      # shared by every result: read-only
    return xx, yy, pts


def training_compute(smooth_rate: float, noise_rate: float, noise_kind: str = "symmetric", *,
                     dataset: str = "blobs", seed: int = 0, device: str = "cpu", grid: int = 70,
                     axis=None, **fit_kwargs) -> dict:
    """Lessons 02-03: train one small model (under a second on a CPU) and summarise it.

    Uses :func:`nls_lessons.train.fit` with :data:`LIVE_TRAIN` settings (override with
    ``fit_kwargs``). Every argument is checked before training. Returns a dict: the
    arguments, history (DataFrame per epoch), test_acc, confidence (final mean max-softmax
    confidence), model_confidence (final mean MC = p_y − max_{k≠y} p_k), diverged, seconds;
    for 2-D data also xx, yy (G, G) and probs (G, G, K) over a grid (:func:`decision_grid`)
    plus x_train, y_train (clean) and noisy; for digits mc and correct (test set) for an MC
    histogram.

    ``axis``: a :class:`nls_lessons.widgets.rate_axis.RateAxis` trained for this setting (the
    same data, noise, seed, device and ``fit_kwargs``); when ``smooth_rate`` is on it, its model
    is looked up instead of trained (the same model, so the same numbers; ``from_axis`` is then
    True and ``seconds`` the lookup time).
    """
    import torch

    from nls_lessons import metrics, train

    smooth_rate = _check_smooth_rate(smooth_rate)
    noise_rate = _noise.check_noise_rate(noise_rate)
    noise_kind = _check_choice(noise_kind, "noise_kind", _noise.KINDS)
    dataset = _check_choice(dataset, "dataset", TOY_DATASETS)
    seed = _noise.check_seed(seed)
    grid = _check_int(grid, "grid", 2, MAX_GRID)
    data = live_dataset(dataset)
    kwargs = {**LIVE_TRAIN[dataset], **fit_kwargs}
    from_axis = axis is not None and axis.has(smooth_rate)
    if from_axis and not axis.matches(data, noise_rate, noise_kind, seed):
        raise ValueError(f"axis was trained for another setting (noise_rate={axis.noise_rate}, "
                         f"noise_kind={axis.noise_kind!r}, seed={axis.seed}); pass the axis of this one")
    t0 = time.perf_counter()
    if from_axis:
        fitted = axis.fitted(smooth_rate)
    else:
        fitted = train.fit(data, smooth_rate, noise_rate, seed, noise_kind=noise_kind,
                           device=device, warn=False, **kwargs)
    model = fitted.model.eval()
    seconds = time.perf_counter() - t0
    last = fitted.history.iloc[-1]
    recent = fitted.history["test_acc"].iloc[-RECENT_EPOCHS:]
    out = {
        "smooth_rate": smooth_rate, "noise_rate": noise_rate, "noise_kind": noise_kind,
        "dataset": dataset, "seed": seed, "device": str(device), "history": fitted.history,
        "test_acc": fitted.test_acc, "test_acc_recent": float(recent.mean()),
        "recent_epochs": len(recent),
        "confidence": float(last["confidence"]),
        "model_confidence": float(last["model_confidence"]),
        "diverged": fitted.diverged, "seconds": seconds, "num_classes": data.num_classes,
        "from_axis": from_axis,
    }
    dev = next(model.parameters()).device
    with torch.no_grad():
        if data.in_features == 2:
            xx, yy, pts = decision_grid(dataset, grid)
            logits = model(pts.to(dev))
            probs = torch.softmax(logits.double(), -1).cpu().numpy().reshape(grid, grid, -1)
            out.update(xx=xx, yy=yy, probs=probs, x_train=data.x_train.numpy(), y_train=data.y_train.numpy(),
                       noisy=fitted.noisy_labels.cpu().numpy())
        else:
            logits = model(data.x_test.to(dev)).double().cpu()
            out.update(mc=metrics.model_confidence(logits, data.y_test).numpy(),
                       correct=(logits.argmax(-1) == data.y_test).numpy())
    return out


#: The training explorer's figure lives in plots with the others (kept here for old callers).
training_panel = plots.training_panel


class TrainingExplorer(Explorer):
    """Lessons 02-03: every change retrains a small model (≤ 1 s) and redraws it.

    With ``rate_axis=True`` (the default) the explorer also trains every r of its slider at
    once in the background after each new setting (:mod:`nls_lessons.widgets.rate_axis`),
    so a later move of r looks its model up instead of training it: the same model, the same
    numbers, in the time of a redraw. ``rate_axis=False``: one fit per move (the earlier path,
    kept for comparison in bench/widgets.py). On a class hub (``NLS_HUB=1``) the background
    work is bounded: the shown setting's axis only, at lower priority (:mod:`~nls_lessons.widgets.rate_axis`).
    """

    name = "training"
    dpi = 72
    panel_class = plots.TrainingPanel

    def __init__(self, smooth_rate=0.0, noise_rate=0.3, noise_kind="symmetric", *, dataset="blobs", seed=0,
                 debounce=0.02, fresh_figure=False, rate_axis=True, **fit_kwargs):
        # the sliders report only on release (continuous_update=False), so a short debounce
        # suffices: a long one would only add its length to every move
        import ipywidgets as W

        smooth_rate = _check_slider(smooth_rate, "smooth_rate", SMOOTH_SLIDER, _check_smooth_rate)
        noise_rate = _check_slider(noise_rate, "noise_rate", TRAIN_NOISE_SLIDER, _noise.check_noise_rate)
        noise_kind = _check_choice(noise_kind, "noise_kind", _noise.KINDS)
        dataset = _check_choice(dataset, "dataset", TOY_DATASETS)
        self.seed, self.fit_kwargs = _noise.check_seed(seed), fit_kwargs
        self._elapsed = None
        shared = hub_mode()
        self.axes = AxisWorker(nice=HUB_NICE if shared else 0) if rate_axis else None
        self.neighbour_axes = not shared          # the ε neighbours' axes: not on a shared machine
        self._axis_job = None
        device, reason = _device_toggle()
        self.progress = W.FloatProgress(value=1.0, min=0.0, max=1.0, description="idle",
                                        style={"description_width": "initial"}, layout=W.Layout(width="300px"))
        controls = {
            "smooth_rate": _float_slider("smooth rate r", smooth_rate, *SMOOTH_SLIDER, continuous=False, fmt=".1f"),
            "noise_rate": _float_slider("noise rate ε", noise_rate, *TRAIN_NOISE_SLIDER, continuous=False),
            "noise_kind": W.Dropdown(options=list(_noise.KINDS), value=noise_kind, description="noise kind",
                                     style={"description_width": "initial"}),
            "dataset": W.Dropdown(options=[(v, k) for k, v in TOY_DATASETS.items()], value=dataset,
                                  description="data", style={"description_width": "initial"}),
            "device": device,
        }
        super().__init__(controls, title="Live training: change r or ε and the model retrains",
                         debounce=debounce, extra=[W.HBox([self.progress, reason])], fresh_figure=fresh_figure)

    def compute(self, smooth_rate, noise_rate, noise_kind, dataset, device):
        # the worker's key is the exact setting (the seed and fit settings are this explorer's
        # own), and training_compute checks that the axis fits it
        axis = None if self.axes is None else self.axes.get((dataset, noise_rate, noise_kind, device))
        result = training_compute(smooth_rate, noise_rate, noise_kind, dataset=dataset, seed=self.seed,
                                  device=device, axis=axis, **self.fit_kwargs)
        self._axis_job = (dataset, noise_rate, noise_kind, device)
        return result

    def _train_axis_later(self):
        """After a frame: train this setting's r axis in the background, then its ε neighbours'."""
        if self.axes is None or self._axis_job is None:
            return
        dataset, noise_rate, noise_kind, device = self._axis_job
        self._axis_job = None
        if device != "cpu":
            # on a GPU a stacked model may take other kernels than one model (last-bit
            # differences), and a retrain is quick there: each move trains its model
            return
        kwargs = {**LIVE_TRAIN[dataset], **{k: v for k, v in self.fit_kwargs.items() if k != "grid"}}

        def job(eps):
            return ((dataset, eps, noise_kind, device),
                    lambda stop: train_axis(live_dataset(dataset), eps, noise_kind, self.seed, device=device,
                                            should_stop=stop, **kwargs))

        neighbours = noise_neighbours(noise_rate) if self.neighbour_axes else []
        self.axes.want([job(noise_rate)] + [job(eps) for eps in neighbours])

    def wait_for_axis(self, timeout: float = 60.0) -> bool:
        """Block until the background r axis of the current setting is trained (tests, bench)."""
        return self.axes is None or self.axes.wait(timeout)

    def close(self):
        if self.axes is not None:
            self.axes.close()
        super().close()

    def plot(self, result):
        return plots.training_panel(result)

    def _started(self, params):
        if self._elapsed is not None:
            self._elapsed.stop()
        self._elapsed = progress_clock(self.progress, _minus(f"training r = {_r(params['smooth_rate'])} …"),
                                       self.last_seconds)

    def _finished(self, ok):
        if self._elapsed is not None:
            self._elapsed.stop()
            self._elapsed = None
        self.progress.value = 1.0
        self.progress.bar_style = "success" if ok else "danger"
        self.progress.description = "done" if ok else "failed"
        if ok:
            self._train_axis_later()

    def describe(self, r):
        extra = " <b>diverged</b> (NLS is unbounded below; try a smaller |r|)" if r["diverged"] else ""
        how = (f"trained on {r['device']} with every r of the slider at once (looked up in {r['seconds']:.2f} s)"
               if r.get("from_axis") else f"trained on {r['device']} in {r['seconds']:.2f} s")
        return _minus(f"<b>r = {_r(r['smooth_rate'])}</b>, ε = {_r(r['noise_rate'])} ({r['noise_kind']}): "
                      f"test accuracy {100 * r['test_acc']:.1f} % at the last epoch "
                      f"({100 * r['test_acc_recent']:.1f} % averaged over the last {r['recent_epochs']}: one "
                      "epoch can move by many points, the average much less), "
                      f"max-softmax confidence {r['confidence']:.2f}, "
                      f"model confidence MC {r['model_confidence']:.2f} (test-set means); "
                      f"{how}{extra}")


def _static_frames(kw, add, frames, alts) -> str:
    """The training explorer's frames over :data:`STATIC_VALUES` ``["training"]`` (eps 0.4 by default)."""
    rates = list(kw.pop("smooth_rate", STATIC_VALUES["training"]["smooth_rate"]))
    eps = kw.pop("noise_rate", 0.4)
    kind = kw.pop("noise_kind", "symmetric")
    kw.setdefault("device", "cpu")
    for i, r in enumerate(rates):
        res = training_compute(r, eps, kind, **kw)
        add((i,), res, plots.TrainingPanel,
            _minus(f"Model trained with r = {_r(r)} on {TOY_DATASETS[res['dataset']]} with {kind} noise "
                   f"ε = {_r(eps)}: test accuracy {100 * res['test_acc']:.1f} %, mean max-softmax confidence "
                   f"{res['confidence']:.2f}, mean model confidence MC {res['model_confidence']:.2f}; "
                   f"decision regions and accuracy/confidence per epoch."))
    initial = int(np.argmin(np.abs(np.array(rates) - 0.0)))
    return _frames.frames_html(frames, {"smooth_rate": rates}, alt=alts, labels={"smooth_rate": "smooth rate r"},
                               initial={"smooth_rate": initial},
                               title=_minus(f"precomputed: {kind} noise ε = {_r(eps)}, one seed"))


def training_explorer(smooth_rate: float = 0.0, noise_rate: float = 0.3, noise_kind: str = "symmetric", *,
                      dataset: str = "blobs", seed: int = 0, **fit_kwargs):
    """Lessons 02-03: live retraining (or frames at a few r when ``NLS_STATIC=1``)."""
    if static_mode():
        return static_html(_static_frames, noise_rate=noise_rate, noise_kind=noise_kind, dataset=dataset,
                           seed=seed, **fit_kwargs)
    return TrainingExplorer(smooth_rate, noise_rate, noise_kind, dataset=dataset, seed=seed, **fit_kwargs)
