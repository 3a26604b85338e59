"""Lessons 02-03: every smooth rate of the training explorer's slider, trained at once.

Moving the training explorer's r slider retrains a model (:func:`nls_lessons.train.fit`,
0.2-0.5 s on a CPU), which alone exceeds the 300 ms a slider move may take (issue 15 item 14).
The library's batched engine trains M models as one stacked model, and a model trained there
is the very model :func:`~nls_lessons.train.fit` trains (the same parameters and history, bit
for bit: ``fit`` *is* that engine with M = 1). So after the first frame of a setting (noise
rate, noise kind, data, device), the explorer trains the whole r axis of its slider
(:data:`SMOOTH_AXIS`, 91 rates) in the background (:class:`AxisWorker`) and a later move
along r is a lookup (:meth:`RateAxis.fitted`) plus a redraw. Then it trains the axes one ε
step either side, so a step of the noise slider is a lookup too. A move of any other control
trains its one model and starts the axes of the new setting (one no longer wanted stops at
its next epoch).

On the CPU only: on a GPU, M stacked models may run other kernels than one model (so the
last bits could differ from a fit), and a GPU retrain is quick anyway.

The cost (``bench/widgets.py``'s "axis" column: the setting's axis and both ε neighbours'):
a few seconds of background work on a CPU (2-D MLP about 6 s, digits about 3 s, on 2 busy
cores). Until an axis is ready, a move trains its one model as before.

On a class hub (``NLS_HUB=1``, :func:`nls_lessons.widgets.base.hub_mode`) that work is bounded:
only the axis of the setting shown is trained, not its ε neighbours' (one explorer's background
work after its first frame measured 7.8 s CPU with the neighbours and 2.1 s without, blobs; 2.2 s
and 0.8 s, digits; one process, 2 busy shared cores), and the worker thread runs at :data:`HUB_NICE` lower priority, so it takes
the CPU that the learners' own slider moves leave idle. A move of ε on the hub trains one model.
"""
from __future__ import annotations

import os
import threading
import time

import numpy as np

from nls_lessons.widgets.controls import SMOOTH_SLIDER, TRAIN_NOISE_SLIDER


def _slider_values(lo: float, hi: float, step: float) -> tuple[float, ...]:
    n = int(round((hi - lo) / step))
    return tuple(float(round(lo + i * step, 10)) for i in range(n + 1))


#: The r values of the training explorer's slider (:data:`SMOOTH_SLIDER`, -8 to 1 in steps of 0.1).
SMOOTH_AXIS = _slider_values(*SMOOTH_SLIDER)
#: The ε values of its noise slider (:data:`TRAIN_NOISE_SLIDER`): the neighbours worth training.
NOISE_AXIS = _slider_values(*TRAIN_NOISE_SLIDER)
#: On a class hub the axis worker's thread runs this much nicer than the kernel (Linux: per thread).
HUB_NICE = 10


def noise_neighbours(noise_rate: float) -> list[float]:
    """The ε values one slider step below and above ``noise_rate`` (within the slider).

    Written as decimals (0.35, not 0.35000000000000003): the noise draw's seed is derived
    from ``repr(noise_rate)`` (:func:`nls_lessons.train.noisy_labels`), so a slider value
    that differs in the last bit is another draw and gets its own axis (or, until then, its
    own fit)."""
    i = int(np.argmin(np.abs(np.array(NOISE_AXIS) - noise_rate)))
    return [NOISE_AXIS[j] for j in (i - 1, i + 1) if 0 <= j < len(NOISE_AXIS)]


def _rate_key(r: float) -> float:
    """The rate as the engine sees it: the stacked loss holds r as float32, so rates equal in
    float32 (a slider's 0.30000000000000004 and 0.3) train the same model."""
    return float(np.float32(r))


class AxisCancelled(Exception):
    """Raised inside the engine's epoch callback to stop an axis that is no longer wanted."""


class RateAxis:
    """Models for every rate of ``rates`` at one (data, noise_rate, noise_kind, seed, fit settings).

    Built by :func:`train_axis`; :meth:`fitted` returns what ``train.fit`` returns for one of
    its rates, :meth:`has` says whether a rate is on the axis.
    """

    def __init__(self, data, out, rates, noise_rate: float, noise_kind: str, seed: int, epochs: int,
                 seconds: float):
        from nls_lessons import train

        self.data, self._out, self.rates = data, out, tuple(rates)
        self.noise_rate, self.noise_kind, self.seed, self.epochs = noise_rate, noise_kind, seed, epochs
        self.seconds = seconds
        self.labels = train.noisy_labels(data, noise_kind, noise_rate, seed)
        self._index = {_rate_key(r): j for j, r in enumerate(self.rates)}

    def has(self, smooth_rate: float) -> bool:
        return _rate_key(smooth_rate) in self._index

    def matches(self, data, noise_rate: float, noise_kind: str, seed: int) -> bool:
        """Whether a fit of this setting would train on exactly this axis's labels (the engine
        sees the noise only through them), so its models are the fit's models."""
        from nls_lessons import train

        return (data is self.data and noise_kind == self.noise_kind and seed == self.seed
                and bool((train.noisy_labels(data, noise_kind, noise_rate, seed) == self.labels).all()))

    def fitted(self, smooth_rate: float):
        """The :class:`nls_lessons.train.FitResult` of ``smooth_rate`` (a rate of the axis)."""
        from nls_lessons import train

        return train.FitResult.from_chunk(self._out, self._index[_rate_key(smooth_rate)], self.epochs,
                                          self.labels.clone())


def train_axis(data, noise_rate: float, noise_kind: str, seed: int, *, rates=SMOOTH_AXIS, device: str = "cpu",
               should_stop=None, **fit_kwargs) -> RateAxis:
    """Train one model per rate of ``rates`` at once (``train.fit``'s engine, M = len(rates)).

    ``fit_kwargs``: :func:`nls_lessons.train.fit`'s training settings (``model``, ``epochs``, ...;
    its defaults fill the rest). ``should_stop()``, asked after every epoch, cancels the
    training with :class:`AxisCancelled` when it returns True.
    """
    import dataclasses

    from nls_lessons import train

    cfg, device = train._fit_kwargs_config({**fit_kwargs, "device": device}, "the training explorer's r axis")
    cfg = dataclasses.replace(cfg, noise_kind=noise_kind)

    def on_epoch():
        if should_stop is not None and should_stop():
            raise AxisCancelled()

    t0 = time.perf_counter()
    out = train._train_chunk(data, [seed], [(noise_rate, float(r)) for r in rates], cfg, device,
                             on_epoch=on_epoch, keep_model=True)
    return RateAxis(data, out, rates, noise_rate, noise_kind, seed, cfg.epochs, time.perf_counter() - t0)


class AxisWorker:
    """Trains r axes in one background thread, most wanted first.

    ``want(jobs)``: ``jobs`` is a list of ``(key, make)``, the setting the explorer shows now
    first, then the neighbours worth having (one ε step either side); every job whose axis is
    neither ready nor in training runs ``make(should_stop)`` (:func:`train_axis`) in turn, and
    an axis in training whose key is no longer wanted stops at its next epoch. ``get(key)``:
    the ready axis or None. Keeps the axes of the last ``keep`` settings. ``nice``: how much
    lower the thread's scheduling priority is than its process's (0: the same; raised with
    ``setpriority`` on the thread's id, Linux; elsewhere it stays 0).
    """

    def __init__(self, keep: int = 4, nice: int = 0):
        if isinstance(nice, bool) or not isinstance(nice, int) or not 0 <= nice <= 19:
            raise ValueError(f"nice must be an int in 0..19, got {nice!r}")
        self.keep, self.nice = keep, nice
        self._ready: dict = {}
        self._lock = threading.Lock()
        self._jobs: list = []
        self._thread: threading.Thread | None = None
        self.errors: list[str] = []

    def get(self, key):
        with self._lock:
            return self._ready.get(key)

    def want(self, jobs) -> None:
        with self._lock:
            self._jobs = list(jobs)
            if self._thread is None and any(k not in self._ready for k, _ in self._jobs):
                self._thread = threading.Thread(target=self._run, daemon=True, name="nls-training-axis")
                self._thread.start()

    def _wanted(self, key) -> bool:
        return any(k == key for k, _ in self._jobs)

    def _lower_priority(self) -> None:
        if self.nice and hasattr(os, "setpriority") and os.uname().sysname == "Linux":
            tid = threading.get_native_id()           # Linux: a thread's own priority
            try:
                os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + self.nice))
            except OSError as exc:
                self.errors.append(f"nice: {exc}")

    def _run(self):
        self._lower_priority()
        while True:
            with self._lock:
                todo = [(k, m) for k, m in self._jobs if k not in self._ready]
                if not todo:
                    self._thread = None
                    return
                key, make = todo[0]
            try:
                axis = make(lambda: not self._wanted(key))
                with self._lock:
                    self._ready.pop(key, None)
                    self._ready[key] = axis              # newest last
                    while len(self._ready) > self.keep:
                        self._ready.pop(next(iter(self._ready)))
            except AxisCancelled:
                pass
            except Exception as exc:    # the explorer keeps training one model per move
                self.errors.append(f"{type(exc).__name__}: {exc}")
                with self._lock:
                    self._jobs = [(k, m) for k, m in self._jobs if k != key]

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no axis is wanted and untrained; False on timeout."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def close(self) -> None:
        """Cancel the axis in training and drop the ready ones."""
        with self._lock:
            self._jobs = []
            self._ready.clear()
        self.wait(10)
