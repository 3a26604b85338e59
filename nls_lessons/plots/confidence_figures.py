"""Lessons 02-03: how confident a trained model is. The reliability diagram (lesson 02:
LS lowers ECE on clean data) and histograms of model confidence MC, correct vs wrong (lesson 03,
the paper's Fig. 3).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from .style import CORRECT_COLOR, WRONG_COLOR, _fig_ax, _minus, _styled, fmt_rate


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
    if conf.size and not (np.isfinite(conf).all() and conf.min() >= 0 and conf.max() <= 1):
        raise ValueError("confidence must hold probabilities in [0, 1] (the max softmax probability), got "
                         f"values from {np.nanmin(conf):g} to {np.nanmax(conf):g}")
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
