"""The widgets on a class hub (issue 28 item 3): ``NLS_HUB=1`` bounds the training explorer's
background r-axis work (the shown setting's axis only, in a lower-priority thread)."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from nls_lessons import widgets
from nls_lessons.widgets import rate_axis


@pytest.mark.parametrize("value, expected", [("1", True), ("yes", True), ("", False), ("0", False),
                                             ("false", False), ("No", False)])
def test_hub_mode_reads_the_hub_variable(monkeypatch, value, expected):
    monkeypatch.setenv(widgets.HUB_ENV, value)
    assert widgets.HUB_ENV == "NLS_HUB"
    assert widgets.hub_mode() is expected


def test_on_the_hub_the_explorer_trains_only_the_shown_settings_axis(monkeypatch):
    monkeypatch.setenv("NLS_HUB", "1")
    ex = widgets.TrainingExplorer(dataset="digits", noise_rate=0.3)
    try:
        ex.request()
        assert ex.wait(120)
        assert ex.wait_for_axis(300)
        assert not ex.axes.errors
        ready = list(ex.axes._ready)
        assert ready == [("digits", 0.3, "symmetric", "cpu")], ready    # no ε neighbours' axes
        assert ex.axes.nice == rate_axis.HUB_NICE > 0
    finally:
        ex.close()


def test_off_the_hub_the_explorer_keeps_its_neighbour_axes(monkeypatch):
    monkeypatch.delenv("NLS_HUB", raising=False)
    ex = widgets.TrainingExplorer(dataset="digits", rate_axis=True)
    try:
        assert ex.neighbour_axes and ex.axes.nice == 0
    finally:
        ex.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is Linux's")
def test_the_axis_worker_thread_runs_nicer_than_its_process():
    seen = {}
    done = threading.Event()

    def make(stop):
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        done.set()
        return "axis"

    worker = rate_axis.AxisWorker(nice=rate_axis.HUB_NICE)
    worker.want([("key", make)])
    assert done.wait(30) and worker.wait(30)
    assert worker.get("key") == "axis" and not worker.errors
    assert seen["nice"] == min(19, os.getpriority(os.PRIO_PROCESS, 0) + rate_axis.HUB_NICE)
    # the process itself (the kernel answering the learner) keeps its priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < seen["nice"]


@pytest.mark.parametrize("nice", [-1, 20, 2.5, True, "10"])
def test_the_axis_worker_refuses_a_bad_nice(nice):
    with pytest.raises(ValueError, match=r"nice must be an int in 0\.\.19"):
        rate_axis.AxisWorker(nice=nice)
