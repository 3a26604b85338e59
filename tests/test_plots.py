"""Figures: every plot function returns a Figure, styled in one place, never left in pyplot."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from nls_lessons import losses, noise, plots


def _rng_mc(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, n), rng.random(n) < 0.7


def _table():
    eps, rs = [0.0, 0.2, 0.4, 0.6], [-8.0, -2.0, -0.4, 0.0, 0.4, 0.8]
    vals = np.arange(len(eps) * len(rs), dtype=float).reshape(len(eps), len(rs))
    return pd.DataFrame(vals, index=eps, columns=rs)


CASES = {
    "transition_heatmap": lambda: plots.transition_heatmap(noise.transition_matrix("pairflip", 10, 0.4)),
    "target_bars": lambda: plots.target_bars(losses.gls_targets([3], 10, -2.0)[0].numpy(), label=3,
                                             smooth_rate=-2.0),
    "loss_curves": lambda: plots.loss_curves(highlight=-2.0),
    "uniform_weight_curve": lambda: plots.uniform_weight_curve(1.0),
    "sweep_heatmap": lambda: plots.sweep_heatmap(_table(), mark=(0.4, -2.0)),
    "best_rate_vs_noise": lambda: plots.best_rate_vs_noise(
        pd.DataFrame({"noise_rate": [0.0, 0.2, 0.6], "smooth_rate": [0.4, -0.4, -8.0]}),
        theory=([0.0, 0.6], [0.0, -2.0])),
    "accuracy_vs_rate": lambda: plots.accuracy_vs_rate([-2, 0, 0.4], [80, 85, 86], std=[1, 1, 1], current=0.0),
    "phase_diagram": lambda: plots.phase_diagram(2, n=40),
    "confidence_histograms": lambda: plots.confidence_histograms({-4.0: _rng_mc(), 0.0: _rng_mc(seed=1)}),
    "reliability_diagram": lambda: plots.reliability_diagram(*_rng_mc()),
    "training_curves": lambda: plots.training_curves(
        {"epoch": [1, 2, 3], "test_acc": [0.5, 0.6, 0.7], "confidence": [0.1, 0.2, 0.3]}),
    "decision_regions": lambda: plots.decision_regions(
        *np.meshgrid(np.linspace(-1, 1, 10), np.linspace(-1, 1, 10)),
        np.random.default_rng(0).dirichlet(np.ones(2), size=(10, 10)),
        np.zeros((5, 2)), np.array([0, 1, 0, 1, 0]), noisy=np.array([0, 1, 1, 1, 0])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_plot_returns_titled_labelled_figure_outside_pyplot(name):
    before = plt.get_fignums()
    fig = CASES[name]()
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before, "plot functions must not register figures with pyplot"
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert axes
    for ax in axes:
        assert ax.get_title(), f"{name}: every panel needs a title"
        assert ax.get_xlabel(), f"{name}: every panel needs an x label"
        assert ax.get_ylabel() or ax.get_shared_y_axes().get_siblings(ax) != [ax], \
            f"{name}: every panel (or its row, when y is shared) needs a y label"
    png = plots.to_png(fig, dpi=40)
    assert png.startswith(b"\x89PNG")


def test_draws_into_given_axes():
    fig, (a, b) = plots.new_figure(1, 2, figsize=(8, 3))
    assert plots.loss_curves(ax=a) is fig
    assert plots.transition_heatmap(np.eye(3), ax=b, colorbar=False) is fig
    assert b.get_title() == "Transition matrix T"


def test_style_is_one_place_and_colour_blind_safe():
    assert plots.STYLE["axes.prop_cycle"].by_key()["color"][:3] == [
        plots.OKABE_ITO["blue"], plots.OKABE_ITO["vermillion"], plots.OKABE_ITO["green"]]
    with plots.style():
        import matplotlib as mpl
        assert mpl.rcParams["font.size"] == plots.STYLE["font.size"]
    fig = plots.loss_curves()
    assert fig.axes[0].title.get_fontsize() == plots.STYLE["axes.titlesize"]


def test_loss_curve_math_and_uniform_weight():
    p = np.array([0.3, 0.9])
    # r = 0 is plain cross-entropy of the label.
    np.testing.assert_allclose(plots.gls_loss_vs_py(p, 0.0, 10), -np.log(p))
    # equals the soft-target cross-entropy with GLS targets
    k, r = 4, -2.0
    probs = np.array([0.7, 0.1, 0.1, 0.1])
    t = losses.gls_targets([0], k, r)[0].numpy()
    np.testing.assert_allclose(plots.gls_loss_vs_py(0.7, r, k), -(t * np.log(probs)).sum())
    assert plots.uniform_weight(0.0) == 0.0
    assert plots.uniform_weight(-1.0) == -0.5
    assert plots.uniform_weight(0.5) == 1.0
    assert plots.uniform_weight(1.0) == float("inf")


def test_rejects_bad_shapes():
    with pytest.raises(ValueError):
        plots.transition_heatmap(np.ones((2, 3)))
    with pytest.raises(ValueError):
        plots.reliability_diagram([0.5, 0.6], [True])


def test_fmt_rate():
    assert plots.fmt_rate(-2.0) == "−2"
    assert plots.fmt_rate(0.4) == "0.4"
    assert plots.fmt_rate(0) == "0"


def test_describe_gives_alt_text_from_the_figure_words():
    fig, ax = plots.new_figure()
    ax.set_title("GLS target, r = −2")
    ax.set_xlabel("class k")
    ax.set_ylabel("target probability")
    fig.suptitle("Targets")
    text = plots.describe(fig)
    assert text.startswith("Figure: Targets")
    assert "GLS target, r = −2 (x: class k, y: target probability)" in text
    plots.close(fig)
