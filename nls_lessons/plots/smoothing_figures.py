"""Lessons 02-03 (label smoothing, negative label smoothing): what GLS does to the
target and the loss. Target bars, loss against p_y, the uniform-CE weight λ = r/(1 − r), and the
smoothing explorer's figure (:func:`smoothing_panel`, :class:`SmoothingPanel`).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure

from .style import LS_STYLE, NLS_STYLE, OKABE_ITO, PALETTE, _fig_ax, _minus, _styled, fmt_rate, legend_outside
from .live import LivePanel, _by_gid


def gls_loss_vs_py(p_y, smooth_rate: float, num_classes: int):
    """GLS loss when the model puts ``p_y`` on the label and spreads the rest evenly.

    ``(1-r)·(-log p_y) + r·CE(u, p)`` with ``p_k = (1-p_y)/(K-1)`` for k ≠ y (lessons 02-03).
    """
    p_y = np.asarray(p_y, dtype=float)
    k = num_classes
    ce = -np.log(p_y)
    uniform_ce = -(np.log(p_y) + (k - 1) * np.log((1 - p_y) / (k - 1))) / k
    return (1 - smooth_rate) * ce + smooth_rate * uniform_ce


@_styled
def target_bars(targets, *, label: int, smooth_rate: float, ax=None, ylim=None) -> Figure:
    """Bar chart of one GLS target vector (K entries summing to 1), the label's bar highlighted.

    Lessons 02-03: for r < 0 the label's entry exceeds 1 and the others drop below 0.
    """
    t = np.asarray(targets, dtype=float).ravel()
    k = len(t)
    fig, ax = _fig_ax(ax, (5.2, 4.0))
    colors = [OKABE_ITO["blue"] if i == label else OKABE_ITO["skyblue"] for i in range(k)]
    ax.bar(range(k), t, color=colors, edgecolor="black", linewidth=0.6, gid="targets")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.axhline(1, color="grey", linestyle=":", linewidth=1.2)
    ax.set_xticks(range(k))
    ax.set_xlabel("class k")
    ax.set_ylabel("target probability (unitless)")
    ax.set_ylim(ylim or target_ylim(t))
    ax.set_title(_minus(f"GLS target, r = {fmt_rate(smooth_rate)}"))
    ax.text(0.98, 0.96, _target_text(t, label), transform=ax.transAxes, ha="right", va="top", fontsize=11,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.7"}, gid="target_text")
    return fig


def _target_text(t, label: int) -> str:
    return _minus(f"label: {t[label]:.2f}\nothers: {t[(label + 1) % len(t)]:.2f}\nsum = {t.sum():.2f}")


#: The y ranges target bars step through: the range fits the targets (LS bars fill the
#: panel, NLS bars above 1 still fit) and changes only in steps while a slider moves.
_TARGET_TOPS = (0.35, 0.5, 0.7, 0.85, 1.1, 1.6, 2.2, 3.2, 4.5, 6.5, 9.0, 13.0, 20.0)


def target_ylim(targets) -> tuple[float, float]:
    """A y range for target bars that fits ``targets`` (K,): the top is the first step of a
    ladder above the largest entry (with room for the value box), the bottom just below the
    smallest (negative for NLS). Lessons 02-03."""
    t = np.asarray(targets, dtype=float)
    need = float(t.max()) * 1.2
    top = next((v for v in _TARGET_TOPS if v >= need), need)
    low = min(-0.06 * top, float(t.min()) - 0.06 * top)
    return (round(low, 3), top)


def _in_view(values, lim) -> np.ndarray:
    """``values`` (any shape) as floats, NaN where they fall outside ``lim = (lo, hi)``: a curve
    that leaves a fixed range (a loss that runs to infinity as p_y -> 0) ends at the frame
    instead of being drawn outside it."""
    values = np.array(values, dtype=float)
    lo, hi = sorted(lim)
    values[(values < lo) | (values > hi)] = np.nan
    return values


@_styled
def loss_curves(smooth_rates: Sequence[float] = (-2.0, -0.5, 0.0, 0.4, 0.8), *, num_classes: int = 10,
                highlight: float | None = None, ax=None, ylim=(-8.0, 12.0)) -> Figure:
    """GLS loss as a function of the probability p_y the model gives the label, one line per r.

    Lessons 02-03: LS (r > 0) has a minimum before p_y = 1; NLS (r < 0) keeps falling and is
    unbounded below. ``highlight`` draws that r thick and black, on top (``gid="highlight"``).
    """
    fig, ax = _fig_ax(ax, (5.6, 4.2))
    p = np.linspace(0.002, 0.998, 400)
    for r, color in zip(smooth_rates, PALETTE):
        ax.plot(p, _in_view(gls_loss_vs_py(p, r, num_classes), ylim), color=color, linewidth=1.6,
                alpha=0.85, label=_minus(f"r = {fmt_rate(r)}"))
    if highlight is not None:
        ax.plot(p, _in_view(gls_loss_vs_py(p, highlight, num_classes), ylim), color="black", linewidth=3.2,
                label=_minus(f"r = {fmt_rate(highlight)} (current)"), gid="highlight")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylim(*ylim)
    ax.set_xlim(0, 1)
    ax.set_xlabel("p_y: model probability of the label")
    ax.set_ylabel("GLS loss (nats)")
    ax.set_title(f"loss vs p_y (K = {num_classes})")
    legend_outside(ax)      # NLS curves dive at the lower right, LS curves climb at the upper right
    return fig


def uniform_weight(smooth_rate: float) -> float:
    """Weight λ = r/(1 − r) of the uniform term in GLS = (1 − r)·[CE + λ·CE(u)].

    Lesson 02: dividing (1 − r)·CE(y) + r·CE(u) by (1 − r) leaves the label's CE with weight 1
    and the uniform CE with weight r/(1 − r): λ < 0 for NLS (the loss *rewards* moving away
    from uniform), 0 for CE, λ > 0 for LS; ``inf`` at r = 1 (the label is ignored).
    (The 1/(1 − r) of lesson 03 is another quantity: the scale of the logit form.)
    """
    r = float(smooth_rate)
    return math.inf if r >= 1 else r / (1.0 - r)


def _weight_text(lam: float) -> str:
    return "∞ (label ignored)" if math.isinf(lam) else f"{lam:.3g}"


@_styled
def uniform_weight_curve(smooth_rate: float, *, r_min: float = -8.0, ax=None) -> Figure:
    """λ = r/(1 − r) against r with the current r marked (asinh y axis: the NLS range
    λ ∈ (−1, 0) stays readable next to LS's steep rise). Lessons 02-03."""
    fig, ax = _fig_ax(ax, (4.8, 4.0))
    r = np.linspace(r_min, 0.95, 400)
    ax.plot(r, r / (1 - r), color=OKABE_ITO["blue"])
    ax.set_yscale("asinh", linear_width=0.5)
    ticks = [-1, -0.5, 0, 0.5, 1, 2, 5, 10, 20]
    ax.set_yticks(ticks, [_minus(fmt_rate(t)) for t in ticks])
    ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_ylim(-1.1, 22)
    ax.axvline(0, color="grey", linestyle=":", linewidth=1)
    ax.axhline(0, color="grey", linestyle=":", linewidth=1)
    ax.plot([min(smooth_rate, 0.95)], [min(uniform_weight(smooth_rate), 0.95 / 0.05)], marker="o",
            markersize=11, color="black", zorder=3, gid="current")
    ax.set_xlabel("smooth rate r")
    ax.set_ylabel("λ = r/(1 − r) (unitless)")
    ax.set_title(_minus(f"uniform-CE weight λ = {_weight_text(uniform_weight(smooth_rate))}"))
    ax.text(0.03, 0.96, "LS (r > 0): λ > 0", transform=ax.transAxes, va="top", color=LS_STYLE["color"])
    ax.text(0.03, 0.2, "NLS (r < 0): λ < 0", transform=ax.transAxes, va="top", color=NLS_STYLE["color"])
    return fig


@_styled
def smoothing_panel(result) -> Figure:
    """The smoothing explorer's figure: target bars, loss vs p_y, the uniform-CE weight λ = r/(1 − r).

    Lessons 02-03. ``result`` is :func:`nls_lessons.widgets.smoothing_compute`'s dict.
    """
    return SmoothingPanel(result).fig


class SmoothingPanel(LivePanel):
    """:func:`smoothing_panel`: GLS target bars, loss vs p_y, the uniform-CE weight λ = r/(1 − r)."""

    def layout_key(self, result):
        return (result["num_classes"], result["label"], tuple(result["curve_rates"]))

    def build(self, result):
        ax1, ax2, ax3 = self.fig.subplots(1, 3, width_ratios=[1.0, 1.25, 0.95])
        r = result["smooth_rate"]
        target_bars(result["targets"], label=result["label"], smooth_rate=r, ax=ax1, ylim=result.get("ylim"))
        loss_curves(result["curve_rates"], num_classes=result["num_classes"], highlight=r, ax=ax2)
        uniform_weight_curve(r, ax=ax3)
        self.axes = (ax1, ax2, ax3)
        self.bars = ax1.containers[0]
        self.text = _by_gid(ax1.texts, "target_text")
        self.highlight = _by_gid(ax2.lines, "highlight")
        self.current = _by_gid(ax3.lines, "current")

    def update(self, result):
        ax1, ax2, ax3 = self.axes
        r, t = result["smooth_rate"], np.asarray(result["targets"], dtype=float)
        for bar, h in zip(self.bars, t):
            bar.set_height(h)
        self.text.set_text(_target_text(t, result["label"]))
        ax1.set_ylim(result.get("ylim") or target_ylim(t))
        ax1.set_title(_minus(f"GLS target, r = {fmt_rate(r)}"))
        self.highlight.set_ydata(_in_view(gls_loss_vs_py(self.highlight.get_xdata(), r, result["num_classes"]),
                                         ax2.get_ylim()))
        ax2.get_legend().texts[-1].set_text(_minus(f"r = {fmt_rate(r)} (current)"))
        lam = uniform_weight(r)
        self.current.set_data([min(r, 0.95)], [min(lam, 0.95 / 0.05)])
        ax3.set_title(_minus(f"uniform-CE weight λ = {_weight_text(lam)}"))

    def dynamic_axes(self):
        return [self.axes[0]]        # the target bars' range follows the targets

    def dynamic_artists(self):
        ax1, ax2, ax3 = self.axes
        return [self.highlight, self.current, ax3.title]
