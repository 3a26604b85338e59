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

Also here, so that it sees nbval's cells as well as the tests: ``--cpu-durations=N``, the N items
with the most CPU time (the process, its kernels, servers and browsers).
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
import lesson_outputs  # noqa: E402


# ---------------------------------------------------------------- CPU time per test (--cpu-durations)
# Here, at the top, so that it measures nbval's cells too. Wall-clock durations mislead on a
# shared machine; CPU time does not. A test's CPU time is that of this pytest process and every
# process under it (notebook kernels, JupyterLab and its kernels, chromium), read from /proc: utime + stime of each, plus the cutime + cstime of the children it
# has reaped (a kernel that exits is counted in its parent's). With the option, pytest becomes a
# child subreaper, so a grandchild orphaned by its parent (a chromium renderer) stays in the tree
# as a zombie until pytest exits instead of taking its CPU time to init. Linux only; elsewhere 0.
def pytest_addoption(parser):
    parser.addoption("--cpu-durations", type=int, default=None, metavar="N",
                     help="show the N tests with the most CPU time (this process and its children)")


def tree_cpu_seconds(root: int | None = None) -> float:
    """CPU seconds used so far by process ``root`` (default: this one) and all its descendants."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats = {}
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else []:
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root or os.getpid()]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0))[1]
        todo += children.get(pid, [])
    return total / ticks


_CPU: dict[str, float] = {}


def _become_subreaper() -> None:
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if item.config.getoption("--cpu-durations") is not None:
        if not _CPU:
            _become_subreaper()
        item._nls_cpu0 = tree_cpu_seconds()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """The test's CPU seconds (setup to teardown) ride on its teardown report as a user
    property, so that an xdist controller, which runs no test, gets its workers' numbers."""
    outcome = yield
    if call.when == "teardown" and hasattr(item, "_nls_cpu0"):
        outcome.get_result().user_properties.append(("cpu_seconds", tree_cpu_seconds() - item._nls_cpu0))


def pytest_runtest_logreport(report):
    if report.when == "teardown":
        for name, value in report.user_properties:
            if name == "cpu_seconds":
                _CPU[report.nodeid] = value


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    n = config.getoption("--cpu-durations")
    if n is None or not _CPU:
        return
    terminalreporter.write_sep("=", f"top {n} CPU times (s, this process + its children)")
    for nodeid, cpu in sorted(_CPU.items(), key=lambda kv: -kv[1])[:n or None]:
        terminalreporter.write_line(f"{cpu:8.1f}  {nodeid}")
    terminalreporter.write_line(f"{sum(_CPU.values()):8.1f}  all {len(_CPU)} tests")


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

    #: name -> ``(lesson stem, executed notebook) -> problems found``
    CHECKS = {"no answer before its question": lesson_outputs.leaks,
              "printed output fit for a slide": lambda stem, nb: lesson_outputs.printed_problems(nb)}

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
        stem = self.parent.path.stem
        found = self.CHECKS[self.check](stem, self.executed())
        assert found == [], f"{stem}: " + "\n".join(found)

    def reportinfo(self):
        return self.path, None, f"{self.parent.name}::{self.name}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """After each lesson's last cell (when all its cells are selected), the two checks."""
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
