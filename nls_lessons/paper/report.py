"""Lesson 05's report: the paper's numbers (Table 2, CIFAR-N), the summary table, the figures.

Lesson 05 (paper scale); lessons 01 and 04 and the 50-minute lecture read Table 2 through
:func:`paper_table2`. :func:`summarize` puts a run's rows next to Table 2 (the better route
per setting, as Table 2 reports with noisy labels; at noise rate 0 the course's own choice),
:func:`format_table` prints it, :func:`plot_results` and
:func:`plot_table2` draw it.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import noise as noise_module
from ..plots import PALETTE as OKABE_ITO  # the course palette, defined once in plots
from . import cifar as cifar_module
from .store import rate_key


PAPER_DIR = Path(__file__).resolve().parents[2] / "data" / "paper"


TABLE2_NOISE_RATES = (0.0, 0.2, 0.4, 0.6)                                 # C10 symmetric columns


def paper_table2():
    """Table 2 of the ICLR 2022 submission ("Understanding Generalized Label Smoothing when
    Learning with Noisy Labels", OpenReview UQQgMRq58O; PAPER_NOTES §4.2) as a DataFrame with a
    source column. The ICML 2022 paper's (arXiv 2106.04149) tables could not be read, so no
    claim is made about how they differ. With noisy labels each value is the better of the
    direct and the warm-up route ("when learning with noisy labels, we report the better
    performance of GLS between direct training and loading the same warm-up model", ICLR
    §6.1); the text states no route for the clean column (noise rate 0)."""
    import pandas as pd

    return pd.read_csv(PAPER_DIR / "table2.csv")


def paper_cifar_n():
    """CIFAR-N accuracies of the paper that a primary source confirms (PAPER_NOTES §4.3), one
    row each with its source. Today none is confirmed (secondary sources place the paper's
    CIFAR-N table in the ICML version, which the course could not read), so the frame is empty; values from
    secondary sources are not shipped."""
    import pandas as pd

    return pd.read_csv(PAPER_DIR / "cifar_n.csv")


_SUMMARY_NEEDS = ("dataset", "noise", "noise_rate", "smooth_rate", "seed", "best_acc", "final_acc", "diverged",
                  "protocol")


def summarize(results, paper=None):
    """One row per (dataset, noise, noise_rate, smooth_rate): mean ± std over seeds of the
    best-epoch and final accuracy, divergences, and Table 2's value where it exists.

    ``results`` holds the rows of one or more routes (column ``protocol``). When a setting has
    rows of several routes (the ``paper`` protocol: official and direct), the row reports the
    route with the higher mean best-epoch accuracy, as Table 2 reports the better of its two
    routes with noisy labels; at noise rate 0, where the paper's text states no rule, doing the
    same is the course's own choice (:func:`format_table` says so). ``route`` names it and
    ``routes`` lists each route's mean.
    """
    import pandas as pd

    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame of result rows (from run_grid or load_results), "
                        f"got {type(results).__name__}")
    missing = [c for c in _SUMMARY_NEEDS if c not in results]
    if missing:
        raise ValueError(f"results lacks the columns {missing}; it needs {list(_SUMMARY_NEEDS)} "
                         f"(rows from run_grid or load_results)")
    paper = paper_table2() if paper is None else paper
    keys = ["dataset", "noise", "noise_rate", "smooth_rate"]
    res = results.assign(noise_rate=results["noise_rate"].map(rate_key),
                         smooth_rate=results["smooth_rate"].map(rate_key),
                         diverged=results["diverged"].astype(str).str.lower().eq("true"))
    g = res.groupby(keys + ["protocol"], sort=False)
    per_route = pd.DataFrame({
        "seeds": g["seed"].nunique(),
        "best_mean": g["best_acc"].mean(), "best_std": g["best_acc"].std(ddof=0),
        "final_mean": g["final_acc"].mean(), "final_std": g["final_acc"].std(ddof=0),
        "diverged": g["diverged"].sum().astype(int),
    }).reset_index()
    rank = per_route["best_mean"].fillna(-np.inf)
    order = per_route.assign(_rank=rank).sort_values("_rank", ascending=False, kind="stable")
    listing = order.groupby(keys, sort=False).apply(
        lambda d: " / ".join(f"{p} {m:.2f}" for p, m in zip(d["protocol"], d["best_mean"])), include_groups=False)
    table = order.drop_duplicates(keys, keep="first").drop(columns="_rank").rename(columns={"protocol": "route"})
    table = table.merge(listing.rename("routes").reset_index(), on=keys, how="left")
    p = paper.rename(columns={"mean": "paper_mean", "std": "paper_std"})[keys + ["paper_mean", "paper_std"]]
    p = p.assign(noise_rate=p["noise_rate"].map(rate_key), smooth_rate=p["smooth_rate"].map(rate_key))
    table = table.merge(p, on=keys, how="left")
    table["best_minus_paper"] = table["best_mean"] - table["paper_mean"]
    return table.sort_values(["dataset", "noise", "noise_rate", "smooth_rate"],
                             ascending=[True, True, True, False]).reset_index(drop=True)


def format_table(table) -> str:
    """The summary as printable text (accuracy in %, mean ± std)."""
    lines = []
    for (dataset, noise, rate), sub in table.groupby(["dataset", "noise", "noise_rate"], sort=False):
        head = f"{dataset}  {noise}" + (f" {rate:g}" if noise in noise_module.KINDS else "")
        lines.append(f"\n{head}  (test accuracy %, best epoch / final epoch; paper = ICLR 2022 submission's "
                     f"Table 2, the better of its direct and warm-up routes)")
        lines.append(f"{'r':>6} {'route':>8} {'seeds':>5} {'best':>15} {'final':>15} {'div':>4} {'paper':>15} "
                     f"{'best-paper':>10}")
        for row in sub.itertuples(index=False):
            paper = "—" if math.isnan(row.paper_mean) else f"{row.paper_mean:.2f} ± {row.paper_std:.2f}"
            delta = "—" if math.isnan(row.best_minus_paper) else f"{row.best_minus_paper:+.2f}"
            lines.append(f"{row.smooth_rate:>6g} {row.route:>8} {row.seeds:>5d} {row.best_mean:>7.2f} ± "
                         f"{row.best_std:<5.2f} {row.final_mean:>7.2f} ± {row.final_std:<5.2f} {row.diverged:>4d} "
                         f"{paper:>15} {delta:>10}")
        if set(sub["route"]) == {"official"}:
            lines.append("  note: warm-up route only; Table 2 is the better of direct and warm-up "
                         "(--protocol paper runs both)")
        synthetic = noise in noise_module.KINDS or noise == "clean"
        if synthetic and rate == 0 and sub["routes"].str.contains(" / ").any():
            lines.append("  note: clean labels; the paper takes the better route only when learning with "
                         "noisy labels, so the better route here is the course's own choice")
        if synthetic and dataset == "cifar100":
            lines.append("  note: the course's own CIFAR-100 noise draw; the official code loads noisy-label "
                         "files its repository does not ship, so these are not Table 2's labels")
        if noise in cifar_module.CIFAR_N_LABEL_SETS.get(dataset, ()):
            ref = paper_cifar_n()
            ref = ref[(ref["dataset"] == dataset) & (ref["label_set"] == noise)]
            if len(ref):
                vals = ", ".join(f"{m.method} {m.accuracy:.2f} ({m.source})" for m in ref.itertuples())
                lines.append(f"  paper (CIFAR-N): {vals}")
            else:
                lines.append("  paper (CIFAR-N): no value confirmed by a primary source; none shown")
    return "\n".join(lines)


def plot_results(table, title: str | None = None):
    """Accuracy against smooth rate, ours (best and final epoch, mean ± std) next to Table 2.

    One panel per noise setting; x positions are the rates in the paper's order (0.8 ... -6).
    The y-axis spans at least 10 points, so that differences of a tenth of a point are not
    blown up to fill the panel. Returns the matplotlib Figure.
    """
    from ..plots import new_figure

    groups = list(table.groupby(["dataset", "noise", "noise_rate"], sort=False))
    ncol = min(4, len(groups))
    nrow = math.ceil(len(groups) / ncol)
    fig, axes = new_figure(nrow, ncol, figsize=(4.6 * ncol, 3.8 * nrow))
    axes = np.asarray(axes, dtype=object).reshape(nrow, ncol)
    for ax, ((dataset, noise, rate), sub) in zip(axes.flat, groups):
        sub = sub.sort_values("smooth_rate", ascending=False)
        x = np.arange(len(sub))
        routes = "/".join(sorted(set(sub["route"])))
        ax.errorbar(x, sub["best_mean"], yerr=sub["best_std"], color=OKABE_ITO[0], marker="o", capsize=3,
                    label=f"this run ({routes}), best epoch")
        ax.errorbar(x, sub["final_mean"], yerr=sub["final_std"], color=OKABE_ITO[1], marker="^", ls="--",
                    capsize=3, label="this run, final epoch")
        if sub["paper_mean"].notna().any():
            ax.errorbar(x, sub["paper_mean"], yerr=sub["paper_std"], color=OKABE_ITO[3], marker="s", ls=":",
                        capsize=3, label="ICLR Table 2 (best of direct, warm-up)")
        ax.axvline(int(np.argmin(np.abs(sub["smooth_rate"].to_numpy()))), color="0.6", lw=0.8)
        ax.set_xticks(x, [f"{r:g}" for r in sub["smooth_rate"]])
        ax.set_xlabel("smooth rate r  (left: LS, right: NLS)")
        ax.set_ylabel("clean test accuracy (%)")
        means = sub[["best_mean", "final_mean", "paper_mean"]].to_numpy(dtype=float)
        stds = np.nan_to_num(sub[["best_std", "final_std", "paper_std"]].to_numpy(dtype=float))
        values = np.concatenate([means - stds, means + stds]).ravel()     # the error bars' ends
        values = values[np.isfinite(values)]
        if values.size:
            lo, hi = float(values.min()), float(values.max())
            pad = max(0.0, 10.0 - (hi - lo)) / 2 + 1.0
            ax.set_ylim(max(0.0, lo - pad), min(100.0, hi + pad))
        label = f"{noise} {rate:g}" if noise in noise_module.KINDS else noise
        ax.set_title(f"{dataset}, {label}")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    import textwrap

    title = title or "Test accuracy vs smooth rate: this run and the ICLR 2022 submission's Table 2"
    fig.suptitle("\n".join(textwrap.wrap(title, width=45 * ncol)))
    return fig


def plot_table2(dataset: str = "cifar10", noise: str = "symmetric", ax=None):
    """Table 2 of the ICLR 2022 submission as curves: accuracy against smooth rate, one line per noise rate.

    Returns the matplotlib Axes (its ``.figure`` is the Figure). Colours are Okabe-Ito; rates in
    the paper's order (0.8 ... -6).
    """
    from ..plots import new_figure

    t = paper_table2()
    t = t[(t["dataset"] == dataset) & (t["noise"] == noise)]
    if not len(t):
        raise ValueError(f"Table 2 has no {dataset} {noise} columns")
    if ax is None:
        _, ax = new_figure(figsize=(6.4, 3.8))
    for i, (eps, sub) in enumerate(t.groupby("noise_rate")):
        sub = sub.sort_values("smooth_rate", ascending=False)
        x = np.arange(len(sub))
        ax.errorbar(x, sub["mean"], yerr=sub["std"], marker="os^Dv"[i % 5], capsize=2,
                    color=OKABE_ITO[i % len(OKABE_ITO)], label=f"ε = {eps:g}")
        best = int(np.argmax(sub["mean"].to_numpy()))
        ax.plot(x[best], sub["mean"].iloc[best], marker="*", ms=14, color=OKABE_ITO[i % len(OKABE_ITO)],
                mec="black", ls="none")
    ax.set_xticks(x, [f"{r:g}" for r in sub["smooth_rate"]])
    ax.axvline(int(np.argmin(np.abs(sub["smooth_rate"].to_numpy()))), color="0.6", lw=0.8)
    ax.set_xlabel("smooth rate r  (left of the grey line: LS; right: NLS)")
    ax.set_ylabel("clean test accuracy (%)")
    ax.set_title(f"Table 2 (ICLR 2022 submission): {dataset}, {noise}\n★ = best rate per noise level")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return ax
