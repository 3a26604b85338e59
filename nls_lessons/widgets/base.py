"""The shared base of the live explorers: one worker thread, one kept figure, static mode.

Lessons 01-04 and 06 use it through their explorers (:mod:`nls_lessons.widgets`). Owns the
:class:`Explorer` base class (controls + one Image + a status line; a debounced background
worker that draws only the latest setting), the :class:`_Elapsed` sign of life for long work,
and static mode: :func:`static_mode` (``NLS_STATIC=1``, set by the book and slides builds),
:data:`STATIC_VALUES` (the slider values the precomputed frames cover) and
:func:`panel_frames` / :func:`static_html`, which draw those frames on one kept panel per
explorer and wrap them in :mod:`nls_lessons.widgets.frames`' HTML.
"""
from __future__ import annotations

import html
import os
import threading
import time
import traceback

from nls_lessons import checks
from nls_lessons import noise as _noise
from nls_lessons import plots
from nls_lessons.widgets.controls import _check_debounce, _span

STATIC_ENV = "NLS_STATIC"
#: Set by the class hub's spawner (classroom/jupyterhub_config.py, the Zero to JupyterHub values'
#: extraEnv): the kernel shares its machine with a class, so background work is bounded
#: (:func:`hub_mode`; the training explorer's r axis, :mod:`nls_lessons.widgets.rate_axis`).
HUB_ENV = "NLS_HUB"

#: The slider values the static (book/slides) frames are precomputed for.
STATIC_VALUES = {
    "noise": {"kind": list(_noise.KINDS), "noise_rate": [0.0, 0.2, 0.4, 0.6, 0.8]},
    "smoothing": {"smooth_rate": [-8.0, -4.0, -2.0, -1.0, -0.5, 0.0, 0.2, 0.4, 0.6, 0.8, 1.0]},
    "training": {"smooth_rate": [-2.0, -0.5, 0.0, 0.4, 0.8]},       # eps = 0.4 symmetric, 3 blobs
    "sweep": {"noise_rate": "every noise rate of the sweep", "smooth_rate": "every smooth rate of the sweep"},
}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def static_mode() -> bool:
    """True when ``NLS_STATIC`` is set to something other than "", "0", "false", "no"."""
    return _env_flag(STATIC_ENV)


def hub_mode() -> bool:
    """True when ``NLS_HUB`` is set to something other than "", "0", "false", "no" (a class hub)."""
    return _env_flag(HUB_ENV)


def panel_frames(build, kw: dict, dpi: float) -> str:
    """The HTML of ``build(kw, add, frames, alts)``, one explorer's static frames.

    ``build`` calls ``add(idx, result, panel_class, alt)`` once per frame and returns
    :func:`nls_lessons.widgets.frames.frames_html` of the ``frames`` and ``alts`` dicts it
    filled; every frame is drawn on one kept panel per panel class (as the live explorers
    do), closed at the end.
    """
    frames, alts, panels = {}, {}, {}

    def add(idx, result, panel_class, alt):
        """One frame, drawn on one kept panel per explorer (as the live explorers do)."""
        panel = panels.get(panel_class)
        if panel is None or not panel.fits(result):
            if panel is not None:
                panel.close()
            panel = panels[panel_class] = panel_class(result, dpi=dpi)
        frames[idx] = panel.render(result)
        alts[",".join(map(str, idx))] = alt

    try:
        return build(kw, add, frames, alts)
    finally:
        for panel in panels.values():
            panel.close()


def static_html(build, dpi: float = 64, **kw):
    """:func:`panel_frames` as ``IPython.display.HTML`` (an explorer function's static mode)."""
    from IPython.display import HTML

    return HTML(panel_frames(build, kw, dpi))


class Explorer:
    """Base of the live explorers: controls + one Image + a status line, one worker thread.

    Subclasses define ``compute(**params)`` (returns a result) and ``plot(result)`` (returns
    a Figure); ``panel_class`` names the :class:`nls_lessons.plots.LivePanel` behind ``plot``.
    ``set(name=value, ...)`` moves controls programmatically; ``wait()`` blocks until the
    latest setting is drawn (tests and benchmarks use both).

    Drawing: the explorer keeps ONE figure and updates its artists for every new result
    (``LivePanel.render``), which is what makes a slider move feel live. With
    ``fresh_figure=True`` it builds a new figure per frame instead (``plot(result)`` +
    :func:`nls_lessons.plots.to_png`), the earlier path, kept for comparison (bench/widgets.py).
    """

    name = "explorer"
    dpi = 80
    panel_class = None

    def __init__(self, controls: dict, *, title: str = "", debounce: float = 0.12, extra=(),
                 fresh_figure: bool = False):
        import ipywidgets as W

        self.controls = dict(controls)
        self.debounce = _check_debounce(debounce)
        self.fresh_figure = bool(fresh_figure)
        self._panel = None
        self._draw_lock = threading.Lock()
        self.image = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
        self.image.add_class("nls-explorer-figure")
        self.status = W.HTML(value="")
        self.status.add_class("nls-explorer-status")
        self.result = None
        self.error: str | None = None
        self.last_traceback: str | None = None
        self.renders = 0          # figures actually drawn (stale settings are skipped)
        self.last_seconds = 0.0   # compute + draw time of the last drawn figure
        self._gen = 0
        self._cond = threading.Condition()
        self._pending = None
        self._busy = False
        self._thread: threading.Thread | None = None
        self._closed = False
        header = [W.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        boxes = W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap"))
        self.widget = W.VBox(header + [boxes, *extra, self.status, self.image])
        self.widget.add_class("nls-explorer")
        self.widget.add_class(f"nls-explorer-{self.name}")
        for w in self.controls.values():
            w.observe(self._on_change, names="value")
        self.refresh()   # synchronous first frame: also what nbconvert/nbval outputs show

    # ---- subclass API
    def compute(self, **params):
        raise NotImplementedError

    def plot(self, result):
        raise NotImplementedError

    def render(self, result) -> bytes:
        """PNG bytes of ``result``: the kept panel updated in place, or (``fresh_figure``, or no
        ``panel_class``) a new ``plot(result)`` figure, rendered and released."""
        with self._draw_lock:
            if self.fresh_figure or self.panel_class is None:
                fig = self.plot(result)
                try:
                    return plots.to_png(fig, dpi=self.dpi)
                finally:
                    plots.close(fig)
            if self._panel is None or not self._panel.fits(result):
                if self._panel is not None:
                    self._panel.close()
                self._panel = self.panel_class(result, dpi=self.dpi)
            return self._panel.render(result)

    def params(self) -> dict:
        return {k: w.value for k, w in self.controls.items()}

    # ---- display
    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus its current figure as a plain PNG. JupyterLab shows the widget;
        a front end without the widget manager (RISE's slideshow, jupyterlab-contrib/rise#119, or
        a plain HTML export) shows the figure instead of a bare ``VBox(...)`` text."""
        import base64

        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        if self.image.value:
            bundle["image/png"] = base64.b64encode(bytes(self.image.value)).decode("ascii")
        return bundle

    def show(self):
        """Display the explorer (when it is not the last expression of a cell)."""
        from IPython.display import display

        display(self.widget)

    # ---- updates
    def set(self, **values):
        """Move controls programmatically, e.g. ``ex.set(smooth_rate=-2)``; returns self."""
        for k, v in values.items():
            if k not in self.controls:
                raise KeyError(f"{self.name} explorer has no control {k!r}; controls: {sorted(self.controls)}")
            w = self.controls[k]
            lo, hi = getattr(w, "min", None), getattr(w, "max", None)
            if lo is not None:          # a slider: a number (checks' notion) in its range, never clamped
                if isinstance(w.value, int):
                    v = checks.check_integer(v, k, lo, hi, what="a step of the slider")
                else:
                    v = checks.check_number(v, k, f"a number in {_span(lo, hi)}")
                    if not lo <= v <= hi:
                        raise ValueError(f"{k} must lie in the slider range {_span(lo, hi)}, got {v!r}")
            w.value = v
        return self

    def _on_change(self, change=None):
        self.request()

    def request(self):
        """Schedule a redraw for the current control values (latest one wins)."""
        with self._cond:
            if self._closed:
                return
            self._gen += 1
            self._pending = (self._gen, self.params())
            self._cond.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._worker, name=f"nls-{self.name}-explorer",
                                                daemon=True)
                self._thread.start()

    def _worker(self):
        while True:
            with self._cond:
                if self._pending is None or self._closed:
                    self._thread = None
                    self._cond.notify_all()
                    return
                # debounce: wait until no newer request arrived for `debounce` seconds
                while True:
                    seen = self._pending[0]
                    self._cond.wait(self.debounce)
                    if self._pending is None or self._pending[0] == seen:
                        break
                if self._pending is None:
                    continue
                gen, params = self._pending
                self._pending = None
                self._busy = True
            try:
                self._render(gen, params)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def refresh(self):
        """Redraw now, synchronously, for the current control values."""
        with self._cond:
            self._gen += 1
            gen = self._gen
        self._render(gen, self.params())

    def _stale(self, gen) -> bool:
        return gen != self._gen

    def _started(self, params):
        """Hook: show a progress indicator (training explorers)."""

    def _finished(self, ok: bool):
        """Hook: hide the progress indicator."""

    def _render(self, gen, params):
        t0 = time.perf_counter()
        self._started(params)
        ok = None   # None: overtaken by a newer setting
        try:
            result = self.compute(**params)
            if self._stale(gen):
                return
            png = self.render(result)
            if self._stale(gen):
                return
            self.image.value = png
            self.result = result
            self.error = None
            self.renders += 1
            self.last_seconds = time.perf_counter() - t0
            self.status.value = self.describe(result)
            ok = True
        except Exception as exc:   # never let a traceback reach the learner's output area
            ok = False
            self.last_traceback = traceback.format_exc()
            self.error = f"{type(exc).__name__}: {exc}"
            self.status.value = (
                '<span style="color:#D55E00">&#9888; This setting could not be drawn: '
                f"{html.escape(str(exc) or type(exc).__name__)}. The last good figure is kept; "
                "try another value.</span>")
        finally:
            if ok is not None:
                self._finished(ok)

    def describe(self, result) -> str:
        """One status line (HTML) under the controls for a drawn result."""
        return ""

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until every requested setting has been handled; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending is not None or self._busy or self._thread is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self):
        """Stop the worker and close the widgets."""
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify_all()
        self.wait(5)
        if self._panel is not None:
            self._panel.close()
            self._panel = None
        self.widget.close_all() if hasattr(self.widget, "close_all") else self.widget.close()


class _Elapsed:
    """A sign of life for long work: calls ``show(seconds)`` every ``period`` seconds from a
    small thread until stopped (the training explorer's bar, the sweep explorer's retrain)."""

    def __init__(self, show, period: float = 0.5):
        self.show, self.period = show, period
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="nls-elapsed", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self.period):
            self.show(time.perf_counter() - self._t0)

    def stop(self):
        self._stop.set()
        self._thread.join(2)


def progress_clock(progress, text: str, expected: float) -> _Elapsed:
    """Start showing long work on an ``ipywidgets.FloatProgress``: ``text`` plus the seconds so far
    in its description, the bar filling against ``expected`` seconds (the last run's; at least
    0.5 s) and held at 95 % until the caller stops the returned clock and marks the bar done."""
    progress.description = text
    progress.bar_style = "info"
    progress.value = 0.05
    expected = max(float(expected), 0.5)

    def show(seconds):
        progress.description = f"{text} {seconds:.1f} s"
        progress.value = min(0.95, seconds / expected)

    return _Elapsed(show)

