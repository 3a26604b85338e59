"""Bad inputs to the explorers' computes and constructors: a clear error naming the argument
and what is allowed (issue 13 item 10), never a silent wrong answer or a pandas/ipywidgets error."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bad_input import Case, check_case
from nls_lessons import widgets

NAN, INF = math.nan, math.inf


def _sweep(noise_rates=(0.0, 0.4), smooth_rates=(-1.0, 0.0), seeds=(0, 1), kind="symmetric"):
    rows = [{"noise_kind": kind, "noise_rate": e, "smooth_rate": r, "seed": s,
             "test_acc": 0.9 - 0.5 * e, "best_test_acc": 0.91 - 0.5 * e}
            for e in noise_rates for r in smooth_rates for s in seeds]
    return pd.DataFrame(rows)


SUMMARY = widgets.sweep_summary(_sweep())
MIXED = pd.concat([_sweep(), _sweep(kind="pairflip")], ignore_index=True)

V, T = ValueError, (TypeError, ValueError)
CASES = [
    # ---- noise_compute
    Case("noise-kind", widgets.noise_compute, ("bogus", 0.2), exc=V, words=("kind", "symmetric")),
    Case("noise-rate-1", widgets.noise_compute, ("symmetric", 1.0), exc=V, words=("noise_rate", "[0, 1)")),
    Case("noise-rate-nan", widgets.noise_compute, ("symmetric", NAN), exc=V, words=("noise_rate", "[0, 1)")),
    Case("noise-seed-neg", widgets.noise_compute, kwargs={"seed": -1}, exc=V, words=("seed", ">= 0")),
    Case("noise-seed-float", widgets.noise_compute, kwargs={"seed": 1.5}, exc=V, words=("seed", "integer")),
    Case("noise-n-images-neg", widgets.noise_compute, kwargs={"n_images": -1}, exc=V, words=("n_images", "1797")),
    Case("noise-n-images-0", widgets.noise_compute, kwargs={"n_images": 0}, exc=V, words=("n_images", "1797")),
    Case("noise-n-images-big", widgets.noise_compute, kwargs={"n_images": 10**6}, exc=V, words=("n_images", "1797")),
    Case("noise-n-images-float", widgets.noise_compute, kwargs={"n_images": 2.5}, exc=V, words=("n_images", "integer")),
    # ---- smoothing_compute
    Case("smooth-rate-big", widgets.smoothing_compute, (1.5,), exc=V, words=("smooth_rate", "<= 1")),
    Case("smooth-rate-nan", widgets.smoothing_compute, (NAN,), exc=V, words=("smooth_rate", "<= 1")),
    Case("smooth-rate-str", widgets.smoothing_compute, ("0.1",), exc=T, words=("smooth_rate", "number")),
    Case("smooth-k-1", widgets.smoothing_compute, (0.1,), {"num_classes": 1}, exc=V, words=("num_classes", ">= 2")),
    Case("smooth-label-k", widgets.smoothing_compute, (0.1,), {"label": 10}, exc=V, words=("label", "[0, 10)")),
    Case("smooth-label-neg", widgets.smoothing_compute, (0.1,), {"label": -1}, exc=V, words=("label", "[0, 10)")),
    # ---- training_compute (all rejected before any training)
    Case("train-seed-float", widgets.training_compute, (0.0, 0.2), {"seed": 1.7}, exc=V, words=("seed", "integer")),
    Case("train-seed-neg", widgets.training_compute, (0.0, 0.2), {"seed": -1}, exc=V, words=("seed", ">= 0")),
    Case("train-rate-big", widgets.training_compute, (2.0, 0.2), exc=V, words=("smooth_rate", "<= 1")),
    Case("train-rate-inf", widgets.training_compute, (-INF, 0.2), exc=V, words=("smooth_rate", "<= 1")),
    Case("train-noise-big", widgets.training_compute, (0.0, 1.2), exc=V, words=("noise_rate", "[0, 1)")),
    Case("train-kind", widgets.training_compute, (0.0, 0.2, "bogus"), exc=V, words=("noise_kind", "symmetric")),
    Case("train-dataset", widgets.training_compute, (0.0, 0.2), {"dataset": "mnist"}, exc=V,
         words=("dataset", "blobs")),
    Case("train-grid", widgets.training_compute, (0.0, 0.2), {"grid": 1}, exc=V, words=("grid", ">= 2 and <= 400")),
    Case("train-grid-float", widgets.training_compute, (0.0, 0.2), {"grid": 7.5}, exc=V, words=("grid", ">= 2 and <= 400")),
    # ---- sweep_summary
    Case("summary-none", widgets.sweep_summary, (None,), exc=V, words=("results", "DataFrame")),
    Case("summary-list", widgets.sweep_summary, ([1, 2],), exc=V, words=("results", "DataFrame")),
    Case("summary-metric", widgets.sweep_summary, (_sweep(),), {"metric": "bogus"}, exc=V,
         words=("metric", "best_test_acc")),
    Case("summary-empty", widgets.sweep_summary, (_sweep().iloc[:0],), exc=V, words=("results", "no rows")),
    Case("summary-columns", widgets.sweep_summary, (_sweep().drop(columns="seed"),), exc=V,
         words=("results", "seed")),
    Case("summary-kinds", widgets.sweep_summary, (MIXED,), exc=V, words=("noise kinds", "select one")),
    Case("summary-k", widgets.sweep_summary, (_sweep(),), {"num_classes": 1}, exc=V, words=("num_classes", ">= 2")),
    # ---- sweep_compute
    Case("cell-nan-nan", widgets.sweep_compute, (SUMMARY, NAN, NAN), exc=V, words=("noise_rate", "[0, 1)")),
    Case("cell-r-nan", widgets.sweep_compute, (SUMMARY, 0.4, NAN), exc=V, words=("smooth_rate", "<= 1")),
    Case("cell-r-big", widgets.sweep_compute, (SUMMARY, 0.4, 3.0), exc=V, words=("smooth_rate", "<= 1")),
    Case("cell-eps-inf", widgets.sweep_compute, (SUMMARY, INF, 0.0), exc=V, words=("noise_rate", "[0, 1)")),
    Case("cell-eps-str", widgets.sweep_compute, (SUMMARY, "0.4", 0.0), exc=T, words=("noise_rate", "number")),
    Case("cell-summary", widgets.sweep_compute, (None, 0.4, 0.0), exc=V, words=("summary", "sweep_summary")),
    # ---- explorer constructors: checked before any widget is built (no ipywidgets TraitError,
    # no slider silently clamping the value)
    Case("noise-ex-kind", widgets.NoiseExplorer, ("bogus",), exc=V, words=("kind", "symmetric")),
    Case("noise-ex-rate", widgets.NoiseExplorer, ("symmetric", 0.95), exc=V, words=("noise_rate", "[0, 0.9]")),
    Case("noise-ex-seed", widgets.NoiseExplorer, kwargs={"seed": -1}, exc=V, words=("seed", ">= 0")),
    Case("noise-ex-debounce", widgets.NoiseExplorer, kwargs={"debounce": -1}, exc=V, words=("debounce", ">= 0")),
    Case("smooth-ex-rate", widgets.SmoothingExplorer, (-20.0,), exc=V, words=("smooth_rate", "[-8, 1]")),
    Case("smooth-ex-label", widgets.SmoothingExplorer, (0.0,), {"label": 12}, exc=V, words=("label", "[0, 10)")),
    Case("train-ex-dataset", widgets.TrainingExplorer, kwargs={"dataset": "bogus"}, exc=V, words=("dataset", "blobs")),
    Case("train-ex-rate", widgets.TrainingExplorer, (-20.0,), exc=V, words=("smooth_rate", "[-8, 1]")),
    Case("train-ex-rate-big", widgets.TrainingExplorer, (5.0,), exc=V, words=("smooth_rate", "<= 1")),
    Case("train-ex-noise", widgets.TrainingExplorer, (0.0, 0.85), exc=V, words=("noise_rate", "[0, 0.8]")),
    Case("train-ex-seed", widgets.TrainingExplorer, kwargs={"seed": 1.5}, exc=V, words=("seed", "integer")),
    Case("train-ex-kind", widgets.TrainingExplorer, (0.0, 0.2, "nope"), exc=V, words=("noise_kind", "symmetric")),
    Case("sweep-ex-none", widgets.SweepExplorer, (None,), exc=V, words=("results", "DataFrame")),
    Case("sweep-ex-metric", widgets.SweepExplorer, (_sweep(),), {"metric": "loss"}, exc=V,
         words=("metric", "best_test_acc")),
    Case("sweep-ex-eps", widgets.SweepExplorer, (_sweep(),), {"noise_rate": NAN}, exc=V,
         words=("noise_rate", "[0, 1)")),
    Case("sweep-ex-r", widgets.SweepExplorer, (_sweep(),), {"smooth_rate": NAN}, exc=V,
         words=("smooth_rate", "<= 1")),
    Case("static-name", widgets.static_frames, ("nope",), exc=V, words=("name", "smoothing")),
    Case("entry-noise-seed", widgets.noise_explorer, kwargs={"seed": 2.5}, exc=V, words=("seed", "integer")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input(case):
    check_case(case)


def test_enough_cases():
    assert len(CASES) >= 25


def test_good_edges_still_work():
    """The bounds named in the messages are themselves accepted."""
    assert len(widgets.noise_compute(n_images=1)["images"]) == 1
    assert widgets.smoothing_compute(1.0, label=9)["smooth_rate"] == 1.0
    cell = widgets.sweep_compute(SUMMARY, 0.0, np.float32(-1.0))
    assert (cell["noise_rate"], cell["smooth_rate"]) == (0.0, -1.0)
