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
# # 01 · Label noise
#
# **Learning goals.** After this lesson you will be able to
# - say what a *noisy label* is and describe a noise process by its **transition matrix** $T$;
# - build the four kinds of noise the course uses: **symmetric** and **pair-flip** (as the paper's
#   official code draws them), **asymmetric** and **instance-dependent**;
# - inject noise into a label vector with an explicit seed, and measure the *realised* noise
#   rate and the *realised* $T$, which differ from the nominal ones by sampling error;
# - read the real human noise of **CIFAR-10N** and **CIFAR-100N**: how often people got the
#   label wrong, and which classes they confused.
#
# Every later lesson trains on labels corrupted the way this lesson shows, so the vocabulary
# here ($\varepsilon$, $T$, symmetric, pair-flip) is used throughout the course.

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Set-up.** Run this cell first (also when presenting: it is the first code slide).

# %% tags=["hide-input"]
# %matplotlib inline
import numpy as np
import pandas as pd

from nls_lessons import data, noise, plots, widgets
from nls_lessons.exercises import lesson01 as ex

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · What is a noisy label?
#
# A classification data set pairs each input $x$ with a label $y \in \{0, \dots, K-1\}$. Real
# labels come from people (or from scripts that scrape the web), and people make mistakes: a
# tired annotator tags a truck as an *automobile*, a blurry cat as a *dog*. We write $Y$ for
# the **clean** (true) label and $\tilde Y$ for the label we actually get to train on, the
# **noisy** label. The **noise rate** is the probability that the two differ,
#
# $$\varepsilon = P(\tilde Y \neq Y).$$
#
# The model never sees $Y$ during training, only $\tilde Y$. Its *test* accuracy, however, is
# measured against clean labels. The whole course asks one question: which training loss turns
# noisy labels into the best clean-test classifier?

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### The transition matrix $T$
#
# Most noise models in the literature, and the paper's own noise model (ICLR submission, §2.2),
# assume the label flips *depending on the class only*, not on the picture itself. Such a process
# is described completely by a $K \times K$ **transition matrix**
#
# $$T_{ij} = P(\tilde Y = j \mid Y = i), \qquad \sum_{j} T_{ij} = 1 \text{ for every row } i.$$
#
# Row $i$ is the distribution of noisy labels for an image whose true class is $i$; the diagonal
# $T_{ii}$ is the chance that class $i$ keeps its label. With class proportions $\pi_i$ the
# overall noise rate is $\varepsilon = \sum_i \pi_i \,(1 - T_{ii})$. Clean labels are $T = I$.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · Three class-dependent noise models
#
# **Symmetric** noise (the paper's main setting; this is how its official code draws it): keep the
# label with probability $1-\varepsilon$, otherwise move to one of the *other* $K-1$ classes
# uniformly at random,
#
# $$T^{\text{sym}} = (1-\varepsilon)\, I + \frac{\varepsilon}{K-1}\,(J - I),$$
#
# where $J$ is the all-ones matrix. Every wrong class is equally likely, so symmetric noise
# carries no structure a model could exploit.
#
# **Pair-flip** noise swaps each class with one fixed partner with probability $\varepsilon$.
# For $K = 10$ the library uses the official code's CIFAR-10 pairs (airplane↔bird,
# automobile↔truck, cat↔dog, deer↔horse, frog↔ship), i.e. classes 0↔2, 1↔9, 3↔5, 4↔7, 6↔8; for
# other $K$ it pairs neighbours (0↔1, 2↔3, ...), a choice of the course. The course reads the
# paper's "asymmetric" CIFAR-10 results as this pair-flip noise: it is what the official code
# generates, but which generator the paper's tables used is not confirmed.
#
# **Asymmetric** noise (Patrini et al., 2017; in the course as an extension, not the noise of the
# paper's "asymmetric" columns) flips only *some* classes, one way, to a similar class:
# truck→automobile, bird→airplane, deer→horse, cat↔dog. The other five classes stay clean.
#
# Let us draw the three matrices for $K = 10$ and $\varepsilon = 0.4$.

# %% slideshow={"slide_type": "subslide"}
eps = 0.4
kinds = ["symmetric", "pairflip", "asymmetric"]
Ts = {kind: noise.transition_matrix(kind, 10, eps) for kind in kinds}
plots.transition_heatmaps({f"{kind}, ε = {eps}": Ts[kind] for kind in kinds})

# %% [markdown]
# **What to see.** Every matrix has a bright diagonal (the label survives with probability
# $1-\varepsilon = 0.6$). The symmetric matrix spreads the remaining $0.4$ as a faint uniform haze
# of $0.4/9 \approx 0.044$ over every off-diagonal cell. Pair-flip puts all of it into one bright
# cell per row, mirrored across the diagonal. Asymmetric noise has five rows that are pure
# diagonal (classes that never flip) and five that flip one way.
#
# Every row is a probability distribution. The next cell checks it, and checks the overall
# noise rate of symmetric and pair-flip noise on balanced classes.

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
for kind, T in Ts.items():
    assert np.allclose(T.sum(axis=1), 1.0, atol=1e-12) and (T >= 0).all(), kind
overall = {kind: float(np.mean(1 - np.diag(T))) for kind, T in Ts.items()}
assert np.isclose(overall["symmetric"], eps) and np.isclose(overall["pairflip"], eps)
assert np.isclose(overall["asymmetric"], eps / 2)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · Injecting noise with a seed
#
# To corrupt a data set we draw, for every sample $n$ independently, a noisy label from row
# $y_n$ of $T$:
#
# $$\tilde y_n \sim \text{Categorical}(T_{y_n, \cdot}).$$
#
# `noise.inject(labels, T, seed)` does exactly that. The seed is explicit: the same seed always
# gives the same noisy labels, so every experiment in the course can be rerun number for number.
# We use the course's workhorse data set, scikit-learn's 8×8 handwritten **digits** (1,797
# images, $K = 10$; `data.digits` splits it 70/30 into 1,257 training and 540 test images).

# %%
digits = data.digits(seed=0)
y_clean = digits.y_train.numpy()
T_sym = noise.transition_matrix("symmetric", 10, 0.2)
y_noisy = noise.inject(y_clean, T_sym, seed=0)
print("first 15 clean:", y_clean[:15])
print("first 15 noisy:", y_noisy[:15])

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Nominal versus realised noise
#
# The matrix we *asked for* is the **nominal** $T$. What we *got* is a finite sample from it:
# the **realised** noise rate $\hat\varepsilon = \frac1N \sum_n [\tilde y_n \ne y_n]$ and the
# **realised** matrix $\hat T_{ij}$, the fraction of class-$i$ samples that ended up labelled
# $j$. Each label flips independently with probability $\varepsilon$, so the number of flips is
# binomial and
#
# $$\operatorname{sd}(\hat\varepsilon) = \sqrt{\frac{\varepsilon(1-\varepsilon)}{N}},
# \qquad \operatorname{sd}(\hat T_{ij}) = \sqrt{\frac{T_{ij}(1-T_{ij})}{N_i}},$$
#
# with $N_i$ the number of samples of class $i$. With $N = 1{,}257$ and $\varepsilon = 0.2$ the
# realised rate wanders by about one percentage point from seed to seed, and single entries of
# $\hat T$ (about 126 samples per row) by several points.

# %%
realised = noise.noise_rate_of(y_clean, y_noisy)
sd = np.sqrt(0.2 * 0.8 / len(y_clean))
print(f"nominal rate 0.2, realised rate {realised:.4f}, binomial sd = {sd:.4f}, "
      f"z = {(realised - 0.2) / sd:+.2f}")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: the realised rate lies within sampling error of ε (4 binomial standard deviations).
for seed in range(20):
    rate = noise.noise_rate_of(y_clean, noise.inject(y_clean, T_sym, seed=seed))
    assert abs(rate - 0.2) < 4 * sd, (seed, rate)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The realised matrix, side by side with the nominal one:

# %%
T_hat = noise.empirical_transition(y_clean, y_noisy, 10)
fig = plots.transition_heatmaps({"nominal T (symmetric, ε = 0.2)": T_sym, "realised T̂ (1,257 labels)": T_hat},
                               vmax=0.07, figsize=(7.2, 3.3))
off_hat = T_hat[~np.eye(10, dtype=bool)]
print(f"realised diagonal: {np.diag(T_hat).min():.3f} to {np.diag(T_hat).max():.3f} (nominal 0.8); "
      f"off-diagonal: {off_hat.min():.3f} to {off_hat.max():.3f} (nominal {0.2 / 9:.3f})")
fig

# %% [markdown]
# **What to see.** The colour scale stops at $0.07$ so that the faint off-diagonal entries are
# visible (the diagonal saturates). The nominal haze is perfectly even at $0.2/9 \approx 0.022$;
# the realised one is blotchy, with some cells at exactly $0$ and others about three times the
# nominal value, and the realised diagonal wanders by several points around $0.8$. Each row holds
# only about 126 labels. Below we check that every entry still lies within 4 standard deviations
# of its nominal value.

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: realised T ≈ nominal T, entry by entry within 4 binomial standard deviations.
n_per_class = np.bincount(y_clean, minlength=10)[:, None]
sd_T = np.sqrt(T_sym * (1 - T_sym) / n_per_class)
gap = np.abs(T_hat - T_sym)
print(f"max |T̂ − T| = {gap.max():.3f} (largest allowed: {4 * sd_T.max():.3f})")
assert (gap <= 4 * sd_T).all()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### More labels, smaller gap
#
# The sampling error shrinks like $1/\sqrt{N}$. To see it, corrupt the 50,000 clean CIFAR-10
# training labels (shipped with the course's CIFAR-N files) with the same $T$: now each row holds
# about 5,000 labels and $\hat T$ is almost indistinguishable from $T$.

# %%
cifar_clean, _ = data.load_cifar_n("cifar10", "aggre")
cifar_noisy = noise.inject(cifar_clean, T_sym, seed=0)
T_hat_big = noise.empirical_transition(cifar_clean, cifar_noisy, 10)
print(f"N = {len(cifar_clean):,}: realised rate {noise.noise_rate_of(cifar_clean, cifar_noisy):.4f}, "
      f"max |T̂ − T| = {np.abs(T_hat_big - T_sym).max():.4f}")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
n_big = np.bincount(cifar_clean, minlength=10)[:, None]
assert (np.abs(T_hat_big - T_sym) <= 4 * np.sqrt(T_sym * (1 - T_sym) / n_big)).all()
assert np.abs(T_hat_big - T_sym).max() < gap.max() / 3   # 40x the labels: about 6x smaller gap

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · Instance-dependent noise
#
# Human mistakes depend on the *image*: a truck photographed from the front looks more like a
# car than one seen from the side. **Instance-dependent** noise lets the flip depend on $x$.
# The official repository ships a generator for it (`noisify_instance`, commented out in its
# scripts); `noise.instance_dependent` follows its scheme. For each sample it draws a flip rate
# $q_n \sim \mathcal N(\varepsilon, 0.1^2)$ truncated to $(0, 1)$, projects the features with a
# random matrix $W$, and flips to class $j \ne y_n$ with probability
#
# $$P(\tilde y_n = j \mid x_n, y_n) = q_n\, \operatorname{softmax}_{j \ne y_n}(x_n^\top W), \qquad
# P(\tilde y_n = y_n \mid x_n) = 1 - q_n .$$
#
# There is no single $T$ any more: each sample has its own row. We can still *measure* an average
# $\hat T$ by counting, as for CIFAR-N below. Two choices here are the course's own: it projects
# standardised features (the official code feeds raw 0-255 pixels, which makes each image flip to
# essentially one class), and $\varepsilon = 0$ returns the clean labels, where the official
# generator would still flip about 8 % (the truncated normal around 0 has mean about 0.08).

# %% slideshow={"slide_type": "subslide"}
y_inst = noise.instance_dependent(digits.x_train, y_clean, 0.4, seed=0)
T_inst = noise.empirical_transition(y_clean, y_inst, 10)
print(f"instance-dependent, ε = 0.4: realised rate {noise.noise_rate_of(y_clean, y_inst):.3f}")
plots.transition_heatmap(T_inst, title="realised T̂, instance-dependent, ε = 0.4")

# %% [markdown]
# **What to see.** The realised rate is close to $0.4$, but unlike the symmetric haze the
# off-diagonal mass sits in a few bright cells per row: the projection $x^\top W$ prefers a
# handful of wrong classes for each digit, so the flips are *structured*, as human mistakes are.

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
rate_inst = noise.noise_rate_of(y_clean, y_inst)
assert abs(rate_inst - 0.4) < 4 * np.sqrt(0.4 * 0.6 / len(y_clean)) + 0.01, rate_inst
off_diag = T_inst[~np.eye(10, dtype=bool)]
assert off_diag.max() > 3 * 0.4 / 9    # some wrong class gets far more than the uniform share

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · Explore: noise type and rate
#
# Pick a noise type and move the $\varepsilon$ slider. The left heatmap is the nominal $T$, the
# middle one the matrix realised on all 1,797 digit labels, and the grid shows digits captioned
# *clean → noisy* (flipped labels in orange, bold). Things to try:
# - Symmetric noise at $\varepsilon = 0.9$: what does the diagonal look like, and why is
#   $\varepsilon = 0.9$ (that is $(K-1)/K$) the point where labels carry no information at all?
# - Pair-flip at $\varepsilon = 0.5$: can a model still tell a 1 from a 9 when half of each is
#   labelled as the other?
#
# (In the static book there is no kernel: the sliders there swap precomputed pictures.)

# %%
widgets.noise_explorer()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6 · Real human noise: CIFAR-10N and CIFAR-100N
#
# Wei et al. (ICLR 2022) had the 50,000 CIFAR-10 training images relabelled by Amazon Mechanical
# Turk workers, three per image, and released the labels as **CIFAR-10N**:
# - `random1`, `random2`, `random3`: the label of one worker each;
# - `aggre`: the majority vote of the three (ties broken at random);
# - `worst`: a wrong label whenever any of the three workers gave one.
#
# **CIFAR-100N** has one human label per image over the 100 fine classes. The course ships these
# label files; `data.load_cifar_n` returns the clean and the noisy labels. Their noise rates:

# %%
label_sets = [("cifar10", s) for s in ("aggre", "random1", "random2", "random3", "worst")]
label_sets.append(("cifar100", "noisy"))
rates = {f"{d}/{s}": noise.noise_rate_of(*data.load_cifar_n(d, s)) for d, s in label_sets}
pd.Series(rates, name="noise rate").round(4).to_frame()

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: the CIFAR-N noise rates, exactly (to 4 decimals).
expected = {"cifar10/aggre": 0.0901, "cifar10/random1": 0.1723, "cifar10/random2": 0.1812,
            "cifar10/random3": 0.1764, "cifar10/worst": 0.4021, "cifar100/noisy": 0.4020}
assert {k: round(v, 4) for k, v in rates.items()} == expected

# %% [markdown]
# Majority voting (`aggre`) cuts a single worker's 17–18 % error to 9 %, and taking the worst of
# three raises it to 40 %, close to the 40 % of CIFAR-100N, where a single worker must choose
# among 100 classes. Lessons 04 and 05 return to these rates: whether 40 % counts as high noise
# depends on the clean problem. For *symmetric* noise at that rate the paper's theory (Theorem 7,
# ICLR numbering, which assumes symmetric noise) favours *negative* label smoothing unless plain
# training on clean data already liked a large smooth rate (lesson 04); the `worst` labels are far
# from symmetric (next cell), so the theorem does not speak to them directly.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Which classes do people confuse?
#
# The realised $\hat T$ of the `worst` label set, with CIFAR-10's class names:

# %%
clean_w, noisy_w = data.load_cifar_n("cifar10", "worst")
T_worst = noise.empirical_transition(clean_w, noisy_w, 10)
names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
plots.transition_heatmap(T_worst, class_names=names, title="CIFAR-10N worst: realised T̂", vmax=0.8)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What to see.** Human noise is *not* symmetric. The diagonal varies by class (cats keep their
# label least often, horses most), and the off-diagonal mass concentrates in a few bright
# cells, mostly mirrored pairs: **automobile ↔ truck** and **cat ↔ dog**, then deer → horse. The
# most confused pairs, computed:

# %%
off = pd.DataFrame(T_worst, index=names, columns=names).stack()
off = off[[i != j for i, j in off.index]].sort_values(ascending=False)
# per pair of classes, the mean of its two entries T̂[i, j] and T̂[j, i] (which way is larger:
# exercise 4)
pairs = off.groupby([" ↔ ".join(sorted(ij)) for ij in off.index]).mean().sort_values(ascending=False)
pairs.head(4).round(2).rename("mean of P(i → j), P(j → i)").rename_axis("pair of classes").to_frame()

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
top4 = {frozenset(pair) for pair in off.index[:4]}
assert top4 == {frozenset(("automobile", "truck")), frozenset(("cat", "dog"))}, off.head(4)
assert off.iloc[0] > 0.2 and off.iloc[3] > 0.15

# %% [markdown]
# Such pairs are what the **pair-flip** model imitates. Lesson 04 returns to pair-flip noise: on
# the course's digits, ordinary label smoothing stays the better choice there, while under heavy
# symmetric noise negative smoothing wins. In the paper's CIFAR-10 table (Table 2 of the ICLR 2022
# submission, the numbering the course follows; the course could not read the ICML paper's
# tables) the "asymmetric" columns are mixed: at 20 % the best LS rate wins (90.49 % against
# 89.70 % for the best NLS rate), at 30 % an NLS rate wins narrowly (88.33 % against 87.90 %).

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: those values, read from the shipped copy of the ICLR submission's Table 2 (data/paper).
from nls_lessons import paper

asym = paper.paper_table2().query("dataset == 'cifar10' and noise == 'pairflip'")
best_ls = asym[asym.smooth_rate > 0].groupby("noise_rate")["mean"].max()
best_nls = asym[asym.smooth_rate < 0].groupby("noise_rate")["mean"].max()
assert (best_ls[0.2], best_nls[0.2]) == (90.49, 89.70) and (best_ls[0.3], best_nls[0.3]) == (87.90, 88.33)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7 · Exercises
#
# Each exercise has a starter cell: replace `None` by your answer and run it, then run the check
# cell below it. The check tells you whether you are right and why, or gives a hint. The worked
# solution sits in a collapsed cell after the check; open it only once you have tried.
#
# **Exercise 1.** Symmetric noise with $K = 10$ and $\varepsilon = 0.3$. What is the
# off-diagonal entry $T_{2,5}$ (the probability that a clean 2 is labelled 5)?

# %%
answer = None  # your answer: a number

# %%
ex.check_symmetric_entry(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = 0.3 / 9
assert ex.check_symmetric_entry(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** We inject symmetric noise with $\varepsilon = 0.3$ into $N = 1{,}257$ labels.
# What is the standard deviation of the realised noise rate $\hat\varepsilon$ across seeds?

# %%
answer = None  # your answer: a number, e.g. 0.05

# %%
ex.check_rate_sd(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = np.sqrt(0.3 * 0.7 / 1257)
assert ex.check_rate_sd(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** The library's `"asymmetric"` noise for $K = 10$ at $\varepsilon = 0.3$: what
# fraction of labels changes on a data set with equally many images per class? (Look at the
# heatmap in section 2 before you compute.)

# %%
answer = None  # your answer: a number in [0, 1]

# %%
ex.check_asymmetric_rate(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = 5 / 10 * 0.3
assert ex.check_asymmetric_rate(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 4.** In the CIFAR-10N `worst` labels, which *clean* class is most often given one
# particular wrong label? Answer with the class name (for example `"bird"`) or its index.

# %%
answer = None  # your answer: a class name or index

# %%
ex.check_most_confused_class(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = off.index[0][0]
assert ex.check_most_confused_class(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Recap
#
# - A noisy label $\tilde Y$ differs from the clean $Y$ with probability $\varepsilon$. For
#   class-dependent noise the transition matrix $T_{ij} = P(\tilde Y = j \mid Y = i)$ says
#   everything; its rows sum to 1.
# - Symmetric noise spreads $\varepsilon$ evenly over the other $K-1$ classes; pair-flip sends it
#   to one partner class; asymmetric noise flips only some classes; instance-dependent noise lets
#   the image decide.
# - `noise.inject(labels, T, seed)` corrupts labels reproducibly. The *realised* rate and
#   $\hat T$ differ from the nominal ones by binomial sampling error, about
#   $\sqrt{\varepsilon(1-\varepsilon)/N}$; on 1,257 digits that is about one point.
# - Human noise (CIFAR-10N) ranges from 9 % (majority vote) to 40 % (worst of three) and is
#   structured: automobile ↔ truck, cat ↔ dog.
#
# **Paper:** Wei et al., *To Smooth or Not? When Label Smoothing Meets Noisy Labels*, ICML 2022,
# [arXiv 2106.04149](https://arxiv.org/abs/2106.04149). Section and table numbers in this course
# follow the authors' ICLR 2022 submission of the same work, *Understanding Generalized Label
# Smoothing when Learning with Noisy Labels* ([OpenReview UQQgMRq58O](https://openreview.net/forum?id=UQQgMRq58O)).
# CIFAR-N: Wei et al., ICLR 2022, [arXiv 2110.12088](https://arxiv.org/abs/2110.12088).
#
# **Next:** [02 · Label smoothing](02_label_smoothing.ipynb): the smoothed target, why symmetric
# noise already *is* a kind of smoothing, and when adding more helps.
