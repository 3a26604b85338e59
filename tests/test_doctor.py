"""The pre-class check (issue 22): every check passes here and fails, with its fix, when broken.

Breakage is simulated through each check's parameters or monkeypatching, never by changing the
environment the suite runs in.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from nls_lessons import data, doctor, setup


def test_python_outside_the_lock_fails_with_the_supported_range():
    for version in ((3, 10, 14), (3, 11, 4), (3, 14, 0)):
        check = doctor.check_python(version)
        assert not check.ok and "3.11.5" in check.detail and "python.org" in check.fix, version
    assert doctor.check_python((3, 12, 3)).ok and doctor.check_python((3, 11, 5)).ok


def test_too_little_disk_fails_and_says_how_much_to_free(tmp_path):
    check = doctor.check_disk(tmp_path, min_free_gb=10**9)
    assert not check.ok and "GB free" in check.detail and "free at least" in check.fix
    assert doctor.check_disk(tmp_path, min_free_gb=0).ok


def test_a_package_off_its_pin_fails_the_lock_check():
    pins = [{"name": "numpy", "version": "2.4.6", "marker": None, "via": set()},
            {"name": "pywinpty", "version": "3.1.2", "marker": "sys_platform == 'never'", "via": set()},
            {"name": "tqdm", "version": "4.70.1", "marker": None, "via": set()}]
    ok = doctor.check_lock(pins, {"numpy": "2.4.6", "tqdm": "4.70.1"})
    assert ok.ok, ok.detail       # a pin whose marker does not hold here is not expected
    check = doctor.check_lock(pins, {"numpy": "2.3.0"})
    assert not check.ok and "numpy 2.3.0 (lock 2.4.6)" in check.detail and "tqdm missing" in check.detail
    assert "make env" in check.fix and "nls_lessons.setup env" in check.fix


def test_cpu_torch_does_not_expect_the_cuda_packages():
    pins = [{"name": "torch", "version": "2.14.1", "marker": None, "via": set()},
            {"name": "triton", "version": "3.8.0", "marker": "sys_platform == 'linux'", "via": {"torch"}}]
    assert doctor.check_lock(pins, {"torch": "2.14.1+cpu"}).ok
    if sys.platform == "linux":
        assert not doctor.check_lock(pins, {"torch": "2.14.1"}).ok   # the CUDA build needs triton


def test_torch_that_does_not_import_fails(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)      # `import torch` raises ImportError
    check = doctor.check_torch()
    assert not check.ok and "torch does not import" in check.detail and "make env" in check.fix


def test_torch_reports_its_device():
    check = doctor.check_torch()
    assert check.ok and ("CPU" in check.detail or "CUDA GPU" in check.detail)


def test_a_kernel_that_does_not_start_fails():
    check = doctor.check_kernel("no-such-kernel", timeout=10)
    assert not check.ok and "does not start" in check.detail and "ipykernel install" in check.fix


def test_missing_lab_extensions_fail_naming_them(tmp_path):
    check = doctor.check_lab([str(tmp_path)])
    assert not check.ok and "ipywidgets" in check.detail and "RISE" in check.detail
    assert "jupyterlab-rise" in check.fix
    (tmp_path / "jupyterlab-rise").mkdir()
    (tmp_path / "jupyterlab-rise" / "package.json").write_text("{}")
    check = doctor.check_lab([str(tmp_path)])
    assert not check.ok and "RISE" not in check.detail and "ipywidgets" in check.detail
    assert doctor.check_lab().ok


def test_missing_cifar_n_files_fail(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "CIFAR_N_DIR", tmp_path)
    check = doctor.check_cifar_n()
    assert not check.ok and "missing" in check.detail and "data/cifar-n" in check.fix


def test_a_failing_fit_fails(monkeypatch):
    from nls_lessons import train

    def broken(*args, **kwargs):
        raise RuntimeError("no kernel image is available for execution on the device")
    monkeypatch.setattr(train, "fit", broken)
    check = doctor.check_fit()
    assert not check.ok and "no kernel image" in check.detail


def test_run_prints_a_line_per_check_and_exits_nonzero_on_a_failure():
    lines = []
    passing = lambda: doctor.Check("a", True, "fine")            # noqa: E731
    failing = lambda: doctor.Check("b", False, "broken", "do X")  # noqa: E731
    assert doctor.run([passing, failing], out=lines.append) == 1
    assert lines[0].startswith("[  ok] a") and lines[1].startswith("[FAIL] b") and "fix: do X" in lines[1]
    assert "1 of 2 checks pass" in lines[-1] and "b" in lines[-1]
    assert doctor.run([passing], out=lines.append) == 0 and "ready for class" in lines[-1]


def test_skip_names_must_be_checks():
    with pytest.raises(SystemExit):
        doctor.main(["--skip", "nonsense"])


@pytest.mark.slow
def test_doctor_passes_in_the_course_environment():
    """`python -m nls_lessons.doctor` (what `make doctor` runs) exits 0 in the course environment."""
    out = subprocess.run([sys.executable, "-m", "nls_lessons.doctor"], capture_output=True, text=True,
                         timeout=600, cwd=setup.REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("[  ok]") == len(doctor.CHECKS)
