"""One lock installs on every learner's platform (issue 22), checked here by resolution.

For each platform of ``nls_lessons.setup.PLATFORMS`` (Linux x86_64 and aarch64, macOS arm64,
Windows x86_64) and each Python of ``PYTHONS``, uv resolves ``requirements.lock`` as that
platform's installer would, wheels only (``--only-binary :all:``: a learner has no compilers), and
the result must be exactly the lock's pins whose markers hold there: nothing missing from PyPI for
that platform, nothing the lock forgot. uv reads package metadata from PyPI without downloading
the wheels (a few seconds per target once its cache is warm).

These are the suite's only tests that use the network, and only PyPI, from a uv *subprocess* (the
in-process offline guard of conftest.py stays on); CI has PyPI. Without PyPI they fail with uv's
message. The environment's own uv is the lock's pin (test extra), so CI checks with the same uv.
"""
from __future__ import annotations

import re
import subprocess
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.markers import Marker

from nls_lessons import setup

REPO = Path(__file__).resolve().parent.parent

#: PEP 508 marker values of each target platform (the python versions are added per test).
MARKER_ENV = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                     "os_name": "posix"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64",
                      "os_name": "posix"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
                    "os_name": "posix"},
    "windows-x86_64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
                       "os_name": "nt"},
}


def expected_pins(platform: str, python: str, pins: list[dict] | None = None) -> dict[str, str]:
    """The lock's pins an installer on ``platform`` with ``python`` installs (markers evaluated)."""
    full = python if python.count(".") == 2 else python + ".0"
    env = dict(MARKER_ENV[platform], python_version=".".join(full.split(".")[:2]), python_full_version=full,
               implementation_name="cpython", platform_python_implementation="CPython")
    return {p["name"]: p["version"] for p in (setup.read_lock() if pins is None else pins)
            if not p["marker"] or Marker(p["marker"]).evaluate(env)}


def resolve(platform: str, python: str, lock: Path = setup.LOCK) -> tuple[dict[str, str] | None, str]:
    """uv's resolution of ``lock`` for one target: ({name: version}, "") or (None, uv's message)."""
    command, env = setup.check_command(platform, python, lock)
    out = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    if out.returncode:
        return None, out.stderr
    return {setup.canonical(m.group(1)): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9][\w.-]*)==(\S+)", out.stdout, re.M)}, ""


@pytest.fixture(scope="module")
def frozen_lock(tmp_path_factory) -> Path:
    """A lock like the old one, a pip freeze of Linux: cuda-bindings pinned with no marker."""
    path = tmp_path_factory.mktemp("frozen") / "frozen.lock"
    path.write_text("".join(f"{p['name']}=={p['version']}\n" for p in setup.read_lock()
                            if p["name"] in ("numpy", "cuda-bindings")))
    return path


@pytest.fixture(scope="module")
def resolutions(frozen_lock) -> dict:
    """Every target resolved at once (uv waits on PyPI, not on the CPU: 12 in parallel take as long
    as one), plus the frozen lock on macOS."""
    targets = [(p, v, setup.LOCK) for p in sorted(setup.PLATFORMS) for v in setup.PYTHONS]
    targets.append(("macos-arm64", "3.12", frozen_lock))
    with ThreadPoolExecutor(len(targets)) as pool:
        results = pool.map(lambda t: resolve(*t), targets)
    return {(p, v, lock.name): result for (p, v, lock), result in zip(targets, results)}


def test_every_target_is_a_platform_the_markers_know():
    assert set(MARKER_ENV) == set(setup.PLATFORMS)
    assert setup.PYTHONS[0] == ".".join(map(str, setup.MIN_PYTHON))


@pytest.mark.parametrize("python", setup.PYTHONS)
@pytest.mark.parametrize("platform", sorted(setup.PLATFORMS))
def test_lock_resolves_for(platform, python, resolutions):
    got, message = resolutions[platform, python, setup.LOCK.name]
    assert got is not None, f"the lock does not install on {platform} with Python {python}:\n{message}"
    expected = expected_pins(platform, python)
    assert got == expected, {
        "resolved, not in the lock": {k: v for k, v in got.items() if expected.get(k) != v},
        "in the lock, not resolved": {k: v for k, v in expected.items() if got.get(k) != v},
    }


def test_the_check_fails_for_a_lock_with_no_wheel_on_a_platform(resolutions, frozen_lock):
    """The old lock's kind of pin (cuda-bindings for every platform) fails on macOS: the check above
    can fail, and says which package."""
    got, message = resolutions["macos-arm64", "3.12", frozen_lock.name]
    assert got is None and "cuda-bindings" in message, message


def test_cuda_packages_install_only_on_linux():
    cuda = setup.cuda_only(setup.read_lock())
    assert {"triton", "cuda-bindings", "nvidia-cublas", "nvidia-cudnn-cu13"} <= cuda
    for python in setup.PYTHONS:
        assert cuda <= set(expected_pins("linux-x86_64", python))
        assert not cuda & set(expected_pins("macos-arm64", python))
        assert not cuda & set(expected_pins("windows-x86_64", python))


def test_lock_keeps_the_course_pins_on_this_linux():
    pins = expected_pins("linux-x86_64", "3.11.7")
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert "setuptools" in pins and "uv" in pins


def test_lock_is_what_the_one_command_makes_from_pyproject(tmp_path):
    """``python -m nls_lessons.setup lock`` from pyproject.toml's dependencies + setup.EXTRAS gives
    the committed lock: an extra added to EXTRAS (or a new dependency) without regenerating fails."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert set(setup.EXTRAS) <= set(project["optional-dependencies"])
    out = tmp_path / "requirements.lock"
    assert setup.write_lock(output=out) == 0
    made = {(p["name"], p["version"], p["marker"]) for p in setup.read_lock(out.read_text())}
    assert made == {(p["name"], p["version"], p["marker"]) for p in setup.read_lock()}, \
        "requirements.lock is stale: run `python -m nls_lessons.setup lock`"


def test_read_lock_parses_markers_and_annotations():
    text = ("# header\nnumpy==2.4.6\n    # via\n    #   -c requirements.lock\n    #   torch\n"
            "triton==3.8.0 ; sys_platform == 'linux'\n    # via torch\n"
            "nvidia-x==1 ; sys_platform == 'linux'\n    # via triton\n")
    pins = setup.read_lock(text)
    assert [(p["name"], p["marker"]) for p in pins] == [
        ("numpy", None), ("triton", "sys_platform == 'linux'"), ("nvidia-x", "sys_platform == 'linux'")]
    assert pins[0]["via"] == {"torch"}
    assert setup.cuda_only(pins) == {"triton", "nvidia-x"}
    with pytest.raises(ValueError, match="not an exact pin"):
        setup.read_lock("numpy>=2\n")
