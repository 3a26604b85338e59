"""A JupyterHub for a class on one machine: ``make hub`` and :func:`running_hub` (issue 28).

    python -m nls_lessons.setup hub                       # make hub: installs the npm proxy, then this
    python -m nls_lessons.publish.hub [--port 8000] [--users learner1,learner2,learner3]

The hub's configuration is ``classroom/jupyterhub_config.py`` (:data:`CONFIG`); this module checks
the inputs, generates the secrets, starts ``jupyterhub`` with that file and tells the config what
to do through ``NLS_HUB_*`` environment variables (:func:`hub_environment`). The try-out hub

- listens on 127.0.0.1 only (the public port; the hub's own API and the proxy's API on free
  loopback ports), behind configurable-http-proxy from npm (``python -m nls_lessons.setup hub``
  installs it into ``build/node/``; :func:`find_proxy`);
- logs learners in with JupyterHub's try-out authenticator (SharedPasswordAuthenticator, the
  successor of DummyAuthenticator), limited to the named learners and one generated password; runs every learner's server as this OS user (SimpleLocalProcessSpawner),
  each in its own home folder under the runtime folder. That isolates nobody from anybody: the
  README's "Hosting a class" says how to switch to real accounts and isolating spawners;
- keeps its state and secrets in a runtime folder (default ``build/hub/``, git-ignored, mode
  0700): the cookie secret, the proxy's token, the admin service's API token and the learners'
  password are generated on first start into files of mode 0600 (:func:`write_secret`);
- culls idle servers with jupyterhub-idle-culler as a hub service (:func:`culler_command`); a
  learner's files stay in their home, so a culled server comes back with their saved work.

Every learner's server starts through :func:`learner_main` (the spawner's command): it makes the
learner's working copies as ``make lab`` does (:func:`nls_lessons.publish.lab.ensure_working_copies`,
never overwriting one; course updates through nbgitpuller, :func:`prepare_learner`), then runs
``jupyterhub-singleuser`` at lesson 00, kernels with one BLAS thread, RISE set up as for ``make lab``.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from nls_lessons.publish import lab

REPO = lab.REPO
CONFIG = REPO / "classroom" / "jupyterhub_config.py"
DEFAULT_RUNTIME = REPO / "build" / "hub"
DEFAULT_PORT = 8000
DEFAULT_USERS = ("learner1", "learner2", "learner3")
#: The idle culler's defaults (seconds): a server idle for an hour stops; checked every 5 minutes.
CULL_TIMEOUT = 3600
CULL_EVERY = 300
#: A learner's name becomes a folder and a URL path: lower-case letters, digits, ``-`` and ``_``.
USERNAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
#: The secrets' file names in the runtime folder.
SECRETS = ("cookie_secret", "proxy_token", "admin_token", "password")
#: The folder a course clone (nbgitpuller) gets in a learner's home.
COURSE_CLONE = "nls-lessons"


class HubConfigError(ValueError):
    """A hub input that cannot work; the message names the argument and what it accepts."""


# ---------------------------------------------------------------------------- checks
def check_username(name: str, argument: str = "users") -> str:
    """``name`` if it is a safe learner name (:data:`USERNAME_RE`), else :class:`HubConfigError`."""
    if not isinstance(name, str) or not USERNAME_RE.match(name):
        raise HubConfigError(f"{argument}: {name!r} is not a learner name; use 1 to 32 lower-case letters, digits, "
                             "'-' or '_', starting with a letter (it becomes a folder and a URL: no '/', '.' or "
                             "spaces)")
    return name


def check_port(port: int, host: str = "127.0.0.1", argument: str = "port") -> int:
    """``port`` if it is in 1..65535 and free on ``host``, else :class:`HubConfigError`."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= lab.MAX_PORT:
        raise HubConfigError(f"{argument} must be a port number in 1..{lab.MAX_PORT}, got {port!r}")
    if not lab.port_is_free(port, host):
        raise HubConfigError(f"{argument} {port} on {host} is in use (another hub or server?); stop it or give "
                             f"another {argument} in 1..{lab.MAX_PORT}")
    return port


def check_writable_dir(path: Path | str, argument: str) -> Path:
    """Create folder ``path`` if needed and prove it writable, else :class:`HubConfigError`."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as err:
        raise HubConfigError(f"{argument} {str(path)!r} is not a writable folder ({err.strerror}); give a folder "
                             "this user can create and write") from None
    return path


def find_proxy(proxy: Path | str | None = None) -> Path:
    """configurable-http-proxy's command: ``proxy`` if given, else the one ``python -m
    nls_lessons.setup hub`` installs (``build/node/``), else one on PATH; :class:`HubConfigError`
    when there is none."""
    from nls_lessons import setup

    if proxy is not None:
        candidates = [Path(proxy)]
    else:
        found = shutil.which(setup.PROXY_PACKAGE)
        candidates = [setup.proxy_path()] + ([Path(found)] if found else [])
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
    raise HubConfigError(f"proxy: configurable-http-proxy not found at {', '.join(map(str, candidates))}; "
                         f"`python -m nls_lessons.setup hub` installs {setup.PROXY_PACKAGE}@{setup.PROXY_VERSION} "
                         "from npm into build/node/ (it needs Node.js's npm)")


# ---------------------------------------------------------------------------- secrets and environment
def write_secret(path: Path | str, nbytes: int = 32) -> str:
    """The secret in ``path``; a new random one (``nbytes`` bytes, hex) written with mode 0600 when the
    file does not exist yet. Never printed, never on a command line."""
    path = Path(path)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(nbytes))
    os.chmod(path, 0o600)
    return path.read_text().strip()


def runtime_secrets(runtime_dir: Path | str) -> dict[str, str]:
    """The hub's secrets (:data:`SECRETS`) from ``runtime_dir``, generated on first use."""
    runtime_dir = Path(runtime_dir)
    runtime_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(runtime_dir, 0o700)
    return {name: write_secret(runtime_dir / name, 12 if name == "password" else 32) for name in SECRETS}


def culler_command(timeout: int = CULL_TIMEOUT, every: int = CULL_EVERY) -> list[str]:
    """jupyterhub-idle-culler's command: stop a server idle ``timeout`` s, checking every ``every`` s
    (the hub runs it as a service; its API token and URL come in the environment)."""
    return [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={int(timeout)}", f"--cull-every={int(every)}"]


def lessons_folder(course_repo: str | None) -> str:
    """The working copies' folder, relative to a learner's home: ``lessons`` (copies of the
    installed course), or ``nls-lessons/lessons`` inside the course clone nbgitpuller keeps."""
    return f"{COURSE_CLONE}/lessons" if course_repo else "lessons"


def hub_environment(users: Sequence[str], port: int, host: str, runtime_dir: Path, home_root: Path,
                    proxy: Path, cull_timeout: int, cull_every: int, course_repo: str | None = None,
                    environ=None) -> dict:
    """The environment ``jupyterhub -f classroom/jupyterhub_config.py`` runs in: the ``NLS_HUB_*``
    variables the config reads (no secret: the config reads those from the runtime folder)."""
    env = dict(os.environ if environ is None else environ)
    hub_port = lab.find_free_port(port + 1 if port < lab.MAX_PORT - 100 else 20000, 100, "127.0.0.1")
    api_port = lab.find_free_port(hub_port + 1, 100, "127.0.0.1")
    env.update({
        "NLS_HUB_USERS": ",".join(users), "NLS_HUB_HOST": host, "NLS_HUB_PORT": str(port),
        "NLS_HUB_INTERNAL_PORT": str(hub_port), "NLS_HUB_PROXY_API_PORT": str(api_port),
        "NLS_HUB_RUNTIME": str(runtime_dir), "NLS_HUB_HOMES": str(home_root), "NLS_HUB_PROXY": str(proxy),
        "NLS_HUB_CULL_TIMEOUT": str(int(cull_timeout)), "NLS_HUB_CULL_EVERY": str(int(cull_every)),
    })
    env.pop("NLS_HUB_COURSE_REPO", None)
    if course_repo:
        env["NLS_HUB_COURSE_REPO"] = course_repo
    for name in lab.KERNEL_THREAD_ENV:
        env.setdefault(name, "1")
    return env


def checked_inputs(users, port, host, runtime_dir, home_root, proxy) -> tuple:
    """Every input checked before anything starts (:class:`HubConfigError` naming the argument)."""
    users = tuple(users)
    if not users:
        raise HubConfigError("users is empty; name at least one learner (e.g. learner1)")
    for name in users:
        check_username(name)
    if len(set(users)) != len(users):
        raise HubConfigError(f"users names a learner twice: {', '.join(users)}")
    try:
        lab.resolve_host(host, "host")
    except ValueError as err:
        raise HubConfigError(str(err)) from None
    port = lab.find_free_port(DEFAULT_PORT, 200, host) if port is None else check_port(port, host)
    proxy = find_proxy(proxy)
    runtime_dir = check_writable_dir(DEFAULT_RUNTIME if runtime_dir is None else runtime_dir, "runtime_dir")
    home_root = check_writable_dir(runtime_dir / "home" if home_root is None else home_root, "home_root")
    return users, port, runtime_dir.resolve(), home_root.resolve(), proxy


# ---------------------------------------------------------------------------- a running hub
@dataclass
class Hub:
    """A started hub: its public ``url`` (through the proxy), the admin service's ``api_token``
    (admin of users and servers), the learners' ``password``, and helpers over the REST API."""

    url: str
    api_token: str
    password: str
    users: tuple
    runtime_dir: Path
    home_root: Path
    process: subprocess.Popen = field(repr=False)

    def api(self, method: str, path: str, token: str | None = None, **kwargs):
        """``requests`` call to the hub's REST API (``path`` after ``/hub/api``), as the admin
        service unless ``token``."""
        import requests

        headers = {"Authorization": f"token {token or self.api_token}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=30, **kwargs)

    def home(self, user: str) -> Path:
        """``user``'s home folder (their server's root)."""
        return self.home_root / check_username(user, "user")

    def start_server(self, user: str, timeout: float = 60, wait: bool = True) -> dict | None:
        """Start ``user``'s server (if not running); with ``wait``, wait until it is ready and return
        the user model (without: return at once, :meth:`wait_server` later; starts run in parallel)."""
        reply = self.api("POST", f"/users/{user}/server")
        if reply.status_code not in (201, 202, 400):       # 400: it is running already
            raise RuntimeError(f"starting {user}'s server: HTTP {reply.status_code} {reply.text[:300]}")
        return self.wait_server(user, ready=True, timeout=timeout) if wait else None

    def stop_server(self, user: str, timeout: float = 30) -> None:
        """Stop ``user``'s server and wait until the hub says it is gone."""
        self.api("DELETE", f"/users/{user}/server")
        self.wait_server(user, ready=False, timeout=timeout)

    def wait_server(self, user: str, ready: bool, timeout: float = 60) -> dict:
        """Poll until ``user``'s default server is ready (``ready=True``) or gone; the user model."""
        deadline = time.monotonic() + timeout
        while True:
            model = self.api("GET", f"/users/{user}").json()
            server = model.get("servers", {}).get("")
            if (bool(server and server.get("ready")) if ready else not server):
                return model
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited (code {self.process.returncode}); see its log in "
                                   f"{self.runtime_dir / 'hub.log'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{user}'s server not {'ready' if ready else 'stopped'} after {timeout} s: {model}")
            time.sleep(0.25)

    def user_token(self, user: str, note: str = "nls-lessons") -> str:
        """A new API token for ``user`` (their own permissions only)."""
        reply = self.api("POST", f"/users/{user}/tokens", json={"note": note})
        reply.raise_for_status()
        return reply.json()["token"]


def _wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyterhub exited with code {process.returncode} while starting:\n"
                               + log.read_text(errors="replace")[-3000:])
        try:
            if requests.get(f"{url}/hub/api/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the hub at {url} did not answer within {timeout} s; its log: {log}")


def _stop(process: subprocess.Popen, children: list, grace: float = 15) -> None:
    """Stop the hub (it stops the proxy and the servers it started), then anything of it left."""
    import psutil

    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    for child in alive:
        child.terminate()
    _, alive = psutil.wait_procs(alive, timeout=5)
    for child in alive:
        child.kill()


@contextmanager
def running_hub(users: Sequence[str] = DEFAULT_USERS, port: int | None = None, host: str = "127.0.0.1",
                runtime_dir: Path | str | None = None, home_root: Path | str | None = None,
                proxy: Path | str | None = None, cull_timeout: int = CULL_TIMEOUT, cull_every: int = CULL_EVERY,
                course_repo: str | None = None, startup_timeout: float = 60) -> Iterator[Hub]:
    """Start a hub for ``users`` (learner names) with ``classroom/jupyterhub_config.py``; yield a
    :class:`Hub`; stop it and everything it started (proxy, servers, kernels, culler) on exit.

    ``port``: the public port on ``host`` (None: the first free one from 8000; a busy one is an
    error). ``runtime_dir``: state and secrets (default ``build/hub/``); ``home_root``: the
    learners' homes (default ``runtime_dir/home``). ``proxy``: configurable-http-proxy's command
    (default :func:`find_proxy`'s). ``cull_timeout``/``cull_every``: the idle culler's seconds.
    ``course_repo``: a git URL or path nbgitpuller keeps each learner's course clone from (None:
    copies from this installed course). Every bad input raises :class:`HubConfigError` before
    anything starts.
    """
    import psutil

    users, port, runtime_dir, home_root, proxy = checked_inputs(users, port, host, runtime_dir, home_root, proxy)
    tokens = runtime_secrets(runtime_dir)
    env = hub_environment(users, port, host, runtime_dir, home_root, proxy, cull_timeout, cull_every, course_repo)
    log_path = runtime_dir / "hub.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(hub_command(), cwd=runtime_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    hub = Hub(url, tokens["admin_token"], tokens["password"], users, runtime_dir, home_root, process)
    children: list = []
    try:
        _wait_ready(url, process, log_path, startup_timeout)
        yield hub
    finally:
        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
        _stop(process, children)


def hub_command(config: Path = CONFIG) -> list[str]:
    """``python -m jupyterhub -f classroom/jupyterhub_config.py`` in this environment."""
    return [sys.executable, "-m", "jupyterhub", "-f", str(config)]


# ---------------------------------------------------------------------------- a learner's server
def prepare_learner(home: Path | str, course_repo: str | None = None, branch: str | None = None,
                    log=print) -> Path:
    """Make ``home``'s working copies as ``make lab`` does (never overwriting one); returns their folder.

    Without ``course_repo`` they come from this installed course's ``notebooks/`` into
    ``home/lessons``. With it, nbgitpuller first clones or updates ``home/nls-lessons`` from
    ``course_repo`` (its merge keeps a learner's own changes to the clone), and the copies go to
    that clone's ``lessons/``, which the course's ``.gitignore`` keeps out of git: an update never
    touches a learner's copy, and a lesson the update adds gets its copy now.
    """
    home = Path(home)
    if course_repo:
        from nbgitpuller.pull import GitPuller

        clone = home / COURSE_CLONE
        for line in GitPuller(course_repo, str(clone), branch=branch).pull():
            log(line.rstrip())
        src_dir = clone / "notebooks"
    else:
        src_dir = lab.NOTEBOOKS
    work_dir = home / lessons_folder(course_repo)
    lab.ensure_working_copies(src_dir=src_dir, work_dir=work_dir, log=log)
    return work_dir


def learner_main(argv: list[str]) -> None:
    """The spawner's command: prepare the learner's copies in ``$HOME``, then become
    ``jupyterhub-singleuser ARGV`` (the hub's environment gives one BLAS thread and the learner config)."""
    prepare_learner(os.environ["HOME"], os.environ.get("NLS_HUB_COURSE_REPO") or None,
                    os.environ.get("NLS_HUB_COURSE_BRANCH") or None)
    cmd = [sys.executable, "-m", "jupyterhub.singleuser", *argv]
    os.execv(cmd[0], cmd)


# ---------------------------------------------------------------------------- make hub
def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["learner"]:
        learner_main(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="python -m nls_lessons.publish.hub", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=lab._port, default=None,
                        help=f"public port, 1..65535 (default $NLS_HUB_PORT or {DEFAULT_PORT}; a busy port is an error)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--users", default=",".join(DEFAULT_USERS), help="comma-separated learner names")
    parser.add_argument("--runtime-dir", default=str(DEFAULT_RUNTIME), help="state and secrets (default build/hub/)")
    parser.add_argument("--home-root", default=None, help="the learners' homes (default RUNTIME_DIR/home)")
    parser.add_argument("--proxy", default=None, help="configurable-http-proxy's command (default build/node's)")
    parser.add_argument("--course-repo", default=os.environ.get("NLS_HUB_COURSE_REPO") or None,
                        help="git URL nbgitpuller keeps each learner's course from (default $NLS_HUB_COURSE_REPO)")
    args = parser.parse_args(argv)
    if args.port is None:
        try:
            args.port = lab._port(os.environ.get("NLS_HUB_PORT", str(DEFAULT_PORT)))
        except argparse.ArgumentTypeError as err:
            parser.error(f"NLS_HUB_PORT {err}")
    try:
        users = tuple(u.strip() for u in args.users.split(",") if u.strip())
        users, port, runtime_dir, home_root, proxy = checked_inputs(
            users, args.port, args.host, Path(args.runtime_dir),
            None if args.home_root is None else Path(args.home_root), args.proxy)
    except HubConfigError as err:
        flag = str(err).split()[0].rstrip(":")
        parser.error(str(err).replace(flag, "--" + flag.replace("_", "-"), 1))
    tokens = runtime_secrets(runtime_dir)
    env = hub_environment(users, port, args.host, runtime_dir, home_root, proxy, CULL_TIMEOUT, CULL_EVERY,
                          args.course_repo)
    print(f"\n  nls-lessons: a try-out JupyterHub for {len(users)} learners is starting. Open\n\n"
          f"      http://{args.host}:{port}/hub/login\n\n"
          f"  and log in as one of {', '.join(users)} with the password {tokens['password']}\n"
          f"  (in {runtime_dir / 'password'}; every learner's files: {home_root}/NAME/). Ctrl-C stops it.\n",
          flush=True)
    os.chdir(runtime_dir)
    cmd = hub_command()
    os.execve(cmd[0], cmd, env)


if __name__ == "__main__":
    main()
