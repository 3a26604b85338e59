"""Lessons 02-04: what happens during training. Accuracy and both confidences per
epoch, training loss per epoch (lesson 03: divergence), decision regions of a 2-D toy, and the
live training explorer's figure (:func:`training_panel`, :class:`TrainingPanel`).
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib
import matplotlib.contour
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure

from .style import CORRECT_COLOR, OKABE_ITO, PALETTE, WRONG_COLOR, _fig_ax, _minus, _styled, fmt_rate, legend_outside
from .live import LivePanel, _by_gid
from .confidence_figures import _mc_axis


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


def _training_title(result) -> str:
    title = _minus(f"r = {fmt_rate(result['smooth_rate'])}, {result['noise_kind']} "
                   f"ε = {fmt_rate(result['noise_rate'])}: test acc {100 * result['test_acc']:.1f} %")
    if "test_acc_recent" in result:      # the stable summary beside the last epoch's jumpy value
        title += f" (last {result['recent_epochs']} epochs: {100 * result['test_acc_recent']:.1f} %)"
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
