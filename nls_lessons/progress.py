"""Progress bars for long work: one mechanism for the whole library (lessons 02-06, the paper CLI).

:func:`progress_bar` is a `tqdm <https://tqdm.github.io>`_ bar that shows wherever the work runs:

- in a Jupyter kernel (JupyterLab, a RISE slideshow, a notebook executed for the book), the bar
  is a plain text line in the cell's output, redrawn in place with IPython's display updates.
  It needs no widget, so it also moves in a RISE slideshow, which cannot load the widget
  manager (jupyterlab-contrib/rise#119): tqdm's widget bar stood frozen at "0/30" there. The
  executed notebook keeps the bar's last line, so the book shows how long the work took;
- elsewhere (a terminal, ``python -m nls_lessons.paper``) it is tqdm's usual bar on stderr.

Used by :func:`nls_lessons.train.fit`, :func:`~nls_lessons.train.sweep`,
:func:`~nls_lessons.train.out_of_sample_probs` and lesson 05's runner.
"""
from __future__ import annotations

import io

from tqdm.std import tqdm as _tqdm


def in_kernel() -> bool:
    """Whether this code runs inside a Jupyter kernel (not a terminal, not plain Python)."""
    try:
        from IPython import get_ipython
    except ImportError:                          # pragma: no cover - IPython ships with the course
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class _KernelBar(_tqdm):
    """tqdm's text bar, drawn as one display output that each refresh replaces in place."""

    def __init__(self, *args, **kwargs):
        self._handle = None
        super().__init__(*args, file=io.StringIO(), **kwargs)   # the text goes to the display, not a file

    def display(self, msg=None, pos=None):
        from IPython.display import display

        text = self.__str__() if msg is None else msg
        if self._handle is None:
            if not text:
                return True
            self._handle = display({"text/plain": text}, raw=True, display_id=True)
        else:
            self._handle.update({"text/plain": text}, raw=True)
        return True


def progress_bar(total: int, desc: str, *, unit: str = "epoch", disable: bool = False,
                 leave: bool = True) -> _tqdm:
    """A tqdm bar over ``total`` steps of ``unit`` labelled ``desc`` (``disable=True``: none).

    Use it as tqdm: ``bar.update(1)`` per step, ``bar.close()`` or ``with progress_bar(...)``.
    ``leave=False`` clears the bar when it closes.
    """
    cls = _KernelBar if in_kernel() else _tqdm
    return cls(total=total, desc=desc, unit=unit, disable=disable, leave=leave)
