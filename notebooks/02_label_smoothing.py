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
# # 02 · Label smoothing
#
# **Learning goals.** After this lesson you will be able to
# - write down the label-smoothing (LS) target $(1-r)\,y + r/K$ and the LS loss
#   $(1-r)\,\mathrm{CE} + r\,\mathrm{CE}(\text{uniform})$, and check that the library's loss is
#   exactly PyTorch's `cross_entropy(label_smoothing=r)`;
# - explain why LS stops a model from pushing its confidence to 1, and what that does to
#   **calibration** (ECE, reliability diagrams);
# - show that symmetric label noise is itself a kind of smoothing, with rate
#   $\kappa = K\varepsilon/(K-1)$, so that LS on top of noisy labels smooths *twice*;
# - measure, with paired seeds, that a well-chosen LS rate beats plain cross-entropy at 20 %
#   symmetric noise.
#
# Lesson 01 built the noise; this lesson builds the first remedy, and ends with the question that
# the rest of the course answers: if noise already smooths, when is adding more smoothing too much?

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Set-up.** Run this cell first (also when presenting: it is the first code slide).

# %% tags=["hide-input"]
# %matplotlib inline
import os

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from nls_lessons import data, losses, metrics, noise, plots, theory, train, widgets
from nls_lessons.exercises import lesson02 as ex

# These models are tiny: one CPU thread trains them fastest. With one thread per core, PyTorch's
# threads wait for each other whenever another program uses a core (10-20x slower on a busy
# 2-core machine). Set OMP_NUM_THREADS before starting Jupyter to choose otherwise.
if "OMP_NUM_THREADS" not in os.environ:
    torch.set_num_threads(1)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1 · The smoothed target
#
# A classifier with $K$ classes outputs logits $z \in \mathbb R^K$ and probabilities
# $p = \operatorname{softmax}(z)$. Plain **cross-entropy** (CE) compares $p$ with the one-hot
# label $y$ and is smallest when $p_y = 1$: it rewards the model for ever more confidence.
# **Label smoothing** (Szegedy et al., 2016) replaces the one-hot target by a mixture with the
# uniform distribution $u = \mathbf 1/K$:
#
# $$\tilde y^{\,r} = (1-r)\,y + r\,u = (1-r)\,y + \frac{r}{K}\,\mathbf 1, \qquad r \in [0, 1].$$
#
# The label's entry becomes $1 - r + r/K$ and every other entry $r/K$; the entries still sum to 1.
# The worked example of the paper's ICLR 2022 submission: $K = 3$, $r = 0.3$ turns $[0, 1, 0]$ into
# $[0.1, 0.8, 0.1]$.

# %% slideshow={"slide_type": "subslide"}
print(losses.gls_targets([1], num_classes=3, smooth_rate=0.3))
fig, axes = plots.new_figure(1, 3, figsize=(14, 3.8))
for ax, r in zip(axes, [0.0, 0.2, 0.8]):
    target = losses.gls_targets([3], 10, r)[0]
    plots.target_bars(target, label=3, smooth_rate=r, ax=ax)
fig

# %% [markdown]
# **What to see.** With $r = 0$ (plain CE) all the mass sits on the label, class 3. At $r = 0.2$
# the label keeps $0.82$ and each of the nine other classes gets $0.02$; at $r = 0.8$ the label
# keeps only $0.28$, still the largest entry. At $r = 1$ the target would be uniform and the label
# would carry no information at all.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2 · The LS loss, and PyTorch's `label_smoothing`
#
# Cross-entropy with a soft target $t$ is $\mathrm{CE}(t, p) = -\sum_k t_k \log p_k$. It is
# *linear* in $t$, so the LS loss splits into two familiar pieces:
#
# $$\ell_r(z, y) = -\sum_k \tilde y^{\,r}_k \log p_k
#   = (1-r)\,\underbrace{(-\log p_y)}_{\mathrm{CE}(z,\,y)}
#   + r\,\underbrace{\Big(-\frac1K\sum_k \log p_k\Big)}_{\mathrm{CE}(u,\,p)} .$$
#
# The first term is ordinary CE; the second pulls every class towards the uniform distribution,
# regardless of the label. `losses.gls_loss(logits, labels, r)` computes exactly this (the paper's
# ICLR submission calls it *generalized* label smoothing, GLS, because it lets $r$ go negative, as
# lesson 03 will).
# PyTorch has the same loss built in as `F.cross_entropy(..., label_smoothing=r)`; the two must
# agree for every $r \in [0, 1]$.

# %%
gen = torch.Generator().manual_seed(0)
logits = 3 * torch.randn(256, 10, generator=gen, dtype=torch.float64)
labels = torch.randint(0, 10, (256,), generator=gen)
rates = np.linspace(0, 1, 11)
gaps = [float((losses.gls_loss(logits, labels, r)
               - F.cross_entropy(logits, labels, label_smoothing=float(r))).abs()) for r in rates]
print(f"largest |gls_loss − torch| over r in [0, 1]: {max(gaps):.1e}")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: gls_loss equals torch's label_smoothing loss (and the soft-target CE) to 1e-6 on [0, 1].
assert max(gaps) < 1e-6
for r in rates:
    soft = -(losses.gls_targets(labels, 10, r) * F.log_softmax(logits, -1)).sum(-1).mean()
    assert abs(float(losses.gls_loss(logits, labels, r) - soft)) < 1e-6, r
    z32 = logits.float()
    assert abs(float(losses.gls_loss(z32, labels, r) - F.cross_entropy(z32, labels, label_smoothing=float(r)))) < 1e-6

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### LS caps the confidence it rewards
#
# How does the loss depend on the probability $p_y$ the model gives to the label? Suppose the model
# spreads the rest evenly, $p_k = (1-p_y)/(K-1)$ for $k \ne y$. CE, $-\log p_y$, keeps falling all
# the way to $p_y = 1$. The LS loss has a minimum *inside*: it is smallest when $p$ equals the
# target, at
#
# $$p_y^\star = 1 - r + \frac rK ,$$
#
# and *rises* again if the model becomes more confident than that. The figure shows one curve per $r$.

# %% slideshow={"slide_type": "subslide"}
plots.loss_curves(smooth_rates=(0.0, 0.1, 0.4, 0.8), ylim=(0, 6))

# %% [markdown]
# **What to see.** The CE curve ($r = 0$) decreases monotonically towards $0$ at $p_y = 1$. Every
# LS curve turns upward before $p_y = 1$: at $r = 0.1$ the minimum sits at $p_y = 0.91$, at $r = 0.4$
# at $0.64$, at $r = 0.8$ at $0.28$. An LS-trained model has no reason to be more confident than
# $1 - r + r/K$, even on training examples it gets right.

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
p_grid = np.linspace(0.001, 0.999, 9981)
for r in (0.1, 0.4, 0.8):
    p_best = p_grid[np.argmin(plots.gls_loss_vs_py(p_grid, r, 10))]
    assert abs(p_best - (1 - r + r / 10)) < 1e-3, (r, p_best)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3 · Explore the target and the loss
#
# Divide the LS loss by $1-r$ (a positive number for $r<1$, so the minimiser does not change):
#
# $$\frac{\ell_r}{1-r} = \mathrm{CE}(z, y) + \lambda\,\mathrm{CE}(u, p), \qquad \lambda = \frac{r}{1-r} .$$
#
# So LS is CE plus a pull towards uniform of weight $\lambda$: $\lambda = 0$ for CE, $0.25$ at
# $r = 0.2$, $4$ at $r = 0.8$, and $\lambda \to \infty$ as $r \to 1$, where the label is ignored.
# (Lesson 03 writes the loss in logits, with a label term that is linear instead of CE; there the
# uniform term's weight is $1/(1-r)$. Both are the same loss.)
#
# Move the slider (it also goes below 0: that is negative label smoothing, the topic of lesson 03,
# where $\lambda < 0$). Left: the target of label 3 among $K = 10$ classes. Middle: the loss against
# $p_y$, your $r$ in black. Right: the weight $\lambda = r/(1-r)$ of the uniform term.

# %%
widgets.smoothing_explorer(smooth_rate=0.2)

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: ℓ_r / (1 − r) = CE + λ·CE(u, p) with λ = r/(1 − r) (and not 1/(1 − r)).
log_p = F.log_softmax(logits, -1)
ce, ce_uniform = F.nll_loss(log_p, labels), -log_p.mean(-1).mean()
for r in (0.1, 0.2, 0.5, 0.8):
    assert abs(float(losses.gls_loss(logits, labels, r) / (1 - r) - (ce + r / (1 - r) * ce_uniform))) < 1e-9, r
    assert abs(float(losses.gls_loss(logits, labels, r) / (1 - r) - (ce + 1 / (1 - r) * ce_uniform))) > 0.1, r

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4 · Calibration: LS curbs over-confidence
#
# A classifier is **calibrated** when its confidence matches its accuracy: among the test images
# on which it reports 80 % confidence (the largest softmax probability), 80 % should be right. The
# **expected calibration error** bins the test set by confidence and averages the gaps,
#
# $$\mathrm{ECE} = \sum_{b} \frac{n_b}{N}\,\big|\operatorname{acc}(b) - \operatorname{conf}(b)\big| ,$$
#
# and a **reliability diagram** plots accuracy against confidence per bin (the diagonal is perfect
# calibration; points below it mean over-confidence). Müller, Kornblith & Hinton (2019) showed that
# LS improves calibration of networks that CE makes over-confident.
#
# To see it we need an over-confident model. We train a small MLP on **MNIST-1D** (Greydanus 2020;
# 1-D signals of 10 classes, hard enough that the MLP reaches only about 50 % test accuracy, yet CE
# makes it far more confident than that), once with CE and once with LS at $r = 0.1$. Both runs of a
# seed share the data, the initial weights and the batch order (`train.fit` pairs them), so they
# differ only in the loss. The ten runs take about 20 s on one laptop core; the bars show their
# progress.

# %% slideshow={"slide_type": "subslide"}
mnist = data.mnist1d(n=2000, seed=0)
seeds = range(5)
runs = {(r, s): train.fit(mnist, r, 0.0, s, model="mlp", progress=True)
        for r in (0.0, 0.1) for s in seeds}
test_logits = {key: fit.model(mnist.x_test).detach() for key, fit in runs.items()}
ece = pd.DataFrame([{"smooth_rate": r, "seed": s,
                     "ECE (%)": 100 * metrics.expected_calibration_error(z, mnist.y_test),
                     "accuracy (%)": 100 * metrics.accuracy(z, mnist.y_test)}
                    for (r, s), z in test_logits.items()])
ece.pivot(index="seed", columns="smooth_rate", values=["ECE (%)", "accuracy (%)"]).round(1)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The reliability diagram of seed 0:

# %%
fig, ax = plots.new_figure(figsize=(5.6, 4.2))
for r, name in ((0.0, "CE"), (0.1, "LS r = 0.1")):
    z = test_logits[(r, 0)]
    correct = (z.argmax(-1) == mnist.y_test).numpy()
    plots.reliability_diagram(metrics.confidence(z).numpy(), correct, ax=ax, label=name)
fig

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What to see.** The CE points lie far *below* the diagonal: in its most confident bin (about
# 97 % confidence) the CE model is right only about three times in four. The LS points are much
# closer to the diagonal, though still below it ($r = 0.1$ removes most, not all, of the
# over-confidence), and the ECE in the legend drops by more than half. The accuracy barely moves
# (table above): LS changes how sure the model is far more than what it predicts.

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: on clean data LS lowers ECE compared with CE (paired seeds: same data, init, batches).
ece_wide = ece.pivot(index="seed", columns="smooth_rate", values="ECE (%)")
drop = ece_wide[0.0] - ece_wide[0.1]
print("ECE drop CE → LS per seed (points):", drop.round(1).tolist())
assert (drop > 5).all(), drop          # measured: 14.0 to 18.0 points on every seed
assert drop.mean() > 10, drop.mean()   # measured mean 15.3 (28.6 → 13.2)

# %% [markdown] slideshow={"slide_type": "subslide"}
# LS is not a calibration cure-all, though. On the **digits** with a linear model, CE is already
# nearly calibrated, and LS *overshoots* into under-confidence:

# %%
digits = data.digits(seed=0)
for r in (0.0, 0.1):
    z = train.fit(digits, r, 0.0, 0).model(digits.x_test).detach()
    ece_r = 100 * metrics.expected_calibration_error(z, digits.y_test)
    print(f"digits, linear, r = {r}: ECE = {ece_r:.1f} %, mean confidence "
          f"{metrics.confidence(z).mean():.3f}, accuracy {metrics.accuracy(z, digits.y_test):.3f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# Here the LS model is right more often than it claims (confidence below accuracy), and its ECE is
# *larger* than CE's. The rule of thumb: LS helps calibration when CE is over-confident, which is
# typical for large networks and hard data, and the smooth rate must match the amount of
# over-confidence.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5 · Noise is implicit smoothing
#
# Now bring back the noise of lesson 01. At an input $x$, let $p_k = P(Y = k \mid x)$ be the clean
# posterior. The noisy label is drawn from the row of $T$ of the clean label, so
#
# $$P(\tilde Y = j \mid x) = \sum_i p_i\,T_{ij} = (p^\top T)_j .$$
#
# For symmetric noise, $T_{jj} = 1-\varepsilon$ and $T_{ij} = \varepsilon/(K-1)$ otherwise, hence
#
# $$P(\tilde Y = j \mid x) = (1-\varepsilon)\,p_j + \frac{\varepsilon}{K-1}(1 - p_j)
#   = (1-\kappa)\,p_j + \frac{\kappa}{K}, \qquad \kappa = \frac{K\varepsilon}{K-1}.$$
#
# That is exactly the LS formula with rate $\kappa$, applied to the clean posterior: **noisy labels
# come pre-smoothed**. With $K = 10$, $\varepsilon = 0.6$ gives $\kappa = 2/3$. Let us check it on
# a clean posterior that is 90 % sure of class 3.

# %%
eps, K = 0.6, 10
p_clean = np.full(K, 0.1 / 9)
p_clean[3] = 0.9
p_noisy = p_clean @ noise.transition_matrix("symmetric", K, eps)
kap = theory.kappa(eps, K)
print(f"κ = {kap:.4f}")
print("p_clean @ T          :", p_noisy.round(4))
print("(1 − κ) p_clean + κ/K:", ((1 - kap) * p_clean + kap / K).round(4))

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: symmetric noise maps p to (1 − κ) p + κ/K exactly (and theory.noisy_posterior agrees).
assert np.allclose(p_noisy, (1 - kap) * p_clean + kap / K, atol=1e-12, rtol=0)
assert np.allclose(theory.noisy_posterior(p_clean, eps), p_noisy, atol=1e-12, rtol=0)
rng = np.random.default_rng(0)
P = rng.dirichlet(np.ones(K), size=100)          # 100 random clean posteriors
assert np.allclose(P @ noise.transition_matrix("symmetric", K, eps), (1 - kap) * P + kap / K, atol=1e-12)

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same holds for the labels themselves: lesson 01's realised $\hat T$ on the digits is the
# empirical version of this map for one-hot clean posteriors, row $i$ being $(1-\kappa)e_i + \kappa/K$.
# On 50,000 CIFAR-10 labels the counts land on the formula to within about a percentage point:

# %%
cifar_clean, _ = data.load_cifar_n("cifar10", "aggre")
cifar_noisy = noise.inject(cifar_clean, noise.transition_matrix("symmetric", K, eps), seed=0)
row3 = noise.empirical_transition(cifar_clean, cifar_noisy, K)[3]
print("realised row 3:", row3.round(3))
print("(1 − κ)e_3 + κ/K:", ((1 - kap) * np.eye(K)[3] + kap / K).round(3))

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
sd_row = np.sqrt(row3 * (1 - row3) / np.sum(cifar_clean == 3))
assert (np.abs(row3 - ((1 - kap) * np.eye(K)[3] + kap / K)) < 4 * sd_row + 1e-9).all()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### LS on top: over-smoothing
#
# Smoothing is a shrinkage towards uniform. Subtract $u = 1/K$ from both sides of the LS formula:
#
# $$\tilde y^{\,r} - u = (1-r)\,(y - u) .$$
#
# LS multiplies the *deviation from uniform* by $1-r$; symmetric noise multiplies it by $1-\kappa$.
# Training with LS on noisy labels therefore targets
#
# $$\mathbb E\big[\tilde Y^{r} \mid x\big] - u = (1-r)(1-\kappa)\,(p - u) ,$$
#
# a posterior whose gap to uniform has shrunk by the factor $(1-r)(1-\kappa)$. At $\varepsilon = 0.6$
# and $r = 0.4$ that factor is $0.6 \times 1/3 = 0.2$: the target class's lead over the others is a
# fifth of the clean one. The bars below show the three stages.

# %% slideshow={"slide_type": "subslide"}
r = 0.4
p_ls = (1 - r) * p_noisy + r / K
fig, ax = plots.new_figure(figsize=(8, 3.4))
stages = [(p_clean, "clean p"), (p_noisy, f"noisy, ε = {eps}"), (p_ls, f"noisy + LS r = {r}")]
for i, (vec, name) in enumerate(stages):
    ax.bar(np.arange(K) + (i - 1) * 0.27, vec, width=0.27, label=name)
ax.axhline(1 / K, color="grey", linestyle=":", label="uniform 1/K")
ax.set(xlabel="class k", ylabel="target probability", xticks=range(K), title="smoothing twice")
ax.legend()
fig

# %% [markdown]
# **What to see.** The clean posterior is a tall bar at class 3 ($0.9$). Noise alone cuts it to
# about $0.37$; LS on top leaves about $0.26$, with the nine other classes at about $0.08$, close
# to the dotted uniform line. The table below gives the lead of the true class over a wrong one,
# $p_3 - p_k$, for several noise and smooth rates. It is always $(1-r)(1-\kappa)$ times the clean
# lead.

# %% slideshow={"slide_type": "subslide"}
lead = pd.DataFrame({f"r = {r}": {eps_: (1 - r) * (1 - theory.kappa(eps_, K)) * (p_clean[3] - p_clean[0])
                                  for eps_ in (0.0, 0.2, 0.4, 0.6, 0.8)} for r in (0.0, 0.2, 0.4)})
lead.index.name = "ε"
lead.round(3)

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
assert np.isclose(lead.loc[0.6, "r = 0.4"], (p_ls[3] - p_ls[0]), atol=1e-12)
assert np.isclose(lead.loc[0.6, "r = 0.4"] / lead.loc[0.0, "r = 0.0"], 0.2)

# %% [markdown]
# **What this does to accuracy.** In the population limit (infinite data, a model that can
# represent the posterior) the smooth rate does not change which class is predicted: under
# symmetric noise the expected training target $u + (1-r)(1-\kappa)(p-u)$ has the same arg-max as
# the clean posterior $p$ for every smooth rate $r<1$ (while $\kappa<1$), so an LS model predicts
# the same class as a CE model. This is the course's algebra, not a theorem of the paper. The
# paper's theory is about confidence, and it reaches accuracy only through its Assumption 1 (ICLR
# numbering): that the classifier learned on clean data with some smooth rate $r^*$ tests best.

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: the expected LS target on symmetric-noise labels keeps the clean posterior's arg-max, every r < 1.
posteriors = np.random.default_rng(1).dirichlet(np.ones(K), size=1000)
for eps_ in (0.2, 0.6, 0.85):
    for r_ in (0.0, 0.4, 0.8, 0.99):
        expected_target = (1 - r_) * posteriors @ noise.transition_matrix("symmetric", K, eps_) + r_ / K
        assert (expected_target.argmax(1) == posteriors.argmax(1)).all(), (eps_, r_)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Over-smoothing: the paper's argument, and the course's illustration
#
# **The paper.** Its name for the effect is **over-smoothing**: at high noise the posterior of the
# noisy label already has high entropy, so LS on top "over-smooths" it (ICML abstract). Its formal
# argument is a bias in model confidence (binary case; Theorems 6 and 7 in the numbering of the
# ICLR submission, which the course follows; the ICML paper numbers them differently): under
# symmetric noise the risk of GLS on noisy labels is the risk at the best clean rate $r^*$ plus a
# term, M-Inc1, whose weight stays positive for every LS rate once the noise rate exceeds $r^*/2$.
# A positive weight pushes the model to be *less* confident than that best clean-data classifier,
# and only a negative smooth rate cancels it (lesson 04).
#
# **The course's illustration** (ours, not an argument the paper makes): a model estimated from
# finite data does not hit its target exactly, and a lead of a few hundredths is easily overturned
# by the error of that estimate, so the predicted class itself can flip. Lesson 03 turns the knob
# the other way.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6 · At 20 % noise, LS beats CE
#
# Time to measure. We train the course's reference model (a linear softmax classifier on the
# digits, Adam, 30 epochs) on labels with $\varepsilon = 0.2$ symmetric noise, for five smooth
# rates and ten seeds. `train.sweep` trains all 50 models at once, and **pairs** them: for a seed,
# every $r$ sees the same noisy labels, initial weights and batch order, so a difference between
# two rates of the same seed is caused by the loss alone. Test accuracy is on *clean* test labels.

# %%
ls_rates = [0.0, 0.2, 0.4, 0.6, 0.8]
results = train.sweep(digits, ls_rates, [0.2], range(10), progress=False)
acc = 100 * results.pivot(index="seed", columns="smooth_rate", values="test_acc")
summary = pd.DataFrame({"mean (%)": acc.mean(), "std (%)": acc.std()}).T
summary.round(2)

# %% slideshow={"slide_type": "subslide"}
plots.accuracy_vs_rate(acc.columns, acc.mean(), std=acc.std(), title="digits, ε = 0.2: accuracy vs r")

# %% [markdown] slideshow={"slide_type": "subslide"}
# **What to see.** Accuracy rises from CE ($r = 0$) through $r = 0.2$ to a plateau at
# $r = 0.4$–$0.8$, about two points higher. The bands (± one standard deviation over seeds) of CE and
# of the best LS rate overlap, which is why we compare *paired* differences, seed by seed, rather
# than the two clouds of numbers. Per seed, best LS rate minus CE:

# %%
best_r = acc.drop(columns=0.0).mean().idxmax()
gain = acc[best_r] - acc[0.0]
print(f"best LS rate by mean accuracy: r = {best_r}")
print(f"gain over CE per seed (points): {gain.round(1).tolist()}")
print(f"mean gain {gain.mean():.2f} ± {gain.std():.2f} (sd over seeds); "
      f"LS wins on {(gain > 0).sum()} of 10 seeds")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: at ε = 0.2 the best LS rate beats CE (paired seeds). Measured: r = 0.6, mean gain
# +1.87 ± 1.07 points, 9 of 10 seeds (standard error 0.34, so the margin is > 3 s.e.).
assert gain.mean() > 0.8, gain.mean()
assert (gain > 0).sum() >= 8, gain
# Not only the best rate: every LS rate in the grid beats CE on average (no selection effect).
assert (acc.drop(columns=0.0).mean() > acc[0.0].mean()).all()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Choosing the best $r$ on the same test seeds that we then report slightly flatters it; the last
# check above guards against that by also asserting that *every* LS rate in the grid beats CE on
# average. (The course's earlier reference measurement of a similar set-up found
# $+1.4 \pm 0.7$ points over 10 seeds: the same sign, and a size within the seed-to-seed spread.)
#
# Try it yourself in the live explorer: each change retrains a small MLP on a 2-D toy with noisy
# labels (or the digits) in about a second and redraws its decision regions. Compare $r = 0$ and
# $r = 0.4$ at $\varepsilon = 0.2$, then push the noise to $0.6$ and watch whether LS still helps.

# %%
widgets.training_explorer(smooth_rate=0.4, noise_rate=0.2)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7 · Exercises
#
# Each exercise has a starter cell: replace `None` by your answer and run it, then run the check
# cell below it. The check says whether you are right and why, or gives a hint. The worked solution
# sits in a collapsed cell after the check; open it only once you have tried.
#
# **Exercise 1.** $K = 10$ classes, smooth rate $r = 0.3$. What target value does LS give to the
# *true* class?

# %%
answer = None  # your answer: a number

# %%
ex.check_true_class_target(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = 1 - 0.3 + 0.3 / 10
assert ex.check_true_class_target(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 2.** Symmetric noise on $K = 10$ classes with $\varepsilon = 0.45$. What is the
# implicit smooth rate $\kappa$ of the noisy labels?

# %%
answer = None  # your answer: a number

# %%
ex.check_kappa(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = theory.kappa(0.45, 10)
assert ex.check_kappa(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 3.** $K = 10$, symmetric noise $\varepsilon = 0.3$, and LS with $r = 0.5$ on top. By
# what factor is the gap between the clean posterior and uniform multiplied in the training target?

# %%
answer = None  # your answer: a number in [0, 1]

# %%
ex.check_total_shrinkage(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = (1 - 0.5) * (1 - theory.kappa(0.3, 10))
assert ex.check_total_shrinkage(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 4.** A model trained with LS at $r = 0.4$ on $K = 5$ classes: at what probability
# $p_y$ of the label is its loss smallest (the rest spread evenly over the other classes)?

# %%
answer = None  # your answer: a number in [0, 1]

# %%
ex.check_loss_minimum(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = 1 - 0.4 + 0.4 / 5
assert ex.check_loss_minimum(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Recap
#
# - LS replaces the one-hot target by $(1-r)\,y + r/K$; its loss is $(1-r)\,\mathrm{CE} +
#   r\,\mathrm{CE}(u, p)$, identical to PyTorch's `label_smoothing=r` (checked to $10^{-6}$).
# - LS caps the confidence it rewards at $1 - r + r/K$. That cures over-confidence (the MNIST-1D
#   MLP's ECE fell by more than half) but can overshoot into under-confidence on a model that was
#   already calibrated (the digits).
# - Symmetric noise *is* smoothing: it maps the clean posterior $p$ to $(1-\kappa)\,p + \kappa/K$ with
#   $\kappa = K\varepsilon/(K-1)$. LS on noisy labels shrinks the gap to uniform by
#   $(1-r)(1-\kappa)$: over-smoothing when $\varepsilon$ is large.
# - At $\varepsilon = 0.2$ on the digits, the best LS rate beat CE by about two points, on 9 of 10
#   paired seeds.
#
# **Paper:** Wei et al., *To Smooth or Not? When Label Smoothing Meets Noisy Labels*, ICML 2022,
# [arXiv 2106.04149](https://arxiv.org/abs/2106.04149): over-smoothing is the abstract's explanation
# of why LS loses its advantage at high noise. Theorem and assumption numbers in this course follow
# the authors' ICLR 2022 submission of the same work, *Understanding Generalized Label Smoothing
# when Learning with Noisy Labels* ([OpenReview UQQgMRq58O](https://openreview.net/forum?id=UQQgMRq58O));
# the ICML paper numbers them differently. Calibration: Müller et al., *When does label smoothing
# help?*, NeurIPS 2019, [arXiv 1906.02629](https://arxiv.org/abs/1906.02629).
#
# **Next:** [03 · Negative label smoothing](03_negative_label_smoothing.ipynb): what happens when
# $r < 0$ sharpens the target instead.
