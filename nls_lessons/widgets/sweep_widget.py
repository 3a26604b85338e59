"""Lesson 04's sweep explorer: ε and r over a cached sweep (heatmap, accuracy vs r, best r vs r_opt).

Owns the default cached sweep (:data:`SWEEP_SMOOTH_RATES`, :func:`default_sweep`), its
aggregation (:func:`sweep_summary`, :func:`sweep_compute`), :class:`SweepExplorer` (blitting
on :class:`nls_lessons.plots.SweepPanelRenderer`, with a "retrain this cell live" button),
its static frames and :func:`sweep_explorer`.
"""
from __future__ import annotations

import html
import os
import time
from pathlib import Path

import numpy as np

from nls_lessons import noise as _noise
from nls_lessons import plots
from nls_lessons.widgets import frames as _frames
from nls_lessons.widgets.base import Explorer, _Elapsed, static_html, static_mode
from nls_lessons.widgets.controls import _check_smooth_rate, _device_toggle, _minus, _r

DEFAULT_CACHE = Path(os.environ.get("NLS_CACHE_DIR", Path(__file__).resolve().parents[2] / "data" / "cache"))
#: The default cached sweep behind :func:`sweep_explorer` (lesson 04): digits, linear
#: softmax, Adam 1e-2, 30 epochs, 3 seeds, 10 r x 5 eps = 150 models (a few seconds on 2 cores).
SWEEP_SMOOTH_RATES = (-16.0, -8.0, -4.0, -2.0, -1.0, -0.4, 0.0, 0.2, 0.4, 0.8)
SWEEP_NOISE_RATES = (0.0, 0.2, 0.4, 0.6, 0.8)
SWEEP_SEEDS = (0, 1, 2)
SWEEP_TRAIN = {"model": "linear", "epochs": 30}


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
    "best_test_acc" (best epoch on the test set, what the official code keeps; the paper's text does
    not say how the epoch is chosen) or "test_acc" (final epoch).
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


def _static_frames(kw, add, frames, alts) -> str:
    """The sweep explorer's frames over every (ε, r) of ``kw["results"]`` (default: the cached sweep)."""
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
        return static_html(_static_frames, results=results, metric=metric)
    return SweepExplorer(results, data=data, train_kwargs=train_kwargs, noise_rate=noise_rate,
                         smooth_rate=smooth_rate, metric=metric)

