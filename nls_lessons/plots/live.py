"""Figures redrawn in milliseconds: the explorers' base class. Lessons 01-04 and 06
(the explorers of :mod:`nls_lessons.widgets`).

:class:`LivePanel` builds an explorer's figure once, then updates its artists in place and
re-renders only what changed (blitting over a static background). The lesson modules define
the panels (``NoisePanel``, ``SmoothingPanel``, ``TrainingPanel``).
"""
from __future__ import annotations

from matplotlib.figure import Figure

from .style import close, style
from .rendering import _rgba_to_png


def _by_gid(artists, gid):
    return next(a for a in artists if a.get_gid() == gid)


class LivePanel:
    """An explorer's figure, built once and then updated in place for every new result.

    Subclasses define ``build(result)`` (make the axes and artists, once) and
    ``update(result)`` (set the artists' data, text and limits: ``set_data`` /
    ``set_array`` / ``set_text``, never new axes), and ``dynamic_artists()``: the artists
    ``update`` changes. ``Panel(result).fig`` is an ordinary figure (the ``*_panel(result)``
    functions return it: the fresh-figure path); ``render(result)`` updates the same figure
    and returns PNG bytes.

    Rendering: the first render lays the figure out (constrained layout) and then keeps that
    layout. The static part (axes, ticks, labels, colour bars: most of the drawing time is
    text) is drawn once into a background; a frame restores it and draws only the dynamic
    artists and the legends on top, in z-order (blitting). Axes whose range follows the data
    (``dynamic_axes()``) are redrawn whole every frame; the background is redrawn when the
    range of another axes changes. ``fits(result)`` is False when a result needs another figure (e.g.
    another dataset): the explorer then builds a new panel.
    """

    figsize = (15.0, 4.4)

    def __init__(self, result, *, dpi: float = 72):
        with style():
            self.fig = Figure(figsize=self.figsize, dpi=dpi, layout="constrained")
            self.build(result)
            self.update(result)
        self.key = self.layout_key(result)
        self._canvas = None
        self._shown = result

    def build(self, result) -> None:
        raise NotImplementedError

    def update(self, result) -> None:
        raise NotImplementedError

    def dynamic_artists(self) -> list:
        """The artists ``update`` changes (drawn every frame over the static background)."""
        raise NotImplementedError

    def dynamic_axes(self) -> list:
        """Axes redrawn whole every frame (their range changes with the result)."""
        return []

    def layout_key(self, result):
        """What fixes the figure's structure; results with another key need a new panel."""
        return None

    def fits(self, result) -> bool:
        return self.layout_key(result) == self.key

    def _background_key(self):
        moving = self.dynamic_axes()
        return tuple(ax.get_xlim() + ax.get_ylim() for ax in self.fig.axes if ax not in moving)

    def render(self, result) -> bytes:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        with style():
            if result is not self._shown:
                self.update(result)
                self._shown = result
            legends = [ax.get_legend() for ax in self.fig.axes if ax.get_legend() is not None]
            dynamic = [*self.dynamic_axes(),
                       *sorted([*self.dynamic_artists(), *legends], key=lambda a: a.get_zorder())]
            for a in dynamic:
                a.set_animated(True)
            if self._canvas is None:
                self._canvas = FigureCanvasAgg(self.fig)
                self._canvas.draw()                      # the one layout pass
                self.fig.set_layout_engine("none")
                self._background = None
            key = self._background_key()
            if self._background is None or key != self._bg_key:
                self._canvas.draw()                      # the static part only (dynamic ones are animated)
                self._background = self._canvas.copy_from_bbox(self.fig.bbox)
                self._bg_key = key
            else:
                self._canvas.restore_region(self._background)
            for a in dynamic:
                (a.axes or self.fig).draw_artist(a)
        return _rgba_to_png(self._canvas)

    def close(self) -> None:
        close(self.fig)
