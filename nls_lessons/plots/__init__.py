"""Every figure a lesson, the book or the slides show, in one consistent style.

Lessons 01-06 and the explorers of :mod:`nls_lessons.widgets`. One module per kind of figure,
in the order the lessons walk them; every name is re-exported here, so ``plots.X`` is all a
lesson needs:

- :mod:`~nls_lessons.plots.style`: the palette, :data:`STYLE`, :func:`new_figure`,
  :func:`fmt_rate`, the lecture-size rules (every lesson);
- :mod:`~nls_lessons.plots.rendering`: :func:`to_png`, :func:`describe` (alt text), Jupyter's display;
- :mod:`~nls_lessons.plots.live`: :class:`LivePanel`, the explorers' fast-redraw base;
- :mod:`~nls_lessons.plots.noise_figures`: transition matrices, digits (lesson 01);
- :mod:`~nls_lessons.plots.smoothing_figures`: GLS targets, loss vs p_y, λ = r/(1 − r) (lessons 02-03);
- :mod:`~nls_lessons.plots.confidence_figures`: reliability diagrams, MC histograms (lessons 02-03);
- :mod:`~nls_lessons.plots.training_figures`: curves per epoch, decision regions (lessons 02-04);
- :mod:`~nls_lessons.plots.sweep_figures`: sweep heatmap, accuracy vs r, best r vs ε (lesson 04);
- :mod:`~nls_lessons.plots.theory_figures`: the phase diagram (lesson 04);
- :mod:`~nls_lessons.plots.recipe_figures`: choosing r on noisy validation (lesson 06).

Conventions (the same for every function here):

- The look lives in ONE place: :data:`STYLE` (matplotlib rcParams: lecture-size fonts, the
  colour-blind-safe Okabe-Ito palette, no top/right spines). Every plot function runs inside
  :func:`style`; use ``with plots.style(): ...`` for a figure of your own.
- A plot function takes data and returns the :class:`matplotlib.figure.Figure`. Pass ``ax=``
  to draw into an axes of your own figure instead (the function then returns ``ax.figure``).
- Figures are *not* registered with pyplot, so nothing is shown twice and nothing piles up in
  ``plt.get_fignums()``: in a notebook, leave the returned figure as the cell's last
  expression (or ``display(fig)``) and Jupyter shows it once, as a PNG. No ``Text(...)`` repr
  ever lands in the output because the functions return the Figure, not an artist.
- :func:`to_png` renders a figure to PNG bytes (the explorers and the book's static frames
  use it).
"""
from .style import (CORRECT_COLOR, DIVERGING_CMAP, LECTURE_WIDTH_PX, LS_STYLE, MIN_TEXT_PX, NLS_STYLE, OKABE_ITO,
                    PALETTE, SEQUENTIAL_CMAP, STYLE, WRONG_COLOR, _minus, close, display_px_per_point, fmt_rate,
                    legend_outside, new_figure, style)
from .rendering import describe, to_png
from .live import LivePanel
from .noise_figures import T_LABEL, NoisePanel, digit_grid, noise_panel, transition_heatmap, transition_heatmaps
from .smoothing_figures import (SmoothingPanel, gls_loss_vs_py, loss_curves, smoothing_panel, target_bars,
                                target_ylim, uniform_weight, uniform_weight_curve)
from .confidence_figures import confidence_histograms, reliability_diagram
from .training_figures import (CONFIDENCE_COLORS, CONFIDENCE_LABELS, TrainingPanel, confidence_contours,
                               decision_regions, loss_per_epoch, region_rgb, training_curves, training_panel)
from .sweep_figures import SweepPanelRenderer, accuracy_vs_rate, best_rate_vs_noise, sweep_heatmap, sweep_panel
from .theory_figures import phase_diagram
from .recipe_figures import recipe_comparison, recipe_panel, validation_vs_test

__all__ = [
    # style
    "OKABE_ITO", "PALETTE", "LS_STYLE", "NLS_STYLE", "CORRECT_COLOR", "WRONG_COLOR", "SEQUENTIAL_CMAP",
    "DIVERGING_CMAP", "STYLE", "style", "new_figure", "close", "fmt_rate", "legend_outside",
    "LECTURE_WIDTH_PX", "MIN_TEXT_PX", "display_px_per_point",
    # rendering and the explorers' base
    "to_png", "describe", "LivePanel",
    # lesson 01
    "transition_heatmap", "T_LABEL", "transition_heatmaps", "digit_grid", "noise_panel", "NoisePanel",
    # lessons 02-03
    "gls_loss_vs_py", "target_bars", "target_ylim", "loss_curves", "uniform_weight", "uniform_weight_curve",
    "smoothing_panel", "SmoothingPanel", "confidence_histograms", "reliability_diagram",
    # lessons 02-04
    "CONFIDENCE_LABELS", "CONFIDENCE_COLORS", "training_curves", "loss_per_epoch", "decision_regions",
    "region_rgb", "confidence_contours", "training_panel", "TrainingPanel",
    # lesson 04
    "sweep_heatmap", "best_rate_vs_noise", "accuracy_vs_rate", "sweep_panel", "SweepPanelRenderer",
    "phase_diagram",
    # lesson 06
    "validation_vs_test", "recipe_panel", "recipe_comparison",
]
# ``_minus`` is imported for nls_lessons.widgets (``plots._minus``): not part of ``__all__``.
