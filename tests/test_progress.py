"""Progress bars that move wherever a lesson runs (issue 15, items 3 and 11).

In a RISE slideshow the widget manager never loads, so tqdm's widget bar showed a frozen
"0/30" while a long cell ran. The library's bar is a text line redrawn with display updates:
no widget, and the executed notebook keeps its last line.
"""
from __future__ import annotations

import nbformat
import pytest

from nls_lessons import progress
from nls_lessons.publish.execute import execute

WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from nls_lessons import data, train\n"
                                  "d = data.toy2d('blobs', n=200, seed=0)\n"
                                  "run = train.fit(d, 0.0, 0.2, 0, epochs=3, progress=True)"),
        nbformat.v4.new_code_cell("res = train.sweep(d, [0.0, -0.5], [0.2], [0], epochs=2, progress=True)"),
        nbformat.v4.new_code_cell("from nls_lessons.progress import progress_bar\n"
                                  "with progress_bar(4, 'gone', leave=False) as bar:\n"
                                  "    bar.update(4)"),
    ]
    return execute(nb, name="progress", cwd=tmp_path_factory.mktemp("progress"))


def _texts(cell) -> list[str]:
    return [o["data"]["text/plain"] for o in cell.outputs if o.output_type == "display_data"]


def test_a_kernel_shows_a_text_bar_not_a_widget(executed):
    fit, sweep, _ = executed.cells
    for cell in (fit, sweep):
        assert not any(WIDGET in o.get("data", {}) for o in cell.outputs), cell.outputs
        assert not any(o.output_type == "stream" and o.name == "stderr" for o in cell.outputs), cell.outputs
    # the bar's last state is what the notebook keeps (and what the book shows)
    assert _texts(fit) and "fit r=0 eps=0.2" in _texts(fit)[-1] and "3/3" in _texts(fit)[-1]
    assert _texts(sweep) and "sweep: 2 models" in _texts(sweep)[-1] and "2/2" in _texts(sweep)[-1]


def test_a_bar_with_leave_false_clears_itself(executed):
    assert _texts(executed.cells[2]) == [""]


def test_outside_a_kernel_it_is_tqdms_terminal_bar(capsys):
    assert not progress.in_kernel()
    with progress.progress_bar(3, "terminal") as bar:
        bar.update(3)
    assert "terminal" in capsys.readouterr().err
    with progress.progress_bar(3, "silent", disable=True) as bar:
        bar.update(3)
    assert "silent" not in capsys.readouterr().err
