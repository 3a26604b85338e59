"""The library's folders tell its architecture (issue 16), checked from the source, not by hand.

Read from every ``nls_lessons/**/*.py`` with :mod:`ast` (imports inside functions count too):

- **arrows only go down**: each top-level part of the package sits on a layer (below); a module
  imports only modules on its own layer or lower;
- **no import cycles** between modules;
- **no module over 500 lines**;
- every module has a docstring (it says what the module owns and which lessons use it).

Layers, bottom to top (see README's "The library" and DESIGN.md): the learner's library
(``noise`` ... ``models``, then ``train``/``plots``, then ``widgets``), the paper-scale stack
``paper`` (lesson 05), the self-checks ``exercises`` (lesson 05's check compares with the paper's
Table 2), and ``publish`` (book, slides, lab), which may use everything below it.
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nls_lessons"
ROOT = "nls_lessons"
MAX_LINES = 500

#: top-level part of the package -> layer. A new top-level module must be placed here on purpose.
LAYERS = {
    "nls_lessons": 0,            # the package's own __init__ (version, paper URL)
    "device": 0, "checks": 0, "progress": 0, "output": 0, "files": 0, "noise": 0, "losses": 0, "theory": 0, "metrics": 0, "data": 0,
    "models": 0,
    "train": 1, "plots": 1,
    "widgets": 2,
    "paper": 3,
    # compatibility names for code written before the move (the old command, lesson 05's old
    # imports in a learner's working copy): each only hands out ``paper``'s own objects
    "reproduce": 3, "cifar": 3, "resnet": 3,
    "exercises": 4,
    "publish": 5,
    # the set-up entry point behind every make target (standard library only: it runs before
    # anything is installed) and the pre-class check, which uses the whole library (issue 22)
    "setup": 0,
    "doctor": 5,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(base: str, names: list[str]) -> set[str]:
    """``from base import a, b``: the submodules ``base.a`` that exist, else ``base`` itself."""
    known = modules()
    found = {f"{base}.{n}" for n in names if f"{base}.{n}" in known}
    if len(found) < len(names) or not names:
        # a name that is not a submodule is an attribute of ``base`` (or of its nearest module)
        while base and base not in known:
            base = base.rpartition(".")[0]
        if base:
            found.add(base)
    return found


@cache
def imports(name: str) -> frozenset[str]:
    """Every ``nls_lessons`` module that module ``name`` imports, anywhere in its source."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == ROOT or alias.name.startswith(ROOT + "."):
                    found |= _resolve(alias.name, [])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            if base == ROOT or base.startswith(ROOT + "."):
                found |= _resolve(base, [a.name for a in node.names])
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)
              and str(node.args[0].value).startswith(ROOT + ".")):
            found |= _resolve(node.args[0].value, [])      # importlib.import_module("nls_lessons.x")
    found.discard(name)
    return frozenset(found)


def layer(name: str) -> int:
    top = name.split(".")[1] if "." in name else name
    assert top in LAYERS, (f"{name}: put the new top-level module {top!r} on a layer in "
                           "tests/test_architecture.py::LAYERS (and say why in its docstring)")
    return LAYERS[top]


def test_the_import_reader_sees_imports_of_every_kind():
    # guards the reader itself: a reader that finds nothing would pass every rule below
    assert "nls_lessons.noise" in imports("nls_lessons.theory")          # from .noise import ...
    assert "nls_lessons.checks" in imports("nls_lessons.models")         # inside a function
    assert "nls_lessons.paper.cifar" in imports("nls_lessons.cifar")     # importlib.import_module("...")
    everything = set().union(*(imports(m) for m in modules()))
    assert len(everything) > 10


@pytest.mark.parametrize("name", sorted(modules()))
def test_arrows_only_go_down(name):
    upward = sorted(m for m in imports(name)
                    if layer(m) > layer(name) and m.split(".")[:2] != name.split(".")[:2])
    assert not upward, (f"{name} (layer {layer(name)}) imports from a higher layer: "
                        + ", ".join(f"{m} (layer {layer(m)})" for m in upward))


def test_no_import_cycles():
    graph = {m: imports(m) & modules().keys() for m in modules()}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):                                   # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_small_and_say_what_they_own(name):
    path = modules()[name]
    source = path.read_text()
    lines = source.count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE.parent)}: {lines} lines (at most {MAX_LINES})"
    if source.strip():
        assert ast.get_docstring(ast.parse(source)), f"{name}: no module docstring"


def test_the_learners_imports_keep_working():
    import importlib

    import nls_lessons
    for part in ("noise", "losses", "theory", "data", "models", "train", "metrics", "plots",
                 "widgets", "exercises", "paper"):
        assert importlib.import_module(f"nls_lessons.{part}") is getattr(nls_lessons, part)


def test_the_exercise_checks_start_without_torch():
    """An autograder kernel (nbgrader's test cells import the checks) and a learner's check of a
    number need no torch: ``checks`` looks for a tensor only where torch is already imported
    (issue 21: ~3 CPU-s per graded notebook)."""
    import subprocess
    import sys

    code = ("import sys; import nls_lessons.exercises as ex; import nls_lessons.exercises.lesson01, "
            "nls_lessons.exercises.lesson02; from nls_lessons import checks; "
            "assert checks.check_number(0.5, 'x', 'a number') == 0.5; print('torch' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False", "importing the exercises' checks imported torch"
