"""Suite-wide set-up: offline guard, one torch thread per xdist worker, no GUI backend, and the
browser tests' shared session fixtures.

Browser fixtures (session-scoped, started on first use, one of each per pytest process; run
the browser tests in their own single-process invocation, ``make browser``, never under ``-n``;
a test that shares a server of its own module, the class hub or the graded course, drives
chromium from the suite instead: tests/test_hub.py, tests/test_classroom.py):

- ``browser``: one headless Playwright chromium (Debian's binary; skipped without it, a failure in CI).
- ``lab_server``: one JupyterLab, started as ``make lab`` starts it, rooted at fresh working copies
  of every deck (:data:`BROWSER_DECKS`) plus the explorer fixture; a :class:`LabServer`
  (``api``, ``url``, ``session``, ``wait_idle``, ``shutdown``, ``add``).
- ``running_lab(root, tmp, env)``: a JupyterLab of a test's own, started the same way, rooted and
  run in ``root`` (tests/test_classroom.py: a course folder for nbgrader's formgrader).
- ``lab_session``: both together, for new browser tests (a grader, a hub):
  ``page = lab_session.open("x.ipynb")`` opens a notebook in a new page once its kernel is idle;
  ``lab_session.server.add(path)`` puts a file of the test's own next to the working copies first.
  Stop the kernels you start (``lab_session.server.shutdown(notebook)``) so the next test has the CPU; execute a lesson only where no
  other browser test already does (see tests/test_browser_lessons.py: each deck runs once).
"""
from __future__ import annotations

import ipaddress
import os
import socket
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


class NetworkAccessError(RuntimeError):
    """Raised when a test tries to reach a non-loopback address."""


def _is_local(host) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host)
    if host in ("localhost", "", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False   # a host name other than localhost


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _address_host(address):
    if isinstance(address, tuple) and address:
        return address[0]
    return None   # AF_UNIX paths and the like are local


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(_address_host(address)):
        raise NetworkAccessError(f"tests must not use the network: connect to {address!r} refused")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(_address_host(address)):
        raise NetworkAccessError(f"tests must not use the network: connect to {address!r} refused")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        raise NetworkAccessError(f"tests must not use the network: name lookup of {host!r} refused")
    return _real_getaddrinfo(host, *args, **kwargs)


def install_network_guard() -> None:
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.getaddrinfo = _guarded_getaddrinfo


install_network_guard()


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


# ---------------------------------------------------------------- the suite's order on -n workers
#: The suite's costliest files (CPU seconds with ``--cpu-durations``, 2026-12-03: the classroom's
#: nbgrader course and formgrader ~155, the class hub ~85, the results store's subprocesses ~50,
#: then the heaviest notebooks under nbval, each with its checks of what it printed). xdist's
#: ``loadfile`` hands out files with the most *tests* first, which put the classroom last and
#: left one worker running it alone at the end; these go first, costliest first
#: (longest-processing-time-first), then xdist's own order.
COSTLIEST_FIRST = ("tests/test_classroom.py", "tests/test_hub.py",
                   "tests/test_reproduce.py", "notebooks/06_your_own_data.ipynb",
                   "notebooks/02_label_smoothing.ipynb", "notebooks/03_negative_label_smoothing.ipynb",
                   "notebooks/05_paper_scale.ipynb", "tests/test_execution_stress.py",
                   "tests/test_reproducibility.py", "tests/test_slides.py", "tests/test_lock.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` with :data:`COSTLIEST_FIRST` at the head of the queue."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class CostliestFirst(LoadFileScheduling):
        def _assign_work_unit(self, node):
            for scope in COSTLIEST_FIRST:
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
                    break
            super()._assign_work_unit(node)

    return CostliestFirst(config, log)


def free_port() -> int:
    """A loopback port the OS has just handed out (for servers a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)


# ---------------------------------------------------------------- browser tests
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
REPO = Path(__file__).resolve().parent.parent
#: The browser tests' working copies: the layout of ``lessons/`` (made by ``nls_lessons.publish.lab``),
#: under the git-ignored build/ so a learner's own ``lessons/`` is never touched by a test.
BROWSER_LESSONS = REPO / "build" / "browser-lessons"


def _decks() -> list[Path]:
    from nls_lessons.publish import book, slides

    return book.discover(REPO / "notebooks") + slides.lecture_notebooks(REPO / "notebooks" / "instructor")


#: Every deck that ships, by source: the lessons, then the lecturer's decks (notebooks/instructor/);
#: each has a working copy ``<stem>.ipynb`` in the browser tests' JupyterLab.
BROWSER_DECKS = _decks()
#: Settings of the test's JupyterLab user (on top of the course's overrides that
#: nls_lessons/publish/lab.py installs): every cell in the DOM (no windowing), so "visible
#: anywhere" and "no error output" see all cells.
TEST_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "codeCellConfig": {"lineWrap": True}},
}


@pytest.fixture(scope="session")
def chromium_executable():
    """Debian's chromium. Missing: skipped on a learner's machine, a failure in CI."""
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "browser tests need Debian's chromium: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser(chromium_executable):
    """One headless Playwright chromium for the session (no browser download: Debian's binary)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def get_json(url: str, timeout: float = 5.0, method: str = "GET"):
    import json
    import urllib.request

    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as resp:   # noqa: S310 (loopback only)
        body = resp.read().decode()
    return json.loads(body) if body else None


def wait_for(predicate, timeout: float, what: str, interval: float = 0.25):
    """Poll ``predicate`` until it returns something truthy; a TimeoutError that says ``what``."""
    import time

    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:   # server not up yet, etc.
            last = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


class LabServer:
    """A running JupyterLab (``base`` URL, ``token``) rooted at the working copies ``root``."""

    def __init__(self, base: str, token: str, root: Path, log: Path):
        self.base, self.token, self.root, self.log = base, token, root, log

    def api(self, path: str, method: str = "GET"):
        sep = "&" if "?" in path else "?"
        return get_json(f"{self.base}/api/{path}{sep}token={self.token}", method=method)

    def url(self, notebook: str) -> str:
        """The notebook alone in the lab (``reset``: no tabs restored from an earlier page)."""
        return f"{self.base}/lab/tree/{notebook}?reset&token={self.token}"

    def session(self, notebook: str):
        return next((s for s in self.api("sessions") if s["path"] == notebook), None)

    def wait_idle(self, notebook: str, timeout: float = 60) -> None:
        """Until /api/sessions reports the notebook's kernel idle."""
        wait_for(lambda: (s := self.session(notebook)) and s["kernel"]["execution_state"] == "idle",
                 timeout, f"the kernel of {notebook} to be idle (/api/sessions)")

    def shutdown(self, notebook: str) -> None:
        """Stop the notebook's kernel (frees the CPU for the next test)."""
        s = self.session(notebook)
        if s:
            self.api(f"sessions/{s['id']}", method="DELETE")

    def add(self, path: Path | str, name: str | None = None) -> str:
        """Copy a test's own file into the server's root; returns its name there (for :meth:`url`)."""
        import shutil

        name = name or Path(path).name
        shutil.copy(path, self.root / name)
        return name


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, chromium_executable):
    """One JupyterLab for the whole browser session, started exactly as ``make lab`` starts it
    (:func:`nls_lessons.publish.lab.lab_command`, the course's settings installed, root at fresh working
    copies of every lesson) with isolated config/data/runtime/settings/workspace directories, in
    its own process session, stopped by PID (:func:`running_lab`)."""
    import shutil

    from nls_lessons.publish import lab

    tmp = tmp_path_factory.mktemp("jupyterlab")
    shutil.rmtree(BROWSER_LESSONS, ignore_errors=True)
    lab.ensure_working_copies(work_dir=BROWSER_LESSONS, log=lambda *_: None)
    for src in BROWSER_DECKS:            # the lecturer's decks too (RISE measures every deck that ships)
        if not (BROWSER_LESSONS / f"{src.stem}.ipynb").exists():    # beside the lessons: tests open STEM.ipynb
            lab.write_working_copy(src, BROWSER_LESSONS / f"{src.stem}.ipynb")
    shutil.copy(REPO / "tests" / "fixtures" / "explorers_demo.ipynb", BROWSER_LESSONS / "explorers_demo.ipynb")
    lab.install_lab_settings()
    with running_lab(BROWSER_LESSONS, tmp, default_path=lab.WELCOME) as server:
        yield server


@contextmanager
def running_lab(root: Path, tmp: Path, env: dict | None = None, default_path: str = ""):
    """A JupyterLab started as ``make lab`` starts it (:func:`nls_lessons.publish.lab.lab_command`,
    the test user settings), rooted and run in ``root`` (a course folder: nbgrader reads the
    ``nbgrader_config.py`` there), with isolated config/data/runtime/settings/workspace directories
    under ``tmp``, in its own process session, stopped by PID; ``env`` adds to its environment."""
    import json
    import secrets
    import signal
    import subprocess

    from nls_lessons.publish import lab

    dirs = {name: tmp / name for name in ("config", "data", "runtime", "settings", "workspaces")}
    for d in dirs.values():
        d.mkdir(parents=True)
    for plugin, values in TEST_USER_SETTINGS.items():
        target = dirs["settings"] / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = {**lab.lab_environment(token), "JUPYTER_CONFIG_DIR": str(dirs["config"]), "JUPYTER_DATA_DIR": str(dirs["data"]),
           "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]), "JUPYTER_PLATFORM_DIRS": "1",
           "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]), "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(REPO), **(env or {})}
    env.pop("MPLBACKEND", None)          # the kernel gets Jupyter's own inline backend
    env.pop("NLS_STATIC", None)          # live widgets, not static frames
    cmd = lab.lab_command(port, "127.0.0.1", open_browser=False, root_dir=root, default_path=default_path) + [
        f"--LabApp.user_settings_dir={dirs['settings']}", f"--LabApp.workspaces_dir={dirs['workspaces']}",
        "--LabApp.news_url="]
    log_path = tmp / "jupyterlab.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    server = LabServer(f"http://127.0.0.1:{port}", token, root, log_path)
    try:
        try:
            wait_for(lambda: proc.poll() is None and server.api("status"), 60, "JupyterLab to answer /api/status")
        except TimeoutError:
            log.flush()
            raise RuntimeError("JupyterLab did not start:\n" + log_path.read_text()[-3000:])
        yield server
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)      # the server and its kernels (same session)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
        log.close()


class Lab:
    """The session's JupyterLab and chromium together (fixture ``lab_session``)."""

    def __init__(self, server: LabServer, browser):
        self.server, self.browser = server, browser

    def open(self, notebook: str, viewport=(1500, 1000), timeout: float = 90):
        """``notebook`` alone in the lab in a new page, once its kernel is idle (close the page)."""
        page = self.browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.set_default_timeout(30_000)
        page.goto(self.server.url(notebook))
        self.server.wait_idle(notebook, timeout)
        page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible")
        return page


@pytest.fixture(scope="session")
def lab_session(lab_server, browser):
    """The shared JupyterLab + chromium for browser tests (see the module docstring)."""
    return Lab(lab_server, browser)
