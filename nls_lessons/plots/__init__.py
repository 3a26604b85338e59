"""Every figure a lesson, the book or the slides show, in one consistent style.

Lessons 01-05 and the explorers of :mod:`nls_lessons.widgets`.

Conventions (the same for every function here):

- The look lives in ONE place: :data:`STYLE` (matplotlib rcParams: lecture-size fonts, the
  colour-blind-safe Okabe-Ito palette, no top/right spines). Every plot function runs inside
  :func:`style`; use ``with plots.style(): ...`` for a figure of your own.
- A plot function takes data and returns the :class:`matplotlib.figure.Figure`. Pass ``ax=``
  to draw into an axes of your own figure instead (the function then returns ``ax.figure``).
- Figures are *not* registered with pyplot, so nothing is shown twice and nothing piles up in
  ``plt.get_fignums()``: in a notebook, leave the returned figure as the cell's last
  expression (or ``display(fig)``) and Jupyter shows it once, as a PNG. No ``Text(...)`` repr
  ever lands in the output because the functions return the Figure, not an artist.
- :func:`to_png` renders a figure to PNG bytes (the explorers and the book's static frames
  use it).
"""
from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.contour
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
from cycler import cycler
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

# --------------------------------------------------------------------------- style
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


def to_png(fig: Figure, dpi: float | None = None) -> bytes:
    """Render ``fig`` to PNG bytes (fast zlib level); the figure is left as it is."""
    buf = io.BytesIO()
    with style():
        fig.savefig(buf, format="png", dpi=dpi or STYLE["savefig.dpi"],
                    pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _register_notebook_display() -> None:
    """Show returned figures in Jupyter whatever the matplotlib backend.

    The course's figures are not registered with pyplot, so they are displayed through
    IPython's PNG formatter. The inline backend registers one only once it is activated
    (``%matplotlib inline``), and not at all under ``MPLBACKEND=Agg``; registering it here
    makes ``fig`` as a cell's last line work everywhere (JupyterLab, nbval, nbconvert).
    """
    try:
        from IPython import get_ipython
    except ImportError:   # plain Python: nothing to register
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    png = shell.display_formatter.formatters["image/png"]
    png.for_type(Figure, lambda fig: (to_png(fig), {"alt": describe(fig)}))


def describe(fig: Figure) -> str:
    """A text description of a figure from its own words (alt text for the book and slides):
    the suptitle, then each panel's title and axis labels.
    """
    parts = []
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        title = ax.get_title() or ax.get_title("left")
        if not title and not ax.get_xlabel():
            continue   # colour bars and decorations
        axes_words = ", ".join(f"{k}: {v}" for k, v in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())) if v)
        parts.append(f"{title} ({axes_words})" if axes_words else title)
    return "Figure: " + "; ".join(p for p in parts if p) if parts else "Figure"


_register_notebook_display()


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


# --------------------------------------------------------------------------- lesson 01: noise
@_styled
def transition_heatmap(T, *, ax=None, title: str = "Transition matrix T", class_names=None,
                       annotate: bool | None = None, colorbar: bool = True, vmax: float = 1.0) -> Figure:
    """Heatmap of a (K, K) transition matrix ``T[i, j] = P(noisy = j | clean = i)``.

    Lesson 01 (label noise): nominal vs realised T, CIFAR-10N "worst".
    ``annotate`` writes the values in the cells (default: when K <= 6), at least
    :data:`MIN_TEXT_PX` high at lecture size, and only where they fit.
    """
    T = np.asarray(T, dtype=float)
    if T.ndim != 2 or T.shape[0] != T.shape[1]:
        raise ValueError(f"T must be a square (K, K) matrix, got shape {T.shape}")
    k = T.shape[0]
    fig, ax = _fig_ax(ax, (5.2, 4.4))
    im = ax.imshow(T, cmap=SEQUENTIAL_CMAP, vmin=0.0, vmax=vmax, interpolation="nearest")
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=90 if max(map(len, names)) > 2 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("noisy label j")
    ax.set_ylabel("clean label i")
    ax.set_title(title)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    if annotate if annotate is not None else k <= 6:
        _annotate_cells(ax, T, formats=(".2f", ".1f"), color=lambda v: "white" if v < 0.6 * vmax else "black")
    if colorbar:
        fig.colorbar(im, ax=ax, shrink=0.85, label=T_LABEL)
    return fig


T_LABEL = "P(noisy = j | clean = i)"


@_styled
def transition_heatmaps(matrices: Mapping, *, vmax: float = 1.0, fig=None, figsize=None, class_names=None,
                        annotate: bool | None = None) -> Figure:
    """Transition matrices side by side with ONE shared colour bar (one colour scale for all).

    Lesson 01: the three noise kinds; nominal vs realised T. ``matrices`` maps a panel title
    to a (K, K) matrix. ``fig``: a figure or subfigure to draw into (default: a new one).
    """
    n = len(matrices)
    if n == 0:
        raise ValueError("matrices must map at least one title to a (K, K) matrix")
    if fig is None:
        fig = Figure(figsize=figsize or (4.2 * n + 1.0, 4.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, n))
    for ax, (title, T) in zip(axes, matrices.items()):
        transition_heatmap(T, ax=ax, title=title, colorbar=False, vmax=vmax, class_names=class_names,
                           annotate=annotate)
    fig.colorbar(axes[-1].images[0], ax=list(axes), shrink=0.85, label=T_LABEL)
    return fig


@_styled
def digit_grid(images, clean, noisy, *, fig=None, ncols: int = 6, title: str | None = None) -> Figure:
    """Grid of small images captioned ``clean → noisy``; flipped labels in vermillion, bold.

    Lesson 01 (label noise): which digits got a wrong label. ``images`` has shape (n, h, w).
    """
    images = np.asarray(images)
    clean, noisy = np.asarray(clean), np.asarray(noisy)
    n = len(images)
    nrows = max(1, math.ceil(n / ncols))
    if fig is None:
        fig = Figure(figsize=(1.2 * ncols, 1.45 * nrows + 0.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray_r", interpolation="nearest")
        _digit_title(ax, clean[i], noisy[i])
    if title:
        fig.suptitle(title, fontsize=13, fontweight="bold")
    return fig


def _digit_title(ax, clean, noisy) -> None:
    flipped = clean != noisy
    ax.set_title(f"{clean}→{noisy}", fontsize=12, pad=2, color=WRONG_COLOR if flipped else "black",
                 fontweight="bold" if flipped else "normal")


@_styled
def noise_panel(result) -> Figure:
    """The noise explorer's figure: nominal T, realised T and digits captioned clean → noisy.

    Lesson 01 (label noise). ``result`` is :func:`nls_lessons.widgets.noise_compute`'s dict.
    """
    return NoisePanel(result).fig


# --------------------------------------------------------------------------- lesson 02/03: smoothing
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
        ax.plot(p, gls_loss_vs_py(p, r, num_classes), color=color, linewidth=1.6,
                alpha=0.85, label=_minus(f"r = {fmt_rate(r)}"))
    if highlight is not None:
        ax.plot(p, gls_loss_vs_py(p, highlight, num_classes), color="black", linewidth=3.2,
                label=_minus(f"r = {fmt_rate(highlight)} (current)"), gid="highlight")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylim(*ylim)
    ax.set_xlim(0, 1)
    ax.set_xlabel("p_y: model probability of the label")
    ax.set_ylabel("GLS loss (nats)")
    ax.set_title(f"loss vs p_y (K = {num_classes})")
    legend_outside(ax)      # NLS curves dive at the lower right, LS curves climb at the upper right
    return fig


def legend_outside(ax, **kwargs):
    """A legend to the right of the axes, where it can never cover the data."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


@_styled
def loss_per_epoch(runs, *, ax=None, title: str = "training loss per epoch",
                   ylabel: str = "mean training loss (nats)") -> Figure:
    """Training loss per epoch of groups of runs, one line per seed. Lesson 03 (divergence).

    ``runs``: a sequence of ``(label, colour, frame)``; ``frame`` has columns ``epoch``,
    ``train_loss`` and optionally ``seed`` (one line per seed, one legend entry per group).
    The y axis is asinh (linear near 0, logarithmic far out), so CE near 1 nat and NLS runs
    diverging to −10⁶ share one readable axis; the legend sits outside the curves.
    """
    fig, ax = _fig_ax(ax, (7.6, 4.0))
    for label, color, frame in runs:
        groups = frame.groupby("seed") if "seed" in frame else [(0, frame)]
        for i, (_, run) in enumerate(groups):
            ax.plot(run["epoch"], run["train_loss"], color=color, alpha=0.75, label=label if i == 0 else None)
    ax.set_yscale("asinh", linear_width=1.0)
    _decade_ticks(ax)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    legend_outside(ax)
    return fig


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _decade_ticks(ax, max_ticks: int = 8) -> None:
    """y ticks 0, ±10, ±10², ... inside the range (every other decade when crowded)."""
    lo, hi = ax.get_ylim()
    top = max(abs(lo), abs(hi), 10.0)
    powers = list(range(1, int(np.ceil(np.log10(top))) + 1))
    ticks = [0.0]
    for k in powers:
        ticks += [v for v in (-(10.0 ** k), 10.0 ** k) if lo <= v <= hi]
    step = 1
    while len(ticks) > max_ticks:
        step += 1
        ticks = [0.0] + [v for v in ticks[1:] if round(np.log10(abs(v))) % step == 0]
    ticks = sorted(ticks)

    def label(v):
        if v == 0:
            return "0"
        k = int(round(np.log10(abs(v))))
        return ("−" if v < 0 else "") + ("10" if k == 1 else "10" + str(k).translate(_SUPERSCRIPT))

    ax.set_yticks(ticks, [label(v) for v in ticks])
    ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_ylim(lo, hi)


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


# --------------------------------------------------------------------------- lesson 03: confidence
def _mc_axis(ax) -> None:
    """x axis for MC in [−1, 1]: whole-number end labels ("−1", "1") and a small margin, so
    the labels of neighbouring panels never run into each other ("1.0−1.0")."""
    ax.set_xlim(-1.04, 1.04)
    ax.set_xticks([-1, -0.5, 0, 0.5, 1], ["−1", "−0.5", "0", "0.5", "1"])


@_styled
def confidence_histograms(panels: Mapping, *, bins: int = 30, title: str | None = None,
                          density: bool = False) -> Figure:
    """Histograms of model confidence MC = p_y − max_{k≠y} p_k, correct vs wrong, one panel per r.

    Lesson 03 (the paper's Fig. 3). ``panels`` maps a smooth rate r to ``(mc, correct)``
    arrays (MC in [−1, 1]; ``correct`` boolean). Panels are ordered from the most negative r.
    """
    rates = sorted(panels)
    fig = Figure(figsize=(3.6 * len(rates) + 0.4, 3.8), layout="constrained")
    fig.get_layout_engine().set(wspace=0.04)
    axes = np.atleast_1d(fig.subplots(1, len(rates), sharey=True))
    edges = np.linspace(-1, 1, bins + 1)
    for ax, r in zip(axes, rates):
        mc, correct = (np.asarray(a) for a in panels[r])
        correct = correct.astype(bool)
        ax.hist(mc[correct], bins=edges, color=CORRECT_COLOR, alpha=0.75, density=density,
                label=f"correct ({correct.sum()})")
        ax.hist(mc[~correct], bins=edges, color=WRONG_COLOR, alpha=0.75, density=density,
                label=f"wrong ({(~correct).sum()})")
        kind = "CE" if r == 0 else ("NLS" if r < 0 else "LS")
        ax.set_title(_minus(f"{kind}, r = {fmt_rate(r)}"))
        ax.set_xlabel("MC = p_y − max other p (unitless)")
        _mc_axis(ax)
        ax.legend(loc="upper center")
    axes[0].set_ylabel("density" if density else "test examples (count)")
    if title:
        fig.suptitle(title, fontweight="bold")
    return fig


@_styled
def reliability_diagram(confidence, correct, *, n_bins: int = 10, ax=None, label: str | None = None,
                        color=None) -> Figure:
    """Reliability diagram: accuracy per confidence bin against the diagonal; ECE in the legend.

    Lesson 02 (LS lowers ECE on clean data). ``confidence`` is the max softmax probability,
    ``correct`` booleans; call twice with the same ``ax`` to compare models.
    """
    conf = np.asarray(confidence, dtype=float).ravel()
    corr = np.asarray(correct, dtype=float).ravel()
    if conf.shape != corr.shape:
        raise ValueError(f"confidence and correct must have the same length, got {conf.shape} and {corr.shape}")
    fig, ax = _fig_ax(ax, (4.8, 4.6))
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, n_bins - 1)
    centers, accs, ece = [], [], 0.0
    for b in range(n_bins):
        m = idx == b
        if m.any():
            centers.append(conf[m].mean())
            accs.append(corr[m].mean())
            ece += m.mean() * abs(corr[m].mean() - conf[m].mean())
    if not ax.lines:
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    ax.plot(centers, accs, marker="o", color=color, label=f"{label or 'model'} (ECE = {100 * ece:.1f} %)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence: max softmax probability")
    ax.set_ylabel("accuracy in bin (fraction)")
    ax.set_title("reliability diagram")
    ax.legend(loc="upper left")
    return fig


# --------------------------------------------------------------------------- lessons 02-04: training
def _history_columns(history) -> dict:
    if hasattr(history, "to_dict") and hasattr(history, "columns"):
        return {c: np.asarray(history[c]) for c in history.columns}
    if isinstance(history, Mapping):
        return {k: np.asarray(v) for k, v in history.items()}
    # a list of per-epoch dicts
    keys = history[0].keys()
    return {k: np.asarray([row[k] for row in history]) for k in keys}


_ACC_LABELS = {
    "test_acc": "test (clean labels)",
    "train_acc": "train (noisy labels)",
    "train_acc_noisy": "train (noisy labels)",
    "train_acc_clean": "train (clean labels)",
    "clean_train_acc": "train (clean labels)",
    "noisy_train_acc": "train (noisy labels)",
}


#: One name per quantity, everywhere (columns -> labels): max-softmax vs MC.
CONFIDENCE_LABELS = {"confidence": "max-softmax confidence", "model_confidence": "model confidence MC"}
CONFIDENCE_COLORS = {"confidence": OKABE_ITO["purple"], "model_confidence": OKABE_ITO["orange"]}


@_styled
def training_curves(history, *, axes=None, title: str | None = None) -> Figure:
    """Accuracy (%) and confidence per epoch. Lessons 02-04, the live training explorer.

    ``history``: a DataFrame, a dict of per-epoch lists or a list of per-epoch dicts with an
    ``epoch`` column and any of ``test_acc``, ``train_acc`` (fractions in [0, 1]),
    ``confidence`` (mean max-softmax confidence) and ``model_confidence`` (mean model
    confidence MC = p_y − max_{k≠y} p_k), labelled by :data:`CONFIDENCE_LABELS`.
    ``axes``: two axes to draw into. Lines carry the column name as ``gid``.
    """
    cols = _history_columns(history)
    n = len(next(iter(cols.values())))
    epochs = cols.get("epoch", np.arange(1, n + 1))
    if axes is None:
        fig = Figure(figsize=(9.0, 3.8), layout="constrained")
        ax_acc, ax_conf = fig.subplots(1, 2)
    else:
        ax_acc, ax_conf = axes
        fig = ax_acc.figure
    colors = iter(PALETTE)
    for key, label in _ACC_LABELS.items():
        if key in cols:
            ax_acc.plot(epochs, 100 * cols[key], label=label, color=next(colors), gid=key)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_title(title or "accuracy during training")
    if ax_acc.lines:
        ax_acc.legend(loc="lower right")
    conf_keys = [k for k in CONFIDENCE_LABELS if k in cols]
    for key in conf_keys:
        ax_conf.plot(epochs, cols[key], color=CONFIDENCE_COLORS[key], label=CONFIDENCE_LABELS[key], gid=key)
    ax_conf.set_xlabel("epoch")
    ax_conf.set_ylabel("mean on the test set (unitless)" if len(conf_keys) > 1 else
                       f"mean {CONFIDENCE_LABELS[conf_keys[0]]} (unitless)" if conf_keys else "mean confidence")
    ax_conf.set_title("confidence on the test set")
    if ax_conf.lines:
        ax_conf.legend(loc="lower left")
    return fig


@_styled
def decision_regions(xx, yy, probs, x, y, *, ax=None, title: str = "decision regions",
                     x_label: str = "feature 1 (standardised)", y_label: str = "feature 2 (standardised)",
                     noisy=None) -> Figure:
    """Predicted class over a 2-D grid, with the points on top. Lesson 03 (NLS on a 2-D toy).

    ``xx, yy``: meshgrid arrays (G, G); ``probs``: (G, G, K) class probabilities (shading
    shows the winning probability); ``x``: (N, 2) points; ``y``: their labels. ``noisy``:
    optional noisy labels, points whose label was flipped get an x marker.
    """
    from matplotlib.colors import ListedColormap

    xx, yy, probs = np.asarray(xx), np.asarray(yy), np.asarray(probs)
    x, y = np.asarray(x), np.asarray(y)
    k = probs.shape[-1]
    fig, ax = _fig_ax(ax, (5.0, 4.6))
    cmap = ListedColormap(PALETTE[:k])
    ax.imshow(region_rgb(probs), extent=(xx.min(), xx.max(), yy.min(), yy.max()), origin="lower",
              aspect="auto", interpolation="bilinear", gid="regions")
    confidence_contours(ax, xx, yy, probs)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=14,
               edgecolors="white", linewidths=0.4)
    if noisy is not None:
        flip = np.asarray(noisy) != y
        ax.scatter(x[flip, 0], x[flip, 1], marker="x", color="black", s=16, linewidths=0.9,
                   label="label flipped in training", gid="flipped")
        ax.legend(loc="lower right")
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    return fig


def region_rgb(probs) -> np.ndarray:
    """(G, G, K) probabilities -> (G, G, 3) RGB: the predicted class's palette colour at 25 %
    over white (the shading of :func:`decision_regions`)."""
    from matplotlib.colors import to_rgb

    probs = np.asarray(probs)
    colors = np.array([to_rgb(c) for c in PALETTE[:probs.shape[-1]]])
    return 1.0 - 0.25 * (1.0 - colors[probs.argmax(-1)])


def confidence_contours(ax, xx, yy, probs):
    """Max-softmax confidence 0.6 (dotted) and 0.9 (dashed) contours; returns the ContourSet."""
    return ax.contour(xx, yy, np.asarray(probs).max(-1), levels=[0.6, 0.9], colors="0.35", linewidths=0.9,
                      linestyles=[":", "--"])


# --------------------------------------------------------------------------- lesson 04: sweeps
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
    lo = min(-1.0, np.nanmin(r) if len(r) else -1.0)
    # a vertical axis has room for the half steps too
    _rate_axis(ax, "y", max(lo, -20.0), 1.0, pad=0.05, ladder=sorted({*_RATE_TICKS, -0.5, 0.5}))
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


# --------------------------------------------------------------------------- lesson 04: theory
@_styled
def phase_diagram(num_classes: int = 2, *, ax=None, r_min: float = -4.0, n: int = 201) -> Figure:
    """The paper's Fig. 2: r_opt(ε, r*) = (r* − κ)/(1 − κ), κ = Kε/(K − 1), with its zero contour.

    Lesson 04. Above the contour (ε < (K − 1)r*/K) the optimal rate is positive: use LS;
    below it, negative: use NLS. Colours are clipped at ``r_min``.
    """
    from nls_lessons import theory

    k = int(num_classes)
    eps = np.linspace(0.0, (k - 1) / k * 0.98, n)      # kappa < 1
    r_star = np.linspace(0.0, 1.0, n)
    Z = theory.phase_diagram(eps, r_star, k)            # (R, E)
    E, R = np.meshgrid(eps, r_star)
    fig, ax = _fig_ax(ax, (6.0, 4.6))
    norm = TwoSlopeNorm(vmin=r_min, vcenter=0.0, vmax=1.0)
    im = ax.pcolormesh(E, R, np.clip(Z, r_min, 1.0), cmap=DIVERGING_CMAP, norm=norm, shading="auto")
    cs = ax.contour(E, R, Z, levels=[0.0], colors="black", linewidths=2.0)
    ax.clabel(cs, fmt={0.0: "r_opt = 0 (CE)"}, fontsize=10)
    ax.text(0.05, 0.85, "use LS (r_opt > 0)", transform=ax.transAxes, fontsize=12, fontweight="bold")
    ax.text(0.95, 0.1, "use NLS (r_opt < 0)", transform=ax.transAxes, ha="right", fontsize=12,
            fontweight="bold", color="white")
    ax.set_xlabel("noise rate " + ("e" if k == 2 else "ε"))
    ax.set_ylabel("clean optimal smooth rate r*")
    ax.set_title(f"optimal smooth rate r_opt (K = {k})")
    fig.colorbar(im, ax=ax, label=_minus(f"r_opt (clipped at {fmt_rate(r_min)})"))
    return fig


# --------------------------------------------------------------------------- fast redraws (explorers)
def _by_gid(artists, gid):
    return next(a for a in artists if a.get_gid() == gid)


class LivePanel:
    """An explorer's figure, built once and then updated in place for every new result.

    Subclasses define ``build(result)`` (make the axes and artists, once) and
    ``update(result)`` (set the artists' data, text and limits: ``set_data`` /
    ``set_array`` / ``set_text``, never new axes), and ``dynamic_artists()``: the artists
    ``update`` changes. ``Panel(result).fig`` is an ordinary figure (the ``*_panel(result)``
    functions return it: the fresh-figure path); ``render(result)`` updates the same figure
    and returns PNG bytes.

    Rendering: the first render lays the figure out (constrained layout) and then keeps that
    layout. The static part (axes, ticks, labels, colour bars: most of the drawing time is
    text) is drawn once into a background; a frame restores it and draws only the dynamic
    artists and the legends on top, in z-order (blitting). Axes whose range follows the data
    (``dynamic_axes()``) are redrawn whole every frame; the background is redrawn when the
    range of another axes changes. ``fits(result)`` is False when a result needs another figure (e.g.
    another dataset): the explorer then builds a new panel.
    """

    figsize = (15.0, 4.4)

    def __init__(self, result, *, dpi: float = 72):
        with style():
            self.fig = Figure(figsize=self.figsize, dpi=dpi, layout="constrained")
            self.build(result)
            self.update(result)
        self.key = self.layout_key(result)
        self._canvas = None
        self._shown = result

    def build(self, result) -> None:
        raise NotImplementedError

    def update(self, result) -> None:
        raise NotImplementedError

    def dynamic_artists(self) -> list:
        """The artists ``update`` changes (drawn every frame over the static background)."""
        raise NotImplementedError

    def dynamic_axes(self) -> list:
        """Axes redrawn whole every frame (their range changes with the result)."""
        return []

    def layout_key(self, result):
        """What fixes the figure's structure; results with another key need a new panel."""
        return None

    def fits(self, result) -> bool:
        return self.layout_key(result) == self.key

    def _background_key(self):
        moving = self.dynamic_axes()
        return tuple(ax.get_xlim() + ax.get_ylim() for ax in self.fig.axes if ax not in moving)

    def render(self, result) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        with style():
            if result is not self._shown:
                self.update(result)
                self._shown = result
            legends = [ax.get_legend() for ax in self.fig.axes if ax.get_legend() is not None]
            dynamic = [*self.dynamic_axes(),
                       *sorted([*self.dynamic_artists(), *legends], key=lambda a: a.get_zorder())]
            for a in dynamic:
                a.set_animated(True)
            if self._canvas is None:
                self._canvas = FigureCanvasAgg(self.fig)
                self._canvas.draw()                      # the one layout pass
                self.fig.set_layout_engine("none")
                self._background = None
            key = self._background_key()
            if self._background is None or key != self._bg_key:
                self._canvas.draw()                      # the static part only (dynamic ones are animated)
                self._background = self._canvas.copy_from_bbox(self.fig.bbox)
                self._bg_key = key
            else:
                self._canvas.restore_region(self._background)
            for a in dynamic:
                (a.axes or self.fig).draw_artist(a)
        return _rgba_to_png(self._canvas)

    def close(self) -> None:
        close(self.fig)


class NoisePanel(LivePanel):
    """:func:`noise_panel`: nominal and realised T (one colour bar) and digits clean → noisy."""

    figsize = (13.5, 4.6)

    def layout_key(self, result):
        return (len(result["images"]), result.get("ncols", 4), np.shape(result["T_nominal"]))

    def build(self, result):
        left, right = self.fig.subfigures(1, 2, width_ratios=[2.0, 1.25])
        transition_heatmaps({"nominal T": result["T_nominal"], "realised T": result["T_realised"]}, fig=left)
        self.t_axes = [ax for ax in left.axes if ax.get_label() != "<colorbar>"]
        digit_grid(result["images"], result["clean"], result["noisy"], fig=right, ncols=result.get("ncols", 4),
                   title="clean → noisy label")
        self.digits = right
        self.digit_axes = right.axes[:len(result["images"])]

    def update(self, result):
        eps, kind = result["noise_rate"], result["kind"]
        titles = (f"nominal T ({kind}, ε = {fmt_rate(eps)})",
                  f"realised T (measured ε = {result['realised_rate']:.3f})")
        for ax, T, title in zip(self.t_axes, (result["T_nominal"], result["T_realised"]), titles):
            ax.images[0].set_data(T)
            ax.set_title(title)
        for ax, img, c, n in zip(self.digit_axes, result["images"], result["clean"], result["noisy"]):
            ax.images[0].set_data(img)
            ax.images[0].set_clim(img.min(), img.max())
            _digit_title(ax, c, n)
        n_flip = int(np.sum(result["clean"] != result["noisy"]))
        self.digits.suptitle(f"clean → noisy label ({n_flip} of {len(result['clean'])} flipped)",
                             fontsize=13, fontweight="bold")

    def dynamic_artists(self):
        axes = [*self.t_axes, *self.digit_axes]
        return [a for ax in axes for a in (ax.images[0], ax.title)] + [self.digits._suptitle]


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
        self.highlight.set_ydata(gls_loss_vs_py(self.highlight.get_xdata(), r, result["num_classes"]))
        ax2.get_legend().texts[-1].set_text(_minus(f"r = {fmt_rate(r)} (current)"))
        lam = uniform_weight(r)
        self.current.set_data([min(r, 0.95)], [min(lam, 0.95 / 0.05)])
        ax3.set_title(_minus(f"uniform-CE weight λ = {_weight_text(lam)}"))

    def dynamic_axes(self):
        return [self.axes[0]]        # the target bars' range follows the targets

    def dynamic_artists(self):
        ax1, ax2, ax3 = self.axes
        return [self.highlight, self.current, ax3.title]


def _training_title(result) -> str:
    title = _minus(f"r = {fmt_rate(result['smooth_rate'])}, {result['noise_kind']} "
                   f"ε = {fmt_rate(result['noise_rate'])}: test acc {100 * result['test_acc']:.1f} %")
    return title + (" (diverged: stopped)" if result.get("diverged") else "")


_MC_EDGES = np.linspace(-1, 1, 31)


class TrainingPanel(LivePanel):
    """:func:`training_panel`: decision regions (2-D data) or the test set's MC histogram
    (digits), test accuracy per epoch, and both confidences per epoch."""

    def layout_key(self, result):
        h = result["history"]
        return ("probs" in result, result["dataset"], result["num_classes"], len(h), tuple(h.columns))

    def build(self, result):
        ax0, ax1, ax2 = self.fig.subplots(1, 3, width_ratios=[1.1, 1.0, 1.0])
        self.axes = (ax0, ax1, ax2)
        if "probs" in result:
            decision_regions(result["xx"], result["yy"], result["probs"], result["x_train"], result["y_train"],
                             noisy=result["noisy"], ax=ax0, title=_training_title(result))
            self.regions = _by_gid(ax0.images, "regions")
            self.flipped = _by_gid(ax0.collections, "flipped")
            self.contours = next(c for c in ax0.collections if isinstance(c, matplotlib.contour.ContourSet))
        else:
            zeros = np.zeros(len(_MC_EDGES) - 1)
            self.hists = [ax0.stairs(zeros, _MC_EDGES, fill=True, color=color, alpha=0.75, label=label)
                          for color, label in ((CORRECT_COLOR, "correct"), (WRONG_COLOR, "wrong"))]
            ax0.set_xlabel("MC = p_y − max other p (unitless)")
            ax0.set_ylabel("test examples (count)")
            _mc_axis(ax0)
            ax0.legend(loc="upper left")
        training_curves(result["history"], axes=(ax1, ax2), title="test accuracy during training")
        ax1.set_ylim(0, 100)
        ax2.set_ylim(-1, 1)
        self.lines = {line.get_gid(): line for line in ax1.lines + ax2.lines if line.get_gid()}

    def update(self, result):
        ax0, ax1, ax2 = self.axes
        ax0.set_title(_training_title(result))
        if "probs" in result:
            self.regions.set_data(region_rgb(result["probs"]))
            self.contours.remove()
            self.contours = confidence_contours(ax0, result["xx"], result["yy"], result["probs"])
            flip = np.asarray(result["noisy"]) != np.asarray(result["y_train"])
            self.flipped.set_offsets(np.asarray(result["x_train"])[flip].reshape(-1, 2))
        else:
            mc, correct = np.asarray(result["mc"]), np.asarray(result["correct"], bool)
            counts = [np.histogram(mc[sel], _MC_EDGES)[0] for sel in (correct, ~correct)]
            for stairs, c in zip(self.hists, counts):
                stairs.set_data(c)
            top = max(int(max(c.max() for c in counts)), 1)
            ax0.set_ylim(0, 50 * math.ceil(1.15 * top / 50))     # steps of 50: steady tick labels
        h = result["history"]
        epochs = np.asarray(h["epoch"])
        for gid, line in self.lines.items():
            values = np.asarray(h[gid], dtype=float)
            line.set_data(epochs, 100 * values if line.axes is ax1 else values)
        for ax in (ax1, ax2):
            ax.set_xlim(epochs.min() - 0.5, epochs.max() + 0.5)

    def dynamic_artists(self):
        ax0 = self.axes[0]
        if not hasattr(self, "regions"):
            return list(self.lines.values())           # the histogram's axes is redrawn whole
        # the points lie on the regions: redraw them on top
        shown = [self.regions, self.contours, *ax0.collections]
        return [ax0.title, *dict.fromkeys(shown), *self.lines.values()]

    def dynamic_axes(self):
        return [] if hasattr(self, "regions") else [self.axes[0]]   # counts set the histogram's range


@_styled
def training_panel(result) -> Figure:
    """The live training explorer's figure (lessons 02-03): decision regions (2-D) or the MC
    histogram (digits), test accuracy and both confidences per epoch.

    ``result`` is :func:`nls_lessons.widgets.training_compute`'s dict.
    """
    return TrainingPanel(result).fig


def _rgba_to_png(canvas) -> bytes:
    from PIL import Image

    w, h = canvas.get_width_height(physical=True)
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


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


# --------------------------------------------------------------------------- lesson 06
@_styled
def validation_vs_test(by_rate, *, ax=None, chosen=None, oracle=None, theory=None,
                       title: str = "noisy validation vs clean test accuracy") -> Figure:
    """Lesson 06: accuracy against smooth rate on the clean test set (left axis) and on the noisy
    validation split (right axis: noisy labels cap it far lower, but its *ranking* is what counts).

    ``by_rate``: DataFrame indexed by smooth_rate with columns val_acc and test_acc (fractions).
    ``chosen`` / ``oracle`` / ``theory``: rates to mark (star, ring, dashed line)."""
    fig, ax = _fig_ax(ax, (6.0, 4.2))
    rates = np.asarray(by_rate.index, dtype=float)
    order = np.argsort(rates)
    test = 100 * np.asarray(by_rate["test_acc"], dtype=float)
    val = 100 * np.asarray(by_rate["val_acc"], dtype=float)
    twin = ax.twinx()
    twin.spines["right"].set_visible(True)
    lines = ax.plot(rates[order], test[order], marker="o", color=OKABE_ITO["blue"], label="clean test (judging only)")
    lines += twin.plot(rates[order], val[order], marker="s", color=OKABE_ITO["orange"],
                       label="noisy validation (choosing)")
    if theory is not None:
        lines.append(ax.axvline(theory, color="black", linestyle="--", linewidth=1.4,
                                label=_minus(f"theory r = {fmt_rate(theory)}")))
    if chosen is not None:
        i = int(np.argmin(np.abs(rates - chosen)))
        lines += twin.plot([rates[i]], [val[i]], linestyle="none", marker="*", markersize=20,
                           color=OKABE_ITO["vermillion"], zorder=5, label="chosen: best noisy validation")
    if oracle is not None:
        i = int(np.argmin(np.abs(rates - oracle)))
        lines += ax.plot([rates[i]], [test[i]], linestyle="none", marker="o", markersize=16, markerfacecolor="none",
                         markeredgecolor="black", markeredgewidth=2, zorder=5, label="oracle: best clean test")
    _rate_axis(ax, "x", min(rates.min(), -1.0), max(rates.max(), 0.6))
    ax.set_xlabel("smooth rate r")
    ax.set_ylabel("clean test accuracy (%)", color=OKABE_ITO["blue"])
    twin.set_ylabel("noisy validation accuracy (%)", color=OKABE_ITO["orange"])
    for a, v in ((ax, test), (twin, val)):
        span = max(np.ptp(v), 2.0)
        a.set_ylim(v.min() - 0.6 * span, v.max() + 0.4 * span)
    ax.set_title(title)
    ax.legend(handles=lines, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncols=2, fontsize=9)
    return fig


@_styled
def recipe_panel(result) -> Figure:
    """Lesson 06's explorer figure: the hidden T, the T estimated from the noisy labels alone,
    and noisy-validation vs clean-test accuracy per smooth rate (``widgets.recipe_compute``)."""
    fig, axes = new_figure(1, 3, figsize=(15.5, 4.6), gridspec_kw={"width_ratios": [1, 1, 1.35]})
    transition_heatmap(result["T_true"], ax=axes[0], colorbar=False, vmax=0.8,
                       title=f"hidden T ({100 * result['realised_rate']:.0f} % flipped)")
    transition_heatmap(result["T_estimated"], ax=axes[1], colorbar=True, vmax=0.8,
                       title=f"estimated T̂ (ε̂ = {100 * result['estimated_rate']:.0f} %)")
    validation_vs_test(result["by_rate"], ax=axes[2], chosen=result["chosen_rate"], oracle=result["oracle_rate"],
                       theory=result["r_theory"], title="choose r on noisy validation")
    return fig


@_styled
def recipe_comparison(summary, *, ax=None, title: str = "the recipe against the oracle") -> Figure:
    """Lesson 06: clean test accuracy (%) of each way of picking r, per noise kind.

    ``summary``: DataFrame, one row per (kind, seed), columns ``kind`` and one column per method
    (accuracies as fractions); bars are means over seeds, dots the seeds."""
    methods = [c for c in summary.columns if c not in ("kind", "seed")]
    kinds = list(dict.fromkeys(summary["kind"]))
    fig, ax = _fig_ax(ax, (9.5, 4.6))
    width = 0.8 / len(methods)
    for m, method in enumerate(methods):
        for k, kind in enumerate(kinds):
            vals = 100 * summary.loc[summary["kind"] == kind, method].to_numpy(dtype=float)
            x = k + (m - (len(methods) - 1) / 2) * width
            ax.bar(x, vals.mean(), width * 0.92, color=PALETTE[m % len(PALETTE)], label=method if k == 0 else None)
            ax.plot(np.full(len(vals), x), vals, "o", color="black", markersize=3.5, zorder=3)
    ax.set_xticks(range(len(kinds)), kinds)
    lo = 100 * float(summary[methods].to_numpy(dtype=float).min())
    ax.set_ylim(max(0.0, lo - 5), 100)
    ax.set_ylabel("clean test accuracy (%)")
    ax.set_xlabel("hidden noise kind")
    ax.set_title(title)
    ax.legend(ncols=len(methods), loc="upper center", fontsize=9, bbox_to_anchor=(0.5, -0.16))
    return fig
