"""The pre-class check a student runs before the first lecture (issue 22; lesson 00's instructor notes).

    python -m nls_lessons.doctor          # or: make doctor / py -m nls_lessons.setup doctor

One line per check (``ok`` or ``FAIL``, what it found, and for a failure the fix), then a summary;
the exit code is 1 when any check fails, so a class's set-up script can stop on it. The checks, in
the order a broken set-up usually shows them:

=========  ==================================================================================
python     a Python the lock serves (:data:`nls_lessons.setup.MIN_PYTHON` to the newest of
           :data:`nls_lessons.setup.PYTHONS`)
disk       free space next to the course (CIFAR for lesson 05, caches, the book)
lock       every package of ``requirements.lock`` for this platform installed at its pin
torch      torch imports; which device the course trains on (CUDA GPU or CPU)
kernel     a Jupyter kernel starts and imports the course's library
lab        ipywidgets' JupyterLab extension (the explorers) and RISE (live slides) installed
cifar-n    the shipped CIFAR-N label files load
fit        a 2-second fit (a linear model on 600 two-moons points) trains
=========  ==================================================================================

Each check is a function returning a :class:`Check`; its inputs are parameters (the tests break
one at a time that way, never the environment itself).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nls_lessons import setup

#: Free disk the course needs beside what is installed (CIFAR-10 + CIFAR-100 ~ 0.4 GB, caches, book).
MIN_FREE_GB = 2.0
#: The fit check fails when its fit takes longer than this (seconds): a machine this slow or busy
#: makes the live explorers unusable.
FIT_LIMIT_S = 30.0
#: JupyterLab extensions the course needs: (directory under labextensions/, what it is for, package).
LAB_EXTENSIONS = (
    ("@jupyter-widgets/jupyterlab-manager", "ipywidgets (the explorers' sliders)", "jupyterlab-widgets"),
    ("jupyterlab-rise", "RISE (live slides)", "jupyterlab-rise"),
)
REINSTALL = "run `make env` (Windows: `py -m nls_lessons.setup env`)"


@dataclass
class Check:
    """One check's result: ``name``, ``ok``, what it found (``detail``), how to fix it (``fix``)."""
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"[{'ok' if self.ok else 'FAIL':>4}] {self.name:<8} {self.detail}"
        return text if self.ok else f"{text}\n{'':16}fix: {self.fix}"


def check_python(version: tuple = tuple(sys.version_info[:3])) -> Check:
    problem = setup.python_problem(version)
    have = ".".join(map(str, version[:3]))
    return Check("python", problem is None, f"Python {have}" if problem is None else problem,
                 "install Python 3.11.5-3.13 (python.org), delete .venv, run the set-up again")


def check_disk(path: Path | str = setup.REPO, min_free_gb: float = MIN_FREE_GB) -> Check:
    free = shutil.disk_usage(path).free / 2**30
    return Check("disk", free >= min_free_gb, f"{free:.1f} GB free at {path} (the course needs {min_free_gb:g} GB)",
                 f"free at least {min_free_gb - free:.1f} GB more on this drive")


def installed_versions() -> dict[str, str]:
    from importlib import metadata
    return {setup.canonical(d.metadata["Name"]): d.version for d in metadata.distributions()
            if d.metadata["Name"]}


def check_lock(pins: list[dict] | None = None, installed: dict[str, str] | None = None) -> Check:
    """Every lock pin whose marker holds here is installed at its version. With PyPI's CPU-only
    torch (``2.14.1+cpu``, ``--torch cpu``) the CUDA-only packages are not expected."""
    from packaging.markers import Marker
    from packaging.version import Version

    pins = setup.read_lock() if pins is None else pins
    installed = installed_versions() if installed is None else installed
    skip = setup.cuda_only(pins) if "+cpu" in installed.get("torch", "") else set()
    wrong = []
    for pin in pins:
        if pin["name"] in skip or (pin["marker"] and not Marker(pin["marker"]).evaluate()):
            continue
        have = installed.get(pin["name"])
        if have is None or Version(have).public != Version(pin["version"]).public:
            wrong.append(f"{pin['name']} {have or 'missing'} (lock {pin['version']})")
    detail = (f"all {len(pins)} pins of requirements.lock that apply here are installed" if not wrong else
              f"{len(wrong)} packages differ from requirements.lock: " + ", ".join(wrong[:5])
              + (", ..." if len(wrong) > 5 else ""))
    return Check("lock", not wrong, detail, REINSTALL + " in a fresh .venv (delete .venv first)")


def check_torch() -> Check:
    try:
        import torch

        from nls_lessons.device import resolve_device
    except Exception as error:  # a broken install fails in many ways (ImportError, OSError for a DLL)
        return Check("torch", False, f"torch does not import: {type(error).__name__}: {error}", REINSTALL)
    device = resolve_device("auto")
    where = f"CUDA GPU {torch.cuda.get_device_name(0)}" if device.type == "cuda" else "the CPU (no CUDA GPU found)"
    return Check("torch", True, f"torch {torch.__version__} trains on {where}")


def check_kernel(kernel_name: str = "python3", timeout: float = 60.0) -> Check:
    """Start a kernel, import the library in it, shut it down."""
    fix = ("run `python -m ipykernel install --sys-prefix` in .venv, or " + REINSTALL)
    try:
        from jupyter_client.manager import start_new_kernel

        manager, client = start_new_kernel(kernel_name=kernel_name, startup_timeout=timeout)
    except Exception as error:
        return Check("kernel", False, f"kernel {kernel_name!r} does not start: {type(error).__name__}: {error}", fix)
    try:
        reply = client.execute_interactive("import nls_lessons", timeout=timeout)
        ok = reply["content"]["status"] == "ok"
        return Check("kernel", ok, f"kernel {kernel_name!r} starts and imports nls_lessons" if ok else
                     f"kernel {kernel_name!r} starts but `import nls_lessons` fails", fix)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def check_lab(paths: list[str] | None = None) -> Check:
    """ipywidgets' and RISE's JupyterLab extensions lie in one of JupyterLab's extension folders."""
    if paths is None:
        from jupyter_core.paths import jupyter_path
        paths = jupyter_path("labextensions")
    missing = [(what, package) for folder, what, package in LAB_EXTENSIONS
               if not any((Path(p) / folder / "package.json").exists() for p in paths)]
    return Check("lab", not missing,
                 "JupyterLab extensions installed: " + ", ".join(w for _, w, _ in LAB_EXTENSIONS) if not missing
                 else "missing JupyterLab extension: " + ", ".join(w for w, _ in missing),
                 f"{REINSTALL} (the lock pins " + ", ".join(p for _, p in missing) + ")")


def check_cifar_n() -> Check:
    from nls_lessons import data

    try:
        sizes = [len(data.load_cifar_n(name, labels)[1]) for name, labels in (("cifar10", "worst"), ("cifar100", "noisy"))]
    except (OSError, ValueError) as error:
        return Check("cifar-n", False, str(error).split(":")[0],
                     "restore data/cifar-n from the course (`git checkout -- data/cifar-n`), or "
                     "`python data/cifar-n/convert.py`")
    return Check("cifar-n", True, f"CIFAR-10N and CIFAR-100N labels load ({sizes[0]:,} and {sizes[1]:,} images)")


def check_fit(limit_s: float = FIT_LIMIT_S, epochs: int = 5) -> Check:
    """A linear model, 5 epochs on 600 two-moons points: about 2 seconds on a laptop CPU."""
    try:
        from nls_lessons import data, train

        start, cpu = time.perf_counter(), time.process_time()
        result = train.fit(data.toy2d("moons", n=600, seed=0), 0.0, 0.2, 0, epochs=epochs, device="auto")
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
    except Exception as error:
        return Check("fit", False, f"a short fit fails: {type(error).__name__}: {error}", REINSTALL)
    accuracy = float(result.history["test_acc"].iloc[-1])
    # judged on CPU time: a busy machine stretches the wall clock, not the work
    return Check("fit", cpu <= limit_s, f"a {epochs}-epoch fit took {cpu:.1f} s CPU, {took:.1f} s wall "
                 f"(test accuracy {accuracy:.2f})",
                 f"it should take a few CPU seconds (limit {limit_s:g} s): is torch's build right for this machine? "
                 + REINSTALL)


CHECKS = (check_python, check_disk, check_lock, check_torch, check_kernel, check_lab, check_cifar_n, check_fit)


def run(checks=CHECKS, out=print) -> int:
    """Run every check, print one line each (fixes under failures) and a summary; 0 if all pass."""
    failed = []
    for check in checks:
        result = check()
        out(result.line())
        if not result.ok:
            failed.append(result.name)
    out(f"==> {len(checks) - len(failed)} of {len(checks)} checks pass"
        + (f"; fix: {', '.join(failed)} (the lines above say how)" if failed else ": ready for class"))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nls_lessons.doctor", description=__doc__.split("\n")[0])
    parser.add_argument("--skip", nargs="*", default=[], metavar="CHECK",
                        help="leave checks out (e.g. --skip kernel fit); names as in the output")
    args = parser.parse_args(argv)
    names = {c.__name__.removeprefix("check_").replace("_", "-"): c for c in CHECKS}
    unknown = sorted(set(args.skip) - set(names))
    if unknown:
        parser.error(f"--skip takes check names from {sorted(names)}, got {unknown}")
    return run([c for n, c in names.items() if n not in args.skip])


if __name__ == "__main__":
    sys.exit(main())
