"""Set up and run the course on every platform: the one implementation behind ``make`` (issue 22).

    python -m nls_lessons.setup lab          # create .venv from the lock (first run), open JupyterLab
    python -m nls_lessons.setup test         # the same environment, the whole test suite
    python -m nls_lessons.setup doctor       # the pre-class check (nls_lessons.doctor)
    python -m nls_lessons.setup env [--torch cpu]   # only create / update .venv
    python -m nls_lessons.setup lock [--upgrade]    # regenerate requirements.lock from pyproject.toml
    python -m nls_lessons.setup check-lock          # resolve the lock for every platform and Python
    python -m nls_lessons.setup hub          # a try-out JupyterHub for a class (installs the npm proxy)
    python -m nls_lessons.setup proxy        # only install the hub's proxy (npm; CI does, for the hub tests)

``make lab`` / ``make test`` / ``make doctor`` call this module, so a machine without ``make``
(Windows: ``py -m nls_lessons.setup lab``) runs the very same steps.  It runs with the learner's
bare Python before any course package is installed, so it uses the standard library only and
imports nothing else from ``nls_lessons`` (the package's ``__init__`` is import-free).

The lock (``requirements.lock``) is universal: one file with environment markers, resolved by uv
(``uv pip compile --universal``) from ``pyproject.toml``'s dependencies plus :data:`EXTRAS`, for
every ``(platform, Python)`` in :data:`PLATFORMS` x :data:`PYTHONS`.  torch's CUDA packages carry
``sys_platform == 'linux'`` markers, so macOS and Windows never see them.  ``lock`` keeps every
existing pin (the current lock is a constraint) unless ``--upgrade``; a package added to an extra
is resolved against the pins already there.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
PYPROJECT = REPO / "pyproject.toml"

#: The extras of ``pyproject.toml`` that the course environment installs (the lock is compiled
#: from the dependencies plus these; add an extra here and run ``python -m nls_lessons.setup lock``).
EXTRAS = ("course", "classroom", "test")
#: Installed beside the extras: ``setuptools`` installs the package itself (``--no-build-isolation``;
#: Python 3.12's venv no longer ships it).
ALSO_PINNED = ("setuptools",)

#: Lowest Python the lock serves: soupsieve 4.1.3 (via nbconvert) needs 3.11.5.
MIN_PYTHON = (3, 11, 5)
#: Python versions the lock is checked for, oldest first (torch 2.14.1 has wheels for 3.10-3.14 on
#: all four platforms; numpy 2.4.6 needs 3.11, soupsieve 4.1.3 needs 3.11.5).
PYTHONS = ("3.11.5", "3.12", "3.13")
#: Learner's platform -> uv's ``--python-platform`` name. torch 2.14.1's macOS wheel is
#: ``macosx_14_0_arm64`` (macOS 14 or newer), hence :data:`MACOS_TARGET`.
PLATFORMS = {
    "linux-x86_64": "x86_64-manylinux_2_28",
    "linux-aarch64": "aarch64-manylinux_2_28",
    "macos-arm64": "aarch64-apple-darwin",
    "windows-x86_64": "x86_64-pc-windows-msvc",
}
MACOS_TARGET = "14.0"

#: One BLAS/OpenMP thread per process (the suite runs two pytest workers on two cores, and every
#: notebook kernel inherits this); the lab's kernels get the same from the launcher.
TEST_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
#: ``test``: the whole suite, two ``python -m`` commands in .venv run at once (:func:`run_tests`):
#: the unit tests + every notebook under nbval on two workers, and the browser tests. Each ends with
#: its 25 slowest tests (wall time, what a run's length is made of; ``--cpu-durations=N`` gives CPU
#: time, for a machine shared with other work).
TEST_COMMANDS = (
    ("pytest", "-n", "2", "--dist", "loadfile", "--nbval-lax", "tests", "notebooks", "-m", "not browser",
     "--durations=25"),
    ("pytest", "tests", "-m", "browser", "--durations=25"),
)
#: The other targets: name -> (``python -m`` arguments in .venv, thread environment or not).
COMMANDS = {
    "lab": (("nls_lessons.publish.lab",), False),
    "lecture": (("nls_lessons.publish.lab", "--lecture"), False),
    "doctor": (("nls_lessons.doctor",), False),
    "book": (("nls_lessons.publish.book",), False),
    "slides": (("nls_lessons.publish.slides",), False),
    "unit": (("pytest", "-n", "2", "--dist", "loadfile", "tests", "-m", "not browser"), True),
    "notebooks": (("pytest", "-n", "2", "--dist", "loadfile", "--nbval-lax", "notebooks"), True),
    "browser": (("pytest", "tests", "-m", "browser"), True),
}
#: ``hub``: the class's proxy, configurable-http-proxy from the npm registry, installed by
#: :func:`ensure_proxy` into :data:`PROXY_PREFIX` (git-ignored; ``npm install --prefix``), as CI
#: installs chromium: the one piece of a JupyterHub that is not a Python package.
PROXY_PACKAGE = "configurable-http-proxy"
PROXY_VERSION = "5.3.0"
PROXY_PREFIX = REPO / "build" / "node"


def proxy_path(prefix: Path = PROXY_PREFIX) -> Path:
    """Where :func:`ensure_proxy` puts the proxy's command (``node_modules/.bin/configurable-http-proxy``)."""
    return Path(prefix) / "node_modules" / ".bin" / (PROXY_PACKAGE + (".cmd" if os.name == "nt" else ""))


def ensure_proxy(prefix: Path = PROXY_PREFIX) -> Path:
    """Install configurable-http-proxy :data:`PROXY_VERSION` with npm into ``prefix`` unless it is
    there already; returns its command. Exits with what to install when npm is missing or fails."""
    target = proxy_path(prefix)
    if target.exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(f"==> the hub needs {PROXY_PACKAGE} from the npm registry, and npm is not installed: install "
                 "Node.js (it brings npm; e.g. `apt install nodejs npm`), then run this again")
    print(f"==> installing {PROXY_PACKAGE}@{PROXY_VERSION} into {prefix} (npm, first `make hub` only)", flush=True)
    Path(prefix).mkdir(parents=True, exist_ok=True)
    code = subprocess.call([npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
                            f"{PROXY_PACKAGE}@{PROXY_VERSION}"])
    if code or not target.exists():
        sys.exit(f"==> `npm install {PROXY_PACKAGE}@{PROXY_VERSION}` failed (exit {code}); see npm's message above")
    return target


def test_proxy() -> None:
    """``make test``'s set-up for the hub tests: the npm proxy, installed where npm is (once, into
    :data:`PROXY_PREFIX`); without npm, say that the hub tests will skip (fail where ``$CI`` is set)."""
    if proxy_path().exists():
        return
    if shutil.which("npm") is None:
        print(f"==> npm is not installed: the hub tests skip (they need {PROXY_PACKAGE} from npm; install "
              "Node.js to run them)", flush=True)
        return
    ensure_proxy()


#: ``bench``: scripts run one after the other in .venv (they print measured ratios).
BENCH_SCRIPTS = ("bench/sweep.py", "bench/widgets.py", "bench/gpu.py")

#: ``--torch cpu``: PyTorch's CPU-only wheels (Linux/Windows without an NVIDIA GPU) instead of the
#: pinned PyPI build (CUDA on Linux), from PyTorch's own index (not reachable from CI here).
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TORCH_VARIANTS = ("default", "cpu")

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*(?:;\s*([^#]+?))?\s*$")


def canonical(name: str) -> str:
    """PEP 503 name: ``Jinja2`` -> ``jinja2``, ``typing_extensions`` -> ``typing-extensions``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(text: str | None = None) -> list[dict]:
    """The lock's pins, in order: ``{"name", "version", "marker" (str or None), "via" (set)}``.

    ``via`` holds the canonical names uv's annotations give (``-c``/``-r`` sources left out).
    """
    text = LOCK.read_text() if text is None else text
    pins: list[dict] = []
    in_via = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if pins and body.startswith("via"):
                in_via = True
                body = body[3:].strip()
            elif not (pins and in_via and raw.startswith("    #   ")):
                in_via = False
                continue
            if body and not body.startswith(("-c ", "-r ")):
                pins[-1]["via"].add(canonical(body.split()[0]))
            continue
        in_via = False
        match = _PIN.match(line)
        if not match:
            raise ValueError(f"requirements.lock line is not an exact pin: {raw!r}")
        name, version, marker = match.groups()
        pins.append({"name": canonical(name), "version": version, "marker": marker, "via": set()})
    return pins


def cuda_only(pins: list[dict]) -> set[str]:
    """The packages only torch's CUDA build needs: Linux-only pins reached only through torch
    (directly or through one another), e.g. ``nvidia-cublas``, ``cuda-bindings``, ``triton``."""
    linux_only = {p["name"]: p["via"] for p in pins
                  if p["marker"] and "sys_platform == 'linux'" in p["marker"]}
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, via in linux_only.items():
            if name not in found and via and via <= found | {"torch"}:
                found.add(name)
                changed = True
    return found


def venv_dir() -> Path:
    """``.venv`` next to the course (``$NLS_VENV`` moves it, e.g. for a throwaway measurement)."""
    return Path(os.environ.get("NLS_VENV", REPO / ".venv"))


def venv_python(venv: Path | None = None, windows: bool = os.name == "nt") -> Path:
    """The venv's interpreter: ``Scripts/python.exe`` on Windows, ``bin/python`` elsewhere."""
    venv = venv_dir() if venv is None else venv
    return venv / ("Scripts/python.exe" if windows else "bin/python")


#: The environment is installed with its bytecode compiled (pip's default; uv's ``--compile-bytecode``).
#: Without it, where PYTHONDONTWRITEBYTECODE is set (this machine and its CI) every process
#: compiles what it imports from source, every time: ``import torchvision`` 11.7 s of CPU against
#: 4.5 s compiled, ``import nls_lessons.widgets`` 6.4 s against 3.0 s; every notebook kernel,
#: nbgrader's graded submission and hub server pays it. Compiling site-packages takes ~45 s once.
BYTECODE = "bytecode compiled at install"


def stamp_text(torch: str) -> str:
    """What the installed environment was made from: the lock's and pyproject's hashes, the torch
    variant, :data:`BYTECODE`. The stamp in .venv holds it; a different text means ``env`` installs again."""
    digest = hashlib.sha256(LOCK.read_bytes() + b"\0" + PYPROJECT.read_bytes()).hexdigest()
    return f"lock+pyproject sha256 {digest}\n{BYTECODE}\ntorch {torch}\n"


def stamp_path(venv: Path | None = None) -> Path:
    return (venv_dir() if venv is None else venv) / ".nls-lessons-installed"


def python_problem(version: tuple = tuple(sys.version_info[:3])) -> str | None:
    """Why this Python cannot hold the course environment, or None."""
    newest = tuple(int(p) for p in PYTHONS[-1].split("."))
    if tuple(version[:3]) < MIN_PYTHON or tuple(version[:2]) > newest:
        have = ".".join(map(str, version[:3]))
        return (f"Python {have} cannot install the course lock: it is resolved for Python "
                f"{'.'.join(map(str, MIN_PYTHON))} to {PYTHONS[-1]}.x; install one of those "
                "(python.org, or your package manager) and run this command with it")
    return None


def pip_sources() -> list[str]:
    """pip's configured ``find-links`` / ``index-url`` / ``extra-index-url`` (pip.conf, $PIP_*) as
    uv options, so uv installs from the same places as pip (e.g. wheels already on this disk)."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True)
    options: list[str] = []
    for line in out.stdout.splitlines():
        key, _, value = line.partition("=")
        option = key.rpartition(".")[2]
        if option in ("find-links", "index-url", "extra-index-url"):
            for item in value.strip().strip("'\"").split():
                if item not in options:
                    options += [f"--{option}", item]
    return options + (["--index-strategy", "unsafe-best-match"] if options else [])


def install_commands(venv: Path, torch: str = "default", installer: str = "pip") -> list[list[str]]:
    """The commands ``env`` runs to install the lock into ``venv`` (the venv exists already).

    ``installer="uv"`` installs the pinned uv into the venv first and then lets it install the
    same lock from the same sources as pip. ``torch="cpu"`` installs torch/torchvision from
    :data:`CPU_INDEX` and leaves out :func:`cuda_only`'s packages.
    """
    if torch not in TORCH_VARIANTS:
        raise ValueError(f"torch must be one of {TORCH_VARIANTS}, got {torch!r}")
    if installer not in ("pip", "uv"):
        raise ValueError(f"installer must be 'pip' or 'uv', got {installer!r}")
    python = str(venv_python(venv))
    pins = read_lock()
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"]
    commands: list[list[str]] = []
    requirements = str(LOCK)
    if torch == "cpu":
        skip = cuda_only(pins) | {"torch", "torchvision"}
        kept = venv / "requirements-cpu.txt"
        commands.append(["write", str(kept), "\n".join(
            f"{p['name']}=={p['version']}" + (f" ; {p['marker']}" if p["marker"] else "")
            for p in pins if p["name"] not in skip) + "\n"])
        versions = {p["name"]: p["version"] for p in pins}
        commands.append(pip + ["--index-url", CPU_INDEX, "-c", str(kept),  # torch's deps: the lock's pins
                               f"torch=={versions['torch']}", f"torchvision=={versions['torchvision']}"])
        requirements = str(kept)
    if installer == "uv":
        uv = next(p["version"] for p in pins if p["name"] == "uv")
        commands.append(pip + [f"uv=={uv}"])
        base = [python, "-m", "uv", "pip", "install", "-q", "--python", python] + pip_sources()
        commands.append(base + ["--compile-bytecode", "-r", requirements])   # as pip does: see BYTECODE
        commands.append(base + ["--no-deps", "--no-build-isolation", "-e", str(REPO)])
    else:
        commands.append(pip + ["-r", requirements])
        commands.append(pip + ["--no-deps", "--no-build-isolation", "-e", str(REPO)])
    return commands


def ensure_env(torch: str | None = None, installer: str | None = None) -> Path:
    """Create .venv and install the lock unless its stamp says it is installed already; returns the
    venv's Python. ``torch``/``installer`` default to ``$TORCH`` / ``$NLS_INSTALLER`` (else uv: a fresh
    set-up here took 87 s wall with an empty cache against pip's 1097 s, identical pins)."""
    torch = torch or os.environ.get("TORCH") or None    # make exports TORCH= (empty) when it is not set
    installer = installer or os.environ.get("NLS_INSTALLER") or "uv"   # measured faster, same pins
    venv = venv_dir()
    python = venv_python(venv)
    stamp = stamp_path(venv)
    if torch is None:   # keep the variant installed last (`make env TORCH=cpu`, then `make lab`)
        made = re.search(r"^torch (\w+)$", stamp.read_text(), re.M) if stamp.exists() else None
        torch = made.group(1) if made else "default"
    if python.exists() and stamp.exists() and stamp.read_text() == stamp_text(torch):
        return python
    problem = python_problem()
    if problem:
        sys.exit(f"==> {problem}")
    if not python.exists():
        print(f"==> creating {venv} with Python {sys.version.split()[0]}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print("==> installing the pinned course environment (first run only; torch takes a few minutes)",
          flush=True)
    for command in install_commands(venv, torch, installer):
        if command[0] == "write":
            Path(command[1]).write_text(command[2])
        else:
            subprocess.run(command, check=True)
    stamp.write_text(stamp_text(torch))
    return python


def _env_command(args: tuple | list, threads: bool, module: bool) -> tuple[list[str], dict | None]:
    python = ensure_env()
    env = dict(os.environ, **TEST_ENV) if threads else None
    return [str(python), *(["-m"] if module else []), *args], env


def _niced(nice: int):
    """A ``preexec_fn`` lowering the child's priority by ``nice`` (POSIX; elsewhere none)."""
    return (lambda: os.nice(nice)) if nice and hasattr(os, "nice") else None


def run_in_env(args: tuple | list, threads: bool = False, module: bool = True, nice: int = 0) -> int:
    """``python -m ARGS`` (``python ARGS`` if not ``module``) in the course environment (created
    first when needed), with :data:`TEST_ENV` if ``threads``, ``nice`` steps lower in priority;
    its exit code."""
    cmd, env = _env_command(args, threads, module)
    return subprocess.call(cmd, cwd=REPO, env=env, preexec_fn=_niced(nice))


def start_in_env(args: tuple | list, threads: bool = False, **popen) -> subprocess.Popen:
    """As :func:`run_in_env`, started in the background (``popen``: e.g. ``stdout=``)."""
    cmd, env = _env_command(args, threads, True)
    return subprocess.Popen(cmd, cwd=REPO, env=env, **popen)


#: Where :func:`run_tests` writes the browser run's output (printed after the suite's).
BROWSER_LOG = REPO / "build" / "test-browser.log"


def run_tests() -> int:
    """The two :data:`TEST_COMMANDS` at once; fails when either fails.

    The browser tests (one process: one JupyterLab, one chromium, one kernel at a time, often
    waiting on the page) run at normal priority, and the unit tests + nbval on two workers 10
    steps lower (``nice``), so they only fill the CPU the browser run leaves idle and the
    browser's time limits see the CPU they saw alone (three workers were tried: 809-915 s for
    the whole run, no faster, and the browser's lesson runs up to twice as slow). The browser run's output goes to
    :data:`BROWSER_LOG` and is printed after the suite's.
    """
    suite, browser = TEST_COMMANDS
    BROWSER_LOG.parent.mkdir(parents=True, exist_ok=True)
    print(f"==> browser tests in the background (log: {BROWSER_LOG.relative_to(REPO)}); "
          "unit tests + notebooks at nice 10", flush=True)
    with open(BROWSER_LOG, "w") as log:
        background = start_in_env(browser, threads=True, stdout=log, stderr=subprocess.STDOUT)
        try:
            code = run_in_env(suite, threads=True, nice=10)
        finally:
            browser_code = background.wait()
    print(f"==> browser tests ({BROWSER_LOG.relative_to(REPO)})", flush=True)
    print(BROWSER_LOG.read_text(encoding="utf-8", errors="replace"), end="", flush=True)
    return code or browser_code


def uv_command() -> list[str]:
    """How to run uv: the pinned one in the current environment, else one on PATH.

    It reads package metadata only, never downloads a Python for a ``--python-version`` it lacks
    (uv would otherwise try python-build-standalone first: seconds of retries per call offline).
    """
    try:
        from uv import find_uv_bin  # the uv package of the lock's test extra
        found = find_uv_bin()
    except ImportError:
        found = shutil.which("uv")
        if not found:
            raise SystemExit("uv is needed (it is in the lock's test extra): run `make env`, or "
                             "`pip install uv` and try again") from None
    return [found]


def _uv_compile() -> list[str]:
    return uv_command() + ["pip", "compile", "--no-python-downloads", "--python", sys.executable]


ALSO_FILE = REPO / "build" / "lock-also.in"


def lock_command(upgrade: bool = False, output: Path = LOCK) -> list[str]:
    """The uv command that regenerates the universal lock from pyproject.toml + :data:`EXTRAS`
    (+ :data:`ALSO_PINNED`, from :data:`ALSO_FILE`, which :func:`write_lock` writes)."""
    also = ALSO_FILE
    command = _uv_compile() + [str(PYPROJECT), str(also), "--universal",
                              "--python-version", ".".join(map(str, MIN_PYTHON)),
                              "--custom-compile-command", "python -m nls_lessons.setup lock",
                              "-o", str(output)]
    for extra in EXTRAS:
        command += ["--extra", extra]
    if upgrade:
        command.append("--upgrade")
    elif LOCK.exists():
        command += ["-c", str(LOCK)]
    return command


def check_command(platform: str, python: str, lock: Path = LOCK) -> tuple[list[str], dict]:
    """uv resolving ``lock`` for one platform and Python, wheels only: the command and its env."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {sorted(PLATFORMS)}, got {platform!r}")
    command = _uv_compile() + [str(lock), "--python-platform", PLATFORMS[platform],
                              "--python-version", python, "--only-binary", ":all:",
                              "--no-header", "--no-annotate", "--no-config", "--quiet"]
    return command, dict(os.environ, MACOSX_DEPLOYMENT_TARGET=MACOS_TARGET)


def write_lock(upgrade: bool = False, output: Path = LOCK) -> int:
    """Regenerate the lock (``output``: elsewhere, to compare); uv's exit code."""
    ALSO_FILE.parent.mkdir(exist_ok=True)
    ALSO_FILE.write_text("\n".join(ALSO_PINNED) + "\n")
    return subprocess.call(lock_command(upgrade, output), cwd=REPO)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nls_lessons.setup", description=__doc__.split("\n")[0])
    parser.add_argument("target", choices=["env", "test", "lock", "check-lock", "reset", "bench", "assignments", "hub",
                                           "proxy",
                                           *COMMANDS])
    parser.add_argument("lesson", nargs="?", help="reset: the lesson number or name (e.g. 03)")
    parser.add_argument("--torch", choices=TORCH_VARIANTS, help="env: 'cpu' = PyTorch's CPU-only build "
                        "(no CUDA packages; Linux/Windows without an NVIDIA GPU); default $TORCH or the lock's")
    parser.add_argument("--upgrade", action="store_true", help="lock: resolve afresh instead of keeping pins")
    args, rest = parser.parse_known_args(argv)
    if rest and args.target != "assignments":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.target == "assignments":       # its own options (--course-dir, ...) pass through
        return run_in_env(("nls_lessons.publish.assignments", *([args.lesson] if args.lesson else []), *rest))
    if args.target == "env":
        ensure_env(torch=args.torch)
        return 0
    if args.target == "test":
        test_proxy()
        return run_tests()
    if args.target == "proxy":        # only the npm proxy
        print(f"==> {ensure_proxy()}", flush=True)
        return 0
    if args.target == "hub":          # the try-out class hub (nls_lessons.publish.hub), proxy first
        ensure_env()
        ensure_proxy()
        return run_in_env(("nls_lessons.publish.hub",))
    if args.target == "lock":
        return write_lock(args.upgrade)
    if args.target == "check-lock":
        return run_in_env(("pytest", "tests/test_lock.py", "-q"), threads=True)
    if args.target == "bench":
        return next((code for script in BENCH_SCRIPTS if (code := run_in_env((script,), module=False))), 0)
    if args.target == "reset":
        if not args.lesson:
            parser.error("usage: python -m nls_lessons.setup reset 03   (a lesson number or name)")
        return run_in_env(("nls_lessons.publish.lab", "--reset", args.lesson))
    module_args, threads = COMMANDS[args.target]
    return run_in_env(module_args, threads)


if __name__ == "__main__":
    sys.exit(main())
