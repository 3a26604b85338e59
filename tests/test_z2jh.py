"""Beyond one machine (issue 28 item 6): the Zero to JupyterHub values file and the single-user
image recipe, checked without docker or a cluster: the recipe installs exactly requirements.lock
(by the very step make lab runs), and the values name the course's image, its nbgitpuller
source, hub mode and resources, which are the ones the load bench measured (classroom/capacity.json)."""
from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from nls_lessons import setup
from nls_lessons.publish import hub, lab
from nls_lessons.widgets import HUB_ENV

REPO = Path(__file__).resolve().parent.parent
Z2JH = REPO / "classroom" / "z2jh"
DOCKERFILE = Z2JH / "Dockerfile"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in joined.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def recipe():
    return _instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load((Z2JH / "values.yaml").read_text())


@pytest.fixture(scope="module")
def capacity():
    return json.loads((REPO / "classroom" / "capacity.json").read_text())


def test_the_recipe_installs_with_make_labs_step_and_nothing_else(recipe):
    runs = [args for op, args in recipe if op == "RUN"]
    installs = [r for r in runs if re.search(r"\b(pip|uv|conda|mamba)\b.*\binstall\b|setup env", r)]
    assert installs == ["python -m nls_lessons.setup env --torch ${TORCH} && rm -rf /root/.cache"], installs
    copied = {Path(p).name for op, args in recipe if op == "COPY" for p in shlex.split(args)[:-1]}
    assert {"requirements.lock", "pyproject.toml", "nls_lessons"} <= copied
    assert ("ARG", "TORCH=cpu") in recipe                      # the stated choice: CPU wheels
    env = " ".join(args for op, args in recipe if op == "ENV")
    assert "NLS_VENV=/opt/venv" in env and "PATH=/opt/venv/bin" in env
    for name in lab.KERNEL_THREAD_ENV:                          # one BLAS thread per kernel, as make lab
        assert f"{name}=1" in env
    assert f"JUPYTER_CONFIG_PATH={setup_learner_config('/opt/venv')}" in env
    assert recipe[-1] == ("CMD", '["python", "-m", "nls_lessons.publish.hub", "learner"]')
    ignored = (Z2JH / "Dockerfile.dockerignore").read_text().split()
    assert not {"requirements.lock", "pyproject.toml", "nls_lessons", "notebooks"} & set(ignored)
    assert ".venv" in ignored and "lessons" in ignored


def setup_learner_config(prefix: str) -> str:
    from nls_lessons.publish import learner_config

    return str(learner_config.learner_config_dir(prefix))


def _installed(commands) -> dict[str, str]:
    """name -> version of everything the install commands pin (requirements files and == args)."""
    out: dict[str, str] = {}
    written: dict[str, str] = {}
    for command in commands:
        if command[0] == "write":              # a requirements file the set-up writes, read by -r
            written[command[1]] = command[2]
            continue
        if "-r" in command:
            path = command[command.index("-r") + 1]
            lines = (written[path] if path in written else Path(path).read_text()).splitlines()
        else:
            lines = [a for a in command if "==" in a]
        for line in lines:
            m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line.strip())
            if m:
                out[setup.canonical(m.group(1))] = m.group(2)
    return out


@pytest.mark.parametrize("torch", ["cpu", "default"])
def test_the_images_install_step_pins_exactly_the_lock(torch, tmp_path):
    lock = {p["name"]: p["version"] for p in setup.read_lock()}
    installed = _installed(setup.install_commands(tmp_path, torch, "uv"))
    left_out = set(lock) - set(installed)
    if torch == "cpu":      # the lock's CUDA-only packages, and nothing else
        assert left_out == setup.cuda_only(setup.read_lock()) and left_out
        assert installed["torch"] == lock["torch"] and installed["torchvision"] == lock["torchvision"]
    else:
        assert not left_out
    assert all(installed[name] == version for name, version in lock.items() if name in installed)
    assert set(installed) <= set(lock)                        # nothing the lock does not pin
    assert installed["jupyterhub"] == lock["jupyterhub"] and "nbgitpuller" in installed


def test_the_values_name_the_image_the_course_and_hub_mode(values, recipe):
    single = values["singleuser"]
    build = next(line for line in DOCKERFILE.read_text().splitlines() if "docker build" in line)
    assert f"-t {single['image']['name']}:{single['image']['tag']}" in build
    assert single["cmd"] == ["python", "-m", "nls_lessons.publish.hub", "learner"]
    assert single["defaultUrl"] == f"/lab/tree/{hub.lessons_folder('a course repo')}/{lab.WELCOME}"
    env = single["extraEnv"]
    assert env[HUB_ENV] == "1"
    assert re.match(r"^https://\S+/nls-lessons$", env["NLS_HUB_COURSE_REPO"]) and env["NLS_HUB_COURSE_BRANCH"]
    assert all(env[name] == "1" for name in lab.KERNEL_THREAD_ENV)
    assert values["cull"] == {"enabled": True, "timeout": hub.CULL_TIMEOUT, "every": hub.CULL_EVERY}


def _bench():
    spec = importlib.util.spec_from_file_location("hub_load", REPO / "bench" / "hub_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_values_resources_are_the_measured_capacity(values, capacity):
    assert capacity["rows"] and capacity["measured"] and capacity["machine"]
    assert [r["users"] for r in capacity["rows"]] == sorted(r["users"] for r in capacity["rows"])
    bench = _bench()
    assert capacity["conclusion"] == bench.conclusion(capacity["rows"], int(capacity["machine"].split()[0]))
    c = capacity["conclusion"]
    assert c["basis"] and c["learners_per_core"] > 0 and c["gb_per_learner"] > 0
    assert c["class_300"]["cores"] >= c["class_30"]["cores"] > 0
    resources = bench.z2jh_resources(capacity)
    assert capacity["z2jh"] == resources
    single = values["singleuser"]
    assert single["cpu"] == resources["cpu"]
    assert single["memory"] == resources["memory"]
    assert single["cpu"]["guarantee"] <= single["cpu"]["limit"]
