"""Live explorers: move a slider, watch targets, noise and models change (lessons 01-04, 06).

Every explorer is three parts (see DESIGN.md):

1. a pure ``*_compute(...)`` function (numbers only, tested with pytest),
2. a ``*_panel(result)`` figure in :mod:`nls_lessons.plots`,
3. a thin ipywidgets wrapper (an :class:`Explorer` subclass, :mod:`.base`).

=====================  =====================================================  ========
function               what moves                                             lesson
=====================  =====================================================  ========
:func:`noise_explorer`      noise kind, ε → nominal/realised T, digits clean→noisy   01
:func:`smoothing_explorer`  r ∈ [−8, 1] → GLS target bars, loss vs p_y, λ = r/(1−r)  02, 03
:func:`training_explorer`   r, ε, kind, data, device → retrain, decision regions   02, 03
:func:`sweep_explorer`      ε, r over a cached sweep → heatmap, best r, r_opt      04
:func:`recipe_explorer`     hidden noise kind, ε → estimate ε̂, predict r, validate  06
=====================  =====================================================  ========

Beside them, :mod:`.recipe_eval` runs lesson 06's recipe over held-out splits and seeds (its
shipped table, ``data/recipe/heldout.csv``).

Use: put the call last in a notebook cell (``widgets.smoothing_explorer()``); the returned
object displays itself. The figure is a PNG in an ``ipywidgets.Image`` (works in JupyterLab 4
with ipywidgets 8 and no extra set-up; nbconvert/nbval just execute the cell).

Responsiveness: slider changes are handled by one background worker per explorer. It
waits ``debounce`` seconds for the slider to settle, computes only the *latest* setting,
and drops a result that a newer setting has overtaken (a generation counter), so rapid
moves never pile up. Each explorer keeps ONE figure (a :class:`nls_lessons.plots.LivePanel`)
and updates its artists for a new setting, so a frame costs one draw and a PNG encode.
Errors never reach the output area: the explorer keeps its last good figure and shows a
short message. Figures are rendered off-pyplot and released, so memory does not grow with
the number of updates. Work that may take seconds (retraining) shows its elapsed time.

Static mode: with the environment variable ``NLS_STATIC=1`` (the book and slides builds set
it) every explorer function returns ``IPython.display.HTML(static_frames(name, ...))``
instead: precomputed frames over the values in :data:`STATIC_VALUES` with a plain-JS slider
(:mod:`nls_lessons.widgets.frames`), so no page shows an empty widget.

The package, one module per concept:

- :mod:`.base`: the :class:`Explorer` base (worker thread, kept figure), static mode and the
  kept-panel frames helper; :mod:`.controls`: slider ranges, argument checks, sliders;
- :mod:`.noise_widget` (01), :mod:`.smoothing_widget` (02-03), :mod:`.training_widget`
  (02-03), :mod:`.sweep_widget` (04), :mod:`.recipe_widget` (06): one explorer each (compute,
  widget, static frames, entry function);
- :mod:`.frames`: the static frames' HTML (used by the book, the slides and every explorer's
  static mode).

Everything is re-exported here, so ``from nls_lessons import widgets`` and
``widgets.training_explorer(...)`` work as before the package existed.
"""
from __future__ import annotations

from nls_lessons.widgets import frames
from nls_lessons.widgets import noise_widget as _noise_widget
from nls_lessons.widgets import smoothing_widget as _smoothing_widget
from nls_lessons.widgets import sweep_widget as _sweep_widget
from nls_lessons.widgets import training_widget as _training_widget
from nls_lessons.widgets.base import HUB_ENV, STATIC_ENV, STATIC_VALUES, Explorer, hub_mode, panel_frames, static_mode
from nls_lessons.widgets.controls import MAX_GRID, N_DIGITS, NOISE_SLIDER, SMOOTH_SLIDER, TRAIN_NOISE_SLIDER
from nls_lessons.widgets.noise_widget import NoiseExplorer, noise_compute, noise_explorer
from nls_lessons.widgets.recipe_widget import (RECIPE_KINDS, RECIPE_RATES, RECIPE_STATIC, RECIPE_TRAIN,
                                               RecipeExplorer, recipe_compute, recipe_explorer, recipe_frames,
                                               recipe_transition)
from nls_lessons.widgets.smoothing_widget import CURVE_RATES, SmoothingExplorer, smoothing_compute, smoothing_explorer
from nls_lessons.widgets.sweep_widget import (DEFAULT_CACHE, SWEEP_NOISE_RATES, SWEEP_SEEDS, SWEEP_SMOOTH_RATES,
                                              SWEEP_TRAIN, SweepExplorer, default_sweep, sweep_compute,
                                              sweep_explorer, sweep_summary)
from nls_lessons.widgets.training_widget import (LIVE_TRAIN, TOY_DATASETS, TrainingExplorer, decision_grid,
                                                 live_dataset, training_compute, training_explorer,
                                                 training_panel)

#: Each explorer's static frames builder (see :func:`nls_lessons.widgets.base.panel_frames`).
_STATIC_BUILDERS = {"noise": _noise_widget._static_frames, "smoothing": _smoothing_widget._static_frames,
                    "training": _training_widget._static_frames, "sweep": _sweep_widget._static_frames}


def static_frames(name: str, *, dpi: float = 64, **kw) -> str:
    """Precomputed frames of explorer ``name`` as HTML (see :mod:`nls_lessons.widgets.frames`).

    ``name``: "noise", "smoothing", "training" or "sweep". Keyword arguments override the
    values in :data:`STATIC_VALUES` (e.g. ``smooth_rate=[...]``) or are passed on to the
    explorer's compute (e.g. ``seed``); "sweep" takes ``results`` (default: the cached
    :func:`default_sweep`) and ``metric``. The book and slides builds call this through the
    explorer functions when ``NLS_STATIC=1``.
    """
    if name not in STATIC_VALUES:
        raise ValueError(f"name must be one of {tuple(STATIC_VALUES)}, got {name!r}")
    return panel_frames(_STATIC_BUILDERS[name], kw, dpi)


__all__ = [
    "CURVE_RATES", "DEFAULT_CACHE", "LIVE_TRAIN", "MAX_GRID", "N_DIGITS", "NOISE_SLIDER", "RECIPE_KINDS",
    "HUB_ENV", "RECIPE_RATES", "RECIPE_STATIC", "RECIPE_TRAIN", "SMOOTH_SLIDER", "STATIC_ENV", "STATIC_VALUES",
    "SWEEP_NOISE_RATES", "SWEEP_SEEDS", "SWEEP_SMOOTH_RATES", "SWEEP_TRAIN", "TOY_DATASETS", "TRAIN_NOISE_SLIDER",
    "Explorer", "NoiseExplorer", "RecipeExplorer", "SmoothingExplorer", "SweepExplorer", "TrainingExplorer",
    "decision_grid", "default_sweep", "frames", "live_dataset", "noise_compute", "noise_explorer",
    "recipe_compute", "recipe_explorer", "recipe_frames", "recipe_transition", "smoothing_compute",
    "smoothing_explorer", "hub_mode", "static_frames", "static_mode", "sweep_compute", "sweep_explorer", "sweep_summary",
    "training_compute", "training_explorer", "training_panel",
]
