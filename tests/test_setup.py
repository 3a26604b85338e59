"""The set-up entry point (issue 22): one implementation that make, Windows and CI all run.

Nothing here installs anything: the install steps are read as commands, and ``ensure_env`` runs
against a throwaway venv folder with ``subprocess`` replaced by a recorder.
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from nls_lessons import setup

REPO = Path(__file__).resolve().parent.parent


def test_setup_uses_the_standard_library_only():
    """It runs with a learner's bare Python, before anything is installed."""
    tree = ast.parse((REPO / "nls_lessons" / "setup.py").read_text())
    top = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            top.add((node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"__future__", "uv"}   # uv: optional, guarded
    assert top <= allowed, top - allowed


def test_every_make_target_calls_the_entry_point():
    makefile = (REPO / "Makefile").read_text()
    recipes = re.findall(r"^\t(.+)$", makefile, re.M)
    assert "pytest" not in makefile and "pip install" not in makefile, "the steps live in nls_lessons/setup.py"
    for target in ("lab", "test", "doctor", "env", "book", "slides", "bench", "lock"):
        assert re.search(rf"^{target}( [\w -]+)?:", makefile, re.M), target
    assert all(r.startswith(("$(SETUP)", "@test", "rm -rf .venv")) for r in recipes), recipes
    assert re.search(r"^SETUP\s*:=\s*\$\(PYTHON\) -m nls_lessons\.setup$", makefile, re.M)


def test_test_target_runs_the_browser_tests_beside_the_niced_suite(monkeypatch, tmp_path):
    class Finished:
        def __init__(self, code):
            self.code = code

        def wait(self):
            return self.code

    for suite_code, browser_code, expected in ((0, 0, 0), (3, 0, 3), (0, 4, 4)):
        ran = []
        monkeypatch.setattr(setup, "BROWSER_LOG", tmp_path / "build" / "browser.log")
        monkeypatch.setattr(setup, "REPO", tmp_path)
        monkeypatch.setattr(setup, "start_in_env", lambda args, threads=False, b=browser_code, **kw:
                            ran.append(("background", args, threads)) or Finished(b))
        monkeypatch.setattr(setup, "run_in_env", lambda args, threads=False, module=True, nice=0, c=suite_code:
                            ran.append(("foreground", args, threads, nice)) or c)
        assert setup.main(["test"]) == expected, "the target fails when either run fails"
        assert ran == [("background", setup.TEST_COMMANDS[1], True), ("foreground", setup.TEST_COMMANDS[0], True, 10)]
    assert "-m" in setup.TEST_COMMANDS[1] and "browser" in setup.TEST_COMMANDS[1]


def test_lab_and_doctor_run_their_modules(monkeypatch):
    ran = []
    monkeypatch.setattr(setup, "run_in_env", lambda args, threads=False, module=True: ran.append(args) or 0)
    setup.main(["lab"])
    setup.main(["doctor"])
    setup.main(["reset", "03"])
    assert ran == [("nls_lessons.publish.lab",), ("nls_lessons.doctor",), ("nls_lessons.publish.lab", "--reset", "03")]


def test_install_commands_pip_default():
    venv = Path("/tmp/v")
    commands = setup.install_commands(venv)
    assert commands[0][-2:] == ["-r", str(setup.LOCK)] and commands[0][:4] == [str(setup.venv_python(venv)), "-m", "pip", "install"]
    assert commands[1][-2:] == ["-e", str(setup.REPO)] and "--no-deps" in commands[1]


def test_install_commands_cpu_leaves_out_the_cuda_packages():
    commands = setup.install_commands(Path("/tmp/v"), torch="cpu")
    assert commands[0][0] == "write"
    kept = commands[0][2]
    assert "torch==" not in kept and "nvidia-" not in kept and "triton" not in kept and "numpy==2.4.6" in kept
    torch_step = commands[1]
    assert torch_step[torch_step.index("--index-url") + 1] == setup.CPU_INDEX
    assert "torch==2.14.1" in torch_step and "torchvision==0.29.1" in torch_step and "-c" in torch_step
    with pytest.raises(ValueError, match="torch must be one of"):
        setup.install_commands(Path("/tmp/v"), torch="rocm")


def test_install_commands_uv_follows_pips_sources(monkeypatch):
    monkeypatch.setattr(setup, "pip_sources", lambda: ["--find-links", "/opt/wheels", "--index-strategy", "unsafe-best-match"])
    commands = setup.install_commands(Path("/tmp/v"), installer="uv")
    assert commands[0][-1].startswith("uv==")
    assert commands[1][2:5] == ["uv", "pip", "install"] and "/opt/wheels" in commands[1]
    assert commands[1][-2:] == ["-r", str(setup.LOCK)]
    assert "--compile-bytecode" in commands[1], "uv leaves the bytecode out unless asked (pip compiles)"
    assert "--no-compile" not in sum(setup.install_commands(Path("/tmp/v"), installer="pip"), [])
    with pytest.raises(ValueError, match="installer must be"):
        setup.install_commands(Path("/tmp/v"), installer="conda")


@pytest.fixture
def fake_venv(tmp_path, monkeypatch):
    venv = tmp_path / "venv"
    python = setup.venv_python(venv)
    python.parent.mkdir(parents=True)
    python.write_text("")
    monkeypatch.setenv("NLS_VENV", str(venv))
    monkeypatch.delenv("TORCH", raising=False)
    monkeypatch.delenv("NLS_INSTALLER", raising=False)
    ran = []
    monkeypatch.setattr(setup, "pip_sources", lambda: [])
    monkeypatch.setattr(setup.subprocess, "run", lambda command, **kw: ran.append(command))
    return venv, ran


def test_env_installs_once_then_reuses_the_venv(fake_venv):
    venv, ran = fake_venv
    setup.ensure_env()
    assert any("-r" in c for c in ran), "the first run installs the lock"
    assert setup.stamp_path(venv).read_text() == setup.stamp_text("default")
    ran.clear()
    setup.ensure_env()
    assert ran == [], "an installed, unchanged lock installs nothing"
    setup.stamp_path(venv).write_text(setup.stamp_text("default").replace("sha256 ", "sha256 0"))
    setup.ensure_env()
    assert ran, "a changed lock installs again"


def test_an_environment_installed_without_its_bytecode_installs_again(fake_venv):
    venv, ran = fake_venv
    setup.stamp_path(venv).write_text(setup.stamp_text("default").replace(setup.BYTECODE + "\n", ""))
    setup.ensure_env()
    assert any("--compile-bytecode" in c for c in ran), "a venv from before BYTECODE is compiled on the next run"


def test_the_course_environment_has_its_bytecode():
    """Every process of the suite and the lessons imports torch, jupyter and nbgrader from
    compiled bytecode (setup.BYTECODE: where PYTHONDONTWRITEBYTECODE is set, nothing else writes it)."""
    import importlib.util

    import ipykernel
    import jupyter_server
    import torch
    import torchvision

    missing = [m.__name__ for m in (torch, torchvision, jupyter_server, ipykernel)
               if not Path(importlib.util.cache_from_source(m.__file__)).exists()]
    assert not missing, f"no bytecode for {missing}: run `make env` (it compiles the environment once)"


def test_env_keeps_the_torch_variant_it_was_made_with(fake_venv):
    venv, ran = fake_venv
    setup.ensure_env(torch="cpu")
    assert setup.stamp_path(venv).read_text().endswith("torch cpu\n")
    ran.clear()
    setup.ensure_env()          # `make lab` after `make env TORCH=cpu`: no reinstall of the CUDA build
    assert ran == []


def test_python_outside_the_lock_is_refused_before_installing(fake_venv, monkeypatch):
    monkeypatch.setattr(setup, "python_problem", lambda: "Python 3.10.1 cannot install the course lock")
    with pytest.raises(SystemExit, match="3.10.1"):
        setup.ensure_env()
    assert fake_venv[1] == []


def test_venv_python_on_windows():
    assert setup.venv_python(Path("v"), windows=True) == Path("v/Scripts/python.exe")
    assert setup.venv_python(Path("v"), windows=False) == Path("v/bin/python")


def test_lock_command_takes_the_extras_from_one_list(monkeypatch):
    monkeypatch.setattr(setup, "EXTRAS", ("course", "test", "classroom"))
    command = setup.lock_command()
    extras = [command[i + 1] for i, a in enumerate(command) if a == "--extra"]
    assert extras == ["course", "test", "classroom"] and "--universal" in command
    assert command[command.index("-c") + 1] == str(setup.LOCK), "regenerating keeps today's pins"
    assert "-c" not in setup.lock_command(upgrade=True) and "--upgrade" in setup.lock_command(upgrade=True)


def test_check_command_names_each_platform():
    command, env = setup.check_command("macos-arm64", "3.12")
    assert command[command.index("--python-platform") + 1] == "aarch64-apple-darwin"
    assert env["MACOSX_DEPLOYMENT_TARGET"] == setup.MACOS_TARGET and "--only-binary" in command
    with pytest.raises(ValueError, match="platform must be one of"):
        setup.check_command("amiga", "3.12")


def test_an_empty_torch_variable_means_the_installed_variant(monkeypatch, tmp_path):
    """The Makefile exports TORCH (empty unless `make env TORCH=cpu`): empty is "not set"."""
    python = tmp_path / "python"
    python.write_text("")
    stamp = tmp_path / "stamp"
    stamp.write_text(setup.stamp_text("default"))
    monkeypatch.setattr(setup, "venv_python", lambda venv: python)
    monkeypatch.setattr(setup, "stamp_path", lambda venv: stamp)
    monkeypatch.setenv("TORCH", "")
    monkeypatch.setenv("NLS_INSTALLER", "")
    assert setup.ensure_env() == python
