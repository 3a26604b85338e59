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
# # 06 · Your own data: to smooth or not, with no noise rate and no clean labels
#
# **Learning goals.** After this lesson you will be able to
# - estimate the noise of a data set from its noisy labels alone (cross-fitted probabilities and
#   cleanlab's confident joint), and say how far to trust the estimate;
# - turn the estimate into a first guess for the smooth rate with lesson 04's
#   $r_{\text{opt}} = (r^*-\kappa)/(1-\kappa)$, and say when that formula does not apply;
# - choose $r$ *and* the stopping epoch by k-fold cross-validation on the noisy labels, with a
#   standard error and a rule that respects it, and derive why that works;
# - judge the whole recipe, last step included, on data nobody tuned it on, against an oracle
#   that sees the clean labels.
#
# Lessons 01-05 always knew the noise rate, and picked the best epoch on a clean test set, as
# the official code does (it keeps the best test accuracy; the paper's text does not say how its
# epoch is chosen). On your own data you have neither. This lesson is the course's own recipe,
# built from standard tools; it is not in the paper.

# %% slideshow={"slide_type": "-"}
# %matplotlib inline
import dataclasses

import numpy as np
import pandas as pd

from nls_lessons import data, noise, plots, theory, train, widgets
from nls_lessons.widgets import recipe_eval
from nls_lessons.exercises import lesson06 as ex

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. A data set you cannot trust
#
# We hand you digits whose training labels went through a noise process you are not told
# (it is in the next cell: try not to look). Clean labels exist only for the final judgement:
# the clean *test* labels, and the clean *training* labels, which we use once to check the noise
# estimate. Nothing in sections 2-4 that *chooses* anything touches them.

# %% slideshow={"slide_type": "-"}
digits = data.digits(0)
hidden_T = widgets.recipe_transition("symmetric", 0.6)              # pretend you never saw this line
mine = dataclasses.replace(digits, y_train=noise.inject(digits.y_train, hidden_T, seed=6),
                           name="my untrusted digits")
mine

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. Estimate the noise from the noisy labels alone
#
# **Cross-fitting.** Split the training set into 5 folds; train a model on 4 folds and let it
# predict the fifth; repeat. Every sample then has predicted probabilities from a model that never
# saw its label. (A model's probabilities on its *own* training labels say "no noise": it
# learned them.)
#
# **Confident learning** (Northcutt, Jiang & Chuang, JAIR 2021; the `cleanlab` library). For
# each class $j$, take the model's average probability of $j$ on samples *labelled* $j$ as a
# threshold $t_j$. A sample labelled $i$ whose predicted probability of $j$ clears $t_j$ is
# counted as "true class $j$, observed $i$". The counts, calibrated to the label totals, estimate
# the joint distribution of (true, observed), hence
# $\hat T_{ij} = \hat P(\text{observed}=j \mid \text{true}=i)$ and the noise rate
# $\hat\varepsilon = 1 - \operatorname{tr}\hat J$.

# %% slideshow={"slide_type": "subslide"}
probs = train.out_of_sample_probs(mine, folds=5, seed=0, **widgets.RECIPE_TRAIN)
T_est = noise.estimate_transition(mine.y_train, probs)
eps_est = noise.estimate_noise_rate(mine.y_train, probs)
eps_real = noise.noise_rate_of(digits.y_train, mine.y_train)        # needs clean labels: judging only
print(f"estimated noise rate {eps_est:.3f}   (realised: {eps_real:.3f}, hidden nominal rate 0.6)")

# %% slideshow={"slide_type": "subslide"}
fig, axes = plots.new_figure(1, 3, figsize=(15, 4.6))
plots.transition_heatmap(hidden_T, ax=axes[0], colorbar=False, vmax=0.5, title="hidden T (nominal)")
plots.transition_heatmap(noise.empirical_transition(digits.y_train, mine.y_train, 10), ax=axes[1],
                         colorbar=False, vmax=0.5, title="realised T (clean labels needed)")
plots.transition_heatmap(T_est, ax=axes[2], vmax=0.5, title="estimated T̂ (noisy labels only)")
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see: the estimate finds the structure (a strong diagonal, the rest spread over every
# class) and a noise rate in the right region, but it **over-estimates** it, by about 0.1 here.
#
# **Where the bias comes from.** At high noise the confident joint essentially counts
# (prediction, label) disagreements. Take an out-of-fold model of clean accuracy $a$ and symmetric
# noise: its prediction agrees with the noisy label with probability
# $(1-\varepsilon)a + \varepsilon(1-a)/(K-1)$ (section 4 derives this line), so the disagreement
# it reports as noise is
#
# $$\hat\varepsilon \approx 1 - \Big[\frac{\varepsilon}{K-1} + (1-\kappa)\,a\Big]
#   = \varepsilon + (1-\kappa)(1-a), \qquad \kappa = \frac{K\varepsilon}{K-1}.$$
#
# The model's own mistakes ($1-a$) are counted as label errors, damped by $1-\kappa$ (a mistake
# on a label that was flipped anyway may agree with it by chance). Here the out-of-fold model
# learned from 60 %-noisy labels with about 1,000 images; its clean accuracy (we can measure it
# only because we hold the clean labels) predicts the bias:

# %% slideshow={"slide_type": "subslide"}
a_oof = float(np.mean(probs.argmax(axis=1) == digits.y_train.numpy()))     # judging only: clean labels
predicted_bias = (1 - theory.kappa(eps_real, 10)) * (1 - a_oof)
print(f"out-of-fold clean accuracy a = {a_oof:.3f}; bias predicted (1−κ)(1−a) = {predicted_bias:+.3f}, "
      f"measured ε̂ − ε = {eps_est - eps_real:+.3f}")
print(f"corrected with the true a: {noise.estimate_noise_rate(mine.y_train, probs, model_accuracy=a_oof):.3f}")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claims: the estimate lands above the realised rate (held-out table, section 5: +0.03 to +0.10 on
# digits), the formula predicts the bias within 0.03, and the correction with the true a removes most of it.
assert 0.0 < eps_est - eps_real < 0.15, (eps_est, eps_real)
assert abs((eps_est - eps_real) - predicted_bias) < 0.03, (eps_est - eps_real, predicted_bias)
assert abs(noise.estimate_noise_rate(mine.y_train, probs, model_accuracy=a_oof) - eps_real) < 0.03
assert np.all(np.diag(T_est) > T_est.max(axis=1) - 1e-12), "every class's own label is the most likely"

# %% [markdown]
# The correction `noise.estimate_noise_rate(..., model_accuracy=a)` needs $a$, and noisy labels
# alone cannot give it: a weak model on clean labels and a strong model on noisy ones disagree
# with the labels equally often. What *does* reduce the bias is a better out-of-fold model. The
# one we just used trained 30 epochs on noisy labels and memorised some of them; section 4 finds
# a rate and a stopping epoch that generalise better, and refitting the estimate with them
# brings $\hat\varepsilon$ closer. Treat $\hat\varepsilon$ as an upper-side estimate.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Predict r from theory
#
# Lesson 04: if the noise is symmetric, the labels arrive pre-smoothed with
# $\kappa = K\varepsilon/(K-1)$, and the rate that restores the clean optimum $r^*$ is
# $r_{\text{opt}} = (r^*-\kappa)/(1-\kappa)$. Plug in the estimate, with $r^*=0$:

# %%
for name, eps in (("estimated ε̂", eps_est), ("realised ε", eps_real)):
    print(f"{name} = {eps:.3f}: κ = {theory.kappa(eps, 10):.3f}, "
          f"r_opt = {theory.optimal_smooth_rate(eps, 10):.2f}")

# %% [markdown]
# The formula is steep near $\kappa \to 1$: an error of 0.1 in $\hat\varepsilon$ moves the
# predicted rate from about $-2$ to about $-4$. Where it stops applying at all:
# - **Pair-flip noise** (lesson 04, section 4) is not extra smoothing: it mixes classes within
#   pairs only, while GLS smooths over all $K$ classes, a case the paper's main-text theory
#   does not cover. The formula's sign can be wrong there.
# - **Human noise** (the CIFAR-10N annotators of lesson 01) is class-dependent: cat↔dog and
#   automobile↔truck, not uniform. $\hat\varepsilon$ is still a useful summary, $r_{\text{opt}}$
#   only a direction.
# - $r^* = 0$ is itself an assumption; lesson 04 measured an *effective* $r^*$ above 0 for a
#   small linear model.
#
# So the theory gives a candidate, not an answer: validate it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Choose r by cross-validation on the noisy labels
#
# Can noisy labels rank models at all? Under symmetric noise a prediction scores on a noisy label
# when it is right and the label stayed ($1-\varepsilon$), or when it is wrong and the label moved
# to exactly the predicted class ($\varepsilon/(K-1)$):
#
# $$\text{acc}_{\text{noisy}} = (1-\varepsilon)\,\text{acc} + \frac{\varepsilon\,(1-\text{acc})}{K-1}
#   = \frac{\varepsilon}{K-1} + (1-\kappa)\,\text{acc}.$$
#
# A straight line in the clean accuracy with slope $1-\kappa$: **increasing while
# $\varepsilon < (K-1)/K$**, so in expectation noisy accuracy orders models as clean accuracy
# would. Under a class-dependent $T$ the slope differs per class, so a model that confuses the
# classes the noise confuses gets credit for it: there noisy validation can mislead.
#
# **"In expectation" is the catch.** At slope $1-\kappa \approx 1/3$ a 3-point clean difference is
# a 1-point noisy one, while the accuracy on $N$ labels has a binomial standard error
# $\sqrt{p(1-p)/N}$: about 3 points on a 250-label split. So: **use every label**. k-fold
# cross-validation trains each rate once per fold on the other folds; every training label then
# validates once ($N \approx 1{,}250$, SE about 1.3 points). The folds of all rates train as one
# stacked model (paired: the same initialisation and batch order for every rate), so five folds
# cost about one sweep.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **How sure is the choice?** Two rates are scored on the *same* labels, so what matters is the
# standard error of their *difference*: per label $d_i = c_{\text{best},i} - c_{r,i}$ (1 when a
# model's prediction matches the label), $\text{SE} = \operatorname{sd}(d)/\sqrt N$; it is small
# because paired models mostly agree. A rate that trails the best by less than one such SE cannot
# be told from it on these labels: `within_one_se` below marks that set. Cross-validation practice
# has a rule for it, the **one-standard-error rule** (Hastie, Tibshirani & Friedman, *The Elements
# of Statistical Learning*, section 7.10): within the set, take the candidate a stated prior
# prefers. It is only as good as its prior, and section 6 measures it with the theory's
# $r_{\text{opt}}$ as the prior: it loses under pair-flip noise, where that prior points the wrong
# way. So the recipe (the course's choice, from that table) takes the **best cross-validated
# noisy accuracy** (`rule="best"`; an exact tie goes to the theory's side) and reports the set as
# its uncertainty. The **stopping epoch** is chosen the same way, on all labels at once: for each
# rate, the epoch with the best mean noisy accuracy over every fold (one epoch per rate, not one
# per model, so a lucky fold cannot pick it).

# %% slideshow={"slide_type": "subslide"}
r_theory = round(theory.optimal_smooth_rate(eps_est, 10), 2)
candidates = sorted(set(widgets.RECIPE_RATES) | {r_theory})
chosen, table = train.select_smooth_rate(mine, candidates, folds=5, seeds=(0,), rule="best", prior_rate=r_theory,
                                         **widgets.RECIPE_TRAIN)
by_rate = table.set_index("smooth_rate")
print(f"chosen r = {chosen:g} (theory predicted {r_theory:g}); SE of a rate's noisy accuracy "
      f"≈ {100 * by_rate.val_se.mean():.1f} points, paired SE to the best ≈ {100 * by_rate.gap_se.max():.1f} at most")
show = by_rate[["val_acc", "val_se", "gap_se", "test_acc"]].mul(100).round(1)
show.assign(within_one_se=by_rate.within_one_se, epoch=by_rate.val_epoch).T

# %% slideshow={"slide_type": "subslide"}
plots.validation_vs_test(by_rate, chosen=chosen, oracle=by_rate["test_acc"].idxmax(), theory=r_theory)

# %% [markdown]
# `test_acc` is the clean test accuracy of the same fold models at the same epoch, for judging
# only. The noisy curve sits far lower (a perfect model would score about $1-\varepsilon$ on
# noisy labels) but has roughly the test curve's shape, as the line predicts, and its error bars
# are now smaller than the differences that matter.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Refit the estimate with a better model.** Section 2's out-of-fold model was plain CE trained
# 30 epochs. Cross-fitting again with the chosen rate, stopped at its validated epoch, gives a more
# accurate out-of-fold model, and by section 2's formula a smaller bias:

# %%
epoch = int(by_rate.loc[chosen, "val_epoch"])
probs_refit = train.out_of_sample_probs(mine, folds=5, seed=0, smooth_rate=chosen,
                                        **{**widgets.RECIPE_TRAIN, "epochs": epoch})
eps_refit = noise.estimate_noise_rate(mine.y_train, probs_refit)
a_refit = float(np.mean(probs_refit.argmax(axis=1) == digits.y_train.numpy()))       # judging only
pd.DataFrame({"out-of-fold model": ["CE, 30 epochs", f"r = {chosen:g}, {epoch} epochs"],
              "clean accuracy a": [a_oof, a_refit], "ε̂": [eps_est, eps_refit],
              "ε̂ − ε measured": [eps_est - eps_real, eps_refit - eps_real],
              "(1−κ)(1−a) predicted": [(1 - theory.kappa(eps_real, 10)) * (1 - a) for a in (a_oof, a_refit)]}).round(3)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What the best noisy accuracy says, and does not.** In expectation no model scores more than
# $1-\varepsilon$ on symmetric-noisy labels (a perfect one scores exactly that), so the best
# validation accuracy bounds the noise: $\varepsilon \le 1 - \text{acc}_{\text{noisy}}$. Two
# caveats make the observed number weaker than it looks: it is one draw with a binomial SE, and it
# is the **maximum over 12 rates and 30 epochs**, biased upward by the selection (the best of many
# noisy scores exceeds its own expectation). A fair reading subtracts the error bar: with a
# 2-SE margin, $\varepsilon \le 1 - (\max\text{acc}_{\text{noisy}} - 2\,\text{SE})$, and even that is
# optimistic by the selection. The **T-corrected accuracy**
# $\widehat{\text{acc}} = (\text{acc}_{\text{noisy}} - \hat\varepsilon/(K-1))/(1-\hat\kappa)$ inverts the
# line, so it divides every error (of $\hat\varepsilon$, and the SE) by $1-\hat\kappa \approx 1/3$:

# %%
best = by_rate.loc[chosen]
upper = 1 - (by_rate.val_acc.max() - 2 * by_rate.val_se.max())
read_back = {f"with {name} = {e:.3f}": theory.clean_accuracy_estimate(best.val_acc, e, 10)
             for name, e in (("ε̂", eps_est), ("refit ε̂", eps_refit), ("realised ε", eps_real))}
print(f"noise bound with a 2-SE margin: ε ≤ {upper:.3f}   (realised {eps_real:.3f})")
print(f"chosen rate's noisy accuracy {100 * best.val_acc:.1f} ± {100 * best.val_se:.1f}; T-corrected clean accuracy: "
      + ", ".join(f"{k}: {100 * v:.0f} %" for k, v in read_back.items())
      + f"  (its fold models' clean test accuracy: {100 * best.test_acc:.1f} %)")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claims: (1) noisy validation ranks like clean test (Spearman over the rates; measured 0.6-0.9);
# (2) the refitted model is more accurate and its estimate less biased; (3) the 2-SE bound holds;
# (4) the validated rates' SE is below 1.5 points (every label validates).
rank = by_rate["val_acc"].rank().corr(by_rate["test_acc"].rank())
assert rank > 0.4, rank
assert a_refit > a_oof and abs(eps_refit - eps_real) < abs(eps_est - eps_real), (a_oof, a_refit, eps_est, eps_refit)
assert eps_real <= upper, (eps_real, upper)
assert by_rate.val_se.max() < 0.015, by_rate.val_se

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. The last step, and which number to report
#
# Cross-validation chose a rate and a number of epochs; the fold models each saw 80 % of the data.
# The recipe's last step trains the chosen rate on **all** training labels for the validated
# number of epochs, the same settings otherwise (no warm-up: none was validated). We compare it
# with CE retrained the same way (its own validated epoch):

# %%
def retrain(rate):
    e = int(by_rate.loc[rate, "val_epoch"])
    return train.fit(mine, rate, 0.0, 0, epochs=e, model="linear").history.test_acc.iloc[-1]

final = {f"chosen r = {chosen:g}": retrain(chosen), "CE (r = 0)": retrain(0.0)}
print(", ".join(f"{k}: {100 * v:.1f} % clean test" for k, v in final.items()))

# %% [markdown]
# **Which number to report.** On your own data you have no clean test set; report the
# cross-validated **noisy accuracy with its SE** (here the chosen rate's, above): it is measured,
# on every label, and assumes nothing about the noise. Its T-corrected reading is a clean-accuracy
# *estimate* that is only as good as $\hat\varepsilon$ and the symmetric-noise assumption, so give
# it as a range (with $\hat\varepsilon$ and the refitted $\hat\varepsilon$), never alone. Never
# report the best test-set epoch: it is an oracle, and optimistic by construction. If you can
# afford a small clean-labelled held-out set, its accuracy is the number to report.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Judge it where nobody tuned it
#
# One data set proves little: the recipe must hold on data it was not tuned on. The course ran it,
# end to end (`widgets.recipe_compute`: estimate → predict → 5-fold validate → retrain on all
# data), on **five other digits splits × three seeds** (a seed fixes the noise draw, the folds and
# the models) for four hidden noise settings (symmetric 0.2 and 0.6, pair-flip 0.3, and a
# human-like $T$: the CIFAR-10N `worst` annotators' realised $T$, computed from the shipped label
# files, applied to the ten digit classes), and on MNIST-1D (three splits × three seeds, an MLP,
# symmetric 0.2). Lesson 06's own split (split 0) is not among them. Every run keeps every rate's
# validation score, so each choice rule replays on the same runs. Splits 1-5 decided the rule;
# three more splits (6-8) then checked it on the three hard settings. The table ships in
# `data/recipe/heldout.csv`; `python -m nls_lessons.widgets.recipe_eval` rebuilds it (about ten minutes of
# one CPU core) and a test recomputes a run of it. Per run, paired, the clean test accuracy of the
# final models:
# - **chosen**: the recipe's rate; **CE** ($r=0$); **LS 0.1** (a common default);
# - **oracle**: the rate with the best clean test accuracy, same stopping rule (it cheats, and it is
#   the luckiest of 12 rates on 540 test images); **best fixed r**: the one rate best on average
#   over a setting's runs (an oracle too, but not a lucky one per run).

# %% slideshow={"slide_type": "subslide"}
heldout = recipe_eval.load_heldout()
development, confirmation = heldout[heldout.split <= 5], heldout[heldout.split > 5]
columns = ["dataset", "kind", "noise_rate", "runs", "chosen", "CE", "LS 0.1", "oracle", "chosen − CE",
           "SE(chosen − CE)", "win rate vs CE", "mean gap to oracle", "worst gap to oracle", "gap to best fixed",
           "estimate error", "refit error"]
tables = {f"{stage}, rule {rule}": recipe_eval.summary(recipe_eval.runs_table(part, rule), part)[columns]
          for stage, part in (("splits 1-5", development), ("splits 6-8", confirmation))
          for rule in ("best", "one_se_theory")}
shown = pd.concat(tables, names=["runs and rule"]).droplevel(1)
shown.insert(columns.index("win rate vs CE"), "chosen ≥ CE",
             [f"{round(w * n)} of {n} runs" for w, n in zip(shown["win rate vs CE"], shown["runs"])])
shown = shown.drop(columns="win rate vs CE").round(2)
accuracy_columns = ["kind", "noise_rate", "runs", "chosen", "CE", "LS 0.1", "oracle", "chosen − CE", "SE(chosen − CE)"]
shown.loc[[name for name in tables if name.endswith("rule best")], ["dataset", *accuracy_columns]]   # the recipe's rule

# %% slideshow={"slide_type": "subslide"}
gap_columns = ["kind", "noise_rate", "chosen ≥ CE", "mean gap to oracle", "worst gap to oracle", "gap to best fixed",
               "estimate error", "refit error"]
shown.loc[[name for name in tables if name.endswith("rule best")], ["dataset", *gap_columns]]

# %% slideshow={"slide_type": "subslide"}
shown.loc[[name for name in tables if name.endswith("rule one_se_theory")],
          ["dataset", "kind", "noise_rate", "chosen", "CE", "chosen − CE", "chosen ≥ CE", "mean gap to oracle",
           "worst gap to oracle"]]                                # one-SE toward the theory's rate

# %% slideshow={"slide_type": "subslide"}
runs = recipe_eval.runs_table(heldout)
runs["kind"] = runs.dataset.str.replace("digits", "").str.strip() + " " + runs.kind + " " + runs.noise_rate.astype(str)
plots.recipe_comparison(runs[["kind", "seed", "CE", "LS 0.1", "chosen", "oracle"]],
                        title="held-out splits and seeds: clean test accuracy of the final models")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claims, read from the shipped table (tests/test_recipe_eval.py checks the same on it), for the
# recipe's rule on all held-out runs: (1) within 2 points of the oracle on average in every setting
# (measured at most 1.4) and never more than 5 below it (worst exactly 5.0); (2) at symmetric 0.6 at
# least as good as CE in >= 80 % of paired runs (measured 83 %) and ahead by more than 2 SE; (3) under
# the human-like noise no clear gain (within 2 SE of CE); (4) every estimate runs high, its refit less.
summary = recipe_eval.summary(recipe_eval.runs_table(heldout), heldout).set_index(["dataset", "kind", "noise_rate"])
assert (summary["mean gap to oracle"] < 2.0).all(), summary["mean gap to oracle"]
assert (summary["worst gap to oracle"] <= 5.0 + 1e-6).all(), summary["worst gap to oracle"]
sym6 = summary.loc[("digits", "symmetric", 0.6)]
assert sym6["win rate vs CE"] >= 0.8 and sym6["chosen − CE"] > 2 * sym6["SE(chosen − CE)"], sym6
human = summary.loc[("digits", "human", 0.4)]
assert abs(human["chosen − CE"]) < 2 * human["SE(chosen − CE)"], human
assert (summary["estimate error"] > 0).all() and (summary["refit error"] < summary["estimate error"]).all()

# %% [markdown] slideshow={"slide_type": "subslide"}
# What to see (all 24 runs per digits setting, splits 1-8; ± is the SE over the runs):
# - **Symmetric 0.6**: the recipe picks NLS and gains $2.2 \pm 0.5$ points on CE; it is at least as
#   good as CE in 20 of 24 paired runs (83 %), 1.4 points under the per-run oracle on average and
#   0.5 under the best fixed rate ($r=-2$). Its worst run is 5.0 points under the oracle. On the
#   confirmation splits alone it matched CE in 7 of 9 runs: 80 % holds over all runs, not on every
#   subset of nine.
# - **Pair-flip 0.3**: validation picks LS and gains $1.6 \pm 0.4$ on CE (22 of 24 runs). The
#   one-SE rule toward the theory's NLS prior gained only 0.7 and fell 7.0 points under the oracle
#   in one run: that prior points the wrong way for pair noise, which is why the recipe takes the
#   best score.
# - **Human-like noise**: $+0.4 \pm 0.3$ on CE, no clear gain: noisy validation cannot separate the
#   rates much there, and the recipe is honest about it. **Symmetric 0.2** and **MNIST-1D**: every
#   rate is within about a point; the recipe matches CE ($+0.1 \pm 0.2$, $+0.4 \pm 0.5$).

# %% [markdown] slideshow={"slide_type": "subslide"}
# - **The estimate** runs high in every setting and its refit less (the last two columns). The
#   formula $(1-\kappa)(1-a)$ predicts it at high noise (symmetric 0.6: 0.105 predicted, 0.099
#   measured) and for a weak model (MNIST-1D, an MLP at 36 % clean accuracy: 0.50 and 0.50); at low
#   noise the confident joint's thresholds discount many of the model's errors and the formula
#   over-predicts (0.08 against 0.03 at symmetric 0.2). On MNIST-1D $\hat\varepsilon$ is 0.7 for a
#   true 0.2, yet the choice is still good: cross-validation does not use $\hat\varepsilon$.
# - **The limits**: the worst runs sit at the 5-point line, a 540-image test set has an SE of about
#   1.5 points per rate, and the oracle's lead is partly that noise. At this data size the table
#   supports "use k-fold noisy validation, expect CE-level results or better", not more.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. The recipe card
#
# | step | what you do | library |
# |---|---|---|
# | 1. estimate | cross-fit probabilities, then the confident joint: $\hat T$, $\hat\varepsilon$ (runs high: $+(1-\kappa)(1-a)$) | `train.out_of_sample_probs`, `noise.estimate_transition`, `noise.estimate_noise_rate` |
# | 2. predict | $r_{\text{opt}} = (r^*-\hat\kappa)/(1-\hat\kappa)$: a candidate and the prior; distrust it for pair-like or human noise | `theory.optimal_smooth_rate` |
# | 3. validate | 5-fold on the noisy labels: each rate's epoch from all folds, then the one-SE rule toward the prior; refit $\hat\varepsilon$ with the chosen rate and epoch | `train.select_smooth_rate`, `train.out_of_sample_probs(smooth_rate=..., epochs=...)` |
# | 4. train | the chosen $r$ on all data for its validated number of epochs, the same settings | `train.fit(..., epochs=...)` |
# | 5. report | the cross-validated noisy accuracy ± SE; a T-corrected range only under symmetric noise | `theory.clean_accuracy_estimate` |
#
# A warm-up with CE (lesson 03) helps very negative rates on deep networks; the recipe as
# evaluated here does not use one, so validate it like any other setting if you add it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 8. Exercises
#
# **Exercise 1.** A model has clean accuracy 0.8. What accuracy do you expect it to score against
# labels with symmetric noise $\varepsilon = 0.6$ and $K = 10$?

# %%
answer = None  # your answer

# %%
ex.check_noisy_accuracy(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = theory.noisy_accuracy(0.8, 0.6, 10)
assert ex.check_noisy_accuracy(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** With $K = 4$ classes, up to which symmetric noise rate does noisy-validation
# accuracy still rank models as clean accuracy does?

# %%
answer = None  # your answer

# %%
ex.check_ranking_limit(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = (4 - 1) / 4
assert ex.check_ranking_limit(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** Your model scores 0.45 on a noisy validation split; you estimated a symmetric
# noise rate of 0.5 ($K = 10$). Estimate its clean accuracy.

# %%
answer = None  # your answer

# %%
ex.check_corrected_accuracy(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = theory.clean_accuracy_estimate(0.45, 0.5, 10)
assert ex.check_corrected_accuracy(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. Explore the recipe
#
# Pick a hidden noise kind and strength: the explorer runs the whole recipe on seed 0 (about
# ten seconds: five folds of every rate, then the retrain) and shows the hidden $T$, the estimated
# $\hat T$, and the cross-validated noisy accuracy against the clean test accuracy of the final
# models per rate, with the chosen rate (star), the oracle (ring) and the theory's rate (dashed).
# (In the book you see precomputed frames.)

# %%
widgets.recipe_explorer("pairflip", 0.3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 10. At paper scale
#
# On a GPU the natural test of the recipe is CIFAR-10N, whose `worst` labels are real human
# noise (lesson 05). The pieces exist: `python -m nls_lessons.paper --dataset cifar10
# --noise worst ...` trains on the human labels, and `noise.estimate_transition` runs on any
# (N, K) probabilities. What the paper-scale command line does **not** do yet is cross-validate
# on the noisy labels: it reports the best test-set epoch, as the official code does (it keeps
# the best test accuracy; the paper's text does not say how its epoch is chosen). Running the
# recipe there means cross-fitting a ResNet (5 folds for each candidate rate) on the 50,000
# training images; we have not run it, so the course makes no claim about its numbers.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Recap
#
# - Estimate the noise from the labels you have: cross-fitted probabilities plus cleanlab's
#   confident joint give $\hat T$ and $\hat\varepsilon$. They run high by about
#   $(1-\kappa)(1-a)$: the out-of-fold model's own errors count as label errors. A better
#   out-of-fold model (the validated rate and epoch) shrinks the bias; the labels alone cannot
#   remove it.
# - The theory's $r_{\text{opt}}$ is a candidate, steep near $\kappa \to 1$ and wrong in sign for
#   pair-like noise; validation decides.
# - Under symmetric noise, accuracy on noisy labels is $\varepsilon/(K-1) + (1-\kappa)\,$acc:
#   lower, ranked the same in expectation. Use every label (k-fold), look at the paired SE, choose
#   the epoch on all folds at once, and report the cross-validated noisy accuracy with its SE.
# - On held-out digits splits and seeds the recipe lands within 1.4 points of an oracle that sees
#   clean labels on average in every setting (worst run 5.0), beats CE clearly under heavy symmetric
#   and pair-flip noise, and matches it where the rates cannot be told apart (low noise, human-like).
#
# **Paper:** [Wei et al., ICML 2022, arXiv 2106.04149](https://arxiv.org/abs/2106.04149) (the
# course's numbering follows the ICLR 2022 submission, OpenReview UQQgMRq58O). **Tools:**
# confident learning, Northcutt, Jiang & Chuang, JAIR 2021 (`cleanlab`).
