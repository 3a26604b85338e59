"""Explorers: pure computes, callbacks (set values, outputs change), latest-only updates,
friendly errors, no figure build-up, and the static (book/slides) fallbacks."""
from __future__ import annotations

import gc
import threading
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from matplotlib.figure import Figure

from nls_lessons import plots, widgets
from nls_lessons.widgets import training_widget

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _live_figures() -> int:
    gc.collect()
    return sum(type(o) is Figure for o in gc.get_objects())


def _fake_sweep(noise_rates=(0.0, 0.2, 0.4, 0.6), smooth_rates=(-4.0, -1.0, 0.0, 0.4), seeds=(0, 1)):
    rng = np.random.default_rng(0)
    rows = []
    for e in noise_rates:
        for r in smooth_rates:
            for s in seeds:
                acc = 0.95 - 0.5 * e + (0.1 * e if r < 0 else 0.0) + rng.normal(0, 0.005)
                rows.append({"noise_kind": "symmetric", "noise_rate": e, "smooth_rate": r, "seed": s,
                             "test_acc": acc, "best_test_acc": acc + 0.01})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ pure computes
def test_noise_compute():
    a = widgets.noise_compute("symmetric", 0.4, seed=0)
    b = widgets.noise_compute("symmetric", 0.0, seed=0)
    np.testing.assert_allclose(a["T_nominal"].sum(1), 1.0)
    np.testing.assert_allclose(a["T_realised"].sum(1), 1.0)
    assert abs(a["realised_rate"] - 0.4) < 0.05
    assert b["realised_rate"] == 0.0 and (b["clean"] == b["noisy"]).all()
    np.testing.assert_array_equal(a["images"], b["images"])      # same digits at every eps
    assert a["images"].shape == (12, 8, 8)


def test_smoothing_compute_nls_entries():
    res = widgets.smoothing_compute(-2.0, num_classes=10, label=3)
    assert res["target_label"] == pytest.approx(2.8)
    assert res["target_other"] == pytest.approx(-0.2)
    assert res["targets"].sum() == pytest.approx(1.0)
    assert res["lam"] == pytest.approx(-2 / 3)          # r / (1 - r)
    assert widgets.smoothing_compute(1.0)["lam"] == float("inf")


def test_sweep_summary_and_compute():
    summary = widgets.sweep_summary(_fake_sweep())
    assert list(summary["table"].index) == [0.0, 0.2, 0.4, 0.6]
    assert list(summary["table"].columns) == [-4.0, -1.0, 0.0, 0.4]
    best = summary["best"]
    assert set(best["noise_rate"]) == {0.0, 0.2, 0.4, 0.6} and len(best) >= 8
    assert (best[best.noise_rate == 0.6]["smooth_rate"] < 0).all()
    eps, r_opt = summary["theory"]
    assert r_opt[0] == pytest.approx(0.0) and r_opt[-1] < 0
    cell = widgets.sweep_compute(summary, 0.39, -0.9)          # snaps to the grid
    assert (cell["noise_rate"], cell["smooth_rate"]) == (0.4, -1.0)
    assert cell["value"] == pytest.approx(summary["table"].loc[0.4, -1.0])
    with pytest.raises(ValueError):
        widgets.sweep_summary(_fake_sweep(), metric="loss")


# ------------------------------------------------------------------ callbacks
def test_noise_explorer_callback_changes_figure():
    ex = widgets.NoiseExplorer(noise_rate=0.0, debounce=0.01)
    png0 = ex.image.value
    assert bytes(png0).startswith(b"\x89PNG") and ex.result["realised_rate"] == 0.0
    ex.set(noise_rate=0.6, kind="pairflip")
    assert ex.wait(20)
    assert ex.error is None
    assert ex.result["noise_rate"] == 0.6 and ex.result["kind"] == "pairflip"
    assert ex.image.value != png0
    assert "pairflip" in ex.status.value
    bundle = ex._repr_mimebundle_()
    assert WIDGET_MIME in bundle[0] if isinstance(bundle, tuple) else WIDGET_MIME in bundle
    ex.close()


def test_smoothing_rapid_moves_show_only_latest_and_do_not_pile_up():
    pyplot_before = plt.get_fignums()
    figs_before = _live_figures()
    ex = widgets.SmoothingExplorer(0.0, debounce=0.1)
    png0, renders0 = ex.image.value, ex.renders
    for r in np.linspace(-8, 1, 25):           # a fast drag / held arrow key
        ex.set(smooth_rate=round(float(r), 1))
    ex.set(smooth_rate=-2.0)
    assert ex.wait(20)
    assert ex.result["smooth_rate"] == -2.0
    assert ex.renders - renders0 <= 3, f"{ex.renders - renders0} renders for 26 moves: updates piled up"
    assert ex.image.value != png0
    assert "r = −2" in ex.status.value and "λ" in ex.status.value
    assert plt.get_fignums() == pyplot_before, "explorers must not register figures with pyplot"
    ex.close()
    assert _live_figures() <= figs_before


class _Slow(widgets.Explorer):
    """An explorer whose compute takes a while: a newer setting must overtake it."""

    name = "slow"

    def __init__(self):
        import ipywidgets as W

        self.started = threading.Event()
        self.computed = []
        super().__init__({"x": W.IntSlider(value=0)}, debounce=0.0)

    def compute(self, x):
        self.computed.append(x)
        if x == 1:
            self.started.set()
            time.sleep(0.4)
        if x == 99:
            raise RuntimeError("boom")
        return {"x": x}

    def plot(self, result):
        fig, ax = plots.new_figure(figsize=(1, 1))
        ax.set_title(str(result["x"]))
        return fig


def test_stale_result_is_dropped_and_errors_stay_in_status():
    ex = _Slow()
    ex.set(x=1)
    assert ex.started.wait(5)
    ex.set(x=2)                      # arrives while x=1 is still computing
    assert ex.wait(10)
    assert ex.result == {"x": 2}
    assert ex.renders == 2           # the first frame and x=2; x=1 was computed but never drawn
    good = ex.image.value
    ex.set(x=99)                     # compute raises: no exception escapes, figure kept
    assert ex.wait(10)
    assert ex.error == "RuntimeError: boom"
    assert "could not be drawn" in ex.status.value and "boom" in ex.status.value
    assert ex.image.value == good and ex.result == {"x": 2}
    ex.set(x=3)
    assert ex.wait(10) and ex.error is None and ex.result == {"x": 3}
    ex.close()


def test_many_updates_do_not_grow_figures():
    pyplot_before = plt.get_fignums()
    summary_df = _fake_sweep()
    ex = widgets.SweepExplorer(summary_df, debounce=0.0)
    before = _live_figures()
    for i in range(24):
        ex.set(noise_rate=[0.0, 0.2, 0.4, 0.6][i % 4], smooth_rate=[-4.0, -1.0, 0.0, 0.4][(i // 4) % 4])
        ex.wait(10)
    assert ex.error is None
    assert plt.get_fignums() == pyplot_before, "explorers must not register figures with pyplot"
    assert _live_figures() <= before + 1
    ex.close()


def test_sweep_explorer_sliders_metric_and_live_retrain():
    from nls_lessons import train

    data = widgets.live_dataset("blobs")
    kw = {"model": "linear", "epochs": 3}
    results = train.sweep(data, [-1.0, 0.0], [0.0, 0.4], [0], progress=False, device="cpu", **kw)
    ex = widgets.SweepExplorer(results, data=data, train_kwargs=kw, debounce=0.0)
    png0 = ex.image.value
    ex.set(noise_rate=0.4, smooth_rate=-1.0)
    assert ex.wait(10)
    assert (ex.result["noise_rate"], ex.result["smooth_rate"]) == (0.4, -1.0)
    assert ex.image.value != png0
    png1 = ex.image.value
    ex.set(metric="test_acc")
    assert ex.wait(10) and ex.result["metric"] == "test_acc" and ex.image.value != png1
    assert not ex.button.disabled
    ex.retrain()
    assert ex.wait(10)
    live = ex.result["live"]
    cached = results.query("noise_rate == 0.4 and smooth_rate == -1.0 and seed == 0")["test_acc"].iloc[0]
    assert live["value"] == pytest.approx(100 * cached, abs=0.6)    # same pairing as the sweep
    assert "live:" in ex.live_status.value
    ex.close()


def test_training_explorer_retrains_and_device_toggle():
    import torch

    ex = widgets.TrainingExplorer(0.0, 0.3, debounce=0.01, epochs=4)
    assert ex.controls["device"].disabled == (not torch.cuda.is_available())
    assert ex.progress.description == "done"
    acc0, png0 = ex.result["test_acc"], ex.image.value
    ex.set(smooth_rate=-2.0, noise_rate=0.6)
    assert ex.wait(20)
    assert ex.error is None
    assert ex.result["smooth_rate"] == -2.0 and ex.result["noise_rate"] == 0.6
    assert ex.image.value != png0
    assert ex.result["seconds"] < 5
    assert "probs" in ex.result and ex.result["probs"].shape[-1] == 3
    assert acc0 != ex.result["test_acc"] or png0 != ex.image.value
    ex.close()


def test_training_compute_digits_has_confidence_histogram_data():
    res = widgets.training_compute(-1.0, 0.2, dataset="digits", epochs=2)
    assert res["mc"].shape == res["correct"].shape == (540,)
    fig = widgets.training_panel(res)
    assert len(fig.axes) == 3 and all(ax.get_title() for ax in fig.axes)
    plots.close(fig)


# ------------------------------------------------------------------ static fallbacks
def test_static_mode_returns_frames_html(monkeypatch):
    from IPython.display import HTML

    monkeypatch.setenv("NLS_STATIC", "1")
    monkeypatch.setitem(widgets.STATIC_VALUES, "smoothing", {"smooth_rate": [-2.0, 0.0, 0.4]})
    assert widgets.static_mode()
    out = widgets.smoothing_explorer()
    assert isinstance(out, HTML)
    assert out.data.count('<img class="nls-frame"') == 3
    assert 'data-params="smooth_rate"' in out.data and "GLS target for r = " in out.data
    out = widgets.sweep_explorer(_fake_sweep(noise_rates=(0.0, 0.4), smooth_rates=(-1.0, 0.0)))
    assert isinstance(out, HTML) and 'data-params="noise_rate smooth_rate"' in out.data
    assert all(f'data-key="{i},{j}"' in out.data for i in range(2) for j in range(2))
    monkeypatch.setenv("NLS_STATIC", "0")
    assert not widgets.static_mode()


def test_static_frames_noise_and_training():
    pyplot_before = plt.get_fignums()
    html = widgets.static_frames("noise", kind=["symmetric", "pairflip"], noise_rate=[0.2])
    assert html.count('<img class="nls-frame"') == 2 and 'data-key="1,0"' in html
    assert "transition matrices for pairflip noise" in html
    html = widgets.static_frames("training", smooth_rate=[-1.0, 0.4], epochs=3)
    assert html.count('<img class="nls-frame"') == 2 and "test accuracy" in html
    with pytest.raises(ValueError):
        widgets.static_frames("nope")
    assert plt.get_fignums() == pyplot_before, "explorers must not register figures with pyplot"


# ------------------------------------------------------------------ issue 15 (teaching mechanics)
def test_noise_sample_is_drawn_independently_of_the_noise():
    """Under symmetric noise every wrong class is equally likely, and the shown digits must say so:
    the sample of images may not reuse the noise draw's random stream (issue 15 item 10; with the
    shared stream, seed 0 at eps = 0.2 showed 2->0, 5->0, 6->0, 9->0)."""
    targets = []
    for seed in range(10):
        res = widgets.noise_compute("symmetric", 0.2, seed=seed)
        flipped = res["clean"] != res["noisy"]
        targets += list(res["noisy"][flipped])
        if flipped.sum() >= 3:
            assert len(set(res["noisy"][flipped])) > 1, \
                f"seed {seed}: every flip shown went to class {res['noisy'][flipped][0]}"
        other = widgets.noise_compute("pairflip", 0.6, seed=seed)
        np.testing.assert_array_equal(other["images"], res["images"])   # same digits at every setting
    assert len(set(targets)) >= 6, f"flips shown went only to classes {sorted(set(targets))}"


def test_training_status_and_panel_name_each_confidence_once():
    """Issue 15 item 4: `confidence` is mean max-softmax, `model_confidence` mean MC; the status
    line and the figure may not call one by the other's name."""
    ex = widgets.TrainingExplorer(-2.0, 0.4, debounce=0.0, epochs=3)
    res = ex.result
    h = res["history"]
    assert res["confidence"] == pytest.approx(float(h["confidence"].iloc[-1]))
    assert res["model_confidence"] == pytest.approx(float(h["model_confidence"].iloc[-1]))
    status = ex.status.value
    assert f"max-softmax confidence {res['confidence']:.2f}" in status
    assert f"model confidence MC {res['model_confidence']:.2f}" in status
    assert "mean MC" not in status
    fig = widgets.training_panel(res)
    right = fig.axes[2]
    legend = {t.get_text(): line for t, line in zip(right.get_legend().texts, right.get_legend().get_lines())}
    assert list(legend) == ["max-softmax confidence", "model confidence MC"]
    by_label = {line.get_label(): line for line in right.lines}
    np.testing.assert_allclose(by_label["max-softmax confidence"].get_ydata(), h["confidence"])
    np.testing.assert_allclose(by_label["model confidence MC"].get_ydata(), h["model_confidence"])
    plots.close(fig)
    ex.close()


def test_smoothing_status_gives_the_uniform_weight_r_over_one_minus_r():
    ex = widgets.SmoothingExplorer(-2.0, debounce=0.0)
    assert "λ = r/(1 − r) = −0.667" in ex.status.value
    assert "1/(1 − r)" not in ex.status.value
    ex.close()


@pytest.mark.parametrize("make, moves", [
    (lambda **kw: widgets.NoiseExplorer(**kw), [{"noise_rate": 0.6}, {"kind": "pairflip"}, {"noise_rate": 0.1}]),
    (lambda **kw: widgets.SmoothingExplorer(**kw), [{"smooth_rate": -2.0}, {"smooth_rate": 0.8}, {"smooth_rate": -8.0}]),
    (lambda **kw: widgets.TrainingExplorer(epochs=2, **kw), [{"smooth_rate": -2.0}, {"noise_rate": 0.6}]),
])
def test_live_explorers_keep_one_figure_and_update_it(make, moves):
    """Issue 15 item 14: a slider move updates the artists of ONE kept figure (no new axes), and
    the picture equals the fresh-figure path's (the earlier path, kept for the benchmark)."""
    ex = make(debounce=0.0)
    fresh = make(debounce=0.0, fresh_figure=True)
    panel = ex._panel
    assert panel is not None and fresh._panel is None
    axes = list(panel.fig.axes)
    pngs = {bytes(ex.image.value)}
    for move in moves:
        for e in (ex, fresh):
            e.set(**move)
            assert e.wait(30) and e.error is None, e.error
        assert ex._panel is panel and list(panel.fig.axes) == axes, "a new figure or new axes per frame"
        pngs.add(bytes(ex.image.value))
        assert len(ex.image.value) > 0 and _png_size(ex.image.value) == _png_size(fresh.image.value)
        again = ex.plot(ex.result)                 # what a fresh figure of this result says
        plots.to_png(again, dpi=ex.dpi)
        assert _words(panel.fig) == _words(again), "the kept figure drifted from a freshly drawn one"
        plots.close(again)
    assert len(pngs) == len(moves) + 1
    ex.close()
    fresh.close()
    assert panel.fig.axes == []          # released on close


def _png_size(png):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(png)).size


def _words(fig):
    """Every visible text of a drawn figure (titles, labels, tick labels, legends, cell numbers)."""
    from matplotlib.text import Text

    return sorted(t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text())


def test_long_work_shows_elapsed_time(monkeypatch):
    """Issue 15 item 11: a retrain that takes seconds shows a live indicator, not a frozen bar."""
    seen = []
    original = widgets.training_compute

    def slow(*args, **kwargs):
        time.sleep(1.3)
        return original(*args, **kwargs)

    ex = widgets.TrainingExplorer(0.0, 0.2, debounce=0.0, epochs=2)
    # the explorer calls the compute of its own module (nls_lessons.widgets.training_widget)
    monkeypatch.setattr(training_widget, "training_compute", slow)
    ex.progress.observe(lambda change: seen.append(change["new"]), names="description")
    ex.set(smooth_rate=-1.0)
    assert ex.wait(30) and ex.error is None
    ticks = [d for d in seen if d.endswith(" s") and "training" in d]
    assert ticks, f"no elapsed-time updates while training: {seen}"
    assert ex.progress.description == "done"
    ex.close()


def test_set_rejects_values_outside_a_slider_instead_of_clamping():
    ex = widgets.SmoothingExplorer(0.0, debounce=0.0)
    with pytest.raises(ValueError, match=r"smooth_rate.*\[-8, 1\]"):
        ex.set(smooth_rate=-20.0)
    assert ex.controls["smooth_rate"].value == 0.0
    ex.close()


@pytest.mark.parametrize("value", [torch.tensor(-20.0), np.float32(-20.0), np.array(-20.0)])
def test_set_checks_every_kind_of_number_against_the_slider(value):
    """One notion of a number (nls_lessons.checks): a 0-d tensor or numpy value is range-checked
    like a float, not handed to the slider to fail (or clamp) there."""
    ex = widgets.SmoothingExplorer(0.0, debounce=0.0)
    with pytest.raises(ValueError, match=r"smooth_rate must lie in the slider range \[-8, 1\]"):
        ex.set(smooth_rate=value)
    assert ex.controls["smooth_rate"].value == 0.0
    ex.close()


def test_set_takes_a_0d_tensor_and_a_float32_as_the_number_they_show():
    ex = widgets.SmoothingExplorer(0.0, debounce=0.0)
    ex.set(smooth_rate=torch.tensor(-2.0))
    assert ex.controls["smooth_rate"].value == -2.0 and type(ex.controls["smooth_rate"].value) is float
    ex.set(smooth_rate=np.float32(0.1))
    assert ex.controls["smooth_rate"].value == 0.1
    with pytest.raises(TypeError, match="smooth_rate must be a number in \\[-8, 1\\], got True"):
        ex.set(smooth_rate=True)
    ex.close()


def test_explorer_display_carries_its_figure_for_front_ends_without_widgets():
    """RISE's slideshow cannot load the widget manager (jupyterlab-contrib/rise#119): the display
    bundle also holds the current figure, which such a front end shows instead of 'VBox(...)'."""
    import base64

    explorer = widgets.SmoothingExplorer(0.2)
    try:
        bundle = explorer._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        png = base64.b64decode(bundle["image/png"])
        assert png == bytes(explorer.image.value) and png.startswith(b"\x89PNG")
    finally:
        explorer.close()


#: Every public name of the single-module ``nls_lessons/widgets.py`` before it became a package
#: (issue 16): learners' code, notebooks and the book call them as ``widgets.<name>``.
OLD_PUBLIC_NAMES = (
    "CURVE_RATES", "DEFAULT_CACHE", "Explorer", "LIVE_TRAIN", "MAX_GRID", "NOISE_SLIDER", "N_DIGITS",
    "NoiseExplorer", "RECIPE_KINDS", "RECIPE_RATES", "RECIPE_STATIC", "RECIPE_TRAIN", "RecipeExplorer",
    "SMOOTH_SLIDER", "STATIC_ENV", "STATIC_VALUES", "SWEEP_NOISE_RATES", "SWEEP_SEEDS", "SWEEP_SMOOTH_RATES",
    "SWEEP_TRAIN", "SmoothingExplorer", "SweepExplorer", "TOY_DATASETS", "TRAIN_NOISE_SLIDER", "TrainingExplorer",
    "decision_grid", "default_sweep", "live_dataset", "noise_compute", "noise_explorer", "recipe_compute",
    "recipe_explorer", "recipe_frames", "recipe_transition", "smoothing_compute", "smoothing_explorer",
    "static_frames", "static_mode", "sweep_compute", "sweep_explorer", "sweep_summary", "training_compute",
    "training_explorer", "training_panel",
)


def test_the_package_keeps_every_name_of_the_old_module():
    """Issue 16: ``widgets.X`` keeps working for every public name the module had, and the
    explorer functions are the functions (not the submodules named after them)."""
    missing = [n for n in OLD_PUBLIC_NAMES if not hasattr(widgets, n)]
    assert not missing, f"nls_lessons.widgets lost {missing}"
    # Names added since: the frames module (issue 16) and the hub mode (issue 28).
    assert set(OLD_PUBLIC_NAMES) | {"frames", "HUB_ENV", "hub_mode"} == set(widgets.__all__)
    for name in ("noise_explorer", "smoothing_explorer", "training_explorer", "sweep_explorer", "recipe_explorer"):
        assert callable(getattr(widgets, name)) and not isinstance(getattr(widgets, name), type(widgets)), name
    assert widgets.frames.FRAMES_JS.is_file(), widgets.frames.FRAMES_JS
    assert issubclass(widgets.TrainingExplorer, widgets.Explorer)


def _same_result(a: dict, b: dict) -> None:
    """Every number of two training results equal (bit for bit), timing fields aside."""
    assert set(a) == set(b)
    for k in set(a) - {"seconds", "from_axis"}:
        if isinstance(a[k], pd.DataFrame):
            pd.testing.assert_frame_equal(a[k], b[k], check_exact=True)
        elif isinstance(a[k], np.ndarray):
            assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), k
        else:
            assert a[k] == b[k], k


@pytest.mark.parametrize("dataset, fit_kwargs, diverging", [
    ("blobs", {}, False),                         # the live settings
    ("digits", {"epochs": 6}, False),
    ("blobs", {"epochs": 8, "lr": 3.0}, True),    # most NLS models diverge: frozen models too
])
def test_the_r_axis_gives_the_very_models_a_retrain_gives(dataset, fit_kwargs, diverging):
    """Issue 15 item 14: the training explorer looks r up in a stacked axis of every slider
    value instead of retraining; what it shows must be what a retrain shows, number for number."""
    from nls_lessons.widgets import rate_axis

    kwargs = {**widgets.LIVE_TRAIN[dataset], **fit_kwargs}
    axis = rate_axis.train_axis(widgets.live_dataset(dataset), 0.4, "symmetric", 0, **kwargs)
    assert len(axis.rates) == 91 and axis.rates[0] == -8.0 and axis.rates[-1] == 1.0 and 0.0 in axis.rates
    diverged = [r for r in axis.rates if axis.fitted(r).diverged]
    assert bool(diverged) == diverging
    rates = [-2.0, -0.7000000000000001, 0.0, 0.4, 1.0] + diverged[:1] + diverged[-1:]   # a slider's -0.7 too
    for r in rates:
        looked_up = widgets.training_compute(r, 0.4, dataset=dataset, axis=axis, **fit_kwargs)
        retrained = widgets.training_compute(r, 0.4, dataset=dataset, **fit_kwargs)
        assert looked_up["from_axis"] and not retrained["from_axis"]
        _same_result(looked_up, retrained)
    assert not axis.has(0.05)                                     # off the slider's grid: a fit
    with pytest.raises(ValueError, match="another setting"):
        widgets.training_compute(0.0, 0.3, dataset=dataset, axis=axis, **fit_kwargs)


def test_the_noise_draw_depends_on_the_exact_noise_rate():
    """Why an axis is matched by its labels, not by a rounded ε: the noise seed is derived from
    repr(noise_rate), so a slider's 0.35000000000000003 is another draw than 0.35."""
    from nls_lessons.widgets import rate_axis

    data = widgets.live_dataset("blobs")
    axis = rate_axis.train_axis(data, 0.35, "symmetric", 0, rates=(0.0,), model="mlp", epochs=1)
    assert axis.matches(data, 0.35, "symmetric", 0)
    assert not axis.matches(data, 0.35000000000000003, "symmetric", 0)
    assert not axis.matches(data, 0.35, "pairflip", 0) and not axis.matches(data, 0.35, "symmetric", 1)
    assert rate_axis.noise_neighbours(0.35000000000000003) == [0.3, 0.4]
    assert rate_axis.noise_neighbours(0.0) == [0.05] and rate_axis.noise_neighbours(0.8) == [0.75]


def test_the_training_explorer_looks_r_up_after_its_axis_is_trained():
    """After the first frame the explorer trains the r axis (and one ε step either side) in the
    background; a later move of r or of ε by one step is a lookup that shows what a retrain shows."""
    ex = widgets.TrainingExplorer(0.0, 0.3, debounce=0.0, epochs=3)
    today = widgets.TrainingExplorer(0.0, 0.3, debounce=0.0, epochs=3, rate_axis=False)
    assert not ex.result["from_axis"] and today.axes is None
    assert ex.wait_for_axis(120) and not ex.axes.errors
    for move in ({"smooth_rate": -1.5}, {"noise_rate": 0.35}, {"smooth_rate": 0.8}):
        for e in (ex, today):
            e.set(**move)
            assert e.wait(60) and e.error is None
        assert ex.result["from_axis"] and not today.result["from_axis"], move
        _same_result(ex.result, today.result)
        assert "every r of the slider at once" in ex.status.value
        assert ex.wait_for_axis(120)
    ex.close()
    today.close()


# ---------------------------------------------------------------- a move that takes seconds (issue 24, item 12)
def test_the_recipe_explorer_shows_progress_while_it_works():
    """The recipe takes about 3 s a move; its bar stood at 30 % with a fixed label meanwhile. Now
    the label counts the seconds and the bar fills against the last move's time."""
    class Slow(widgets.RecipeExplorer):
        def compute(self, kind, noise_rate):
            time.sleep(1.5)
            return {"kind": kind, "noise_rate": noise_rate}

        def render(self, result):
            return b"png"

        def describe(self, result):
            return ""

    ex = Slow("symmetric", 0.2, debounce=0.0)
    assert ex.progress.description == "done" and ex.progress.value == 1.0
    seen = []
    ex.progress.observe(lambda ch: seen.append((ex.progress.description, ex.progress.value)), names="value")
    ex.set(noise_rate=0.4)
    assert ex.wait(20)
    running = [(d, v) for d, v in seen if d.startswith("running the recipe") and d.endswith(" s") and v < 1.0]
    assert len(running) >= 2, seen          # redrawn while the work runs (the last value is "done")
    values = [v for _, v in running]
    assert values == sorted(values) and values[-1] > values[0] and max(values) <= 0.95
    assert ex.progress.description == "done" and ex.progress.value == 1.0
    ex.close()


def test_the_training_explorer_shows_a_stable_accuracy_beside_the_last_epoch():
    """On the 2-D toy one epoch's test accuracy can jump by tens of points, so one slider move can
    mislead; the status line and the figure show the mean over the last epochs beside it."""
    res = widgets.training_compute(0.4, 0.6, dataset="blobs", seed=0)
    h = res["history"]["test_acc"]
    n = training_widget.RECENT_EPOCHS
    assert res["recent_epochs"] == n and res["test_acc_recent"] == pytest.approx(float(h.iloc[-n:].mean()))
    assert h.iloc[-n:].std() > 0.01          # the last epochs do move: the summary has work to do
    ex = widgets.TrainingExplorer(0.4, 0.6, debounce=0.0, rate_axis=False)
    assert f"{100 * ex.result['test_acc_recent']:.1f} % averaged over the last {n}" in ex.status.value
    fig = widgets.training_panel(ex.result)
    titles = " ".join(t.get_text() for t in fig.texts) + " " + " ".join(a.get_title() for a in fig.axes)
    titles += " " + (fig._suptitle.get_text() if fig._suptitle else "")
    assert f"last {n} epochs: {100 * ex.result['test_acc_recent']:.1f} %" in titles, titles
    ex.close()
