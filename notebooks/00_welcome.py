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
# # 00 · Welcome: To Smooth or Not?
#
# **Learning goals.** After this short notebook you will
# - know what the course teaches and in which order,
# - be able to run cells and use the interactive widgets,
# - know whether this machine trains on a CPU or a GPU.
#
# This course works through one paper end to end:
# Wei et al., *To Smooth or Not? When Label Smoothing Meets Noisy Labels* (ICML 2022,
# [arXiv 2106.04149](https://arxiv.org/abs/2106.04149)).
#
# Label smoothing (LS) replaces a one-hot training target $y$ by a softer one,
#
# $$\tilde y^{\,r} = (1-r)\,y + \frac{r}{K}\,\mathbf 1, \qquad r \in [0, 1],$$
#
# where $K$ is the number of classes and $r$ the **smooth rate**. The paper lets $r$ be any
# number $\le 1$. A *negative* rate, **negative label smoothing (NLS)**, sharpens the target
# instead. The paper's headline (its abstract): the advantage of LS vanishes when many training
# labels are wrong (high label noise), and NLS is then the more beneficial choice. You will see
# that happen yourself on a small data set.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How the course is organised
#
# | lesson | what you learn |
# |---|---|
# | 01 Label noise | transition matrices, injecting noise with a seed, real human noise (CIFAR-N) |
# | 02 Label smoothing | the LS target and loss, noise as implicit smoothing, calibration |
# | 03 Negative label smoothing | $r<0$, loss correction, divergence and warm-up, confidence |
# | 04 High-noise regimes | the full sweep $r \times \varepsilon$, the best $r$ versus noise, the phase diagram |
# | 05 Paper scale | CIFAR-10/100 and CIFAR-N on a GPU, side by side with the paper's CIFAR table |
# | 06 Your own data | no noise rate, no clean labels: estimate the noise, predict $r$, choose it on noisy validation |
#
# **Two versions of the paper.** The course links the ICML 2022 paper
# ([arXiv 2106.04149](https://arxiv.org/abs/2106.04149)), but its theorem, figure and table numbers
# (and the CIFAR table's values) follow the authors' ICLR 2022 submission of the same work,
# *Understanding Generalized Label Smoothing when Learning with Noisy Labels*
# ([OpenReview UQQgMRq58O](https://openreview.net/forum?id=UQQgMRq58O)), whose full main text the
# course was checked against. The ICML paper numbers them differently. Where a lesson says "the
# paper", the sentence is in the paper; the course's own choices and extensions say so.
#
# You can read the course three ways: here in **JupyterLab** (live code and widgets), as a
# static **book** (`make book`, works offline), or as **slides** for a lecture.
#
# **Running cells.** Click a cell and press <kbd>Shift</kbd>+<kbd>Enter</kbd> to run it and move
# to the next one; *Run → Run All Cells* runs the whole notebook. Every random step in the
# course takes an explicit seed, so re-running a notebook gives the same numbers.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Which device will train the models?
#
# Everything in the course runs on a laptop CPU in seconds to minutes. When PyTorch sees a
# CUDA GPU, the training functions use it automatically (`device="auto"`).

# %%
from nls_lessons.device import device_report

report = device_report()
for key, value in report.items():
    print(f"{key:>15}: {value}")

# %% tags=["hide-cell"] slideshow={"slide_type": "skip"}
assert report["device"] in ("cpu", "cuda"), report
assert report["torch"].startswith("2."), "the course needs PyTorch 2"

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A first widget
#
# `show_target` prints the smoothed target of the label $y = 2$ among $K = 5$ classes for one
# smooth rate $r$. The course's **smoothing explorer** below draws it for any $r$: move its
# slider. For $r$ between 0 and 1 the target is softened; for $r < 0$ the true class gets more
# than 1 and the others less than 0, yet the entries still sum to 1 (its other two panels, the
# loss, are lesson 02's topic). Without a live kernel, in the book, the explorer shows its
# figure at a few fixed rates; on a RISE slide, which cannot show live widgets, it shows the
# figure for the slider's starting value.

# %% slideshow={"slide_type": "subslide"}
from nls_lessons.losses import gls_targets
from nls_lessons.widgets import smoothing_explorer


def show_target(smooth_rate=0.3):
    target = gls_targets([2], num_classes=5, smooth_rate=smooth_rate)[0]
    print("target:", [round(v, 3) for v in target.tolist()], "  sum =", round(float(target.sum()), 6))


show_target(0.3)
smoothing_explorer(0.3, num_classes=5, label=2)

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Self-check.** With $K = 5$ and $r = 0.5$, what is the target of the true class?
# Work it out by hand, replace `None` in the starter cell by your answer and run it, then run the
# check cell. Every lesson's exercises work this way; the worked solution sits in a collapsed
# cell after the check.

# %%
answer = None  # your answer: a number

# %%
from nls_lessons.exercises import lesson00 as ex

ex.check_true_class_target(answer)

# %% tags=["solution"] jupyter={"outputs_hidden": true, "source_hidden": true}
# Solution: open this cell only after you have tried the exercise.
answer = 1 - 0.5 + 0.5 / 5
assert abs(float(gls_targets([2], num_classes=5, smooth_rate=0.5)[0, 2]) - answer) < 1e-12

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Recap
# - The course follows one paper: LS for low noise, NLS for high noise, "high" measured against
#   the clean problem's best smooth rate (lesson 04).
# - The smooth rate $r$ controls the target: $r>0$ softens it, $r<0$ sharpens it.
# - Cells run top to bottom with fixed seeds; the device check above tells you CPU or GPU.
#
# **Next:** [01 · Label noise](01_label_noise.ipynb).
