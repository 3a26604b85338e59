"""From figure to picture: PNG bytes, alt text and Jupyter's display. Lessons 01-06, their
explorers (:mod:`nls_lessons.widgets`), the book's static frames and the slides.

:func:`to_png` renders a figure (fast zlib level); :func:`describe` writes its alt text from its
own words; importing :mod:`nls_lessons.plots` registers a PNG formatter so a returned figure
shows once in Jupyter whatever the matplotlib backend.
"""
from __future__ import annotations

import io

from matplotlib.figure import Figure

from .style import STYLE, style


def to_png(fig: Figure, dpi: float | None = None) -> bytes:
    """Render ``fig`` to PNG bytes (fast zlib level); the figure is left as it is."""
    buf = io.BytesIO()
    with style():
        fig.savefig(buf, format="png", dpi=dpi or STYLE["savefig.dpi"],
                    pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _register_notebook_display() -> None:
    """Show returned figures in Jupyter whatever the matplotlib backend.

    The course's figures are not registered with pyplot, so they are displayed through
    IPython's PNG formatter. The inline backend registers one only once it is activated
    (``%matplotlib inline``), and not at all under ``MPLBACKEND=Agg``; registering it here
    makes ``fig`` as a cell's last line work everywhere (JupyterLab, nbval, nbconvert).
    """
    try:
        from IPython import get_ipython
    except ImportError:   # plain Python: nothing to register
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    png = shell.display_formatter.formatters["image/png"]
    png.for_type(Figure, lambda fig: (to_png(fig), {"alt": describe(fig)}))


def describe(fig: Figure) -> str:
    """A text description of a figure from its own words (alt text for the book and slides):
    the suptitle, then each panel's title and axis labels.
    """
    parts = []
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text():
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        title = ax.get_title() or ax.get_title("left")
        if not title and not ax.get_xlabel():
            continue   # colour bars and decorations
        axes_words = ", ".join(f"{k}: {v}" for k, v in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())) if v)
        parts.append(f"{title} ({axes_words})" if axes_words else title)
    return "Figure: " + "; ".join(p for p in parts if p) if parts else "Figure"


def _rgba_to_png(canvas) -> bytes:
    """An Agg canvas's pixels as PNG bytes (RGB, fast zlib level): the explorers' blitted frames."""
    from PIL import Image

    w, h = canvas.get_width_height(physical=True)
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


_register_notebook_display()
