"""Static explorer frames: the HTML contract the book and the slides rely on."""
from __future__ import annotations

import base64
from html.parser import HTMLParser

import pytest

from nls_lessons import plots
from nls_lessons.widgets import frames


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _parse(text):
    p = _Collect()
    p.feed(text)
    return p.tags


def _fig(**values):
    fig, ax = plots.new_figure(figsize=(2, 1.5))
    ax.set_title(repr(values))
    return fig


def test_one_parameter_structure():
    html = frames.frames_html(_fig, {"r": [-2.0, 0.0, 0.4]}, initial={"r": 2},
                              alt=lambda r: f"loss curves at r = {r}", labels={"r": "smooth rate r"})
    tags = _parse(html)
    root = [a for t, a in tags if t == "div" and a.get("class") == "nls-frames"]
    assert root and root[0]["data-params"] == "r"
    sliders = [a for t, a in tags if t == "input"]
    assert len(sliders) == 1
    s = sliders[0]
    assert (s["type"], s["class"], s["data-param"], s["min"], s["max"], s["step"], s["value"]) == \
        ("range", "nls-frames-slider", "r", "0", "2", "1", "2")
    assert s["aria-label"] == "smooth rate r"
    outputs = [a for t, a in tags if t == "output"]
    assert outputs[0]["class"] == "nls-frames-value" and outputs[0]["data-param"] == "r"
    assert ">0.4</output>" in html
    imgs = [a for t, a in tags if t == "img"]
    assert [a["data-key"] for a in imgs] == ["0", "1", "2"]
    assert all(a["class"] == "nls-frame" for a in imgs)
    assert all(a["alt"].startswith("loss curves at r =") for a in imgs)
    visible = [a for a in imgs if "hidden" not in a]
    assert [a["data-key"] for a in visible] == ["2"]
    png = base64.b64decode(imgs[0]["src"].removeprefix("data:image/png;base64,"))
    assert png.startswith(b"\x89PNG")
    assert "<noscript>" in html and "nlsFramesInit" in html


def test_two_parameters_keys_complete_and_default_alt():
    html = frames.frames_html(_fig, {"eps": [0.0, 0.4], "r": [-2.0, 0.0, 0.4]}, include_script=False)
    tags = _parse(html)
    assert [a for t, a in tags if t == "div"][0]["data-params"] == "eps r"
    keys = {a["data-key"] for t, a in tags if t == "img"}
    assert keys == {f"{i},{j}" for i in range(2) for j in range(3)}
    imgs = [a for t, a in tags if t == "img"]
    assert sum("hidden" not in a for a in imgs) == 1
    assert all(a["alt"] for a in imgs)
    assert "<script>" not in html
    assert len([a for t, a in tags if t == "input"]) == 2


def test_mapping_of_png_bytes_and_closing_figures():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    figs = {(i,): _fig(i=i) for i in range(3)}
    html = frames.frames_html(figs, {"k": ["a", "b", "c"]}, alt="kind {k}")
    assert 'alt="kind b"' in html
    assert plt.get_fignums() == before
    with pytest.raises(KeyError):
        frames.frames_html({(0,): b"\x89PNG"}, {"k": ["a", "b"]})


@pytest.mark.parametrize("params", [{}, {"a": [1], "b": [1], "c": [1]}, {"a": []}, {"not ok": [1]}])
def test_bad_params(params):
    with pytest.raises(ValueError):
        frames.frames_html(_fig, params)


def test_frames_js_contract():
    js = frames.frames_js()
    assert frames.FRAMES_JS.name == "frames.js"
    for needle in ("DOMContentLoaded", "window.nlsFramesInit", ".nls-frames", "nls-frames-slider",
                   "nls-frames-value", "data-key", "hidden", '"input"'):
        assert needle in js
