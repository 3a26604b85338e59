"""The course foundation: pins that cannot drift, paired notebooks, the lab launcher."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from conftest import free_port

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


def lock_pins() -> dict[str, str]:
    """name -> version for every pin of the universal lock (markers in tests/test_lock.py)."""
    from nls_lessons import setup

    pins = {}
    for pin in setup.read_lock():
        assert pins.get(pin["name"], pin["version"]) == pin["version"], f"{pin['name']} pinned twice"
        pins[pin["name"]] = pin["version"]
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    from nls_lessons import setup

    reqs = list(project["dependencies"])
    for name, extra in project.get("optional-dependencies", {}).items():
        if name in setup.EXTRAS:        # the extras the lock is compiled from (classroom: not yet)
            reqs.extend(extra)
    return [Requirement(r) for r in reqs]


def test_lock_pins_torch_exactly():
    pins = lock_pins()
    assert pins["torch"] == "2.14.1"
    assert pins["torchvision"] == "0.29.1"


def test_lock_satisfies_every_pyproject_range():
    pins = lock_pins()
    for req in pyproject_requirements():
        name = canonical(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not pinned in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's range {req}"


def test_pyproject_uses_ranges_not_pins():
    for req in pyproject_requirements():
        assert not any(spec.operator == "==" for spec in req.specifier), \
            f"{req} is an exact pin: the package must install into other environments"


def test_environment_yml_installs_the_same_lock():
    from nls_lessons import setup

    text = (REPO / "environment.yml").read_text()
    python = re.search(r"^\s*-\s*python=(3\.\d+)\s*$", text, re.M)
    assert python, "environment.yml must ask for one Python minor version (python=3.NN)"
    assert python.group(1) in {".".join(v.split(".")[:2]) for v in setup.PYTHONS}, \
        f"environment.yml asks for python={python.group(1)}, the lock serves {setup.PYTHONS}"
    pinned_inline = dict(re.findall(r"^\s*-\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", text, re.M))
    refs_lock = re.search(r"^\s*-\s*-r\s+requirements\.lock\s*$", text, re.M)
    assert refs_lock or pinned_inline, "environment.yml must install requirements.lock"
    pins = lock_pins()
    for name, version in pinned_inline.items():
        assert pins.get(canonical(name)) == version, f"environment.yml pins {name}=={version}, the lock {pins.get(canonical(name))}"


# ---------------------------------------------------------------- notebooks
def notebook_pairs():
    stems = {p.stem for p in NOTEBOOKS.glob("*.py")} | {p.stem for p in NOTEBOOKS.glob("*.ipynb")}
    return sorted(stems)


def test_there_are_notebooks():
    assert "00_welcome" in notebook_pairs()


@pytest.mark.parametrize("stem", notebook_pairs())
def test_notebook_pair_exists_and_agrees(stem):
    import jupytext

    py, ipynb = NOTEBOOKS / f"{stem}.py", NOTEBOOKS / f"{stem}.ipynb"
    assert py.exists(), f"{ipynb.name} has no paired {py.name}: run `jupytext --sync {ipynb}`"
    assert ipynb.exists(), f"{py.name} has no paired {ipynb.name}: run `jupytext --sync {py}`"
    a, b = jupytext.read(py), jupytext.read(ipynb)
    cells_a = [(c.cell_type, c.source.strip()) for c in a.cells]
    cells_b = [(c.cell_type, c.source.strip()) for c in b.cells]
    assert cells_a == cells_b, f"{py.name} and {ipynb.name} disagree: run `jupytext --sync notebooks/{stem}.py`"
    tags_a = [c.metadata.get("tags", []) for c in a.cells]
    tags_b = [c.metadata.get("tags", []) for c in b.cells]
    assert tags_a == tags_b, f"cell tags differ between {py.name} and {ipynb.name}"


@pytest.mark.parametrize("stem", notebook_pairs())
def test_committed_notebook_has_no_outputs(stem):
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{stem}.ipynb cell {i} carries outputs: strip them"
            assert cell.get("execution_count") is None, f"{stem}.ipynb cell {i} has an execution count"


def test_pair_check_detects_drift(tmp_path):
    """The pairing check above can fail: an edited .py no longer matches its .ipynb."""
    import jupytext

    nb = jupytext.read(NOTEBOOKS / "00_welcome.py")
    nb.cells[0].source += "\nan edit that was never synced"
    edited = [(c.cell_type, c.source.strip()) for c in nb.cells]
    original = [(c.cell_type, c.source.strip()) for c in jupytext.read(NOTEBOOKS / "00_welcome.ipynb").cells]
    assert edited != original


def test_jupytext_config_pairs_py_percent():
    cfg = tomllib.loads((REPO / "jupytext.toml").read_text())
    assert cfg["formats"] == "ipynb,py:percent"


# ---------------------------------------------------------------- README
def test_readme_has_the_two_commands():
    """README's "Start here" gives each platform exactly two set-up commands: open the course in
    JupyterLab, run the whole suite; make's are the same steps as the entry point's (issue 22)."""
    from nls_lessons import setup

    text = (REPO / "README.md").read_text()
    start = text.split("## Start here", 1)[1].split("\n## ", 1)[0]
    blocks = [[line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
              for block in re.findall(r"```(?:bash|sh|console|powershell)?\n(.*?)```", start, re.S)]
    assert blocks[0] == ["make lab", "make test"], blocks[0]
    assert ["py -m nls_lessons.setup lab", "py -m nls_lessons.setup test"] in blocks, "no Windows commands"
    assert ["python3 -m nls_lessons.setup lab", "python3 -m nls_lessons.setup test"] in blocks
    assert all(len(b) == 2 for b in blocks), blocks
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^lab:\n\t\$\(SETUP\) lab$", makefile, re.M)
    assert re.search(r"^test:\n\t\$\(SETUP\) test$", makefile, re.M)


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^\s*make test\s*$", ci, re.M)


# ---------------------------------------------------------------- lab launcher
def test_lab_command_allows_root(monkeypatch):
    from nls_lessons.publish import lab

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert "--allow-root" in lab.lab_command(8888, "127.0.0.1", open_browser=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "--allow-root" not in lab.lab_command(8888, "127.0.0.1", open_browser=False)


def test_busy_port_is_skipped():
    from nls_lessons.publish import lab

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert not lab.port_is_free(port)
        assert lab.find_free_port(port) != port


@pytest.mark.slow
def test_lab_starts_and_serves_the_course(tmp_path):
    """`python -m nls_lessons.publish.lab` prints a URL that answers, on a free port, serving the working
    copies (not the repository: notebooks/ is out of JupyterLab's reach)."""
    work = tmp_path / "lessons"
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), NLS_LAB_PORT=str(free_port()),
               NLS_LESSONS_DIR=str(work))
    proc = subprocess.Popen([sys.executable, "-m", "nls_lessons.publish.lab", "--no-browser"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url = None
        deadline = time.time() + 90
        while time.time() < deadline and url is None:
            line = proc.stdout.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+/lab/tree/00_welcome\.ipynb\?token=\w+)", line)
            if match:
                url = match.group(1)
        assert url, "the launcher printed no URL"
        assert (work / "00_welcome.ipynb").exists(), "the launcher made no working copy"
        base, token = url.split("/lab/")[0], url.split("token=")[1]
        body = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/api/contents/00_welcome.ipynb?content=0&token={token}",
                                            timeout=2) as resp:
                    body = json.loads(resp.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert body and body["name"] == "00_welcome.ipynb"
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200 and b"JupyterLab" in resp.read()
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{base}/api/contents/notebooks?content=0&token={token}", timeout=10)
        assert info.value.code == 404
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


@pytest.mark.parametrize("stem", notebook_pairs())
def test_solution_cells_are_collapsed_in_the_lab(stem):
    """A learner in JupyterLab sees each worked solution collapsed until they open it."""
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())
    for i, cell in enumerate(nb["cells"]):
        if "solution" in cell["metadata"].get("tags", []):
            hidden = cell["metadata"].get("jupyter", {})
            assert hidden.get("source_hidden") and hidden.get("outputs_hidden"), \
                f"{stem} cell {i} is a solution: add jupyter={{\"outputs_hidden\": true, \"source_hidden\": true}}"


def test_rise_is_installed_for_live_lectures():
    """Lecturers present lessons as slides in JupyterLab with RISE (`jupyterlab-rise`)."""
    jupyter = Path(sys.executable).parent / "jupyter"
    out = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, NO_COLOR="1"))
    listing = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    line = next((l for l in listing.splitlines() if "jupyterlab-rise" in l), "")
    assert "enabled" in line and "OK" in line, listing


def test_the_welcome_lists_every_lesson():
    """Lesson 00's "How the course is organised" table has a row for every lesson after it
    (lesson 06 was missing from it)."""
    welcome = (NOTEBOOKS / "00_welcome.py").read_text()
    numbers = sorted({p.name[:2] for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")} - {"00"})
    assert numbers and [n for n in numbers if not re.search(rf"^# \| {n} ", welcome, re.M)] == []
