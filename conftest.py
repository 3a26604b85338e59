"""The lessons under nbval (``--nbval-lax notebooks``: ``make test``, ``make notebooks``).

Each notebook of ``notebooks/`` runs as ``make book`` and ``make slides`` run it, with
``NLS_STATIC=1`` (every explorer computes its precomputed frames, for every slider value, instead
of a live widget that no front end would show here): nbval's cells, the lesson's own asserts, and
the static path the book ships, in one execution. The live widgets run where a front end shows
them: every lesson's Run All in JupyterLab with a slider move (tests/test_browser_lessons.py) and
the explorers' unit tests (tests/test_widgets.py).

After the last cell of a lesson with exercises come two more items of the same notebook, which
read the outputs nbval has just received (:mod:`lesson_outputs`, in tests/): no exercise's answer
is shown before its question, and nothing printed is unfit for a projected slide. One execution
of each lesson serves nbval and these checks (issue 21: they executed every lesson once more).
``--dist loadfile`` keeps a notebook's items on one worker, in this order.
"""
from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
LESSONS = REPO / "notebooks"
sys.path.insert(0, str(REPO / "tests"))      # lesson_outputs and its helpers live with the tests


def _lesson_file(node) -> bool:
    """An nbval notebook of ``notebooks/`` (not a test fixture)."""
    path = Path(str(getattr(node, "path", "")))
    return path.suffix == ".ipynb" and LESSONS in path.parents and type(node).__name__ == "IPyNbFile"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """The lesson's kernel (started by nbval in its first cell's set-up) runs with NLS_STATIC=1."""
    notebook = item.parent
    if not (_lesson_file(notebook) and getattr(notebook, "kernel", None) is None):
        yield
        return
    before = os.environ.get("NLS_STATIC")
    os.environ["NLS_STATIC"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("NLS_STATIC", None)
        else:
            os.environ["NLS_STATIC"] = before


class WhatTheLearnerSees(pytest.Item):
    """One check of :mod:`lesson_outputs` on the lesson as nbval has just executed it."""

    CHECKS = {"no answer before its question": "leaks", "printed output fit for a slide": "printed_problems"}

    def __init__(self, *, check: str, cells: list, **kwargs):
        super().__init__(**kwargs)
        self.check, self.cells = check, cells

    def executed(self):
        """The notebook nbval read, each code cell with the outputs its run received."""
        missing = [c.name for c in self.cells if getattr(c, "test_outputs", None) is None]
        if missing:
            raise AssertionError(f"{self.parent.name}: {missing[0]} did not run under nbval (the kernel "
                                 f"died or the cell was skipped), so its outputs cannot be checked")
        nb = copy.deepcopy(self.parent.nb)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        for item in self.cells:
            code[item.cell_num].outputs = item.test_outputs
        return nb

    def runtest(self):
        import lesson_outputs

        stem = self.parent.path.stem
        name = self.CHECKS[self.check]
        found = lesson_outputs.leaks(stem, self.executed()) if name == "leaks" else \
            lesson_outputs.printed_problems(self.executed())
        assert found == [], f"{stem}: " + "\n".join(found)

    def reportinfo(self):
        return self.path, None, f"{self.parent.name}::{self.name}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """After each lesson's last cell (when all its cells are selected), the two checks."""
    import lesson_outputs

    out, i = [], 0
    while i < len(items):
        parent = items[i].parent
        j = i
        while j < len(items) and items[j].parent is parent:
            j += 1
        out += items[i:j]
        if _lesson_file(parent) and lesson_outputs.has_exercises(parent.path) \
                and j - i == sum(cell.cell_type == "code" for cell in parent.nb.cells):
            out += [WhatTheLearnerSees.from_parent(parent, name=f"what the learner sees: {check}",
                                                   check=check, cells=items[i:j])
                    for check in WhatTheLearnerSees.CHECKS]
        i = j
    items[:] = out
