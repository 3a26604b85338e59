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
    "reliability_diagram": lambda: plots.reliability_diagram((_rng_mc()[0] + 1) / 2, _rng_mc()[1]),
    "training_curves": lambda: plots.training_curves(
        {"epoch": [1, 2, 3], "test_acc": [0.5, 0.6, 0.7], "confidence": [0.1, 0.2, 0.3]}),
    "loss_per_epoch": lambda: plots.loss_per_epoch(
        [("CE", plots.OKABE_ITO["blue"], pd.DataFrame({"epoch": [1, 2, 3] * 2, "seed": [0] * 3 + [1] * 3,
                                                        "train_loss": [2.0, 1.0, 0.8, 2.1, 1.1, 0.9]})),
         ("NLS r = −8", plots.WRONG_COLOR, pd.DataFrame({"epoch": [1, 2, 3], "train_loss": [2.0, -50.0, -1e6]}))]),
    "transition_heatmaps": lambda: plots.transition_heatmaps({"a": np.eye(3), "b": np.full((3, 3), 1 / 3)}),
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
    with pytest.raises(ValueError, match=r"confidence must hold probabilities in \[0, 1\]"):
        plots.reliability_diagram([-0.5, 0.6], [True, False])


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


# ------------------------------------------------------------------ issue 15: labels and lecture size
def _sweep_table(n_eps=5, rates=(-16.0, -8.0, -4.0, -2.0, -1.0, -0.4, 0.0, 0.2, 0.4, 0.8)):
    eps = np.round(np.linspace(0, 0.8, n_eps), 2)
    vals = 90 - 40 * eps[:, None] + np.linspace(0, 3, len(rates))[None, :]
    return pd.DataFrame(vals, index=eps, columns=list(rates))


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _tick_label_boxes(ax, renderer, axis="x"):
    labels = getattr(ax, f"get_{axis}ticklabels")()
    return [t.get_window_extent(renderer) for t in labels if t.get_text() and t.get_visible()]


def _overlaps(boxes):
    boxes = sorted(boxes, key=lambda b: b.x0)
    return [(a, b) for a, b in zip(boxes, boxes[1:]) if a.x1 > b.x0 - 1 and a.y1 > b.y0 and b.y1 > a.y0]


def test_uniform_weight_is_the_weight_left_after_dividing_by_one_minus_r():
    """Lesson 02: (1 - r) CE + r CE(u) = (1 - r) [CE + lambda CE(u)] with lambda = r / (1 - r)."""
    p = np.linspace(0.05, 0.95, 7)
    k = 10
    ce = -np.log(p)
    uniform_ce = -(np.log(p) + (k - 1) * np.log((1 - p) / (k - 1))) / k
    for r in (-8.0, -2.0, -0.5, 0.0, 0.3, 0.9):
        lam = plots.uniform_weight(r)
        np.testing.assert_allclose(plots.gls_loss_vs_py(p, r, k), (1 - r) * (ce + lam * uniform_ce))
    fig = plots.uniform_weight_curve(-2.0)
    assert "r/(1 − r)" in fig.axes[0].get_ylabel() and "−0.667" in fig.axes[0].get_title()


def test_heatmap_cell_numbers_readable_at_lecture_size_or_left_out():
    fig = plots.sweep_panel({"table": _sweep_table(), "std": _sweep_table() * 0, "noise_rate": 0.4,
                             "smooth_rate": -1.0, "metric_label": "best-epoch test accuracy", "value": 80.0,
                             "row": _sweep_table().loc[0.4], "row_std": None, "best": pd.DataFrame(
                                 {"noise_rate": [0.0, 0.4], "smooth_rate": [0.0, -2.0]})})
    heat = fig.axes[0]
    numbers = [t for t in heat.texts if t.get_text()]
    assert len(numbers) == 50
    px = plots.display_px_per_point(fig)
    assert min(t.get_fontsize() for t in numbers) * px >= plots.MIN_TEXT_PX
    # the numbers fit their cells once drawn
    renderer = _drawn(fig)
    cell_px = heat.get_window_extent(renderer).width / 10
    assert max(t.get_window_extent(renderer).width for t in numbers) < cell_px
    # a grid too fine for readable numbers gets none (instead of unreadable ones)
    fine = plots.sweep_heatmap(pd.DataFrame(np.ones((30, 40)), index=np.arange(30) / 40, columns=np.arange(40) - 20.0))
    assert not [t for t in fine.axes[0].texts if t.get_text()]
    small_t = plots.transition_heatmap(noise.transition_matrix("symmetric", 4, 0.2))
    assert all(t.get_fontsize() * plots.display_px_per_point(small_t) >= plots.MIN_TEXT_PX
               for t in small_t.axes[0].texts)


def test_sweep_panel_names_the_metric_once_and_ticks_do_not_collide():
    table = _sweep_table()
    result = {"table": table, "std": table * 0 + 0.5, "noise_rate": 0.4, "smooth_rate": -1.0,
              "metric_label": "best-epoch test accuracy", "value": 80.0, "row": table.loc[0.4],
              "row_std": np.full(10, 0.5), "best": pd.DataFrame({"noise_rate": [0.0, 0.4], "smooth_rate": [0.0, -2.0]})}
    fig = plots.sweep_panel(result)
    renderer = _drawn(fig)
    ylabels = [ax.get_ylabel() for ax in fig.axes]
    assert sum("best-epoch test accuracy" in y for y in ylabels) == 1, ylabels
    for ax in fig.axes:
        assert not _overlaps(_tick_label_boxes(ax, renderer, "x")), f"crammed x ticks in {ax.get_title()!r}"


def test_rate_axes_use_one_smooth_scale_fitted_to_the_data():
    best = pd.DataFrame({"noise_rate": [0.0, 0.4, 0.8], "smooth_rate": [0.0, -2.0, -16.0]})
    eps = np.linspace(0, 0.85, 400)
    fig = plots.best_rate_vs_noise(best, theory=(eps, -eps / (1 - eps)))
    ax = fig.axes[0]
    assert ax.get_yscale() == "asinh"          # smooth everywhere: no kink where symlog switches
    # the theory line, mapped to the screen, has no kink: its slope changes smoothly
    line = next(l for l in ax.lines if l.get_linestyle() == "--")
    xy = ax.transData.transform(line.get_xydata())
    angle = np.unwrap(np.arctan2(np.diff(xy[:, 1]), np.diff(xy[:, 0])))
    assert np.max(np.abs(np.diff(angle))) < 0.05
    # accuracy vs r: the x axis spans the rates, not a fixed [-1, 1] range
    fig = plots.accuracy_vs_rate([0.0, 0.1, 0.2, 0.4, 0.8], [80, 82, 83, 81, 75])
    lo, hi = fig.axes[0].get_xlim()
    assert -0.15 < lo < 0.0 and 0.8 < hi < 1.0
    assert fig.axes[0].get_xscale() == "asinh"


def test_histogram_panels_tick_labels_do_not_meet():
    rng = np.random.default_rng(0)
    panels = {r: (rng.uniform(-1, 1, 100), rng.random(100) < 0.5) for r in (-4.0, 0.0, 0.4, 0.8)}
    fig = plots.confidence_histograms(panels)
    renderer = _drawn(fig)
    boxes = [b for ax in fig.axes for b in _tick_label_boxes(ax, renderer, "x")]
    assert not _overlaps(boxes), "tick labels of neighbouring panels run into each other"
    # where two panels meet, the end labels stay apart at lecture size ("1.0−1.0" read as one)
    to_display = plots.display_px_per_point(fig) * 72 / fig.dpi
    for left, right in zip(fig.axes, fig.axes[1:]):
        gap = _tick_label_boxes(right, renderer)[0].x0 - _tick_label_boxes(left, renderer)[-1].x1
        assert gap * to_display >= 8, f"end tick labels only {gap * to_display:.1f} px apart"


@pytest.mark.parametrize("name", ["loss_curves", "loss_per_epoch"])
def test_loss_curve_legend_leaves_the_curves_free(name):
    fig = CASES[name]()
    renderer = _drawn(fig)
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))


def test_transition_heatmaps_share_one_colour_bar():
    Ts = {kind: noise.transition_matrix(kind, 10, 0.4) for kind in noise.KINDS}
    fig = plots.transition_heatmaps(Ts)
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and bars[0].get_ylabel() == plots.T_LABEL
    assert [ax.get_title() for ax in fig.axes if ax not in bars] == list(Ts)


def test_target_range_adapts_to_the_targets():
    for r in (0.1, 0.4, 0.8, -0.5, -2.0, -8.0):
        t = losses.gls_targets([3], 10, r)[0].numpy()
        lo, hi = plots.target_ylim(t)
        assert lo < t.min() and t.max() < hi
        assert t.max() - min(t.min(), 0) > 0.55 * (hi - lo), f"r = {r}: the bars fill too little of the panel"


def test_training_curves_name_each_confidence_once():
    fig = plots.training_curves({"epoch": [1, 2], "test_acc": [0.5, 0.6], "confidence": [0.7, 0.8],
                                 "model_confidence": [-0.1, 0.2]})
    ax = fig.axes[1]
    labels = [t.get_text() for t in ax.get_legend().texts]
    assert labels == ["max-softmax confidence", "model confidence MC"]
    assert "MC" not in ax.get_title() and "MC" not in ax.get_ylabel()


# ------------------------------------------------------------------ issue 16: a package of small modules
def test_one_module_per_kind_of_figure_behind_one_flat_namespace():
    """``plots`` is a package (style, rendering, one module per lesson's figures); every name stays
    reachable as ``plots.X``, each function or class is defined in exactly one module (moved, not
    copied), and each module names the lesson(s) that use it in at most 500 lines."""
    import importlib
    import inspect
    import pkgutil
    import re

    modules = {m.name: importlib.import_module(f"{plots.__name__}.{m.name}")
               for m in pkgutil.iter_modules(plots.__path__)}
    assert len(modules) > 1
    defined = {}
    for mod_name, mod in modules.items():
        for name, obj in vars(mod).items():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == mod.__name__:
                defined.setdefault(name, []).append(mod_name)
    assert {n: m for n, m in defined.items() if len(m) > 1} == {}
    for name in plots.__all__:
        obj = getattr(plots, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert defined[name] == [obj.__module__.rsplit(".", 1)[1]], name
    assert set(plots.__all__) >= {n for n, m in defined.items() if not n.startswith("_")}
    assert plots._minus("r = -2, uniform-CE") == "r = −2, uniform-CE"     # the widgets use plots._minus
    for mod in [plots, *modules.values()]:
        assert re.search(r"Lessons? 0\d", mod.__doc__), f"{mod.__name__}: the docstring names its lesson(s)"
        assert len(inspect.getsource(mod).splitlines()) <= 500, mod.__name__


# ------------------------------------------------------------ every plotted point inside its axes
from figure_bounds import points_outside  # noqa: E402


def _sweep_frame(rates=(-64.0, -32.0, -16.0, -8.0, -2.0, 0.0, 0.4), noise_rates=(0.0, 0.4, 0.8), seeds=(0, 1)):
    """A tidy sweep whose best rate at ε = 0.8 is the grid's edge, −64 (lesson 04's digits)."""
    rows = []
    for eps in noise_rates:
        for r in rates:
            for s in seeds:
                acc = 0.9 - 0.01 * abs(r) if eps == 0 else 0.5 + 0.004 * min(-r, 64) * eps + 0.001 * s
                rows.append({"noise_kind": "symmetric", "noise_rate": eps, "smooth_rate": r, "seed": s,
                             "test_acc": acc, "best_test_acc": acc + 0.01})
    return pd.DataFrame(rows)


def _bounds_cases():
    """Every figure the library draws, on small inputs that reach the edges lessons reach."""
    from nls_lessons import widgets
    from nls_lessons.paper import report

    summary = widgets.sweep_summary(_sweep_frame())
    at_edge = widgets.sweep_compute(summary, 0.8, -64.0)

    def moved_renderer():
        renderer = plots.SweepPanelRenderer(widgets.sweep_compute(summary, 0.0, 0.0), dpi=40)
        renderer.render(at_edge)
        return renderer.fig
    table2 = report.paper_table2()
    results = table2.rename(columns={"mean": "paper_mean", "std": "paper_std"}).assign(
        best_mean=lambda t: t.paper_mean - 1.0, best_std=2.5, final_mean=lambda t: t.paper_mean - 3.0,
        final_std=4.0, route="fast")
    by_rate = pd.DataFrame({"val_acc": [0.30, 0.34, 0.33, 0.2], "test_acc": [0.6, 0.82, 0.8, 0.4]},
                           index=pd.Index([-32.0, -2.0, 0.0, 0.8], name="smooth_rate"))
    recipe = pd.DataFrame({"kind": ["symmetric"] * 2 + ["pairflip"] * 2, "seed": [0, 1, 0, 1],
                           "CE": [0.5, 0.52, 0.7, 0.71], "chosen": [0.6, 0.61, 0.72, 0.7]})
    return {
        **{name: make for name, make in CASES.items()},
        "best_rate_vs_noise at the grid's edge (−64)": lambda: plots.best_rate_vs_noise(
            summary["best"], theory=summary["theory"]),
        "sweep_panel at the grid's edge": lambda: plots.sweep_panel(at_edge),
        "SweepPanelRenderer after a move to −64": moved_renderer,
        "uniform_weight_curve at r = −8": lambda: plots.uniform_weight_curve(-8.0),
        "loss_curves with NLS": lambda: plots.loss_curves(smooth_rates=(-4.0, -1.0, 0.0, 0.8)),
        "phase_diagram K = 10": lambda: plots.phase_diagram(10, n=40),
        "noise_panel": lambda: plots.noise_panel(widgets.noise_compute("pairflip", 0.4, n_images=4)),
        "smoothing_panel r = −8": lambda: plots.smoothing_panel(widgets.smoothing_compute(-8.0)),
        "validation_vs_test": lambda: plots.validation_vs_test(by_rate, chosen=-2.0, oracle=-2.0, theory=-1.25),
        "recipe_comparison": lambda: plots.recipe_comparison(recipe),
        "paper plot_results": lambda: report.plot_results(results[results.dataset == "cifar10"]),
        "paper plot_table2": lambda: report.plot_table2("cifar10", "symmetric").figure,
    }


BOUNDS_NAMES = [*CASES, "best_rate_vs_noise at the grid's edge (−64)", "sweep_panel at the grid's edge",
                "SweepPanelRenderer after a move to −64", "uniform_weight_curve at r = −8", "loss_curves with NLS",
                "phase_diagram K = 10", "noise_panel", "smoothing_panel r = −8", "validation_vs_test",
                "recipe_comparison", "paper plot_results", "paper plot_table2"]


@pytest.mark.parametrize("name", BOUNDS_NAMES)
def test_every_plotted_point_lies_within_its_axes(name):
    fig = _bounds_cases()[name]()
    fig.canvas.draw() if fig.canvas is not None else None
    assert points_outside(fig) == []


def test_the_bounds_check_sees_a_point_outside_on_any_scale():
    for scale in ("linear", "log", "asinh"):
        fig, ax = plots.new_figure()
        ax.set_yscale(scale)
        ax.plot([1, 2, 3], [1.0, 10.0, 64.0])
        ax.set_ylim(0.5, 20.0)
        assert len(points_outside(fig)) == 1, scale
        ax.set_ylim(0.5, 64.0)
        assert points_outside(fig) == [], scale
