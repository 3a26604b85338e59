"""Lesson 06 (your own data): choosing r when the noise is hidden. Noisy validation
against clean test accuracy per r, the recipe explorer's figure (:func:`recipe_panel`), and the
recipe against the oracle per noise kind.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .style import OKABE_ITO, PALETTE, _fig_ax, _minus, _styled, fmt_rate, new_figure
from .noise_figures import transition_heatmap
from .sweep_figures import _rate_axis


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
