"""What the lessons show besides figures: tables in one format, and the library's warnings.

Lessons 01-06 (their result tables) and every module that warns (``train``, ``paper``)::

    from nls_lessons import output
    output.table(frame, percent=["test_acc"])      # the frame, formatted for a slide
    output.warn("6 of 18 models diverged ...", DivergenceWarning)

- :func:`table` formats every number of a frame by one rule, *whatever the column's dtype*
  (``frame.round(1)`` leaves object columns, e.g. a transposed table of numbers and text, at
  ``60.246913``), and shows fractions that are accuracies or rates as percentages, so one table
  never mixes 0.602 and 60.2 for the same kind of quantity.
- :func:`warn` issues a warning at the first caller outside this package (the lesson's own
  line, however deep in the library the problem was found) and, when that caller is a notebook
  cell, names the cell's line of code instead of the kernel's temporary file
  (``/tmp/ipykernel_31716/3280028320.py``), which says nothing on a projected slide.
"""
from __future__ import annotations

import linecache
import re
import sys
import warnings
from numbers import Integral, Real
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
#: File names IPython gives a cell's code: ipykernel's temporary files, the terminal's inputs.
_CELL_FILE = re.compile(r"(ipykernel_\d+[/\\]\d+\.py$)|(^<ipython-input-)")
#: The file name a warning from a notebook cell carries.
CELL_LABEL = "your notebook cell"


# ---------------------------------------------------------------- tables
def _cell(value, digits: int, percent: bool) -> object:
    if isinstance(value, (bool,)) or not isinstance(value, Real) or isinstance(value, Integral) and not percent:
        return value
    value = float(value)
    if value != value:                          # NaN: an empty cell, not the text "nan"
        return ""
    return f"{100 * value:.{digits}f} %" if percent else f"{value:.{digits}f}"


def table(frame, *, digits: int = 2, percent=(), percent_digits: int = 1, column_digits=None):
    """``frame`` (a pandas DataFrame or Series) as a new DataFrame of display strings.

    Every real number, in any column (object columns too), is written with ``digits`` decimals
    (``column_digits={"r": 1}`` overrides a column); integers stay as they are. Columns named in
    ``percent`` hold fractions (accuracies, rates) and are written as percentages with
    ``percent_digits`` decimals, e.g. ``0.60247`` -> ``"60.2 %"``. NaN becomes an empty cell.
    The index and the column names are kept; ``frame`` is not changed (compute with it, show
    the result of this function). Shapes: the result has ``frame``'s shape.
    """
    import pandas as pd

    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame or Series, got {type(frame).__name__}")
    for name, value in (("digits", digits), ("percent_digits", percent_digits)):
        if isinstance(value, bool) or not isinstance(value, Integral) or not 0 <= value <= 10:
            raise ValueError(f"{name} must be an integer from 0 to 10, got {value!r}")
    percent = [percent] if isinstance(percent, str) else list(percent)
    column_digits = dict(column_digits or {})
    unknown = [c for c in [*percent, *column_digits] if c not in frame.columns]
    if unknown:
        raise ValueError(f"percent/column_digits name columns the frame does not have: {unknown}; "
                         f"its columns are {list(frame.columns)}")
    out = {}
    for column in frame.columns:
        is_percent = column in percent
        d = column_digits.get(column, percent_digits if is_percent else digits)
        out[column] = [_cell(v, d, is_percent) for v in frame[column].tolist()]
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


# ---------------------------------------------------------------- warnings
def _caller_outside_package():
    """The innermost frame whose code is not in this package (the lesson's, or a script's)."""
    frame = sys._getframe(1)
    while frame is not None:
        try:
            inside = Path(frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE)
        except (OSError, ValueError):
            inside = False
        if not inside:
            return frame
        frame = frame.f_back
    return None


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` located at the first caller outside ``nls_lessons``.

    From a notebook cell the warning's file is :data:`CELL_LABEL` and its message ends with the
    cell's line that made the call, e.g.::

        your notebook cell:4: DivergenceWarning: 6 of 18 models diverged ...
          (from: direct, direct_hist = train.sweep(digits, smooth_rates, ...))

    Filters (``warnings.simplefilter("ignore", DivergenceWarning)``) work as for any warning.
    """
    if not (isinstance(category, type) and issubclass(category, Warning)):
        raise TypeError(f"category must be a Warning subclass, got {category!r}")
    frame = _caller_outside_package()
    if frame is None:                            # called from the package only (its own tests)
        warnings.warn(message, category, stacklevel=2)
        return
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    module_globals = frame.f_globals
    registry = module_globals.setdefault("__warningregistry__", {})
    if _CELL_FILE.search(filename):
        line = linecache.getline(filename, lineno, module_globals).strip()
        if line:
            message = f"{message}\n  (from: {line if len(line) <= 100 else line[:97] + '...'})"
        filename = CELL_LABEL
    warnings.warn_explicit(message, category, filename, lineno, module=module_globals.get("__name__", "__main__"),
                           registry=registry)
