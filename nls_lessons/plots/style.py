"""The course's one figure style. Lessons 01-06, their explorers, the book and the slides.

Owns the look (:data:`STYLE`: matplotlib rcParams with lecture-size fonts, the colour-blind-safe
Okabe-Ito palette, no top/right spines), the colours that mean something everywhere (LS vs NLS,
correct vs wrong), figures that pyplot never sees (:func:`new_figure`, :func:`close`), the
typography of rates (:func:`fmt_rate`, a typographic minus) and the lecture-size rules (the
width a figure is shown at, the smallest readable text, numbers written into heatmap cells).
"""
from __future__ import annotations

import functools
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.figure import Figure


#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "skyblue": "#56B4E9",
    "green": "#009E73",      # bluish green
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",     # reddish purple
}
PALETTE = [OKABE_ITO[c] for c in ("blue", "vermillion", "green", "orange", "purple", "skyblue", "yellow", "black")]

#: Colour and marker of label smoothing (r >= 0) and negative label smoothing (r < 0), used
#: wherever a figure distinguishes the two (the paper's Fig. 1 uses red circles / green
#: diamonds; vermillion / bluish green are their colour-blind-safe equivalents).
LS_STYLE = {"color": OKABE_ITO["vermillion"], "marker": "o", "label": "LS / CE (r ≥ 0)"}
NLS_STYLE = {"color": OKABE_ITO["green"], "marker": "D", "label": "NLS (r < 0)"}
CORRECT_COLOR = OKABE_ITO["blue"]
WRONG_COLOR = OKABE_ITO["vermillion"]
SEQUENTIAL_CMAP = "viridis"   # perceptually uniform, colour-blind safe
DIVERGING_CMAP = "PuOr"       # colour-blind-safe diverging map (phase diagram)

#: The single place where the course's figure style is defined.
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.grid": False,
    "grid.alpha": 0.3,
    "lines.linewidth": 2.0,
    "lines.markersize": 7,
    "image.cmap": SEQUENTIAL_CMAP,
    "figure.constrained_layout.use": True,
}


def style():
    """Context manager applying :data:`STYLE` (``with plots.style(): fig = ...``)."""
    return matplotlib.rc_context(STYLE)


def _styled(func):
    """Run a plot function inside :func:`style`."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with style():
            return func(*args, **kwargs)
    return wrapper


def new_figure(nrows: int = 1, ncols: int = 1, figsize=(6.4, 4.4), **subplot_kw):
    """A styled ``(Figure, axes)`` pair not registered with pyplot (so never shown twice)."""
    with style():
        fig = Figure(figsize=figsize, layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


def _fig_ax(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    return new_figure(figsize=figsize)


def close(fig) -> None:
    """Release a figure (also removes it from pyplot if it was created there)."""
    if fig is None:
        return
    plt.close(fig)
    fig.clear()


def fmt_rate(x: float) -> str:
    """A smooth or noise rate for labels: ``-2``, ``0.4``, ``-0.25``."""
    x = float(x)
    text = f"{int(x)}" if x == int(x) else f"{x:.3g}"
    return text.replace("-", "−")


def _minus(text: str) -> str:
    """Typographic minus in front of numbers only ("-2" -> "−2"; "uniform-CE" stays)."""
    return re.sub(r"-(?=[\d.∞])", "−", text)


# --------------------------------------------------------------------------- lecture size
#: The width (px) a figure is shown at in a lecture: the JupyterLab notebook column or a RISE
#: slide at 1280 x 720. A wider figure is scaled down to it, so its text shrinks with it.
LECTURE_WIDTH_PX = 1000
#: The smallest text (px, at lecture size) a figure may contain where it matters: cell numbers.
MIN_TEXT_PX = 11.0


def display_px_per_point(fig: Figure) -> float:
    """Pixels per font point when ``fig`` is shown at lecture size (at most 72 dpi, and scaled
    down to :data:`LECTURE_WIDTH_PX` when wider)."""
    width_in = fig.get_size_inches()[0]
    return min(72.0, LECTURE_WIDTH_PX / width_in) / 72.0


def _annotate_cells(ax, values, *, formats=(".2f",), color=None, bold=None, min_px: float = MIN_TEXT_PX):
    """Write ``values`` (R, C) into the cells of an ``imshow`` at >= ``min_px`` at lecture size.

    Tries each format in ``formats`` (e.g. ``(".1f", ".0f")``) and uses the first whose text
    fits the cells; writes nothing when none fits (too many or too small cells). ``color(v)``
    gives a text colour, ``bold`` an (R, C) boolean mask. Returns the text artists.
    """
    fig = ax.figure
    px_per_pt = display_px_per_point(fig)
    fontsize = max(min_px / px_per_pt, STYLE["font.size"] - 2)
    rows, cols = values.shape
    pos = ax.get_position()               # before layout: the subplot's share of the figure
    w_in, h_in = fig.get_size_inches()
    cell_w = 0.8 * pos.width * w_in * 72 * px_per_pt / cols     # px, with room for labels
    cell_h = 0.8 * pos.height * h_in * 72 * px_per_pt / rows
    font_px = fontsize * px_per_pt
    finite = values[np.isfinite(values)]
    for fmt in formats:
        widest = max((len(format(v, fmt)) for v in finite), default=0)
        if 0.62 * font_px * widest + 4 <= cell_w and 1.25 * font_px <= cell_h:
            break
    else:
        return []
    texts = []
    for i in range(rows):
        for j in range(cols):
            v = values[i, j]
            if not np.isfinite(v):
                continue
            texts.append(ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=fontsize,
                                 color=color(v) if color else "black",
                                 fontweight="bold" if bold is not None and bold[i, j] else "normal"))
    return texts


def legend_outside(ax, **kwargs):
    """A legend to the right of the axes, where it can never cover the data."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)
