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
# - choose $r$ *and* the stopping epoch on a noisy validation split, and derive why that works;
# - judge the whole recipe against an oracle that sees the clean labels.
#
# Lessons 01-05 always knew the noise rate, and picked the best epoch on a clean test set, as
# the paper and its official code do. On your own data you have neither. This lesson is the
# course's own recipe, built from standard tools; it is not in the paper.

# %% slideshow={"slide_type": "-"}
# %matplotlib inline
import dataclasses

import numpy as np
import pandas as pd

from nls_lessons import data, noise, plots, theory, train, widgets
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

# %% [markdown]
# What to see: the estimate finds the structure (a strong diagonal, the rest spread over every
# class) and a noise rate in the right region, but it **over-estimates** it, by about 0.1 here.
# A linear model's own mistakes on hard digits look exactly like label errors to confident
# learning: "the model is sure this 8 is a 3" counts as a flipped label whether the label or
# the model is wrong. A better model gives a better estimate; treat $\hat\varepsilon$ as
# approximate.

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: the estimate lands near the realised rate, on the high side (measured over 3 seeds and
# 3 noise kinds: +0.05 to +0.10 above the realised rate).
assert 0.0 < eps_est - eps_real < 0.15, (eps_est, eps_real)
assert np.all(np.diag(T_est) > T_est.max(axis=1) - 1e-12), "every class's own label is the most likely"

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
# ## 4. Choose r on a noisy validation split
#
# Hold out 20 % of the noisy training set. It has noisy labels too, so can it rank models? Under
# symmetric noise a prediction scores on a noisy label when it is right and the label stayed
# ($1-\varepsilon$), or when it is wrong and the label moved to exactly the predicted class
# ($\varepsilon/(K-1)$):
#
# $$\text{acc}_{\text{noisy}} = (1-\varepsilon)\,\text{acc} + \frac{\varepsilon\,(1-\text{acc})}{K-1}
#   = \frac{\varepsilon}{K-1} + (1-\kappa)\,\text{acc}.$$
#
# It is a straight line in the clean accuracy with slope $1-\kappa$: **increasing while
# $\varepsilon < (K-1)/K$**. Noisy-validation accuracy is lower, but it orders models exactly as
# clean accuracy would (in expectation; a finite split adds sampling noise). Under a
# class-dependent $T$ the slope differs per class, so a model that confuses the classes the
# noise confuses gets credit for it: there noisy validation can mislead.
#
# `train.select_smooth_rate` trains every candidate rate on the other 80 % (paired: one
# initialisation and batch order per seed), stops each model at its best *noisy-validation*
# epoch, and picks the rate with the best noisy-validation accuracy. About 250 noisy labels
# make exact ties common; a tie goes to the candidate closest to `prior_rate`, here the
# theory's prediction (the course's rule: validation decides where it can, theory breaks ties).
# It reports the clean test accuracy of the same models at the same epochs, for judging only.

# %% slideshow={"slide_type": "subslide"}
r_theory = round(theory.optimal_smooth_rate(eps_est, 10), 2)
candidates = sorted(set(widgets.RECIPE_RATES) | {r_theory})
chosen, table = train.select_smooth_rate(mine, candidates, validation_fraction=0.2, seeds=(0, 1),
                                         prior_rate=r_theory, **widgets.RECIPE_TRAIN)
by_rate = table.groupby("smooth_rate")[["val_acc", "val_epoch", "test_acc"]].mean()
print(f"chosen r = {chosen:g} (theory predicted {r_theory:g})")
(100 * by_rate[["val_acc", "test_acc"]]).round(1).T

# %% slideshow={"slide_type": "subslide"}
plots.validation_vs_test(by_rate, chosen=chosen, oracle=by_rate["test_acc"].idxmax(), theory=r_theory)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The two curves have different scales (the noisy one can reach at most $1-\varepsilon$, for a
# perfect model) but roughly the same shape, as the line above predicts; with 250 labels the
# noisy curve is coarse. The **T-corrected estimate** inverts the line with $\hat\varepsilon$:
# $\widehat{\text{acc}} = (\text{acc}_{\text{noisy}} - \hat\varepsilon/(K-1))/(1-\hat\kappa)$.
# Here it runs into 100 % for every rate, and that is informative: no model can score more than
# $1-\varepsilon$ on noisy labels, so a validation accuracy of about 35 % says $\varepsilon \le 0.65$,
# and $\hat\varepsilon \approx 0.70$ must be too high. With the realised rate the correction lands
# close:

# %%
corrected = pd.DataFrame({
    "clean test (%)": 100 * by_rate["test_acc"],
    "noisy validation (%)": 100 * by_rate["val_acc"],
    "corrected with ε̂ (%)": 100 * theory.clean_accuracy_estimate(by_rate["val_acc"].to_numpy(), eps_est, 10),
    "corrected with true ε (%)": 100 * theory.clean_accuracy_estimate(by_rate["val_acc"].to_numpy(), eps_real, 10),
}).round(1)
print(f"validation bound: ε ≤ 1 − best noisy accuracy = {1 - by_rate['val_acc'].max():.3f}  (ε̂ = {eps_est:.3f})")
corrected.T

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claims: (1) noisy validation ranks like clean test: Spearman correlation over the 12 rates
# (measured 0.6-0.9 on these seeds); (2) the correction with the realised rate lands within
# 6 points of the clean accuracy on average (measured about 2-4).
rank = by_rate["val_acc"].rank().corr(by_rate["test_acc"].rank())
assert rank > 0.4, rank
assert (corrected["corrected with true ε (%)"] - corrected["clean test (%)"]).abs().mean() < 6.0, corrected
assert eps_real <= 1 - by_rate["val_acc"].max() < eps_est     # the bound holds and exposes ε̂
assert chosen < 0, chosen     # heavy symmetric noise: the recipe picks NLS

# %% [markdown]
# **The stopping epoch** came from the noisy validation split as well (`val_epoch`), not from the
# test set. The paper's tables, and lessons 04-05, report the best test-set epoch: fine for
# comparing methods, impossible on your own data, and optimistic by construction.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Judge it against the oracle
#
# Three data sets, each with three paired seeds (a seed fixes the noise draw, the folds, the
# split and the models): symmetric noise 0.6, pair-flip 0.3, and a human-like $T$ (the
# CIFAR-10N `worst` annotators' realised $T$, computed from the shipped label files, applied to
# the ten digit classes). For each, the recipe runs end to end with `widgets.recipe_compute`
# (estimate → predict → validate) and we compare the clean test accuracy of
# - **chosen**: the rate the noisy validation split picked;
# - **oracle**: the rate with the best clean test accuracy, same stopping rule (it cheats);
# - **CE** ($r=0$), **LS 0.1** (a common default) and **theory** ($r_{\text{opt}}$ from $\hat\varepsilon$).

# %% slideshow={"slide_type": "subslide"}
SETTINGS = (("symmetric", 0.6), ("pairflip", 0.3), ("human", 0.4))
runs = [widgets.recipe_compute(kind, eps, seed=seed) for kind, eps in SETTINGS for seed in (0, 1, 2)]
report = pd.DataFrame([{"kind": r["kind"], "seed": r["seed"], "realised ε": r["realised_rate"],
                        "estimated ε̂": r["estimated_rate"], "theory r": r["r_theory"],
                        "chosen r": r["chosen_rate"], "oracle r": r["oracle_rate"]} for r in runs])
accuracy = pd.DataFrame([{"kind": r["kind"], "seed": r["seed"], **r["acc"]} for r in runs])
report.round(3)

# %% slideshow={"slide_type": "subslide"}
plots.recipe_comparison(accuracy[["kind", "seed", "CE", "LS 0.1", "theory", "chosen", "oracle"]])

# %% slideshow={"slide_type": "subslide"}
gap = accuracy.assign(**{"oracle − chosen": accuracy.oracle - accuracy.chosen,
                         "chosen − CE": accuracy.chosen - accuracy.CE})
(100 * gap.groupby("kind", sort=False)[["CE", "LS 0.1", "theory", "chosen", "oracle",
                                        "oracle − chosen", "chosen − CE"]].mean()).round(1)

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claims, paired seeds, margins measured first:
# 1. in every setting the chosen rate lands within 3 points of the oracle on average
#    (measured: symmetric 0.4, pair-flip 0.4, human 2.6);
# 2. under heavy symmetric noise the chosen rate beats CE on every seed (measured +1.6 to +3.9).
mean_gap = 100 * gap.groupby("kind")["oracle − chosen"].mean()
assert (mean_gap < 3.0).all(), mean_gap
sym = gap[gap.kind == "symmetric"]
assert (100 * sym["chosen − CE"] > 0.5).all() and 100 * sym["chosen − CE"].mean() > 1.5, sym

# %% [markdown]
# What to see:
# - **Symmetric 0.6**: the recipe picks NLS and gains on CE and LS 0.1 on every seed, close to
#   the oracle. The theory's rate alone (from an over-estimated $\hat\varepsilon$) does about a
#   point worse; validation moves it where the data say.
# - **Pair-flip 0.3**: the theory says NLS, the validation split says LS, and the validation split
#   is right: pair noise is not smoothing (lesson 04).
# - **Human-like noise**: the differences between rates are small and the 250-image noisy
#   validation split cannot resolve them: the recipe is no better than CE here (within a point,
#   below it on average), about 3 points under an oracle that cheats, and the oracle's own lead
#   is partly luck (the best of 12 rates on 540 test images). An honest result: when noisy
#   validation cannot tell the rates apart, neither can you.
# - The paper-style number (best rate *and* best epoch on the clean test set) is higher still:
#   `r["paper_oracle"]` in each run. Do not compare a validated number with it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. The recipe card
#
# | step | what you do | library |
# |---|---|---|
# | 1. estimate | cross-fit probabilities, then the confident joint: $\hat T$, $\hat\varepsilon$ | `train.out_of_sample_probs`, `noise.estimate_transition`, `noise.estimate_noise_rate` |
# | 2. predict | $r_{\text{opt}} = (r^*-\hat\kappa)/(1-\hat\kappa)$ as one candidate; distrust it for pair-like or human noise | `theory.optimal_smooth_rate` |
# | 3. validate | hold out noisy labels; pick $r$ **and** the epoch on them; a symmetric-noise correction reads the accuracy back | `train.select_smooth_rate`, `theory.clean_accuracy_estimate` |
# | 4. train | the chosen $r$ on all data; when $r<0$ is large, warm up with CE first and lower the learning rate (lesson 03) | `train.fit(..., warmup_epochs=..., gls_lr_scale=...)` |
#
# Report the validated accuracy, not a test-set best epoch.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Exercises
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
# ## 8. Explore the recipe
#
# Pick a hidden noise kind and strength: the explorer runs the whole recipe on seed 0 (a few
# seconds) and shows the hidden $T$, the estimated $\hat T$, and noisy-validation against
# clean-test accuracy per rate, with the chosen rate (star), the oracle (ring) and the theory's
# rate (dashed). (In the book you see precomputed frames.)

# %%
widgets.recipe_explorer("pairflip", 0.3)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 9. At paper scale
#
# On a GPU the natural test of the recipe is CIFAR-10N, whose `worst` labels are real human
# noise (lesson 05). The pieces exist: `python -m nls_lessons.paper --dataset cifar10
# --noise worst ...` trains on the human labels, and `noise.estimate_transition` runs on any
# (N, K) probabilities. What the paper-scale command line does **not** do yet is select on a
# noisy validation split: it reports the paper's best test-set epoch. Running the recipe there
# means cross-fitting a ResNet (5 trainings) and a noisy validation split of the 50,000 training
# images; we have not run it, so the course makes no claim about its numbers.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Recap
#
# - Estimate the noise from the labels you have: cross-fitted probabilities plus cleanlab's
#   confident joint give $\hat T$ and $\hat\varepsilon$; with a weak model they over-estimate.
# - The theory's $r_{\text{opt}}$ is a candidate, steep near $\kappa \to 1$ and wrong in sign for
#   pair-like noise; validation decides.
# - Under symmetric noise, accuracy on noisy labels is $\varepsilon/(K-1) + (1-\kappa)\,$acc:
#   lower, but ranked the same, so a noisy validation split can choose $r$ and the epoch.
# - On digits the recipe lands within 3 points of an oracle that sees clean labels in every
#   setting, and beats CE clearly under heavy symmetric noise and pair-flip noise; under the
#   human-like noise it cannot tell the rates apart and does no better than CE.
#
# **Paper:** [Wei et al., ICML 2022, arXiv 2106.04149](https://arxiv.org/abs/2106.04149) (the
# course's numbering follows the ICLR 2022 submission, OpenReview UQQgMRq58O). **Tools:**
# confident learning, Northcutt, Jiang & Chuang, JAIR 2021 (`cleanlab`).
