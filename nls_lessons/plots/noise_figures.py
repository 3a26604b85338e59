"""Lesson 01 (label noise): transition matrices and digits captioned clean → noisy,
and the noise explorer's figure (:func:`noise_panel`, :class:`NoisePanel`).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from .style import SEQUENTIAL_CMAP, WRONG_COLOR, _annotate_cells, _fig_ax, _styled, fmt_rate
from .live import LivePanel


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
