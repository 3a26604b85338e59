"""Live explorers: move a slider, watch targets, noise and models change (lessons 01-04).

Every explorer is three parts (see DESIGN.md):

1. a pure ``*_compute(...)`` function here (numbers only, tested with pytest),
2. a ``*_panel(result)`` figure in :mod:`nls_lessons.plots`,
3. a thin ipywidgets wrapper (an :class:`Explorer` subclass).

=====================  =====================================================  ========
function               what moves                                             lesson
=====================  =====================================================  ========
:func:`noise_explorer`      noise kind, ε → nominal/realised T, digits clean→noisy   01
:func:`smoothing_explorer`  r ∈ [−8, 1] → GLS target bars, loss vs p_y, λ = r/(1−r)  02, 03
:func:`training_explorer`   r, ε, kind, data, device → retrain, decision regions   02, 03
:func:`sweep_explorer`      ε, r over a cached sweep → heatmap, best r, r_opt      04
=====================  =====================================================  ========

Use: put the call last in a notebook cell (``widgets.smoothing_explorer()``); the returned
object displays itself. The figure is a PNG in an ``ipywidgets.Image`` (works in JupyterLab 4
with ipywidgets 8 and no extra set-up; nbconvert/nbval just execute the cell).

Responsiveness: slider changes are handled by one background worker per explorer. It
waits ``debounce`` seconds for the slider to settle, computes only the *latest* setting,
and drops a result that a newer setting has overtaken (a generation counter), so rapid
moves never pile up. Each explorer keeps ONE figure (a :class:`nls_lessons.plots.LivePanel`)
and updates its artists for a new setting, so a frame costs one draw and a PNG encode.
Errors never reach the output area: the explorer keeps its last good figure and shows a
short message. Figures are rendered off-pyplot and released, so memory does not grow with
the number of updates. Work that may take seconds (retraining) shows its elapsed time.

Static mode: with the environment variable ``NLS_STATIC=1`` (the book and slides builds set
it) every explorer function returns ``IPython.display.HTML(static_frames(name, ...))``
instead: precomputed frames over the values in :data:`STATIC_VALUES` with a plain-JS slider
(:mod:`nls_lessons.frames`), so no page shows an empty widget.
"""
from __future__ import annotations

import functools
import html
import math
import os
import threading
import time
import traceback
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from nls_lessons import frames as _frames
from nls_lessons import noise as _noise
from nls_lessons import plots

STATIC_ENV = "NLS_STATIC"
DEFAULT_CACHE = Path(os.environ.get("NLS_CACHE_DIR", Path(__file__).resolve().parent.parent / "data" / "cache"))

#: r values of the smoothing explorer's comparison curves (lessons 02-03).
CURVE_RATES = (-2.0, -0.5, 0.0, 0.4, 0.8)
#: The default cached sweep behind :func:`sweep_explorer` (lesson 04): digits, linear
#: softmax, Adam 1e-2, 30 epochs, 3 seeds, 10 r x 5 eps = 150 models (a few seconds on 2 cores).
SWEEP_SMOOTH_RATES = (-16.0, -8.0, -4.0, -2.0, -1.0, -0.4, 0.0, 0.2, 0.4, 0.8)
SWEEP_NOISE_RATES = (0.0, 0.2, 0.4, 0.6, 0.8)
SWEEP_SEEDS = (0, 1, 2)
SWEEP_TRAIN = {"model": "linear", "epochs": 30}
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

#: The slider values the static (book/slides) frames are precomputed for.
STATIC_VALUES = {
    "noise": {"kind": list(_noise.KINDS), "noise_rate": [0.0, 0.2, 0.4, 0.6, 0.8]},
    "smoothing": {"smooth_rate": [-8.0, -4.0, -2.0, -1.0, -0.5, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0]},
    "training": {"smooth_rate": [-2.0, -0.5, 0.0, 0.4, 0.8]},       # eps = 0.4 symmetric, 3 blobs
    "sweep": {"noise_rate": "every noise rate of the sweep", "smooth_rate": "every smooth rate of the sweep"},
}


def static_mode() -> bool:
    """True when ``NLS_STATIC`` is set to something other than "", "0", "false", "no"."""
    return os.environ.get(STATIC_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _r(x) -> str:
    return plots.fmt_rate(x)


# =========================================================================== argument checks
#: Slider ranges (lo, hi, step) of the live explorers; a constructor rejects a start value
#: outside them instead of letting the slider clamp it silently.
NOISE_SLIDER = (0.0, 0.9, 0.05)
SMOOTH_SLIDER = (-8.0, 1.0, 0.1)
TRAIN_NOISE_SLIDER = (0.0, 0.8, 0.05)
N_DIGITS = 1797
MAX_GRID = 400


def _span(lo, hi) -> str:
    return f"[{lo:g}, {hi:g}]"


def _is_number(value) -> bool:
    return isinstance(value, (Real, np.number)) and not isinstance(value, (bool, np.bool_))


def _check_choice(value, name: str, options) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def _check_int(value, name: str, lo: int, hi: int) -> int:
    if not (isinstance(value, (Integral, np.integer)) and not isinstance(value, (bool, np.bool_))) \
            or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def _check_smooth_rate(value, name: str = "smooth_rate") -> float:
    """A finite smooth rate <= 1 as a float (strings and booleans rejected up front)."""
    from nls_lessons.losses import check_smooth_rate

    if not _is_number(value):
        raise TypeError(f"{name} must be a number <= 1 (r < 0: NLS, r = 0: CE, 0 < r <= 1: LS), got {value!r}")
    check_smooth_rate(float(value), name)
    return float(value)


def _check_slider(value, name: str, slider, check) -> float:
    """``check(value, name)`` (the library's own rule), then the explorer's slider range."""
    value = check(value, name)
    lo, hi = slider[:2]
    if not lo <= value <= hi:
        raise ValueError(f"{name} must lie in the explorer's slider range {_span(lo, hi)}, got {value!r}")
    return value


def _check_debounce(debounce) -> float:
    if not _is_number(debounce) or not 0 <= float(debounce) <= 10:
        raise ValueError(f"debounce must be a number of seconds >= 0 (at most 10), got {debounce!r}")
    return float(debounce)


# =========================================================================== computes
@functools.lru_cache(maxsize=1)
def _digit_images():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)


def noise_compute(kind: str = "symmetric", noise_rate: float = 0.2, *, seed: int = 0, n_images: int = 12) -> dict:
    """Lesson 01: noisy labels for all 1,797 digits; nominal and realised T; a sample of images.

    Returns a dict: kind, noise_rate, T_nominal (10, 10), T_realised (10, 10),
    realised_rate (fraction of changed labels), images (n, 8, 8), clean (n,), noisy (n,).
    The noise is drawn from ``seed``; the digits shown from a stream spawned from it
    (``SeedSequence(seed).spawn``), so the sample is independent of the noise draw and the
    same ``seed`` shows the same digits at every setting.
    """
    images, labels = _digit_images()
    kind = _check_choice(kind, "kind", _noise.KINDS)
    noise_rate = _noise.check_noise_rate(noise_rate)
    seed = _noise.check_seed(seed)
    n_images = _check_int(n_images, "n_images", 1, len(labels))
    k = 10
    T = _noise.transition_matrix(kind, k, noise_rate)
    noisy = np.asarray(_noise.inject(labels, T, seed))
    sample_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    pick = sample_rng.permutation(len(labels))[:n_images]
    return {
        "kind": kind, "noise_rate": noise_rate, "seed": seed,
        "T_nominal": T, "T_realised": _noise.empirical_transition(labels, noisy, k),
        "realised_rate": float(np.mean(noisy != labels)),
        "images": images[pick], "clean": labels[pick], "noisy": noisy[pick], "ncols": 4,
    }


def smoothing_compute(smooth_rate: float, *, num_classes: int = 10, label: int = 3,
                      curve_rates=CURVE_RATES) -> dict:
    """Lessons 02-03: the GLS target of one label, the curves to compare, and the weight
    λ = r/(1 − r) of the uniform term in GLS = (1 − r)·[CE + λ·CE(u)].

    Returns a dict: smooth_rate, num_classes, label, targets (K,) numpy, curve_rates, lam,
    target_label / target_other (the two distinct entries), ylim (a y range that fits the
    targets, on a coarse ladder so it changes only in steps as r moves).
    """
    from nls_lessons.losses import gls_targets

    smooth_rate = _check_smooth_rate(smooth_rate)
    num_classes = _noise.check_num_classes(num_classes)
    if not (isinstance(label, (Integral, np.integer)) and not isinstance(label, (bool, np.bool_))) \
            or not 0 <= label < num_classes:
        raise ValueError(f"label must be an integer class in [0, {num_classes}) = [0, num_classes), got {label!r}")
    label = int(label)
    t = gls_targets(np.array([label]), num_classes, smooth_rate)[0].numpy()
    return {
        "smooth_rate": smooth_rate, "num_classes": num_classes, "label": label, "targets": t,
        "target_label": float(t[label]), "target_other": float(t[(label + 1) % num_classes]),
        "curve_rates": tuple(curve_rates), "lam": plots.uniform_weight(smooth_rate),
        "ylim": plots.target_ylim(t),
    }


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
                     **fit_kwargs) -> dict:
    """Lessons 02-03: train one small model (under a second on a CPU) and summarise it.

    Uses :func:`nls_lessons.train.fit` with :data:`LIVE_TRAIN` settings (override with
    ``fit_kwargs``). Every argument is checked before training. Returns a dict: the
    arguments, history (DataFrame per epoch), test_acc, confidence (final mean max-softmax
    confidence), model_confidence (final mean MC = p_y − max_{k≠y} p_k), diverged, seconds;
    for 2-D data also xx, yy (G, G) and probs (G, G, K) over a grid (:func:`decision_grid`)
    plus x_train, y_train (clean) and noisy; for digits mc and correct (test set) for an MC
    histogram.
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
    t0 = time.perf_counter()
    fitted = train.fit(data, smooth_rate, noise_rate, seed, noise_kind=noise_kind,
                       device=device, warn=False, **kwargs)
    model = fitted.model.eval()
    seconds = time.perf_counter() - t0
    last = fitted.history.iloc[-1]
    out = {
        "smooth_rate": smooth_rate, "noise_rate": noise_rate, "noise_kind": noise_kind,
        "dataset": dataset, "seed": seed, "device": str(device), "history": fitted.history,
        "test_acc": fitted.test_acc, "confidence": float(last["confidence"]),
        "model_confidence": float(last["model_confidence"]),
        "diverged": fitted.diverged, "seconds": seconds, "num_classes": data.num_classes,
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


def default_sweep(*, device: str = "auto", cache=DEFAULT_CACHE, progress: bool = False):
    """Lesson 04's default sweep (see :data:`SWEEP_SMOOTH_RATES`), read from ``cache`` when present.

    Returns (results DataFrame, data, train_kwargs) for :func:`sweep_explorer`.
    """
    from nls_lessons import data, train

    d = data.digits(seed=0)
    results = train.sweep(d, list(SWEEP_SMOOTH_RATES), list(SWEEP_NOISE_RATES), list(SWEEP_SEEDS),
                          device=device, progress=progress, cache=cache, **SWEEP_TRAIN)
    return results, d, dict(SWEEP_TRAIN)


def sweep_summary(results, metric: str = "best_test_acc", num_classes: int | None = None) -> dict:
    """Lesson 04: aggregate a tidy sweep once (mean/std over seeds, best two r per ε, r_opt).

    ``results``: :func:`nls_lessons.train.sweep`'s DataFrame (one noise kind). ``metric``:
    "best_test_acc" (the paper's best-epoch number) or "test_acc" (final epoch).
    ``num_classes``: K for the theory line r_opt (default: ``results.attrs`` or 10).
    """
    import pandas as pd

    from nls_lessons import theory

    if not isinstance(results, pd.DataFrame):
        raise ValueError(f"results must be train.sweep's pandas DataFrame (one row per noise rate, smooth "
                         f"rate and seed), got {type(results).__name__}")
    if metric not in ("best_test_acc", "test_acc"):
        raise ValueError(f"metric must be 'best_test_acc' or 'test_acc', got {metric!r}")
    missing = {"noise_rate", "smooth_rate", "seed", metric} - set(results.columns)
    if missing:
        raise ValueError(f"results lack the columns {sorted(missing)}; pass train.sweep's DataFrame")
    if results.empty:
        raise ValueError("results has no rows; pass train.sweep's DataFrame of at least one model")
    k = _noise.check_num_classes(num_classes if num_classes is not None else results.attrs.get("num_classes", 10))
    kinds = results["noise_kind"].unique() if "noise_kind" in results else ["symmetric"]
    if len(kinds) > 1:
        raise ValueError(f"results mix noise kinds {list(kinds)}; select one first "
                         f"(e.g. results[results.noise_kind == {kinds[0]!r}])")
    grouped = results.groupby(["noise_rate", "smooth_rate"])[metric]
    table = grouped.mean().unstack("smooth_rate").sort_index().sort_index(axis=1) * 100
    std = grouped.std(ddof=0).unstack("smooth_rate").sort_index().sort_index(axis=1) * 100
    rows = []
    for eps, row in table.iterrows():
        row = row.dropna().sort_values(ascending=False)
        if row.empty:
            continue
        second = row.iloc[min(1, len(row) - 1)]
        for r, v in row.items():
            if v >= second - 1e-9:
                rows.append({"noise_rate": eps, "smooth_rate": r, "value": v})
    eps_grid = np.linspace(0.0, min(max(table.index), (k - 1) / k * 0.97), 400)
    r_opt = theory.optimal_smooth_rate(eps_grid, k, 0.0)
    keep = r_opt >= -20
    return {
        "metric": metric, "metric_label": "best-epoch test accuracy" if metric == "best_test_acc"
        else "final test accuracy", "table": table, "std": std,
        "best": pd.DataFrame(rows, columns=["noise_rate", "smooth_rate", "value"]),
        "theory": (eps_grid[keep], r_opt[keep]), "noise_kind": str(kinds[0]),
        "n_seeds": int(results["seed"].nunique()), "num_classes": k,
    }


def sweep_compute(summary: dict, noise_rate: float, smooth_rate: float, live: dict | None = None) -> dict:
    """Lesson 04: select one cell of a :func:`sweep_summary` (nearest grid values).

    ``noise_rate`` must lie in [0, 1) and ``smooth_rate`` be a finite number <= 1; both snap
    to the nearest value of the sweep's grid. Returns the summary's fields plus noise_rate,
    smooth_rate (snapped), value (mean %), value_std, row (accuracy vs r at this ε) and
    ``live`` (a retrained cell, or None).
    """
    if not isinstance(summary, dict) or "table" not in summary or "std" not in summary:
        raise ValueError(f"summary must be the dict that sweep_summary(results) returns, "
                         f"got {type(summary).__name__}")
    noise_rate = _noise.check_noise_rate(noise_rate)
    smooth_rate = _check_smooth_rate(smooth_rate)
    table = summary["table"]
    eps = float(table.index[np.argmin(np.abs(table.index.to_numpy(dtype=float) - noise_rate))])
    r = float(table.columns[np.argmin(np.abs(table.columns.to_numpy(dtype=float) - smooth_rate))])
    row = table.loc[eps].dropna()
    return {**summary, "noise_rate": eps, "smooth_rate": r, "value": float(table.loc[eps, r]),
            "value_std": float(summary["std"].loc[eps, r]), "row": row,
            "row_std": summary["std"].loc[eps, row.index].to_numpy(),
            "live": live if live and live["noise_rate"] == eps and live["smooth_rate"] == r else None}


# =========================================================================== panels
#: The training explorer's figure lives in plots with the others (kept here for old callers).
training_panel = plots.training_panel


def _minus(s: str) -> str:
    return plots._minus(s)


# =========================================================================== the wrapper
class Explorer:
    """Base of the live explorers: controls + one Image + a status line, one worker thread.

    Subclasses define ``compute(**params)`` (returns a result) and ``plot(result)`` (returns
    a Figure); ``panel_class`` names the :class:`nls_lessons.plots.LivePanel` behind ``plot``.
    ``set(name=value, ...)`` moves controls programmatically; ``wait()`` blocks until the
    latest setting is drawn (tests and benchmarks use both).

    Drawing: the explorer keeps ONE figure and updates its artists for every new result
    (``LivePanel.render``), which is what makes a slider move feel live. With
    ``fresh_figure=True`` it builds a new figure per frame instead (``plot(result)`` +
    :func:`nls_lessons.plots.to_png`), the earlier path, kept for comparison (bench/widgets.py).
    """

    name = "explorer"
    dpi = 80
    panel_class = None

    def __init__(self, controls: dict, *, title: str = "", debounce: float = 0.12, extra=(),
                 fresh_figure: bool = False):
        import ipywidgets as W

        self.controls = dict(controls)
        self.debounce = _check_debounce(debounce)
        self.fresh_figure = bool(fresh_figure)
        self._panel = None
        self._draw_lock = threading.Lock()
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
        self.image.add_class("nls-explorer-figure")
        self.status = W.HTML(value="")
        self.status.add_class("nls-explorer-status")
        self.result = None
        self.error: str | None = None
        self.last_traceback: str | None = None
        self.renders = 0          # figures actually drawn (stale settings are skipped)
        self.last_seconds = 0.0   # compute + draw time of the last drawn figure
        self._gen = 0
        self._cond = threading.Condition()
        self._pending = None
        self._busy = False
        self._thread: threading.Thread | None = None
        self._closed = False
        header = [W.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        boxes = W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap"))
        self.widget = W.VBox(header + [boxes, *extra, self.status, self.image])
        self.widget.add_class("nls-explorer")
        self.widget.add_class(f"nls-explorer-{self.name}")
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        self.refresh()   # synchronous first frame: also what nbconvert/nbval outputs show

    # ---- subclass API
    def compute(self, **params):
        raise NotImplementedError

    def plot(self, result):
        raise NotImplementedError

    def render(self, result) -> bytes:
        """PNG bytes of ``result``: the kept panel updated in place, or (``fresh_figure``, or no
        ``panel_class``) a new ``plot(result)`` figure, rendered and released."""
        with self._draw_lock:
            if self.fresh_figure or self.panel_class is None:
                fig = self.plot(result)
                try:
                    return plots.to_png(fig, dpi=self.dpi)
                finally:
                    plots.close(fig)
            if self._panel is None or not self._panel.fits(result):
                if self._panel is not None:
                    self._panel.close()
                self._panel = self.panel_class(result, dpi=self.dpi)
            return self._panel.render(result)

    def params(self) -> dict:
        return {k: w.value for k, w in self.controls.items()}

    # ---- display
    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus its current figure as a plain PNG. JupyterLab shows the widget;
        a front end without the widget manager (RISE's slideshow, jupyterlab-contrib/rise#119, or
        a plain HTML export) shows the figure instead of a bare ``VBox(...)`` text."""
        import base64

        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        if self.image.value:
            bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")
        return bundle

    def show(self):
        """Display the explorer (when it is not the last expression of a cell)."""
        from IPython.display import display

        display(self.widget)

    # ---- updates
    def set(self, **values):
        """Move controls programmatically, e.g. ``ex.set(smooth_rate=-2)``; returns self."""
        for k, v in values.items():
            if k not in self.controls:
                raise KeyError(f"{self.name} explorer has no control {k!r}; controls: {sorted(self.controls)}")
            w = self.controls[k]
            lo, hi = getattr(w, "min", None), getattr(w, "max", None)
            if lo is not None and _is_number(v) and not lo <= v <= hi:
                raise ValueError(f"{k} must lie in the slider range {_span(lo, hi)}, got {v!r}")
            w.value = v
        return self

    def _on_change(self, change=None):
        self.request()

    def request(self):
        """Schedule a redraw for the current control values (latest one wins)."""
        with self._cond:
            if self._closed:
                return
            self._gen += 1
            self._pending = (self._gen, self.params())
            self._cond.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._worker, name=f"nls-{self.name}-explorer",
                                                daemon=True)
                self._thread.start()

    def _worker(self):
        while True:
            with self._cond:
                if self._pending is None or self._closed:
                    self._thread = None
                    self._cond.notify_all()
                    return
                # debounce: wait until no newer request arrived for `debounce` seconds
                while True:
                    seen = self._pending[0]
                    self._cond.wait(self.debounce)
                    if self._pending is None or self._pending[0] == seen:
                        break
                if self._pending is None:
                    continue
                gen, params = self._pending
                self._pending = None
                self._busy = True
            try:
                self._render(gen, params)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def refresh(self):
        """Redraw now, synchronously, for the current control values."""
        with self._cond:
            self._gen += 1
            gen = self._gen
        self._render(gen, self.params())

    def _stale(self, gen) -> bool:
        return gen != self._gen

    def _started(self, params):
        """Hook: show a progress indicator (training explorers)."""

    def _finished(self, ok: bool):
        """Hook: hide the progress indicator."""

    def _render(self, gen, params):
        t0 = time.perf_counter()
        self._started(params)
        ok = None   # None: overtaken by a newer setting
        try:
            result = self.compute(**params)
            if self._stale(gen):
                return
            png = self.render(result)
            if self._stale(gen):
                return
            self.image.value = png
            self.result = result
            self.error = None
            self.renders += 1
            self.last_seconds = time.perf_counter() - t0
            self.status.value = self.describe(result)
            ok = True
        except Exception as exc:   # never let a traceback reach the learner's output area
            ok = False
            self.last_traceback = traceback.format_exc()
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = (
                '<span style="color:#D55E00">&#9888; This setting could not be drawn: '
                f"{html.escape(str(exc) or type(exc).__name__)}. The last good figure is kept; "
                "try another value.</span>")
        finally:
            if ok is not None:
                self._finished(ok)

    def describe(self, result) -> str:
        """One status line (HTML) under the controls for a drawn result."""
        return ""

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until every requested setting has been handled; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending is not None or self._busy or self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self):
        """Stop the worker and close the widgets."""
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify_all()
        self.wait(5)
        if self._panel is not None:
            self._panel.close()
            self._panel = None
        self.widget.close_all() if hasattr(self.widget, "close_all") else self.widget.close()


def _float_slider(description, value, lo, hi, step, *, continuous=True, fmt=".2f"):
    import ipywidgets as W

    return W.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                         continuous_update=continuous, readout_format=fmt,
                         style={"description_width": "initial"}, layout=W.Layout(width="380px"))


class NoiseExplorer(Explorer):
    """Lesson 01: noise kind + ε → nominal and realised T, digits captioned clean → noisy."""

    name = "noise"
    panel_class = plots.NoisePanel

    def __init__(self, kind="symmetric", noise_rate=0.2, *, seed=0, debounce=0.12, fresh_figure=False):
        import ipywidgets as W

        kind = _check_choice(kind, "kind", _noise.KINDS)
        noise_rate = _check_slider(noise_rate, "noise_rate", NOISE_SLIDER, _noise.check_noise_rate)
        self.seed = _noise.check_seed(seed)
        controls = {
            "kind": W.Dropdown(options=list(_noise.KINDS), value=kind, description="noise kind",
                               style={"description_width": "initial"}),
            "noise_rate": _float_slider("noise rate ε", noise_rate, *NOISE_SLIDER),
        }
        super().__init__(controls, title="Noise explorer: how a transition matrix corrupts labels",
                         debounce=debounce, fresh_figure=fresh_figure)

    def compute(self, kind, noise_rate):
        return noise_compute(kind, noise_rate, seed=self.seed)

    def plot(self, result):
        return plots.noise_panel(result)

    def describe(self, r):
        return (f"{r['kind']} noise, nominal ε = {_r(r['noise_rate'])}: "
                f"{100 * r['realised_rate']:.1f} % of the 1,797 labels changed")


class SmoothingExplorer(Explorer):
    """Lessons 02-03: r from −8 to 1 → GLS target bars, loss vs p_y, λ = r/(1 − r)."""

    name = "smoothing"
    panel_class = plots.SmoothingPanel

    def __init__(self, smooth_rate=0.0, *, num_classes=10, label=3, debounce=0.08, fresh_figure=False):
        smooth_rate = _check_slider(smooth_rate, "smooth_rate", SMOOTH_SLIDER, _check_smooth_rate)
        smoothing_compute(smooth_rate, num_classes=num_classes, label=label)     # checks K and label
        self.num_classes, self.label = int(num_classes), int(label)
        controls = {"smooth_rate": _float_slider("smooth rate r", smooth_rate, *SMOOTH_SLIDER, fmt=".1f")}
        super().__init__(controls, title="Smoothing explorer: GLS targets (1 − r)·y + r/K", debounce=debounce,
                         fresh_figure=fresh_figure)

    def compute(self, smooth_rate):
        return smoothing_compute(smooth_rate, num_classes=self.num_classes, label=self.label)

    def plot(self, result):
        return plots.smoothing_panel(result)

    def describe(self, r):
        lam = "∞" if math.isinf(r["lam"]) else f"{r['lam']:.3g}"
        kind = "CE" if r["smooth_rate"] == 0 else ("NLS" if r["smooth_rate"] < 0 else "LS")
        return _minus(f"<b>r = {_r(r['smooth_rate'])}</b> ({kind}): label target {r['target_label']:.2f}, "
                      f"others {r['target_other']:.2f}; GLS = (1 − r)·[CE + λ·CE(u)] with uniform-CE weight "
                      f"λ = r/(1 − r) = {lam}")


def _cuda_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False


def _device_toggle():
    import ipywidgets as W

    cuda = _cuda_available()
    toggle = W.ToggleButtons(options=[("CPU", "cpu"), ("CUDA", "cuda")], value="cpu", description="device",
                             disabled=not cuda, style={"description_width": "initial", "button_width": "60px"},
                             tooltips=["train on the CPU", "train on the GPU" if cuda else "no CUDA GPU here"])
    reason = W.HTML("" if cuda else
                    '<span style="color:#555">CUDA unavailable: <code>torch.cuda.is_available()</code> is False '
                    "(no GPU or a CPU-only torch), so training runs on the CPU.</span>")
    return toggle, reason


class _Elapsed:
    """A sign of life for long work: calls ``show(seconds)`` every ``period`` seconds from a
    small thread until stopped (the training explorer's bar, the sweep explorer's retrain)."""

    def __init__(self, show, period: float = 0.5):
        self.show, self.period = show, period
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="nls-elapsed", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self.period):
            self.show(time.perf_counter() - self._t0)

    def stop(self):
        self._stop.set()
        self._thread.join(2)


class TrainingExplorer(Explorer):
    """Lessons 02-03: every change retrains a small model (≤ 1 s) and redraws it."""

    name = "training"
    dpi = 72
    panel_class = plots.TrainingPanel

    def __init__(self, smooth_rate=0.0, noise_rate=0.3, noise_kind="symmetric", *, dataset="blobs", seed=0,
                 debounce=0.02, fresh_figure=False, **fit_kwargs):
        # the sliders report only on release (continuous_update=False), so a short debounce
        # suffices: a long one would only add its length to every move
        import ipywidgets as W

        smooth_rate = _check_slider(smooth_rate, "smooth_rate", SMOOTH_SLIDER, _check_smooth_rate)
        noise_rate = _check_slider(noise_rate, "noise_rate", TRAIN_NOISE_SLIDER, _noise.check_noise_rate)
        noise_kind = _check_choice(noise_kind, "noise_kind", _noise.KINDS)
        dataset = _check_choice(dataset, "dataset", TOY_DATASETS)
        self.seed, self.fit_kwargs = _noise.check_seed(seed), fit_kwargs
        self._elapsed = None
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
        return training_compute(smooth_rate, noise_rate, noise_kind, dataset=dataset, seed=self.seed,
                                device=device, **self.fit_kwargs)

    def plot(self, result):
        return plots.training_panel(result)

    def _started(self, params):
        text = _minus(f"training r = {_r(params['smooth_rate'])} …")
        self.progress.description = text
        self.progress.bar_style = "info"
        self.progress.value = 0.05
        expected = max(self.last_seconds, 0.5)

        def show(seconds):     # elapsed time, and the bar against the last run's duration
            self.progress.description = f"{text} {seconds:.1f} s"
            self.progress.value = min(0.95, seconds / expected)

        if self._elapsed is not None:
            self._elapsed.stop()
        self._elapsed = _Elapsed(show)

    def _finished(self, ok):
        if self._elapsed is not None:
            self._elapsed.stop()
            self._elapsed = None
        self.progress.value = 1.0
        self.progress.bar_style = "success" if ok else "danger"
        self.progress.description = "done" if ok else "failed"

    def describe(self, r):
        extra = " <b>diverged</b> (NLS is unbounded below; try a smaller |r|)" if r["diverged"] else ""
        return _minus(f"<b>r = {_r(r['smooth_rate'])}</b>, ε = {_r(r['noise_rate'])} ({r['noise_kind']}): "
                      f"test accuracy {100 * r['test_acc']:.1f} %, max-softmax confidence {r['confidence']:.2f}, "
                      f"model confidence MC {r['model_confidence']:.2f} (test-set means); "
                      f"trained on {r['device']} in {r['seconds']:.2f} s{extra}")


class SweepExplorer(Explorer):
    """Lesson 04: ε and r over a cached sweep (instant), with a "retrain this cell live" button."""

    name = "sweep"
    dpi = 72

    def __init__(self, results, *, data=None, train_kwargs=None, noise_rate=None, smooth_rate=0.0,
                 metric="best_test_acc", debounce=0.03, fresh_figure=False):
        import ipywidgets as W

        if noise_rate is not None:
            noise_rate = _noise.check_noise_rate(noise_rate)
        smooth_rate = _check_smooth_rate(smooth_rate)
        self.results, self.data = results, data
        self.train_kwargs = dict(train_kwargs or {})
        self._summaries = {}
        self.live = None
        summary = self.summary(metric)
        table = summary["table"]
        eps_values = [float(e) for e in table.index]
        r_values = [float(r) for r in table.columns]
        if noise_rate is None:
            noise_rate = eps_values[len(eps_values) // 2]
        snap = lambda vals, v: min(vals, key=lambda x: abs(x - v))  # noqa: E731
        controls = {
            "noise_rate": W.SelectionSlider(options=[(_r(e), e) for e in eps_values], value=snap(eps_values, noise_rate),
                                            description="noise rate ε", style={"description_width": "initial"},
                                            layout=W.Layout(width="340px")),
            "smooth_rate": W.SelectionSlider(options=[(_r(r), r) for r in r_values], value=snap(r_values, smooth_rate),
                                             description="smooth rate r", style={"description_width": "initial"},
                                             layout=W.Layout(width="420px")),
            "metric": W.ToggleButtons(options=[("best epoch", "best_test_acc"), ("final epoch", "test_acc")],
                                      value=metric, description="report", style={"description_width": "initial"}),
        }
        self.device, reason = _device_toggle()
        self.button = W.Button(description="retrain this cell live", icon="refresh",
                               layout=W.Layout(width="auto", min_width="15em"),
                               disabled=data is None, tooltip="train seed 0 of this (ε, r) cell again, now"
                               if data is not None else "pass data= to retrain")
        self.button.on_click(lambda _b: self.retrain())
        self.live_status = W.HTML("")
        super().__init__(controls, title="Sweep explorer: which smooth rate wins at which noise rate?",
                         debounce=debounce, fresh_figure=fresh_figure,
                         extra=[W.HBox([self.button, self.device, reason, self.live_status],
                                       layout=W.Layout(flex_flow="row wrap"))])

    def summary(self, metric):
        if metric not in self._summaries:
            k = self.data.num_classes if self.data is not None else None
            self._summaries[metric] = sweep_summary(self.results, metric, k)
        return self._summaries[metric]

    def compute(self, noise_rate, smooth_rate, metric):
        return sweep_compute(self.summary(metric), noise_rate, smooth_rate, self.live)

    def plot(self, result):
        return plots.sweep_panel(result)

    def render(self, result) -> bytes:
        """Blit onto a figure drawn once per metric (a few ms instead of a full figure)."""
        if self.fresh_figure:
            return super().render(result)
        key = result["metric"]
        if getattr(self, "_renderer_key", None) != key:
            if getattr(self, "_renderer", None) is not None:
                self._renderer.close()
            self._renderer = plots.SweepPanelRenderer(result, dpi=self.dpi)
            self._renderer_key = key
        return self._renderer.render(result)

    def describe(self, r):
        return _minus(f"<b>ε = {_r(r['noise_rate'])}, r = {_r(r['smooth_rate'])}</b>: {r['metric_label']} "
                      f"{r['value']:.1f} ± {r['value_std']:.1f} % over {r['n_seeds']} seeds (from the cache)")

    def retrain(self):
        """Retrain seed ``min(seed)`` of the current cell with :func:`nls_lessons.train.fit`, synchronously."""
        from nls_lessons import train

        p = self.params()
        eps, r = p["noise_rate"], p["smooth_rate"]
        seed = int(self.results["seed"].min())
        self.button.disabled = True
        text = _minus(f"training ε = {_r(eps)}, r = {_r(r)}, seed {seed} …")
        self.live_status.value = text
        elapsed = _Elapsed(lambda secs: setattr(self.live_status, "value", f"{text} {secs:.1f} s"))
        try:
            t0 = time.perf_counter()
            fitted = train.fit(self.data, r, eps, seed, noise_kind=self.summary(p["metric"])["noise_kind"],
                               device=self.device.value, warn=False, **self.train_kwargs)
            secs = time.perf_counter() - t0
            elapsed.stop()
            hist = fitted.history
            value = 100 * (hist["test_acc"].max() if p["metric"] == "best_test_acc" else hist["test_acc"].iloc[-1])
            cached = self.results[(self.results.noise_rate == eps) & (self.results.smooth_rate == r)
                                  & (self.results.seed == seed)][p["metric"]]
            self.live = {"noise_rate": eps, "smooth_rate": r, "value": float(value), "seconds": secs}
            same = f" (cached seed {seed}: {100 * float(cached.iloc[0]):.1f} %)" if len(cached) else ""
            self.live_status.value = _minus(f"live: {value:.1f} % in {secs:.2f} s on {self.device.value}{same}")
            self.request()
        except Exception as exc:
            self.live_status.value = (f'<span style="color:#D55E00">&#9888; retraining failed: '
                                      f"{html.escape(str(exc))}</span>")
        finally:
            elapsed.stop()
            self.button.disabled = self.data is None


# =========================================================================== static frames
def static_frames(name: str, *, dpi: float = 64, **kw) -> str:
    """Precomputed frames of explorer ``name`` as HTML (see :mod:`nls_lessons.frames`).

    ``name``: "noise", "smoothing", "training" or "sweep". Keyword arguments override the
    values in :data:`STATIC_VALUES` (e.g. ``smooth_rate=[...]``) or are passed on to the
    explorer's compute (e.g. ``seed``); "sweep" takes ``results`` (default: the cached
    :func:`default_sweep`) and ``metric``. The book and slides builds call this through the
    explorer functions when ``NLS_STATIC=1``.
    """
    if name not in STATIC_VALUES:
        raise ValueError(f"name must be one of {tuple(STATIC_VALUES)}, got {name!r}")
    frames, alts, panels = {}, {}, {}

    def add(idx, result, panel_class, alt):
        """One frame, drawn on one kept panel per explorer (as the live explorers do)."""
        panel = panels.get(panel_class)
        if panel is None or not panel.fits(result):
            if panel is not None:
                panel.close()
            panel = panels[panel_class] = panel_class(result, dpi=dpi)
        frames[idx] = panel.render(result)
        alts[",".join(map(str, idx))] = alt

    try:
        return _static_frames(name, kw, add, frames, alts)
    finally:
        for panel in panels.values():
            panel.close()


def _static_frames(name, kw, add, frames, alts) -> str:
    if name == "noise":
        params = {"kind": list(kw.pop("kind", STATIC_VALUES["noise"]["kind"])),
                  "noise_rate": list(kw.pop("noise_rate", STATIC_VALUES["noise"]["noise_rate"]))}
        for i, kind in enumerate(params["kind"]):
            for j, eps in enumerate(params["noise_rate"]):
                res = noise_compute(kind, eps, **kw)
                flips = int(np.sum(res["clean"] != res["noisy"]))
                add((i, j), res, plots.NoisePanel,
                    f"Nominal and realised 10-by-10 transition matrices for {kind} noise at ε = {_r(eps)} "
                    f"({100 * res['realised_rate']:.1f} % of labels changed), and {len(res['clean'])} digits "
                    f"captioned clean → noisy label, {flips} of them flipped.")
        return _frames.frames_html(frames, params, alt=alts, labels={"kind": "noise kind", "noise_rate": "noise rate ε"},
                                   initial={"kind": 0, "noise_rate": min(1, len(params["noise_rate"]) - 1)})
    if name == "smoothing":
        rates = list(kw.pop("smooth_rate", STATIC_VALUES["smoothing"]["smooth_rate"]))
        for i, r in enumerate(rates):
            res = smoothing_compute(r, **kw)
            lam = "infinite" if math.isinf(res["lam"]) else f"{res['lam']:.3g}"
            add((i,), res, plots.SmoothingPanel,
                _minus(f"GLS target for r = {_r(r)}: label entry {res['target_label']:.2f}, other entries "
                       f"{res['target_other']:.2f}; loss against p_y for r in {list(map(_r, CURVE_RATES))} with "
                       f"r = {_r(r)} highlighted; uniform-CE weight λ = r/(1 − r) = {lam}."))
        initial = int(np.argmin(np.abs(np.array(rates) - 0.0)))
        return _frames.frames_html(frames, {"smooth_rate": rates}, alt=alts, labels={"smooth_rate": "smooth rate r"},
                                   initial={"smooth_rate": initial})
    if name == "training":
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
    # sweep
    results = kw.pop("results", None)
    if results is None:
        results = default_sweep(device="cpu")[0]
    summary = sweep_summary(results, kw.pop("metric", "best_test_acc"))
    eps_values = [float(e) for e in kw.pop("noise_rate", summary["table"].index)]
    r_values = [float(r) for r in kw.pop("smooth_rate", summary["table"].columns)]
    for i, e in enumerate(eps_values):
        for j, r in enumerate(r_values):
            res = sweep_compute(summary, e, r)
            add((i, j), res, _SweepFrames,
                _minus(f"Sweep heatmap of {res['metric_label']} with the cell ε = {_r(e)}, r = {_r(r)} marked "
                       f"({res['value']:.1f} %), accuracy against r at this ε, and the best two r per ε "
                       f"with the theory line r_opt."))
    return _frames.frames_html(frames, {"noise_rate": eps_values, "smooth_rate": r_values}, alt=alts,
                               labels={"noise_rate": "noise rate ε", "smooth_rate": "smooth rate r"},
                               initial={"noise_rate": len(eps_values) // 2,
                                        "smooth_rate": int(np.argmin(np.abs(np.array(r_values))))})


class _SweepFrames(plots.SweepPanelRenderer):
    """The sweep's static frames on the sweep explorer's blitting renderer (one per metric)."""

    def fits(self, result) -> bool:
        return result["table"] is self.table


def _static_html(name, **kw):
    from IPython.display import HTML

    return HTML(static_frames(name, **kw))


# =========================================================================== entry points
def noise_explorer(kind: str = "symmetric", noise_rate: float = 0.2, *, seed: int = 0):
    """Lesson 01: the noise explorer (or its static frames when ``NLS_STATIC=1``)."""
    if static_mode():
        return _static_html("noise", seed=seed)
    return NoiseExplorer(kind, noise_rate, seed=seed)


def smoothing_explorer(smooth_rate: float = 0.0, *, num_classes: int = 10, label: int = 3):
    """Lessons 02-03: the smoothing explorer (or its static frames when ``NLS_STATIC=1``)."""
    if static_mode():
        return _static_html("smoothing", num_classes=num_classes, label=label)
    return SmoothingExplorer(smooth_rate, num_classes=num_classes, label=label)


def training_explorer(smooth_rate: float = 0.0, noise_rate: float = 0.3, noise_kind: str = "symmetric", *,
                      dataset: str = "blobs", seed: int = 0, **fit_kwargs):
    """Lessons 02-03: live retraining (or frames at a few r when ``NLS_STATIC=1``)."""
    if static_mode():
        return _static_html("training", noise_rate=noise_rate, noise_kind=noise_kind, dataset=dataset,
                            seed=seed, **fit_kwargs)
    return TrainingExplorer(smooth_rate, noise_rate, noise_kind, dataset=dataset, seed=seed, **fit_kwargs)


def sweep_explorer(results=None, *, data=None, train_kwargs=None, noise_rate=None, smooth_rate: float = 0.0,
                   metric: str = "best_test_acc"):
    """Lesson 04: the sweep explorer over ``results`` (``train.sweep``'s DataFrame).

    Without ``results`` it uses :func:`default_sweep` (cached under ``data/cache``). ``data``
    and ``train_kwargs`` (the sweep's ``model``, ``epochs``, ...) enable the live-retrain
    button. With ``NLS_STATIC=1``: frames over every (ε, r) of the sweep.
    """
    if results is None:
        # a progress bar only when it trains (a cached sweep returns at once)
        results, default_data, default_kwargs = default_sweep(device="cpu", progress=not static_mode())
        data = data if data is not None else default_data
        train_kwargs = train_kwargs if train_kwargs is not None else default_kwargs
    if static_mode():
        return _static_html("sweep", results=results, metric=metric)
    return SweepExplorer(results, data=data, train_kwargs=train_kwargs, noise_rate=noise_rate,
                         smooth_rate=smooth_rate, metric=metric)


# =========================================================================== lesson 06: your own data
#: The noise kinds of lesson 06's untrusted data sets: two named models and a human-like one.
RECIPE_KINDS = ("symmetric", "pairflip", "human")
#: The candidate smooth rates lesson 06 validates (the theory's prediction is added to them).
RECIPE_RATES = (0.6, 0.4, 0.2, 0.1, 0.0, -0.2, -0.5, -1.0, -2.0, -4.0, -8.0)
RECIPE_TRAIN = {"model": "linear", "epochs": 30}


@functools.lru_cache(maxsize=1)
def _human_transition() -> np.ndarray:
    from nls_lessons.data import load_cifar_n

    clean, noisy = load_cifar_n("cifar10", "worst")
    return _noise.empirical_transition(clean, noisy, 10)


def recipe_transition(kind: str, noise_rate: float) -> np.ndarray:
    """The (10, 10) T of lesson 06's data sets. "human": the CIFAR-10N ``worst`` annotators'
    realised T (computed from the shipped label files) mixed with the identity so that its
    average off-diagonal mass is ``noise_rate`` (at about 0.40 it is the human T itself)."""
    if kind not in RECIPE_KINDS:
        raise ValueError(f"kind must be one of {RECIPE_KINDS}, got {kind!r}")
    if kind != "human":
        return _noise.transition_matrix(kind, 10, noise_rate)
    eps = _noise.check_noise_rate(noise_rate)
    human = _human_transition()
    human_rate = 1.0 - float(np.mean(np.diag(human)))
    if eps > human_rate:
        raise ValueError(f"noise_rate for the human kind must lie in [0, {human_rate:.2f}] (the CIFAR-10N "
                         f"worst annotators' own rate), got {eps}")
    w = eps / human_rate
    return (1 - w) * np.eye(10) + w * human


def recipe_compute(kind: str = "symmetric", noise_rate: float = 0.6, *, seed: int = 0, folds: int = 5,
                   smooth_rates=RECIPE_RATES, clean_optimal_rate: float = 0.0, **fit_kwargs) -> dict:
    """Lesson 06's recipe on digits whose training labels carry hidden noise, end to end.

    1. Noisy training labels: ``noise.inject`` with :func:`recipe_transition` (seed derived from
       ``seed``); the clean test set is kept for judging only.
    2. Estimate: cross-fitted probabilities (:func:`train.out_of_sample_probs`), then cleanlab's
       confident joint (:func:`noise.estimate_transition`, :func:`noise.estimate_noise_rate`).
    3. Predict: r_theory = (r* - kappa_hat) / (1 - kappa_hat) from the estimated rate (symmetric
       reading; kappa_hat capped below 1).
    4. Validate: :func:`train.select_smooth_rate` over ``smooth_rates`` plus r_theory.

    Returns a dict: kind, noise_rate, seed, T_true, T_realised, T_estimated (10, 10),
    realised_rate, estimated_rate, r_theory, chosen_rate, table (select_smooth_rate's, one
    row per rate), oracle_rate (best clean test accuracy at the validation-chosen epoch: needs
    the clean labels, for judging only), and the clean test accuracies ``acc`` of the chosen,
    oracle, CE (r = 0), LS (r = 0.1) and theory rates, plus ``paper_oracle`` (best rate *and*
    best epoch on the clean test set, the paper's reporting).
    """
    import dataclasses

    from nls_lessons import data, theory, train

    kw = {**RECIPE_TRAIN, **fit_kwargs}
    digits = data.digits(0)
    T = recipe_transition(kind, noise_rate)
    noisy = _noise.inject(digits.y_train, T, train.derive_seed(seed, "recipe", kind, noise_rate))
    untrusted = dataclasses.replace(digits, y_train=noisy, name=f"{digits.name}|{kind} {noise_rate:g}")
    probs = train.out_of_sample_probs(untrusted, folds=folds, seed=seed, **kw)
    eps_hat = _noise.estimate_noise_rate(noisy, probs)
    cap = 0.98 * 9 / 10
    r_theory = round(float(theory.optimal_smooth_rate(min(eps_hat, cap), 10, clean_optimal_rate)), 2)
    rates = sorted({float(r) for r in smooth_rates} | {0.0, 0.1, r_theory}, reverse=True)
    chosen, table = train.select_smooth_rate(untrusted, rates, seeds=(seed,), prior_rate=r_theory, **kw)
    by_rate = table.groupby("smooth_rate")[["val_acc", "test_acc", "oracle_test_acc"]].mean()
    oracle = float(by_rate["test_acc"].idxmax())
    acc = {name: float(by_rate.loc[r, "test_acc"]) for name, r in
           (("chosen", chosen), ("oracle", oracle), ("CE", 0.0), ("LS 0.1", 0.1), ("theory", r_theory))}
    return {
        "kind": kind, "noise_rate": float(noise_rate), "seed": seed,
        "T_true": T, "T_realised": _noise.empirical_transition(digits.y_train, noisy, 10),
        "T_estimated": _noise.estimate_transition(noisy, probs),
        "realised_rate": float((noisy != digits.y_train).float().mean()), "estimated_rate": eps_hat,
        "r_theory": r_theory, "chosen_rate": chosen, "oracle_rate": oracle, "table": table,
        "by_rate": by_rate, "acc": acc, "paper_oracle": float(by_rate["oracle_test_acc"].max()),
    }


class RecipeExplorer(Explorer):
    """Lesson 06: pick a hidden noise kind and strength; the whole recipe reruns (a few seconds)."""

    name = "recipe"
    dpi = 72

    def __init__(self, kind="pairflip", noise_rate=0.3, *, seed=0, debounce=0.3):
        import ipywidgets as W

        recipe_transition(kind, noise_rate)                      # names a bad kind or rate now
        if not 0.0 <= noise_rate <= 0.8:
            raise ValueError(f"noise_rate must lie in [0, 0.8] (the slider's range), got {noise_rate!r}")
        self.seed = _noise.check_seed(seed)
        self.progress = W.FloatProgress(value=1.0, min=0.0, max=1.0, description="idle",
                                        style={"description_width": "initial"}, layout=W.Layout(width="320px"))
        controls = {
            "kind": W.Dropdown(options=list(RECIPE_KINDS), value=kind, description="hidden noise",
                               style={"description_width": "initial"}),
            "noise_rate": _float_slider("noise rate ε", noise_rate, 0.0, 0.8, 0.05, continuous=False),
        }
        super().__init__(controls, title="Your own data: estimate → predict → validate",
                         debounce=debounce, extra=[self.progress])

    def compute(self, kind, noise_rate):
        if kind == "human":
            noise_rate = min(noise_rate, 0.4)
        return recipe_compute(kind, noise_rate, seed=self.seed)

    def plot(self, result):
        return plots.recipe_panel(result)

    def _started(self, params):
        self.progress.description = "running the recipe (cross-fit, estimate, validate) …"
        self.progress.bar_style = "info"
        self.progress.value = 0.3

    def _finished(self, ok):
        self.progress.value = 1.0
        self.progress.bar_style = "success" if ok else "danger"
        self.progress.description = "done" if ok else "failed"

    def describe(self, r):
        return _minus(f"<b>{r['kind']} ε = {_r(r['noise_rate'])}</b>: estimated ε̂ = {r['estimated_rate']:.2f} "
                      f"(realised {r['realised_rate']:.2f}); theory r = {_r(r['r_theory'])}; chosen r = "
                      f"{_r(r['chosen_rate'])} ({100 * r['acc']['chosen']:.1f} % clean test) vs oracle r = "
                      f"{_r(r['oracle_rate'])} ({100 * r['acc']['oracle']:.1f} %)")


#: The hidden-noise settings lesson 06's static (book/slides) frames are precomputed for.
RECIPE_STATIC = {"kind": list(RECIPE_KINDS), "noise_rate": [0.2, 0.4]}


def recipe_frames(*, dpi: float = 64, seed: int = 0, **values) -> str:
    """Lesson 06's explorer as precomputed frames (HTML, see :mod:`nls_lessons.frames`)."""
    params = {k: list(values.pop(k, v)) for k, v in RECIPE_STATIC.items()}
    if values:
        raise TypeError(f"recipe_frames got unexpected arguments {sorted(values)}; allowed: {sorted(RECIPE_STATIC)}")
    frames, alts = {}, {}
    for i, kind in enumerate(params["kind"]):
        for j, eps in enumerate(params["noise_rate"]):
            res = recipe_compute(kind, eps, seed=seed)
            fig = plots.recipe_panel(res)
            frames[(i, j)] = plots.to_png(fig, dpi=dpi)
            plots.close(fig)
            alts[f"{i},{j}"] = _minus(
                f"Hidden and estimated 10-by-10 transition matrices for {kind} noise at ε = {_r(eps)} "
                f"(estimated {res['estimated_rate']:.2f}), and noisy-validation and clean-test accuracy "
                f"against r: chosen r = {_r(res['chosen_rate'])}, oracle r = {_r(res['oracle_rate'])}.")
    return _frames.frames_html(frames, params, alt=alts, labels={"kind": "hidden noise", "noise_rate": "noise rate ε"},
                               initial={"kind": 0, "noise_rate": len(params["noise_rate"]) - 1},
                               title=f"precomputed: seed {seed}")


def recipe_explorer(kind: str = "pairflip", noise_rate: float = 0.3, *, seed: int = 0):
    """Lesson 06: the recipe explorer (or its static frames when ``NLS_STATIC=1``)."""
    if static_mode():
        from IPython.display import HTML

        return HTML(recipe_frames(seed=seed))
    return RecipeExplorer(kind, noise_rate, seed=seed)
