"""Notebook execution for the book and slides never stalls (issue 13, item 1).

- 20 cold executions of a small notebook, two worker processes at a time, through the same
  path `make book` uses (:func:`nls_lessons.publish.book.executed_notebooks`), with the watchdog set
  to fail at once (no restart): a stall fails the test within seconds instead of hanging.
- Every kernel talks over IPC sockets (no TCP ports to collide on).
- A cell that hangs silently is retried once in a fresh kernel, then the error names the
  notebook and the cell.
"""
from __future__ import annotations

import time

import nbformat
import pytest

from nls_lessons.publish import book
from nls_lessons.publish.execute import ExecutionError, execute

STRESS_ROUNDS = 20

SMALL_NOTEBOOK = '''\
# %% [markdown]
# # Stress {i:02d}

# %%
import json
from ipykernel.connect import get_connection_info

print("transport", json.loads(get_connection_info())["transport"])

# %%
from IPython.display import Markdown, display

display(Markdown("**cell two** of notebook {i}"))
sum(range({i} + 10))
'''


def _code_outputs(nb) -> list[str]:
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text") or str(out.get("data", {}).get("text/plain", "")))
    return texts


def test_cold_executions_two_at_a_time_never_stall(tmp_path):
    paths = []
    for i in range(STRESS_ROUNDS):
        path = tmp_path / "nb" / f"{i:02d}_stress.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(SMALL_NOTEBOOK.format(i=i), encoding="utf-8")
        paths.append(path)
    lines = []
    t0 = time.perf_counter()
    executed = book.executed_notebooks(paths, cache_dir=tmp_path / "cache", jobs=2, force=True,
                                       silence_timeout=15, restarts=0, timeout=60, log=lines.append)
    elapsed = time.perf_counter() - t0
    assert len(executed) == STRESS_ROUNDS
    for i, nb in enumerate(executed):
        outputs = _code_outputs(nb)
        assert outputs[0] == "transport ipc\n", (i, outputs)
        assert outputs[-1] == str(sum(range(i + 10))), (i, outputs)
    assert any(f"executed {STRESS_ROUNDS} notebook(s)" in line for line in lines), lines
    print(f"{STRESS_ROUNDS} cold executions, 2 at a time, no stall: {elapsed:.1f} s")


def _hanging_notebook():
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Hangs"),
        nbformat.v4.new_code_cell("x = 1\nprint(x)"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(1000)  # silent: no output, no CPU"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ])


def test_watchdog_restarts_a_silent_kernel_once_then_names_notebook_and_cell(tmp_path):
    messages = []
    t0 = time.perf_counter()
    with pytest.raises(ExecutionError) as info:
        execute(_hanging_notebook(), name="hangs.ipynb", cwd=tmp_path, silence_timeout=1.5,
                log=messages.append)
    elapsed = time.perf_counter() - t0
    text = str(info.value)
    assert "hangs.ipynb" in text and "cell 3" in text
    assert "'import time'" in text and "silence limit 1.5 s" in text and "2 time(s)" in text
    assert len(messages) == 1 and "restarting" in messages[0] and "cell 3" in messages[0]
    assert elapsed < 120          # two silences of 1.5 s plus two kernel starts, never 1000 s


def test_watchdog_spares_a_kernel_that_computes_without_output(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 3: pass\nprint('done')")])
    messages = []
    execute(nb, name="busy.ipynb", cwd=tmp_path, silence_timeout=1, restarts=0, log=messages.append)
    assert nb.cells[0].outputs[0]["text"] == "done\n" and not messages


@pytest.mark.parametrize("kwargs, match", [
    ({"silence_timeout": 0}, "silence_timeout must be a positive"),
    ({"silence_timeout": float("nan")}, "silence_timeout must be a positive"),
    ({"silence_timeout": "soon"}, "silence_timeout must be a positive number of seconds"),
    ({"timeout": -1}, "timeout must be a positive"),
    ({"restarts": -1}, "restarts must be an integer >= 0"),
    ({"restarts": 1.5}, "restarts must be an integer >= 0"),
])
def test_bad_watchdog_settings_are_named(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        execute(_hanging_notebook(), name="x.ipynb", cwd=tmp_path, **kwargs)


def test_silence_limit_from_the_environment(monkeypatch):
    from nls_lessons.publish import execute as ex

    monkeypatch.setenv("NLS_SILENCE_TIMEOUT", "7.5")
    assert ex.silence_timeout_default() == 7.5
    monkeypatch.setenv("NLS_SILENCE_TIMEOUT", "never")
    with pytest.raises(ValueError, match="NLS_SILENCE_TIMEOUT must be a positive"):
        ex.silence_timeout_default()
    monkeypatch.delenv("NLS_SILENCE_TIMEOUT")
    assert ex.silence_timeout_default() == ex.SILENCE_TIMEOUT
