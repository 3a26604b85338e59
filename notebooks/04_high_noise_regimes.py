# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 04 · High-noise regimes: to smooth or not?
#
# **Learning goals.** After this lesson you will be able to
# - run a full sweep smooth rate $r$ × noise rate $\varepsilon$ × seed on digits in seconds, and
#   compare rates *paired* (same noisy labels, same initialisation, same batches);
# - read the sweep as a heatmap and as the paper's Figure 1 (best $r$ against $\varepsilon$;
#   numbers as in the ICLR submission, see below);
# - derive the optimal smooth rate $r_{\text{opt}} = (r^*-\kappa)/(1-\kappa)$ and draw the phase
#   diagram (the paper's Figure 2);
# - say when LS wins, when NLS wins, and why pair-flip noise is a different case;
# - tell final-epoch from best-epoch accuracy, and why the paper's numbers are most likely the
#   latter (the official code keeps the best test accuracy over epochs).
#
# The paper's headline (Wei et al., ICML 2022, [arXiv 2106.04149](https://arxiv.org/abs/2106.04149)):
# at low noise, smooth (LS); at high noise, don't: sharpen (NLS). The theory says what "high" means:
# high against the clean problem's best rate $r^*$ (section 1). Here you test it yourself.
#
# *Numbering.* Theorem, figure and table numbers follow the authors' ICLR 2022 submission,
# "Understanding Generalized Label Smoothing when Learning with Noisy Labels"
# ([OpenReview UQQgMRq58O](https://openreview.net/forum?id=UQQgMRq58O)), whose Table 2 is the
# one shipped in `data/paper/table2.csv`; the ICML paper numbers them differently.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Set-up.** Run this cell first (also when presenting: it is the first code slide).

# %% tags=["hide-input"]
# %matplotlib inline
import time

import numpy as np
import pandas as pd

from nls_lessons import data, output, paper, plots, theory, train, widgets
from nls_lessons.exercises import lesson04 as ex

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Why the best rate should move: noise is already smoothing
#
# Lesson 02 showed that symmetric noise with rate $\varepsilon$ turns the clean posterior
# $\mathbf p(x)$ into
#
# $$\tilde{\mathbf p}(x) = (1-\kappa)\,\mathbf p(x) + \frac{\kappa}{K}\mathbf 1, \qquad \kappa = \frac{K\varepsilon}{K-1}:$$
#
# the noisy labels arrive *already smoothed* with rate $\kappa$. GLS with rate $r$ on top gives
# the expected target $(1-r)\tilde{\mathbf p} + \tfrac rK\mathbf 1$, whose distance from uniform is
# $(1-r)(1-\kappa)$ times the clean one. Suppose the best smooth rate on clean data is some
# $r^* \le 1$ (the paper's Assumption 1, ICLR numbering; $r^*=0$ means CE is best on clean data,
# and $r^*$ may be negative). Matching $(1-r)(1-\kappa) = 1-r^*$ gives
#
# $$r_{\text{opt}} = \frac{r^* - \kappa}{1-\kappa}
#   \qquad\begin{cases} >0 \;(\text{LS}) & \varepsilon < \tfrac{K-1}{K}\,r^* \\
#   <0 \;(\text{NLS}) & \varepsilon > \tfrac{K-1}{K}\,r^* .\end{cases}$$
#
# For $K=2$ this is the paper's Theorem 7 (ICLR numbering), $r_{\text{opt}} = (r^*-2e)/(1-2e)$.
# The matching argument is the course's shortcut and the $K$-class form our algebra; the paper
# (binary case) gets the formula by making its M-Inc1 term vanish, the bias that GLS on noisy
# labels adds to the model's confidence (Theorem 6). As $\kappa\to1$ the optimal rate runs to
# $-\infty$. With $r^*=0$ it is the backward-correction rate of lesson 03.

# %%
for eps in (0.2, 0.4, 0.6, 0.8):
    print(f"ε = {eps}: κ = {theory.kappa(eps, 10):.3f},  r_opt(r* = 0) = "
          f"{theory.optimal_smooth_rate(eps, 10, 0.0):+.3f},  r_opt(r* = 0.4) = "
          f"{theory.optimal_smooth_rate(eps, 10, 0.4):+.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The phase diagram (the paper's Figure 2, ICLR numbering, drawn there for $K=2$; here for
# $K=10$): colour is $r_{\text{opt}}$, the
# black line is $r_{\text{opt}}=0$. Above it (little noise, a clean problem that likes smoothing)
# use LS; below and to the right, NLS. The line is straight, $\varepsilon = 0.9\,r^*$.

# %%
plots.phase_diagram(num_classes=10)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Each exercise has a starter cell: replace `None` by your answer and run it, then run the check
# cell below it. The check says whether you are right and why, or gives a hint. The worked solution
# sits in a collapsed cell after the check; open it only once you have tried.
#
# **Exercise 1.** $K=10$, $\varepsilon=0.5$, and on clean data the best rate was $r^*=0.3$. What
# is $r_{\text{opt}}$?

# %%
answer = None  # your answer

# %%
ex.check_optimal_rate(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = theory.optimal_smooth_rate(0.5, 10, clean_optimal_rate=0.3)
assert ex.check_optimal_rate(answer)

# %% [markdown]
# **Exercise 2.** $K=10$ and $r^*=0.3$. At which noise rate $\varepsilon$ does $r_{\text{opt}}$
# change sign?

# %%
answer = None  # your answer

# %%
ex.check_threshold(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = theory.nls_threshold(0.3, 10)
assert ex.check_threshold(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The sweep: r × ε × seed in seconds
#
# The experiment: digits (70/30 split, standardised), linear softmax, Adam with learning rate
# $10^{-2}$, batch 128, 30 epochs, no weight decay, symmetric noise. Twelve smooth rates from
# $0.8$ down to $-64$ (the grid is wide on purpose: at high noise the best rate is very
# negative, section 3), five noise rates, six seeds: 360 models. `train.sweep` trains them all as **one
# stacked model** (every model sees its seed's mini-batch in the same step), so this takes
# seconds on a laptop CPU instead of minutes in a loop. Models that share a seed share the noisy
# labels, the initial weights and the batch order: they differ *only* in $r$, so comparisons
# across $r$ are paired.
#
# `cache=` stores the results under `data/cache/`, keyed by the whole configuration: run the
# notebook again and the sweep is read back instantly.

# %%
digits = data.digits(seed=0)
smooth_rates = [0.8, 0.4, 0.2, 0.0, -0.4, -1.0, -2.0, -4.0, -8.0, -16.0, -32.0, -64.0]
noise_rates = [0.0, 0.2, 0.4, 0.6, 0.8]
seeds = list(range(6))
# device="cpu": the same numbers on every machine (the asserted margins were measured on a CPU)
setup = dict(model="linear", epochs=30, batch_size=128, optimizer="adam", lr=1e-2, device="cpu",
             progress=False, cache=widgets.DEFAULT_CACHE)

start = time.perf_counter()
results = train.sweep(digits, smooth_rates, noise_rates, seeds, **setup)
print(f"{len(results)} models in {time.perf_counter() - start:.1f} s "
      f"({int(results.diverged.sum())} diverged); a rerun reads the cache")
output.table(results.head(), percent=["test_acc", "best_test_acc"], digits=3,
             column_digits={"noise_rate": 1, "smooth_rate": 1})

# %% [markdown] slideshow={"slide_type": "subslide"}
# One row per model. `test_acc` is the clean test accuracy after the last epoch, `best_test_acc`
# the best over the 30 epochs (the official code keeps this best-epoch number: it evaluates
# on the test set after every epoch and keeps the best), `confidence` the mean max-softmax
# probability and `model_confidence` the mean model confidence MC $= p_y - \max_{k\ne y}p_k$ of
# lesson 03, both on the clean test set after the last epoch.
#
# The heatmaps average over seeds. Rows are noise rates, columns smooth rates; the best $r$ of
# each row is in bold. Look at where the bold number sits in each row: on the right (LS/CE) in
# the bottom rows, on the far left (very negative $r$) in the top rows.

# %%
summaries = {m: widgets.sweep_summary(results, m) for m in ("test_acc", "best_test_acc")}
fig, axes = plots.new_figure(1, 2, figsize=(15.0, 4.6))
for ax, (metric, s) in zip(axes, summaries.items()):
    plots.sweep_heatmap(s["table"], ax=ax, title=f"mean {s['metric_label']} (%)", value_label="%")
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same numbers as a table: CE, the best LS rate and the best NLS rate per noise rate, final
# epoch next to best epoch.

# %%
side = {}
for metric, s in summaries.items():
    t = s["table"]
    ls, nls = t.loc[:, t.columns > 0], t.loc[:, t.columns < 0]
    side[s["metric_label"]] = pd.DataFrame({"CE": t[0.0], "best LS": ls.max(axis=1), "r (LS)": ls.idxmax(axis=1),
                                            "best NLS": nls.max(axis=1), "r (NLS)": nls.idxmax(axis=1)})
side_by_side = pd.concat(side, axis=1).round(1)
side_by_side

# %% [markdown] slideshow={"slide_type": "subslide"}
# Three things to read off the table:
# - at $\varepsilon = 0$ CE is best and NLS is clearly worse *for this linear model* (on clean
#   CIFAR-10, a ResNet-34 in the official code, the paper's Table 2 has every NLS rate above CE, see section 3);
#   at $\varepsilon=0.2$ LS beats CE;
# - at $\varepsilon \ge 0.6$ the best NLS rate wins by several points, by far the most at 0.8;
# - **final versus best epoch.** The final-epoch numbers of CE and LS collapse as $\varepsilon$
#   grows, because the model slowly memorises the wrong labels; the best epoch, reached early,
#   is much higher. NLS runs lose much less between their best and final epoch. Reporting the
#   best epoch (as the official code does) shrinks, but does not erase, NLS's advantage. Note
#   that the best epoch is chosen *on the test set*: an optimistic number, not a method a
#   practitioner without clean test labels could follow.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Paired comparisons, seed by seed
#
# A mean difference can hide a seed that goes the other way. For each noise rate we fix the
# best LS rate and the best NLS rate (by their mean) and compare them *within* each seed.

# %%
paired_rows = []
for metric, s in summaries.items():
    per_seed = results.pivot_table(index=["noise_rate", "seed"], columns="smooth_rate", values=metric) * 100
    for eps in noise_rates:
        row, block = s["table"].loc[eps], per_seed.loc[eps]
        r_ls, r_nls = row[row.index > 0].idxmax(), row[row.index < 0].idxmax()
        for name, a, b in (("best LS − CE", r_ls, 0.0), ("best NLS − best LS", r_nls, r_ls)):
            d = block[a] - block[b]
            paired_rows.append({"metric": s["metric_label"], "ε": eps, "comparison": name,
                                "mean": d.mean(), "std": d.std(), "min": d.min(),
                                "seeds > 0": f"{int((d > 0).sum())}/{len(d)}"})
paired = pd.DataFrame(paired_rows).round(2)
paired[paired.metric == "final test accuracy"]

# %% slideshow={"slide_type": "subslide"}
paired[paired.metric == "best-epoch test accuracy"]

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claims (paired seeds, 6 seeds). Margins were measured first; see the comments.
pick = lambda metric, eps, comp: paired[(paired.metric == metric) & (paired["ε"] == eps)
                                        & (paired.comparison == comp)].iloc[0]
final, best = "final test accuracy", "best-epoch test accuracy"
seeds_won = lambda row: int(row["seeds > 0"].split("/")[0])
# 1. LS beats CE at ε = 0.2 (final: +1.7 ± 1.3 points, 5/6 seeds ahead, one tie; best epoch: +0.5, 5/6).
ls_ce = pick(final, 0.2, "best LS − CE")
assert ls_ce["mean"] > 0.5 and ls_ce["min"] >= 0 and seeds_won(ls_ce) >= 5, ls_ce
assert pick(best, 0.2, "best LS − CE")["mean"] > 0, pick(best, 0.2, "best LS − CE")
# 2. The best NLS rate beats the best LS rate at ε ≥ 0.6 on every seed (grid to -64; best epoch:
#    min +1.3 at 0.6, +3.3 at 0.8; final: mean +5.5 at 0.6 whose smallest seed margin is one test
#    image, mean +21.5 and min +12.0 at 0.8).
for eps in (0.6, 0.8):
    assert pick(best, eps, "best NLS − best LS")["min"] > 0.5, eps
    assert pick(final, eps, "best NLS − best LS")["mean"] > 2.0, eps
    assert seeds_won(pick(final, eps, "best NLS − best LS")) >= 5, eps
assert pick(final, 0.8, "best NLS − best LS")["min"] > 5.0
# 3. The best r (by mean) is >= 0 at low noise and <= -2 at high noise, in both reports.
for s in summaries.values():
    best_r = s["table"].idxmax(axis=1)
    assert (best_r.loc[[0.0, 0.2]] >= 0).all() and (best_r.loc[[0.6, 0.8]] <= -2).all(), best_r

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Best r against noise: the paper's Figure 1 (ICLR numbering)
#
# Each marker is one of the two best rates at that noise rate (circles: LS/CE, diamonds: NLS).
# The dashed line is the theory $r_{\text{opt}}$ with $r^*=0$ (CE is the best rate on our clean
# data, so $r^*=0$ is the natural anchor).

# %%
fig, axes = plots.new_figure(1, 2, figsize=(12.0, 4.4))
for ax, s in zip(axes, summaries.values()):
    plots.best_rate_vs_noise(s["best"], theory=s["theory"], ax=ax, title=f"best two r, {s['metric_label']}")
fig

# %% slideshow={"slide_type": "subslide"}
best_r = pd.DataFrame({s["metric_label"]: s["table"].idxmax(axis=1) for s in summaries.values()})
best_r["theory r_opt (r* = 0)"] = [theory.optimal_smooth_rate(e, 10, 0.0) for e in best_r.index]
best_r.round(2)

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see: the best rate jumps from the LS side ($r\ge0$) at low noise to the NLS side, down
# to $-2$ or below, at high noise, as the theory line does. The theory is not a perfect fit.
# With $r^*=0$ it says NLS should already win at $\varepsilon=0.2$; on digits LS still wins
# there, and the data cross over between $\varepsilon = 0.4$ and $0.6$.
#
# Why should it fit? Theorem 7 (ICLR numbering) is a statement about *which classifier* GLS
# learns: at $r_{\text{opt}}$ the noisy-label optimum is the same classifier as the
# $r^*$-smoothed optimum on clean data, because the confidence bias M-Inc1 vanishes. It is not by
# itself a statement about accuracy: in the population limit every rate has the same arg-max
# under symmetric noise (lesson 02). The link to accuracy is **Assumption 1**: that the
# $r^*$-smoothed clean classifier is the one that tests best for *this* learner. So $r^*$ is a
# property of the learner and the data, and "high noise" means high *against $r^*$*: NLS once
# $\varepsilon > \tfrac{K-1}{K}r^*$. For our linear model on digits the clean row puts $r^*$ at 0
# (CE is best on clean data), so the threshold is $\varepsilon = 0$ and the theory asks for NLS at
# every noise rate; the data keep LS ahead at 0.2 and 0.4 and cross over between 0.4 and 0.6. That
# is a miss of the threshold on this learner (Assumption 1 does not hold for it), not a different
# $r^*$: fitting an "effective" $r^*$ to the crossover would only restate the miss. On clean
# CIFAR-10 (a ResNet-34 in the official code) the paper's Table 2 puts the best rate at $r = -0.4$ (93.55 %, every
# NLS rate above CE's 91.44 %): $r^* < 0$, a negative threshold, so the theory recommends NLS at
# *every* noise rate, as Table 2's symmetric columns show. The next cell sets both side by side.

# %% slideshow={"slide_type": "subslide"}
side = lambda r: "LS" if r > 0 else "CE" if r == 0 else "NLS"
t2 = paper.paper_table2()
t2 = t2[(t2.dataset == "cifar10") & (t2.noise == "symmetric")]          # ε = 0 is the clean column
observed = {"digits, linear (final epoch)": summaries["test_acc"]["table"].idxmax(axis=1),
            "CIFAR-10 (Table 2)": t2.loc[t2.groupby("noise_rate")["mean"].idxmax()]
            .set_index("noise_rate").smooth_rate}
pd.DataFrame([{"data": name, "clean r*": best.loc[0.0], "NLS once ε >": theory.nls_threshold(best.loc[0.0], 10),
               **{f"ε = {e:g}": f"{theory.smoothing_regime(e, 10, best.loc[0.0])} / {side(r)}"
                  for e, r in best.items() if e > 0}} for name, best in observed.items()]).set_index("data").fillna("not in Table 2")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claims (the text above): digits' clean r* is 0 and LS/CE stay best at ε = 0.2 and 0.4 (the
# threshold misses); CIFAR-10's clean r* is negative and NLS is best in every symmetric column.
digits_best, c10_best = observed.values()
assert digits_best.loc[0.0] == 0.0 and (digits_best.loc[[0.2, 0.4]] >= 0).all(), digits_best
assert c10_best.loc[0.0] < 0 and (c10_best < 0).all(), c10_best

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Is the best rate inside the grid?
#
# A best rate on the edge of the grid would only say "at least this negative". The grid goes
# down to $-64$; here is where the best mean rate lies in each row, and how much the last
# halvings of $r$ still change the mean accuracy (points):

# %%
edge_rows = []
for s in summaries.values():
    t = s["table"]
    for eps in noise_rates:
        row = t.loc[eps]
        edge_rows.append({"metric": s["metric_label"], "ε": eps, "best r": row.idxmax(),
                          "on the edge": row.idxmax() == min(smooth_rates),
                          "−8 → −16": row[-16.0] - row[-8.0], "−16 → −32": row[-32.0] - row[-16.0],
                          "−32 → −64": row[-64.0] - row[-32.0]})
edges = pd.DataFrame(edge_rows).round(2)
edges[edges["ε"] >= 0.6]

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claims (measured first over 12 seeds; see the comments).
# ε = 0.6: from r = -8 down to -64 the mean accuracy is a plateau (final: 81.6-82.0 %, best epoch
# 82.1-82.5 %), so wherever its maximum falls the best rate is interior or on a plateau, not still
# rising at the edge; the best-epoch maximum is well inside (r = -2).
for s in summaries.values():
    plateau = s["table"].loc[0.6, [-8.0, -16.0, -32.0, -64.0]]
    assert plateau.max() - plateau.min() < 1.5, plateau
assert summaries["best_test_acc"]["table"].loc[0.6].idxmax() > -16, summaries["best_test_acc"]["table"].loc[0.6]
# ε = 0.8: accuracy still rises at the edge, by ever smaller steps (final: +4.5, +1.4, +0.5 points
# per halving over 12 seeds): the best rate is NOT interior; the curve approaches its r -> -inf limit.
final_08 = edges[(edges.metric == summaries["test_acc"]["metric_label"]) & (edges["ε"] == 0.8)].iloc[0]
assert final_08["−8 → −16"] > final_08["−32 → −64"] and abs(final_08["−32 → −64"]) < 1.5, final_08

# %% [markdown]
# Said plainly: at $\varepsilon = 0.6$ the accuracy is flat from $-8$ to $-64$ (within about half a
# point, less than the seed-to-seed spread), so the best final-epoch rate is somewhere on that
# plateau and the best-epoch rate ($-2$) is well inside the grid. At $\varepsilon = 0.8$ the best
# rate is **not** interior: accuracy keeps rising as $r$ falls, each halving of $r$ adding less
# than the one before (under a point from $-32$ to $-64$). Extending the grid would not
# change that. The curve is approaching the limit $r\to-\infty$ of lesson 03, the linear loss
# $\bar z - z_y$ (with Adam, which ignores the overall scale $1-r$ of the loss, the models at
# $r=-64$ are already close to that limit). The paper's grid stops at $-8$ (UCI) or $-6$ (CIFAR),
# and most of its high-noise best rates sit on that edge too (CIFAR-10 symmetric 0.2-0.6 and
# CIFAR-100 0.6 at $-6$), but not all: CIFAR-100 at $\varepsilon = 0.4$ is best at $-4$, inside the grid.

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim (the shipped Table 2): the best rate sits on the grid's edge (-6) in those columns, inside at C100 0.4.
t2 = paper.paper_table2().query("noise == 'symmetric'")
t2_best = t2.loc[t2.groupby(["dataset", "noise_rate"])["mean"].idxmax()].set_index(["dataset", "noise_rate"])
assert (t2_best.loc["cifar10"].loc[[0.2, 0.4, 0.6], "smooth_rate"] == -6.0).all()
assert t2_best.loc[("cifar100", 0.6), "smooth_rate"] == -6.0
assert t2_best.loc[("cifar100", 0.4), "smooth_rate"] == -4.0 > t2["smooth_rate"].min()

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** From `results`, find the smooth rate with the highest **mean final** test
# accuracy at $\varepsilon = 0.6$. (Filter, group by `smooth_rate`, average, `idxmax`.)

# %%
answer = None  # your answer

# %%
ex.check_best_rate(answer, results, noise_rate=0.6)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = results[results.noise_rate == 0.6].groupby("smooth_rate").test_acc.mean().idxmax()
assert ex.check_best_rate(answer, results, noise_rate=0.6)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. The contrast case: pair-flip noise
#
# Pair-flip noise sends a wrong label to *one* partner class (0↔2, 1↔9, 3↔5, 4↔7, 6↔8), not
# evenly to all others; as in the official generator, both members of a pair flip to each other
# at the same rate $\varepsilon$. The noisy posterior is then
# $\tilde p_k = (1-\varepsilon)\,p_k + \varepsilon\,p_{\text{pair}(k)}$, **not**
# $(1-\kappa)\mathbf p + \kappa/K$: the noise mixes probability only *within* each pair, while GLS
# smooths or sharpens around the uniform vector over *all* $K$ classes. A sharpening calibrated to
# all-class noise is the wrong correction for within-pair noise, and the paper's main-text
# theory (binary, or symmetric noise) does not cover this case. Whether NLS still helps is an
# empirical question, and the paper's own answer is mixed. Its CIFAR-10 "asymmetric" columns
# (Table 2, ICLR numbering; the course reads them as the official pair-flip generator, which is
# not confirmed):

# %%
table2 = paper.paper_table2()
asym = table2[(table2.dataset == "cifar10") & (table2.noise == "pairflip")]
asym = asym.pivot_table(index="smooth_rate", columns="noise_rate", values="mean").sort_index(ascending=False)
best_by_side = pd.DataFrame({"best LS": asym[asym.index > 0].max(), "r (LS)": asym[asym.index > 0].idxmax(),
                             "CE": asym.loc[0.0],
                             "best NLS": asym[asym.index < 0].max(), "r (NLS)": asym[asym.index < 0].idxmax()})
best_by_side

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim (the shipped table): LS wins the 0.2 column, NLS the 0.3 column.
assert best_by_side.loc[0.2, "best LS"] > best_by_side.loc[0.2, "best NLS"]          # 90.49 vs 89.70
assert best_by_side.loc[0.3, "best NLS"] > best_by_side.loc[0.3, "best LS"]          # 88.33 vs 87.90
assert best_by_side.loc[0.3, "r (NLS)"] == -0.4
# Claim: the 0.3 margin (0.43) is above symmetric 0.2's (0.06, within LS's std 1.61) and below 0.4's and 0.6's.
sym = table2[(table2.dataset == "cifar10") & (table2.noise == "symmetric")]
sym_gap = sym[sym.smooth_rate < 0].groupby("noise_rate")["mean"].max() - sym[sym.smooth_rate > 0].groupby("noise_rate")["mean"].max()
asym_gap = best_by_side.loc[0.3, "best NLS"] - best_by_side.loc[0.3, "best LS"]
assert round(asym_gap, 2) == 0.43 and round(sym_gap[0.2], 2) == 0.06 and sym_gap[0.2] < asym_gap < sym_gap[[0.4, 0.6]].min()
assert sym_gap[0.2] < sym[(sym.noise_rate == 0.2) & (sym.smooth_rate == 0.8)]["std"].item()    # 0.06 < 1.61

# %% [markdown] slideshow={"slide_type": "subslide"}
# At 20 % the best LS rate wins ($r=0.4$: 90.49 % against the best NLS rate's 89.70 %); at 30 %
# NLS wins ($r=-0.4$: 88.33 % against the best LS rate's 87.90 %), by 0.43 points: more than at
# symmetric 0.2 (0.06, a tie within LS's std of 1.61 there), less than at symmetric 0.4 and 0.6
# (2.41 and 3.21). Same data, model and seeds as our sweep, now with pair-flip noise at 0.2 and 0.4:

# %%
pairflip = train.sweep(digits, smooth_rates, [0.2, 0.4], seeds, noise_kind="pairflip", **setup)
pf = {m: widgets.sweep_summary(pairflip, m)["table"] for m in ("test_acc", "best_test_acc")}
pd.concat({"final": pf["test_acc"], "best epoch": pf["best_test_acc"]}).round(1)

# %% slideshow={"slide_type": "subslide"}
pf_rows = []
for metric, table in pf.items():
    per_seed = pairflip.pivot_table(index=["noise_rate", "seed"], columns="smooth_rate", values=metric) * 100
    for eps in (0.2, 0.4):
        row, block = table.loc[eps], per_seed.loc[eps]
        r_ls, r_nls = row[row.index > 0].idxmax(), row[row.index < 0].idxmax()
        d = block[r_ls] - block[r_nls]
        pf_rows.append({"metric": metric, "ε": eps, "r (LS)": r_ls, "r (NLS)": r_nls,
                        "best LS − best NLS": d.mean(), "min": d.min(), "seeds LS ahead": int((d > 0).sum())})
pf_paired = pd.DataFrame(pf_rows).round(2)
pf_paired

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: under pair-flip noise at ε = 0.2 the best LS rate beats the best NLS rate on every seed
# (measured: final +6.0, min +5.2; best epoch +4.4, min +3.5), and the best rate overall is LS.
for metric in ("test_acc", "best_test_acc"):
    row = pf_paired[(pf_paired.metric == metric) & (pf_paired["ε"] == 0.2)].iloc[0]
    assert row["min"] > 1.0 and row["seeds LS ahead"] == len(seeds), row
    assert pf[metric].loc[0.2].idxmax() > 0, pf[metric].loc[0.2]
# At ε = 0.4, by the final epoch, the best NLS rate is ahead on at least 4 of 6 seeds (measured:
# +6.0 on average, 5 of 6 seeds; at the best epoch LS keeps a small lead, NLS ahead on 1 of 6).
row = pf_paired[(pf_paired.metric == "test_acc") & (pf_paired["ε"] == 0.4)].iloc[0]
assert row["best LS − best NLS"] < -2.0 and row["seeds LS ahead"] <= 2, row

# %% [markdown] slideshow={"slide_type": "subslide"}
# At $\varepsilon=0.2$ LS wins by several points on every seed, final or best epoch, as in the
# paper's 0.2 column. At $\varepsilon=0.4$ read the table yourself, final epoch and best epoch
# (a negative "best LS − best NLS" means NLS is ahead).
#
# What the residue is *not*: the paper's M-Inc2 term. That term is proportional to
# $e_\Delta = e_1 - e_0$, the difference between the two classes' flip rates, and makes the model
# over-confident on a low-noise class. Official pairs flip both ways at the same rate, so within
# a pair $e_0 = e_1$, $e_\Delta = 0$ and M-Inc2 vanishes: no class is a low-noise class.
#
# **Exercise 4.** What do this section's pair-flip numbers support (the digits tables at
# $\varepsilon = 0.2$ and $0.4$, final and best epoch, and Table 2's two pair-flip columns)?
# Answer `"a"`, `"b"`, `"c"` or `"d"`:
# - a) NLS does not help under pair-flip noise: GLS sharpens around the uniform vector over all
#   $K$ classes, while pair-flip noise mixes probability only within each pair;
# - b) the winner depends on the noise rate (and, at 40 %, on the report): LS at 20 %, while at
#   higher pair-flip rates NLS comes out ahead in some of the reports;
# - c) LS wins at every pair-flip rate, because one class of each pair is a low-noise class and
#   NLS is over-confident on it (M-Inc2);
# - d) nothing: the LS-NLS gaps are within the seed-to-seed spread at every rate.

# %%
answer = None  # your answer

# %%
ex.check_pairflip(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = "b"
assert ex.check_pairflip(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Explore the sweep
#
# Move $\varepsilon$ and $r$: the heatmap marks the cell, the middle panel shows accuracy against
# $r$ at that noise rate (± one standard deviation over seeds), the right panel the best two
# rates per $\varepsilon$ with the theory line. Switch between best-epoch and final-epoch
# reporting. **Retrain this cell live** trains seed 0 of the cell again with `train.fit` (on
# the CPU, or the GPU when one is present) and marks it with a star next to the cached value.
# (Without a live kernel, in the book, you see precomputed frames.)

# %%
widgets.sweep_explorer(results, data=digits, train_kwargs=dict(model="linear", epochs=30),
                       noise_rate=0.6, smooth_rate=-2.0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Recap
#
# - Symmetric noise smooths the labels by $\kappa = K\varepsilon/(K-1)$ before you do anything;
#   the rate that restores the clean optimum is $r_{\text{opt}} = (r^*-\kappa)/(1-\kappa)$,
#   negative once $\varepsilon > \tfrac{K-1}{K}r^*$ (the phase diagram).
# - On digits, 360 paired models in seconds: LS beats CE at low noise; the best NLS rate beats
#   the best LS rate at $\varepsilon \ge 0.6$; the best $r$ moves from $\ge 0$ to $\le -2$. At
#   $\varepsilon = 0.8$ the best rate is the grid's most negative: accuracy is still creeping up
#   towards the $r\to-\infty$ limit.
# - The theory (Theorem 7, ICLR numbering) gets the direction right but not the exact crossover:
#   it says which classifier GLS learns, and links to accuracy only through Assumption 1, whose
#   $r^*$ belongs to the learner (about 0 for our linear model, below 0 for Table 2's network, a
#   ResNet-34 in the official code, on clean CIFAR-10).
# - Final-epoch and best-epoch accuracy tell different stories at high noise; say which one you
#   report (the official code keeps the best test epoch).
# - Pair-flip noise is not all-class smoothing: on digits LS stays best at 20 %, as in the
#   paper's 20 % column; the paper's 30 % column has NLS ahead.
#
# **Paper:** [Wei et al., ICML 2022, arXiv 2106.04149](https://arxiv.org/abs/2106.04149); theorem,
# figure and table numbers follow the ICLR 2022 submission
# ([OpenReview UQQgMRq58O](https://openreview.net/forum?id=UQQgMRq58O)).
# **Next:** [05 · Paper scale](05_paper_scale.ipynb): CIFAR-10/100 and CIFAR-N with a ResNet, next to
# Table 2 of the ICLR submission.
