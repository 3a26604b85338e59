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
# # 03 · Negative label smoothing
#
# **Learning goals.** After this lesson you will be able to
# - write down the GLS target for a *negative* smooth rate $r<0$ and say why its entries leave $[0, 1]$;
# - rewrite the GLS loss in logit form and use it to show that NLS is **unbounded below**;
# - make NLS training diverge on purpose, see the library detect it, and cure it with the
#   paper's recipe (cross-entropy warm-up, then GLS at a small learning rate);
# - recognise NLS inside older methods: Theorem 1, backward loss correction, peer loss and
#   complementary labels;
# - read model-confidence histograms (the paper's Figure 3) and avoid the classic misreading
#   "NLS is *less* confident".
#
# Lesson 02 smoothed targets with $r\in[0,1]$. Wei et al. ([arXiv 2106.04149](https://arxiv.org/abs/2106.04149))
# let the smooth rate go below zero. This lesson is about what that does, first to one target
# and one loss value, then to a trained model.

# %% tags=["hide-input"] slideshow={"slide_type": "skip"}
# %matplotlib inline
import numpy as np
import pandas as pd
import torch

from nls_lessons import data, losses, metrics, noise, plots, theory, train, widgets
from nls_lessons.exercises import lesson03 as ex

torch.set_printoptions(precision=3, sci_mode=False)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Targets that leave the simplex
#
# The generalised label smoothing (GLS) target of a label $y$ among $K$ classes is
#
# $$\mathbf y^{r} = (1-r)\,\mathbf e_y + \frac{r}{K}\,\mathbf 1, \qquad r \le 1 .$$
#
# For $r<0$ (write $r=-|r|$) the entries are
#
# $$y^{r}_y = 1 + |r|\,\frac{K-1}{K} \;>\; 1, \qquad y^{r}_k = -\frac{|r|}{K} \;<\; 0 \quad (k\ne y),$$
#
# and they still sum to $1$. A cleaner way to see it: $\mathbf y^{r} - \tfrac1K\mathbf 1 = (1-r)\,(\mathbf e_y - \tfrac1K\mathbf 1)$.
# LS ($0<r\le 1$) *shrinks* the one-hot target towards uniform; NLS *stretches* it away from
# uniform by the factor $1+|r|$. The target is no longer a probability vector, yet the loss
# $-\sum_k y^r_k \log p_k$ is still well defined.

# %%
for r in (0.4, 0.0, -2.0):
    t = losses.gls_targets([3], num_classes=10, smooth_rate=r)[0]
    print(f"r = {r:+.1f}: label entry {t[3]:.2f}, others {t[0]:+.2f}, sum {t.sum():.6f}")

# %% [markdown]
# In the bar chart below, look at the label's bar standing above the dotted line at 1 and the
# nine other bars *below* zero. That is the whole idea of NLS in one picture.

# %%
plots.target_bars(losses.gls_targets([3], 10, -2.0)[0], label=3, smooth_rate=-2.0)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Exercise 1.** With $K=10$ and $r=-4$, what is the target entry of the *true* class?
# Work it out by hand.

# %%
answer = None  # your answer
ex.check_nls_target(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
answer = 1 - (-4) + (-4) / 10
assert ex.check_nls_target(answer)
ex.check_nls_target(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. The loss in logit form, and why NLS has no floor
#
# Cross-entropy is linear in its target, so with logits $\mathbf z$, their mean
# $\bar z = \tfrac1K\sum_k z_k$ and $\mathrm{LSE}(\mathbf z)=\log\sum_k e^{z_k}$:
#
# $$\ell_r(\mathbf z, y) = (1-r)\,\mathrm{CE}(\mathbf z, y) + r\,\mathrm{CE}(\mathbf u, \mathbf z)
#   = (1-r)\,(\bar z - z_y) \;+\; \bigl(\mathrm{LSE}(\mathbf z) - \bar z\bigr).$$
#
# The second term, $\mathrm{CE}(\mathbf u,\mathbf z)\ge\log K$, does not depend on the label; it
# keeps the logits from spreading apart. The first term is **linear** in the logits and rewards
# raising $z_y$ above the mean with weight $1-r$. Divide by $1-r$: the regulariser then has
# weight $\lambda = 1/(1-r)$, which is $1$ for CE, larger for LS and *smaller* for NLS.
#
# Let us check the logit form against the library's `gls_loss` in float64.

# %%
z = torch.randn(6, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3
y = torch.tensor([0, 3, 3, 7, 9, 1])
r = -2.0
logit_form = (1 - r) * (z.mean(1) - z[range(6), y]) + (torch.logsumexp(z, 1) - z.mean(1))
library = losses.gls_loss(z, y, r, reduction="none")
print("largest difference:", float((logit_form - library).abs().max()))

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: the logit form equals the GLS loss exactly (float64), for LS, CE and NLS rates.
for r_check in (0.8, 0.4, 0.0, -0.5, -2.0, -8.0):
    lf = (1 - r_check) * (z.mean(1) - z[range(6), y]) + (torch.logsumexp(z, 1) - z.mean(1))
    assert torch.allclose(lf, losses.gls_loss(z, y, r_check, reduction="none"), rtol=0, atol=1e-10), r_check

# %% [markdown] slideshow={"slide_type": "subslide"}
# **No floor.** Put all the evidence on the label: $\mathbf z = c\,\mathbf e_y$ with $c$ large.
# Then $\bar z = c/K$, $\mathrm{LSE}\approx c$ and
#
# $$\ell_r(c\,\mathbf e_y, y) \approx r\,\frac{K-1}{K}\,c .$$
#
# For LS ($r>0$) the loss grows with $c$: over-confidence is punished. For CE ($r=0$) it tends
# to 0. For NLS ($r<0$) it falls **without bound**. A model that can memorise a training set
# can push its NLS training loss towards $-\infty$.

# %%
c = torch.tensor([1.0, 10.0, 100.0, 1000.0], dtype=torch.float64)
z_big = c[:, None] * torch.eye(10, dtype=torch.float64)[3]          # logits c * e_y for y = 3
for r in (0.4, 0.0, -2.0):
    values = losses.gls_loss(z_big, torch.full((4,), 3), r, reduction="none")
    print(f"r = {r:+.1f}:", "  ".join(f"c={int(ci):>4}: {v:9.2f}" for ci, v in zip(c, values)))

# %% [markdown]
# The same story as a picture: the GLS loss when the model gives probability $p_y$ to the label
# and spreads the rest evenly. The LS curves (0.4, 0.8) turn up before $p_y = 1$; the CE curve
# flattens at 0; the NLS curves (−0.5, −2, thick) keep falling as $p_y \to 1$.

# %%
plots.loss_curves((-0.5, 0.0, 0.4, 0.8), num_classes=10, highlight=-2.0)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Divergence, and the warm-up that prevents it
#
# "Unbounded below" is not a curiosity. Someone who ran the official code with $r=-1$ *from
# scratch* on CIFAR-10 saw the training loss fall to −16 850, jump to +249 404, and test
# accuracy stay near chance (GitHub issue #3 of the official repository). The authors' own
# protocol never trains NLS from scratch: it first trains with **CE**, then switches to GLS
# with a learning rate about 100 times smaller.
#
# We reproduce both on digits with 40 % symmetric noise. A one-hidden-layer MLP (128 units)
# is trained with $r=-8$ (the backward-correction rate for $\varepsilon=0.8$) and Adam at a
# large learning rate, 0.03, for 20 epochs, six seeds at once. `train.sweep` stops a model
# whose loss is no longer finite or has run past $-10^4\,(1-r)$ (its logits have saturated),
# keeps its last finite weights, flags it `diverged` and warns once.

# %%
digits = data.digits(seed=0)
setup = dict(model="mlp", lr=0.03, epochs=20, device="cpu", progress=False)
seeds6 = list(range(6))
direct, direct_hist = train.sweep(digits, [0.0, -8.0], [0.4], seeds6, return_history=True, **setup)
direct[["smooth_rate", "seed", "diverged", "diverged_epoch", "test_acc", "best_test_acc"]]

# %% [markdown]
# Every NLS run stopped with `diverged=True` (the warning above lists them) while the CE runs
# trained to the end. Now the official remedy: `warmup_epochs=5` of plain CE at the same
# learning rate, then NLS with the learning rate scaled by `gls_lr_scale=0.01`.

# %%
warm, warm_hist = train.sweep(digits, [-8.0], [0.4], seeds6, warmup_epochs=5, gls_lr_scale=0.01,
                              return_history=True, **setup)
warm[["smooth_rate", "seed", "diverged", "test_acc", "best_test_acc", "train_loss"]]

# %% [markdown]
# The training loss of each run, per epoch (symmetric-log axis). Watch the direct NLS runs
# (vermillion) plunge by orders of magnitude until they are stopped. The warm-up runs (green)
# follow CE (blue) for five epochs, drop once when the loss switches to NLS (its values are
# on a different scale), then descend only slowly: the loss is *still* unbounded, but the small
# learning rate keeps it in a useful range for the length of training.

# %%
fig, ax = plots.new_figure(figsize=(7.0, 4.0))
for frame, rate, color, label in ((direct_hist, 0.0, plots.OKABE_ITO["blue"], "CE"),
                                  (direct_hist, -8.0, plots.WRONG_COLOR, "NLS r = −8, direct"),
                                  (warm_hist, -8.0, plots.OKABE_ITO["green"], "NLS r = −8, CE warm-up")):
    for seed, run in frame[frame.smooth_rate == rate].groupby("seed"):
        ax.plot(run.epoch, run.train_loss, color=color, alpha=0.7, label=label if seed == 0 else None)
ax.set(yscale="symlog", xlabel="epoch", ylabel="mean training loss (nats)", title="training loss, 6 seeds")
ax.legend()
fig

# %%
summary = {"CE": direct[direct.smooth_rate == 0.0], "NLS direct": direct[direct.smooth_rate == -8.0],
           "NLS after warm-up": warm}
for name, rows in summary.items():
    print(f"{name:>18}: diverged {int(rows.diverged.sum())}/6, final test acc "
          f"{100 * rows.test_acc.mean():.1f} %, best-epoch {100 * rows.best_test_acc.mean():.1f} %")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: direct NLS (r = -8, lr 0.03) diverges on every seed and is reported; CE does not;
# warm-up + small GLS learning rate prevents every divergence and ends far above the stopped runs.
nls_direct, ce_direct = summary["NLS direct"], summary["CE"]
assert nls_direct.diverged.all() and (nls_direct.diverged_epoch > 5).all(), nls_direct
assert not ce_direct.diverged.any()
assert not warm.diverged.any()
gain = warm.set_index("seed").test_acc - nls_direct.set_index("seed").test_acc
assert (gain > 0.08).all(), gain          # measured: +16 to +22 points on every seed
assert warm.test_acc.mean() > ce_direct.best_test_acc.mean() + 0.02   # measured: 91.3 vs 85.0 %

# %% [markdown]
# Two details worth noticing. The stopped NLS runs keep their last finite weights, so their
# accuracy is not at chance, but their logits are saturated and they learn nothing more. And
# CE at this learning rate *memorises* the noisy labels: its final accuracy is far below its
# best epoch. The warm-up + NLS runs end higher than either.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. NLS in disguise
#
# ### Theorem 1: NLS is "twice CE minus LS"
#
# Because $\ell_r$ is linear in $r$, the three losses at $-r$, $0$ and $r$ lie on a line:
#
# $$\ell_{-r} = 2\,\ell_{0} - \ell_{r}, \qquad\text{i.e.}\qquad \mathrm{NLS}(-r) = 2\cdot\mathrm{CE} - \mathrm{LS}(r).$$
#
# NLS rewards exactly what LS penalises: the gap $\mathrm{CE}(\mathbf u,\mathbf z) - \mathrm{CE}(\mathbf z, y)$
# that measures confidence in the label.

# %%
for r in (0.2, 0.4, 0.8):
    nls = losses.gls_loss(z, y, -r, reduction="none")
    rhs = 2 * losses.gls_loss(z, y, 0.0, reduction="none") - losses.gls_loss(z, y, r, reduction="none")
    print(f"r = {r}: max |NLS(-r) - (2 CE - LS(r))| = {float((nls - rhs).abs().max()):.1e}")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: Theorem 1 holds exactly (float64), sample by sample.
for r_check in (0.1, 0.2, 0.4, 0.8, 1.0):
    lhs = losses.gls_loss(z, y, -r_check, reduction="none")
    rhs = 2 * losses.gls_loss(z, y, 0.0, reduction="none") - losses.gls_loss(z, y, r_check, reduction="none")
    assert torch.allclose(lhs, rhs, rtol=0, atol=1e-10), r_check

# %% [markdown]
# **Exercise 2.** On some batch the CE loss is 0.5 and the LS loss with $r=0.4$ is 0.9. What is
# the NLS loss with $r=-0.4$ on the same batch?

# %%
answer = None  # your answer
ex.check_theorem1(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
answer = 2 * 0.5 - 0.9
assert ex.check_theorem1(answer)
ex.check_theorem1(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Backward loss correction *is* NLS
#
# Loss correction (Patrini et al., 2017) fixes noisy labels with the known transition matrix
# $T$: collect the CE losses against every class in a vector $\boldsymbol\ell(\mathbf z)$ and
# train on $\bigl(T^{-1}\boldsymbol\ell(\mathbf z)\bigr)_{\tilde y}$; its expectation over the noise
# is the clean loss. For symmetric noise with rate $\varepsilon$, lesson 02 wrote
# $T=(1-\kappa)I + \tfrac{\kappa}{K}J$ with $\kappa = K\varepsilon/(K-1)$ and $J$ the all-ones
# matrix, so
#
# $$T^{-1} = \frac{I - \tfrac{\kappa}{K}J}{1-\kappa}, \qquad
#   \bigl(T^{-1}\boldsymbol\ell\bigr)_y = \frac{1}{1-\kappa}\,\mathrm{CE}(\mathbf z, y) - \frac{\kappa}{1-\kappa}\,\mathrm{CE}(\mathbf u, \mathbf z) = \ell_{r}(\mathbf z, y)
#   \quad\text{with}\quad r = -\frac{\kappa}{1-\kappa}.$$
#
# Backward correction under symmetric noise is GLS with a **negative** rate, and the rate runs
# to $-\infty$ as the noise approaches pure guessing ($\kappa\to1$). (The paper proves the
# binary version, $r = 2e/(2e-1)$, its Theorem 2; the $K$-class form above is our algebra.)

# %%
for eps in (0.2, 0.4, 0.6, 0.8):
    r_lc = theory.backward_correction_rate(eps, 10)
    T = noise.transition_matrix("symmetric", 10, eps)
    gap = (theory.backward_corrected_loss(z, y, T, reduction="none")
           - losses.gls_loss(z, y, r_lc, reduction="none")).abs().max()
    print(f"ε = {eps}: κ = {theory.kappa(eps, 10):.3f}, r = -κ/(1-κ) = {r_lc:+.3f}, "
          f"max |backward - GLS| = {float(gap):.1e}")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: backward correction equals GLS at r = -kappa/(1-kappa) exactly; K = 10 rates as in the syllabus.
for eps_check, r_expected in ((0.2, -0.286), (0.4, -0.8), (0.6, -2.0), (0.8, -8.0)):
    r_lc = theory.backward_correction_rate(eps_check, 10)
    assert abs(r_lc - r_expected) < 1e-3, (eps_check, r_lc)
    T = noise.transition_matrix("symmetric", 10, eps_check)
    assert torch.allclose(theory.backward_corrected_loss(z, y, T, reduction="none"),
                          losses.gls_loss(z, y, r_lc, reduction="none"), rtol=0, atol=1e-10)

# %% [markdown]
# **Exercise 3.** Which smooth rate makes GLS identical to backward correction for $K=10$ and
# symmetric noise $\varepsilon = 0.5$? (Not in the table above: compute it.)

# %%
answer = None  # your answer
ex.check_backward_rate(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
answer = theory.backward_correction_rate(0.5, 10)
assert ex.check_backward_rate(answer)
ex.check_backward_rate(answer)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Peer loss and complementary labels: the limit $r\to-\infty$
#
# Divide the logit form by $1-r$:
#
# $$\frac{\ell_r(\mathbf z, y)}{1-r} = (\bar z - z_y) + \frac{1}{1-r}\bigl(\mathrm{LSE}(\mathbf z)-\bar z\bigr)
#   \;\xrightarrow[r\to-\infty]{}\; \bar z - z_y .$$
#
# In the limit only a *linear* loss is left: "push the label's logit above the average". The
# paper shows (binary case, Theorems 3 and 4) that learning from complementary labels
# ($\ell(f,\tilde y) - \ell(f, 1-\tilde y)$) and peer loss with balanced noisy priors are exactly
# this limit. NLS with a finite $r$ interpolates between CE ($r=0$) and these methods.

# %%
linear_part = z.mean(1) - z[range(6), y]
for r in (-1.0, -10.0, -100.0, -1e4):
    scaled = losses.gls_loss(z, y, r, reduction="none") / (1 - r)
    print(f"r = {r:>8g}: max |loss/(1-r) - (z̄ - z_y)| = {float((scaled - linear_part).abs().max()):.2e}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Confidence: NLS polarises, LS bunches
#
# The paper measures **model confidence** in the *true* label,
#
# $$\mathrm{MC}(\mathbf p; y) = p_y - \max_{k\ne y} p_k \in [-1, 1],$$
#
# positive exactly when the prediction is right. Its Theorem 5 says NLS gives a higher expected
# MC than LS. We train the linear softmax model on digits (seed 0) at eight smooth rates, once
# on clean labels and once with 40 % symmetric noise, and look at the clean test set.

# %%
conf_rates = [0.8, 0.4, 0.0, -0.4, -0.8, -2.0, -4.0, -8.0]
fits = {(eps, r): train.fit(digits, r, eps, seed=0, device="cpu") for eps in (0.0, 0.4) for r in conf_rates}
logits = {key: out.model(digits.x_test).detach() for key, out in fits.items()}

# %% [markdown]
# The paper's Figure 3 on our data (ε = 0.4): MC of correct predictions in blue, wrong ones in
# vermillion. With LS ($r=0.4$) both bunch near 0: the model hedges. With NLS ($r=-4$) the
# correct predictions pile up at $+1$ and the **wrong ones at $-1$**.

# %%
panels = {}
for r in (-4.0, -0.8, 0.0, 0.4):
    z_test = logits[(0.4, r)]
    panels[r] = (metrics.model_confidence(z_test, digits.y_test).numpy(),
                 (z_test.argmax(1) == digits.y_test).numpy())
plots.confidence_histograms(panels, title="model confidence on the clean test set, ε = 0.4")

# %% [markdown]
# **The misconception.** "NLS gives lower confidence on wrong predictions" is true *for MC*,
# and MC near $-1$ means almost all probability sits on one **wrong** class. In the usual sense
# (the maximum softmax probability) NLS is *more* confident, including when it is wrong. The
# table shows both readings; `max p` is the mean maximum softmax probability.

# %%
rows = []
for (eps, r), z_test in logits.items():
    correct = z_test.argmax(1) == digits.y_test
    mc, top = metrics.model_confidence(z_test, digits.y_test), metrics.confidence(z_test)
    rows.append({"ε": eps, "r": r, "test acc %": 100 * float(correct.double().mean()),
                 "max p (all)": float(top.mean()), "max p (wrong)": float(top[~correct].mean()),
                 "MC (correct)": float(mc[correct].mean()), "MC (wrong)": float(mc[~correct].mean())})
confidence_table = pd.DataFrame(rows).round(3)
confidence_table

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
# Claim: mean max-softmax confidence rises monotonically as r falls, at every ε shown, until it
# saturates near 1 (below r = -2 it may wobble by at most 0.005), and it rises a lot overall.
# NLS is more confident than LS on its *wrong* predictions, and its wrong-prediction MC is near -1.
for eps, block in confidence_table.groupby("ε"):
    conf = block.sort_values("r", ascending=False)["max p (all)"].to_numpy()
    assert (np.diff(conf) > -0.005).all(), (eps, conf)
    assert conf[-1] - conf[0] > 0.5, (eps, conf)     # measured: 0.76 (ε = 0) and 0.81 (ε = 0.4)
    by_r = block.set_index("r")
    assert by_r.loc[-4.0, "max p (wrong)"] > by_r.loc[0.4, "max p (wrong)"] + 0.4
    assert by_r.loc[-4.0, "MC (wrong)"] < -0.8 < -0.2 < by_r.loc[0.4, "MC (wrong)"]

# %% [markdown]
# Read the table top to bottom within each ε: `max p` climbs from about 0.2 (LS, $r=0.8$) to
# about 0.99 (NLS), and `MC (wrong)` heads to −1. Accuracy does not follow confidence: on clean
# data ($\varepsilon=0$) NLS is *less* accurate than CE with this model, which is why the next
# lesson asks *when* to use it.
#
# **Exercise 4.** A model trained with NLS ($r=-4$) misclassifies a test digit. Compared with a
# model trained with LS ($r=0.4$) that also gets it wrong, is its maximum softmax probability
# typically `"higher"`, `"lower"` or `"same"`?

# %%
answer = None  # your answer
ex.check_wrong_confidence(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
answer = "higher"
assert ex.check_wrong_confidence(answer)
ex.check_wrong_confidence(answer)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Live: retrain on a 2-D toy
#
# Three Gaussian blobs, a small MLP, noisy labels (crossed points had their label flipped).
# Move $r$ and $\varepsilon$: the model retrains in about a second. Things to try:
# - $\varepsilon=0.4$, $r$ from $0.8$ down to $-2$: with LS hardly any of the plane reaches
#   0.6 confidence (the dotted contour), with NLS almost all of it lies beyond 0.9 (dashed),
#   and the contours hug the class borders;
# - a very negative $r$ (say $-8$): on this small toy, 40 epochs are too short to diverge, but
#   the confidence saturates everywhere; the status line would flag a divergence if it came;
# - pair-flip noise: are the NLS regions still as confident where the flipped labels sit?
#
# (Without a live kernel, in the book, you see precomputed frames for a few $r$.)

# %%
widgets.training_explorer(smooth_rate=-2.0, noise_rate=0.4)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Recap
#
# - GLS with $r<0$ stretches the target away from uniform: label entry $>1$, others $<0$, sum 1.
# - Logit form: $\ell_r = (1-r)(\bar z - z_y) + (\mathrm{LSE}-\bar z)$. For $r<0$ the loss of a
#   memorised sample falls like $r\frac{K-1}{K}c \to -\infty$: NLS has no floor.
# - Trained from scratch at a large learning rate NLS can diverge; the library detects and
#   reports it. CE warm-up followed by GLS at a ~100× smaller learning rate fixes it.
# - NLS in disguise: $\mathrm{NLS}(-r) = 2\,\mathrm{CE} - \mathrm{LS}(r)$; backward correction
#   under symmetric noise is GLS at $r=-\kappa/(1-\kappa)$; peer loss and complementary labels
#   are the limit $r\to-\infty$.
# - NLS polarises model confidence (right → +1, wrong → −1); LS bunches it near 0. NLS is
#   *more* confident in the usual sense, even when wrong.
#
# **Paper:** [Wei et al., ICML 2022, arXiv 2106.04149](https://arxiv.org/abs/2106.04149).
# **Next:** [04 · High-noise regimes](04_high_noise_regimes.ipynb): when does NLS beat LS?
