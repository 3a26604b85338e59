"""Lesson 01's noise explorer: noise kind and ε → nominal and realised T, digits clean → noisy.

Owns :func:`noise_compute` (numbers only), :class:`NoiseExplorer` (the live widget on
:class:`nls_lessons.plots.NoisePanel`), its static frames and :func:`noise_explorer`.
"""
from __future__ import annotations

import functools

import numpy as np

from nls_lessons import noise as _noise
from nls_lessons import plots
from nls_lessons.widgets import frames as _frames
from nls_lessons.widgets.base import STATIC_VALUES, Explorer, static_html, static_mode
from nls_lessons.widgets.controls import NOISE_SLIDER, _check_choice, _check_int, _check_slider, _float_slider, _r


@functools.lru_cache(maxsize=1)
def _digit_images():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)


def noise_compute(kind: str = "symmetric", noise_rate: float = 0.2, *, seed: int = 0, n_images: int = 12) -> dict:
    """Lesson 01: noisy labels for all 1,797 digits; nominal and realised T; a sample of images.

    Returns a dict: kind, noise_rate, T_nominal (10, 10), T_realised (10, 10),
    realised_rate (fraction of changed labels), images (n, 8, 8), clean (n,), noisy (n,).
    The noise is drawn from ``seed``; the digits shown from a stream spawned from it
    (``SeedSequence(seed).spawn``), so the sample is independent of the noise draw and the
    same ``seed`` shows the same digits at every setting.
    """
    images, labels = _digit_images()
    kind = _check_choice(kind, "kind", _noise.KINDS)
    noise_rate = _noise.check_noise_rate(noise_rate)
    seed = _noise.check_seed(seed)
    n_images = _check_int(n_images, "n_images", 1, len(labels))
    k = 10
    T = _noise.transition_matrix(kind, k, noise_rate)
    noisy = np.asarray(_noise.inject(labels, T, seed))
    sample_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    pick = sample_rng.permutation(len(labels))[:n_images]
    return {
        "kind": kind, "noise_rate": noise_rate, "seed": seed,
        "T_nominal": T, "T_realised": _noise.empirical_transition(labels, noisy, k),
        "realised_rate": float(np.mean(noisy != labels)),
        "images": images[pick], "clean": labels[pick], "noisy": noisy[pick], "ncols": 4,
    }


class NoiseExplorer(Explorer):
    """Lesson 01: noise kind + ε → nominal and realised T, digits captioned clean → noisy."""

    name = "noise"
    panel_class = plots.NoisePanel

    def __init__(self, kind="symmetric", noise_rate=0.2, *, seed=0, debounce=0.12, fresh_figure=False):
        import ipywidgets as W

        kind = _check_choice(kind, "kind", _noise.KINDS)
        noise_rate = _check_slider(noise_rate, "noise_rate", NOISE_SLIDER, _noise.check_noise_rate)
        self.seed = _noise.check_seed(seed)
        controls = {
            "kind": W.Dropdown(options=list(_noise.KINDS), value=kind, description="noise kind",
                               style={"description_width": "initial"}),
            "noise_rate": _float_slider("noise rate ε", noise_rate, *NOISE_SLIDER),
        }
        super().__init__(controls, title="Noise explorer: how a transition matrix corrupts labels",
                         debounce=debounce, fresh_figure=fresh_figure)

    def compute(self, kind, noise_rate):
        return noise_compute(kind, noise_rate, seed=self.seed)

    def plot(self, result):
        return plots.noise_panel(result)

    def describe(self, r):
        return (f"{r['kind']} noise, nominal ε = {_r(r['noise_rate'])}: "
                f"{100 * r['realised_rate']:.1f} % of the 1,797 labels changed")


def _static_frames(kw, add, frames, alts) -> str:
    """The noise explorer's frames over :data:`STATIC_VALUES` ``["noise"]`` (see :func:`base.panel_frames`)."""
    params = {"kind": list(kw.pop("kind", STATIC_VALUES["noise"]["kind"])),
              "noise_rate": list(kw.pop("noise_rate", STATIC_VALUES["noise"]["noise_rate"]))}
    for i, kind in enumerate(params["kind"]):
        for j, eps in enumerate(params["noise_rate"]):
            res = noise_compute(kind, eps, **kw)
            flips = int(np.sum(res["clean"] != res["noisy"]))
            add((i, j), res, plots.NoisePanel,
                f"Nominal and realised 10-by-10 transition matrices for {kind} noise at ε = {_r(eps)} "
                f"({100 * res['realised_rate']:.1f} % of labels changed), and {len(res['clean'])} digits "
                f"captioned clean → noisy label, {flips} of them flipped.")
    return _frames.frames_html(frames, params, alt=alts, labels={"kind": "noise kind", "noise_rate": "noise rate ε"},
                               initial={"kind": 0, "noise_rate": min(1, len(params["noise_rate"]) - 1)})


def noise_explorer(kind: str = "symmetric", noise_rate: float = 0.2, *, seed: int = 0):
    """Lesson 01: the noise explorer (or its static frames when ``NLS_STATIC=1``)."""
    if static_mode():
        return static_html(_static_frames, seed=seed)
    return NoiseExplorer(kind, noise_rate, seed=seed)
