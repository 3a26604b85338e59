"""Tables and warnings as a lesson shows them (issue 24, item 9): one number format whatever
the column's dtype, fractions shown as percentages when asked, and warnings that name the
lesson's line instead of the kernel's temporary ``ipykernel_...`` file."""
from __future__ import annotations

import linecache
import warnings

import numpy as np
import pandas as pd
import pytest

from nls_lessons import output, train
from nls_lessons.train.stacked import DivergenceWarning


def _mixed():
    """A table like the lessons' transposed summaries: numbers and text in one object column."""
    return pd.DataFrame({"r": [-2.0, 0.4], "test_acc": [0.60246913, 0.5812], "seeds > 0": ["5/6", "1/6"]}).T


def test_round_leaves_an_object_table_alone_and_table_does_not():
    assert "0.602469" in _mixed().round(1).to_string()          # the failure: .round(1) does nothing
    shown = output.table(_mixed(), digits=1)
    text = shown.to_string()
    assert "0.602469" not in text and "0.6" in text and "5/6" in text
    assert shown.shape == _mixed().shape and list(shown.index) == list(_mixed().index)


def test_fractions_become_percentages_and_nan_an_empty_cell():
    frame = pd.DataFrame({"r": [-8, 0], "test_acc": [0.60246913, np.nan], "confidence": [0.98765, 0.5]})
    shown = output.table(frame, percent=["test_acc"], digits=3)
    assert shown["test_acc"].tolist() == ["60.2 %", ""]
    assert shown["confidence"].tolist() == ["0.988", "0.500"]
    assert shown["r"].tolist() == [-8, 0]                                      # integers stay integers
    assert output.table(frame, column_digits={"confidence": 1})["confidence"].tolist() == ["1.0", "0.5"]
    assert frame.loc[0, "test_acc"] == 0.60246913                              # the frame is untouched


@pytest.mark.parametrize("kwargs, words", [({"percent": ["nope"]}, "percent/column_digits"),
                                           ({"digits": -1}, "digits must be an integer from 0 to 10"),
                                           ({"digits": 1.5}, "digits must be an integer")])
def test_table_bad_arguments_say_what_is_allowed(kwargs, words):
    with pytest.raises(ValueError, match=words):
        output.table(_mixed().T, **kwargs)
    with pytest.raises(TypeError, match="frame must be a pandas DataFrame"):
        output.table([1, 2])


def _run_as_cell(source: str, name: str = "/tmp/ipykernel_31716/3280028320.py") -> list:
    """Run ``source`` as IPython runs a notebook cell (a temporary file name, its text in linecache)."""
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(source, name, "exec"), {"__name__": "__main__", "output": output, "train": train,
                                                "DivergenceWarning": DivergenceWarning})
        return caught
    finally:
        linecache.cache.pop(name, None)


def test_a_warning_from_a_cell_names_the_cells_line_not_the_kernels_file():
    caught = _run_as_cell("x = 1\noutput.warn('6 of 18 models diverged', DivergenceWarning)\n")
    (w,) = caught
    shown = warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
    assert "ipykernel" not in shown and w.filename == output.CELL_LABEL and w.lineno == 2
    assert "DivergenceWarning: 6 of 18 models diverged" in shown
    assert "(from: output.warn('6 of 18 models diverged', DivergenceWarning))" in shown


def test_a_library_warning_points_at_the_lessons_call_however_deep_it_was_raised():
    """train.sweep finds the divergence deep inside the package (grid, chunks): the warning still
    names the cell's line that called train.sweep, and a script's caller keeps its own file."""
    from nls_lessons import data

    toy = data.toy2d("moons", n=200, seed=0)
    diverge = "model='mlp', hidden=8, lr=10.0, epochs=12, device='cpu', progress=False"
    name = "/tmp/ipykernel_31716/1111.py"
    source = f"results = train.sweep(toy, [0.4, -8.0], 0.2, 0, {diverge})\n"
    linecache.cache[name] = (len(source), None, [source], name)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(source, name, "exec"), {"__name__": "__main__", "train": train, "toy": toy})
    finally:
        linecache.cache.pop(name, None)
    (w,) = [w for w in caught if issubclass(w.category, DivergenceWarning)]
    assert (w.filename, w.lineno) == (output.CELL_LABEL, 1)
    assert "(from: results = train.sweep(toy, [0.4, -8.0]" in str(w.message)
    with pytest.warns(DivergenceWarning) as record:             # from this test file: its own name and line
        train.sweep(toy, [0.4, -8.0], 0.2, 0, model="mlp", hidden=8, lr=10.0, epochs=12, device="cpu", progress=False)
    assert record[0].filename == __file__ and "(from:" not in str(record[0].message)
