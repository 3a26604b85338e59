"""Lesson 04 (high noise regimes): sweeps over noise rate ε and smooth rate r. The sweep
heatmap, accuracy against r, the best r per ε (the paper's Fig. 1 on our data), the smooth-rate
axis they share (also lesson 06's), and the sweep explorer's figure (:func:`sweep_panel`,
:class:`SweepPanelRenderer`).
"""
from __future__ import annotations

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .style import (LS_STYLE, NLS_STYLE, OKABE_ITO, SEQUENTIAL_CMAP, _annotate_cells, _fig_ax, _minus, _styled,
                    close, fmt_rate, style)
from .rendering import _rgba_to_png
from .live import _by_gid


def _mark_cell(ax, col: int, row: int) -> None:
    ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="white", linewidth=4.5, zorder=4))
    ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2.0, zorder=5))


@_styled
def sweep_heatmap(table, *, ax=None, mark=None, value_label: str = "test accuracy (%)",
                  title: str = "mean test accuracy", annotate: bool = True, bold_best: bool = True,
                  colorbar: bool = True) -> Figure:
    """Heatmap of a sweep: rows = noise rate ε, columns = smooth rate r (ascending).

    Lesson 04. ``table``: a pandas DataFrame indexed by noise rate with one column per smooth
    rate (e.g. ``df.pivot_table(index="noise_rate", columns="smooth_rate", values="test_acc")
    * 100``). ``mark=(noise_rate, smooth_rate)`` outlines that cell; the best r of each row is
    written in bold. Cell numbers are at least :data:`MIN_TEXT_PX` high at lecture size and
    left out when the cells are too small for them.
    """
    table = table.sort_index().sort_index(axis=1)
    values = table.to_numpy(dtype=float)
    fig, ax = _fig_ax(ax, (7.5, 4.4))
    im = ax.imshow(values, cmap=SEQUENTIAL_CMAP, aspect="auto", origin="lower", interpolation="nearest")
    ax.set_xticks(range(values.shape[1]), [_minus(fmt_rate(c)) for c in table.columns])
    ax.set_yticks(range(values.shape[0]), [fmt_rate(i) for i in table.index])
    ax.set_xlabel("smooth rate r   (r < 0: NLS, r > 0: LS)")
    ax.set_ylabel("noise rate ε")
    ax.set_title(title)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    if annotate and np.isfinite(values).any():
        lo, hi = np.nanmin(values), np.nanmax(values)
        best = np.nanargmax(np.where(np.isnan(values), -np.inf, values), axis=1)
        bold = np.zeros(values.shape, bool)
        if bold_best:
            bold[np.arange(len(best)), best] = True
        _annotate_cells(ax, values, formats=(".1f", ".0f"), bold=bold,
                        color=lambda v: "black" if (v - lo) / max(hi - lo, 1e-9) > 0.6 else "white")
    if colorbar:
        fig.colorbar(im, ax=ax, label=value_label, shrink=0.9)
    if mark is not None:
        row = int(np.argmin(np.abs(table.index.to_numpy(dtype=float) - mark[0])))
        col = int(np.argmin(np.abs(table.columns.to_numpy(dtype=float) - mark[1])))
        _mark_cell(ax, col, row)
    return fig


#: Tick ladders of a smooth-rate axis: wide ranges (NLS down to −64) and narrow ones (LS).
_RATE_TICKS = (-64, -32, -16, -8, -4, -2, -1, 0, 1)
_RATE_TICKS_FINE = (-1, -0.5, 0, 0.2, 0.4, 0.6, 0.8, 1)


def _rate_axis(ax, axis: str, lo: float, hi: float, pad: float = 0.08, ladder=None) -> None:
    """A smooth-rate axis on ONE smooth scale, asinh (linear near 0, logarithmic for large |r|,
    no kink anywhere, unlike symlog at its threshold), fitted to [lo, hi] plus ``pad`` of the
    span on the scale; ticks from a fixed ladder, only inside the range."""
    getattr(ax, f"set_{axis}scale")("asinh", linear_width=1.0)
    a, b = np.arcsinh(lo), np.arcsinh(hi)
    span = max(b - a, 0.5)
    lim = (float(np.sinh(a - pad * span)), float(np.sinh(b + pad * span)))
    getattr(ax, f"set_{axis}lim")(*lim)
    ladder = ladder or (_RATE_TICKS_FINE if lo >= -1 else _RATE_TICKS)
    ticks = [t for t in ladder if lim[0] <= t <= lim[1]]
    getattr(ax, f"set_{axis}ticks")(ticks, [_minus(fmt_rate(t)) for t in ticks])
    getattr(ax, f"{axis}axis").set_minor_locator(matplotlib.ticker.NullLocator())


@_styled
def best_rate_vs_noise(best, *, ax=None, theory=None, title: str = "best smooth rate vs noise",
                       current=None) -> Figure:
    """The paper's Fig. 1 on our data: best r per noise rate, LS (r ≥ 0) vs NLS (r < 0) markers.

    Lesson 04. ``best``: a DataFrame with columns ``noise_rate`` and ``smooth_rate`` (one row per
    marked rate, e.g. the best two per ε; ties allowed). ``theory``: optional ``(eps, r_opt)``
    arrays drawn as a dashed line (r_opt = (r* − κ)/(1 − κ)). ``current``: an ε to highlight.
    The y axis is asinh (smooth, linear near 0, logarithmic for large |r|), so r = −8 and
    r = 0.4 are both readable and the theory curve has no artificial kink.
    """
    fig, ax = _fig_ax(ax, (5.4, 4.2))
    eps = np.asarray(best["noise_rate"], dtype=float)
    r = np.asarray(best["smooth_rate"], dtype=float)
    for sel, st in ((r >= 0, LS_STYLE), (r < 0, NLS_STYLE)):
        ax.scatter(eps[sel], r[sel], s=70, color=st["color"], marker=st["marker"], label=st["label"],
                   edgecolors="black", linewidths=0.6, zorder=3)
    if theory is not None:
        te, tr = (np.asarray(a, dtype=float) for a in theory)
        ax.plot(te, tr, color="black", linestyle="--", linewidth=1.6, label="theory r_opt (r* = 0)", zorder=2)
    if current is not None:
        ax.axvline(current, color="grey", linewidth=8, alpha=0.25, zorder=1)
    ax.axhline(0, color="grey", linewidth=0.8)
    drawn = np.concatenate([r, tr if theory is not None else []])
    drawn = drawn[np.isfinite(drawn)]
    # the axis spans every marker and the theory line: a best rate at the grid's edge (−64) stays
    # on the figure; a vertical axis has room for the half steps too
    lo = min(-1.0, float(drawn.min()) if drawn.size else -1.0)
    hi = max(1.0, float(drawn.max()) if drawn.size else 1.0)
    _rate_axis(ax, "y", lo, hi, pad=0.05, ladder=sorted({*_RATE_TICKS, -0.5, 0.5}))
    ax.set_xlabel("noise rate ε")
    ax.set_ylabel("best smooth rate r")
    ax.set_title(title)
    ax.legend(loc="best")
    return fig


@_styled
def accuracy_vs_rate(rates, mean, *, std=None, ax=None, current=None, title: str = "accuracy vs r",
                     ylabel: str = "test accuracy (%)") -> Figure:
    """Mean accuracy (± std band) against smooth rate on an asinh axis fitted to the rates.

    Lessons 02-04. The line carries ``gid="mean"``, the current-rate ring ``gid="current"``.
    """
    fig, ax = _fig_ax(ax, (5.0, 4.0))
    rates = np.asarray(rates, dtype=float)
    mean = np.asarray(mean, dtype=float)
    order = np.argsort(rates)
    rates, mean = rates[order], mean[order]
    ax.plot(rates, mean, marker="o", color=OKABE_ITO["blue"], gid="mean")
    if std is not None:
        std = np.asarray(std, dtype=float)[order]
        ax.fill_between(rates, mean - std, mean + std, color=OKABE_ITO["skyblue"], alpha=0.3, linewidth=0)
    ax.axvline(0, color="grey", linestyle=":", linewidth=1)
    if current is not None:
        i = int(np.argmin(np.abs(rates - current)))
        ax.plot([rates[i]], [mean[i]], marker="o", markersize=14, markerfacecolor="none",
                markeredgecolor="black", markeredgewidth=2.5, zorder=4, gid="current")
    _rate_axis(ax, "x", rates.min(), rates.max())
    ax.set_xlabel("smooth rate r")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return fig


@_styled
def sweep_panel(result) -> Figure:
    """The sweep explorer's figure: heatmap with the current cell, accuracy vs r, best r vs ε.

    Lesson 04. ``result`` is :func:`nls_lessons.widgets.sweep_compute`'s dict.
    """
    fig = Figure(figsize=(15.0, 4.5), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.45, 1.0, 1.0])
    eps, r = result["noise_rate"], result["smooth_rate"]
    # the colour bar says only "%": its neighbour, the middle panel's y label, names the metric
    sweep_heatmap(result["table"], ax=ax1, mark=(eps, r), title=f"mean {result['metric_label']} (%)",
                  value_label="%")
    row = result["row"]
    accuracy_vs_rate(row.index, row.to_numpy(), std=result.get("row_std"), ax=ax2, current=r,
                     title=_minus(f"ε = {fmt_rate(eps)}: r = {fmt_rate(r)} → {result['value']:.1f} %"),
                     ylabel=f"{result['metric_label']} (%)")
    if result.get("live") is not None:
        live = result["live"]
        ax2.plot([live["smooth_rate"]], [live["value"]], marker="*", markersize=16, color=OKABE_ITO["orange"],
                 markeredgecolor="black", zorder=5, label="retrained live")
        ax2.legend(loc="lower left")
    best_rate_vs_noise(result["best"], ax=ax3, theory=result.get("theory"), current=eps,
                       title="best r per ε (top two)")
    return fig


class SweepPanelRenderer:
    """:func:`sweep_panel` drawn once, then redrawn by blitting only what a slider changes.

    Lesson 04's sweep explorer: moving ε or r only moves the cell marker, swaps the
    accuracy-vs-r line and the ε band, so a redraw costs milliseconds instead of a full
    figure. ``render(result) -> PNG bytes``; the first result fixes the summary (rebuild the
    renderer when the metric changes). Looks the same as :func:`sweep_panel`, except that the
    middle panel keeps one y range for every ε so frames are comparable.
    """

    def __init__(self, result, dpi: float = 72):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.table = result["table"]
        self.std = result["std"]
        self.dpi = dpi
        with style():
            fig = Figure(figsize=(15.0, 4.5), layout="constrained", dpi=dpi)
            ax1, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.45, 1.0, 1.0])
            sweep_heatmap(self.table, ax=ax1, title=f"mean {result['metric_label']} (%)", value_label="%")
            eps0, r0 = result["noise_rate"], result["smooth_rate"]
            rates = self.table.columns.to_numpy(dtype=float)
            row = self.table.loc[eps0].to_numpy(dtype=float)
            accuracy_vs_rate(rates, row, ax=ax2, current=r0, title="x" * 40,
                             ylabel=f"{result['metric_label']} (%)")
            vals = self.table.to_numpy(dtype=float)
            spread = np.nanmax(vals + self.std.to_numpy()) - np.nanmin(vals - self.std.to_numpy())
            ax2.set_ylim(np.nanmin(vals - self.std.to_numpy()) - 0.05 * spread,
                         np.nanmax(vals + self.std.to_numpy()) + 0.05 * spread)
            best_rate_vs_noise(result["best"], ax=ax3, theory=result.get("theory"), title="best r per ε (top two)")
            self.line, self.marker = (_by_gid(ax2.lines, g) for g in ("mean", "current"))
            self.star, = ax2.plot([], [], marker="*", markersize=16, color=OKABE_ITO["orange"],
                                  markeredgecolor="black", zorder=5, linestyle="none", label="retrained live")
            self.band = None
            eps_vals = self.table.index.to_numpy(dtype=float)
            half = 0.5 * (np.min(np.diff(eps_vals)) if len(eps_vals) > 1 else 0.1)
            self.eps_band = ax3.axvspan(eps0 - half / 3, eps0 + half / 3, color="grey", alpha=0.25, zorder=1)
            self.cell = [Rectangle((0, 0), 1, 1, fill=False, edgecolor=c, linewidth=w, zorder=z)
                         for c, w, z in (("white", 4.5, 4), ("black", 2.0, 5))]
            for patch in self.cell:
                ax1.add_patch(patch)
            self.half = half / 3
            self.ax1, self.ax2, self.ax3 = ax1, ax2, ax3
            self.animated = [*self.cell, self.line, self.marker, self.star, self.eps_band, ax2.title]
            for a in self.animated:
                a.set_animated(True)
            self.fig = fig
            self.canvas = FigureCanvasAgg(fig)
            self.canvas.draw()
            fig.set_layout_engine("none")      # freeze the layout: later draws skip it
            self.background = self.canvas.copy_from_bbox(fig.bbox)

    def render(self, result) -> bytes:
        eps, r = result["noise_rate"], result["smooth_rate"]
        rates = self.table.columns.to_numpy(dtype=float)
        row = self.table.loc[eps].to_numpy(dtype=float)
        std = self.std.loc[eps].to_numpy(dtype=float)
        i = int(np.argmin(np.abs(self.table.index.to_numpy(dtype=float) - eps)))
        j = int(np.argmin(np.abs(rates - r)))
        for patch in self.cell:
            patch.set_xy((j - 0.5, i - 0.5))
        self.line.set_data(rates, row)
        self.marker.set_data([rates[j]], [row[j]])
        live = result.get("live")
        self.star.set_data(([live["smooth_rate"]], [live["value"]]) if live else ([], []))
        self.eps_band.set_x(eps - self.half)
        self.eps_band.set_width(2 * self.half)
        if self.band is not None:
            self.band.remove()
        with style():
            self.ax2.set_title(_minus(f"ε = {fmt_rate(eps)}: r = {fmt_rate(r)} → {result['value']:.1f} %"))
            self.ax2.title.set_animated(True)
            self.band = self.ax2.fill_between(rates, row - std, row + std, color=OKABE_ITO["skyblue"],
                                              alpha=0.3, linewidth=0, animated=True)
        self.canvas.restore_region(self.background)
        for a in [self.band, *self.animated]:
            a.axes.draw_artist(a) if a.axes is not None else self.fig.draw_artist(a)
        return _rgba_to_png(self.canvas)

    def close(self):
        close(self.fig)
