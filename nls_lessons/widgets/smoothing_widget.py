"""Lessons 02-03's smoothing explorer: r from −8 to 1 → GLS target bars, loss vs p_y, λ = r/(1 − r).

Owns :func:`smoothing_compute` (numbers only), :class:`SmoothingExplorer` (the live widget
on :class:`nls_lessons.plots.SmoothingPanel`), its static frames and :func:`smoothing_explorer`.
"""
from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from nls_lessons import noise as _noise
from nls_lessons import plots
from nls_lessons.widgets import frames as _frames
from nls_lessons.widgets.base import STATIC_VALUES, Explorer, static_html, static_mode
from nls_lessons.widgets.controls import SMOOTH_SLIDER, _check_slider, _check_smooth_rate, _float_slider, _minus, _r

#: r values of the smoothing explorer's comparison curves (lessons 02-03).
CURVE_RATES = (-2.0, -0.5, 0.0, 0.4, 0.8)


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
    if isinstance(curve_rates, (str, bytes)) or curve_rates is None:
        raise TypeError(f"curve_rates must be a sequence of smooth rates, each a finite number <= 1, got {curve_rates!r}")
    curve_rates = tuple(_check_smooth_rate(r, "curve_rates") for r in curve_rates)
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


def _static_frames(kw, add, frames, alts) -> str:
    """The smoothing explorer's frames over :data:`STATIC_VALUES` ``["smoothing"]``."""
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


def smoothing_explorer(smooth_rate: float = 0.0, *, num_classes: int = 10, label: int = 3):
    """Lessons 02-03: the smoothing explorer (or its static frames when ``NLS_STATIC=1``)."""
    if static_mode():
        return static_html(_static_frames, num_classes=num_classes, label=label)
    return SmoothingExplorer(smooth_rate, num_classes=num_classes, label=label)
