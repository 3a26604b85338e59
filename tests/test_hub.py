"""The class hub (issue 28): a real JupyterHub behind a real configurable-http-proxy, 3 learners.

One hub for the module (:func:`class_hub`: ``running_hub`` from nls_lessons.publish.hub, the
config ``make hub`` runs), stopped with everything it started at the end. It checks: loopback only,
secrets generated 0600 and never in the repository; every learner's server makes their own working
copies as ``make lab`` does (one BLAS thread, the learner config); learner A's token and cookie
cannot reach learner B's server, files or kernels (403); a server culled by jupyterhub-idle-culler
comes back with the learner's saved work; in chromium, the three log in through the hub's form, land
on lesson 00 of their own copies, and lesson 00 runs there (the one chromium test of this module: it
shares the hub, so a test run starts one hub, issue 21). Without the proxy they skip (fail in CI:
tests/hub_support.py); without chromium the chromium test skips (fails in CI).
The nbgitpuller test (a local git repository as the course) and the bad-input table need no hub.
"""
from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import LabServer
from hub_support import hub_proxy

from nls_lessons.publish import hub, lab

REPO = Path(__file__).resolve().parent.parent
USERS = ("alice", "bob", "carol")
SHOT = REPO / "artifacts" / "screenshots" / "hub_lesson00.png"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def class_hub(tmp_path_factory):
    proxy = hub_proxy()
    runtime = tmp_path_factory.mktemp("hub")
    with hub.running_hub(users=USERS, runtime_dir=runtime, proxy=proxy) as running:
        for user in ("alice", "bob"):                 # both start at once
            running.start_server(user, wait=False)
        for user in ("alice", "bob"):
            running.wait_server(user, ready=True, timeout=120)
        yield running
    leftover = _processes_under(runtime)
    assert not leftover, f"still running after the hub stopped: {leftover}"


def _processes_under(runtime: Path) -> list[str]:
    """Processes whose command line or working folder names ``runtime`` (the hub's and its servers')."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline", "cwd", "environ"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
            text += " " + (proc.info["environ"] or {}).get("NLS_HUB_RUNTIME", "")
        except (psutil.Error, TypeError):
            continue
        if str(runtime) in text and proc.pid != os.getpid():
            found.append(f"{proc.pid}: {text[:120]}")
    return found


def _get(url: str, token: str, method: str = "GET", **kwargs):
    import requests

    return requests.request(method, url, headers={"Authorization": f"token {token}"}, timeout=30,
                            allow_redirects=False, **kwargs)


def test_hub_listens_on_loopback_with_generated_private_secrets(class_hub):
    import psutil

    tree = {class_hub.process.pid, *(p.pid for p in psutil.Process(class_hub.process.pid).children(recursive=True))}
    listening = {(c.laddr.ip, c.laddr.port) for c in psutil.net_connections("inet")
                 if c.pid in tree and c.status == psutil.CONN_LISTEN}
    assert {ip for ip, _ in listening} == {"127.0.0.1"}, listening
    assert len(listening) >= 4            # public proxy port, proxy API, hub API, two servers
    assert stat.S_IMODE(class_hub.runtime_dir.stat().st_mode) == 0o700
    committed = subprocess.run(["git", "grep", "-l", "-F", "-e", class_hub.api_token, "-e", class_hub.password],
                               cwd=REPO, capture_output=True, text=True)
    assert committed.stdout == ""
    for name in hub.SECRETS:
        path = class_hub.runtime_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
        assert len(path.read_text().strip()) >= 24, name
    assert class_hub.api_token not in (REPO / "classroom" / "jupyterhub_config.py").read_text()


def widgets_hub_env() -> str:
    from nls_lessons import widgets

    return widgets.HUB_ENV


def test_every_learner_server_is_make_labs(class_hub):
    """Own working copies (every lesson, learner versions), lesson 00 first, one BLAS thread, learner config."""
    expected = sorted(f"{p.stem}.ipynb" for p in lab.lessons())
    for user in ("alice", "bob"):
        copies = sorted(p.name for p in (class_hub.home(user) / "lessons").glob("*.ipynb"))
        assert copies == expected, user
        model = class_hub.api("GET", f"/users/{user}").json()
        environ = Path(f"/proc/{model['servers']['']['state']['pid']}/environ").read_bytes().split(b"\0")
        env = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
        assert (env["OMP_NUM_THREADS"], env["MKL_NUM_THREADS"]) == ("1", "1")
        assert env[widgets_hub_env()] == "1"           # the widgets' hub mode (tests/test_hub_mode.py)
        assert env["HOME"] == str(class_hub.home(user))
        assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(
            __import__("nls_lessons.publish.learner_config", fromlist=["x"]).learner_config_dir())
        reply = _get(f"{class_hub.url}/user/{user}/", class_hub.user_token(user))
        assert reply.headers["Location"].split("?")[0] == f"/user/{user}/lab/tree/lessons/{lab.WELCOME}"
    assert (class_hub.home("alice") / "lessons" / "rise.css").exists()


#: What learner A tries on learner B's server with A's own token: (what, method, path under /user/NAME/).
OTHER_SERVER = [
    ("contents", "GET", "api/contents/lessons"),
    ("a file", "GET", f"files/lessons/{lab.WELCOME}"),
    ("kernels", "GET", "api/kernels"),
    ("a new kernel", "POST", "api/kernels"),
    ("writing a file", "PUT", "api/contents/lessons/planted.txt"),
    ("the lab page", "GET", "lab"),
]


@pytest.mark.parametrize("what,method,path", OTHER_SERVER, ids=[row[0] for row in OTHER_SERVER])
def test_a_learners_token_reaches_only_their_own_server(class_hub, what, method, path):
    token = class_hub.user_token("alice")
    body = {"json": {"type": "file", "format": "text", "content": "x"}} if method == "PUT" else {}
    own = _get(f"{class_hub.url}/user/alice/{path.replace('planted', 'mine')}", token, method, **body)
    other = _get(f"{class_hub.url}/user/bob/{path}", token, method, **body)
    assert own.status_code in (200, 201), (what, own.status_code, own.text[:200])
    assert other.status_code == 403, (what, other.status_code, other.text[:200])
    assert not (class_hub.home("bob") / "lessons" / "planted.txt").exists()
    if method == "POST" and own.status_code == 201:           # stop the kernel alice started
        _get(f"{class_hub.url}/user/alice/api/kernels/{own.json()['id']}", token, "DELETE")


def test_a_learners_token_cannot_use_the_hub_on_anothers_behalf(class_hub):
    token = class_hub.user_token("alice")
    assert class_hub.api("GET", "/users/alice", token=token).status_code == 200
    for method, path in [("GET", "/users/bob"), ("DELETE", "/users/bob/server"), ("POST", "/users/bob/tokens")]:
        reply = class_hub.api(method, path, token=token)
        assert reply.status_code in (403, 404), (method, path, reply.status_code)   # 404: bob is not even named
    assert class_hub.api("GET", "/users/bob").json()["servers"][""]["ready"]


def test_a_learners_cookie_opens_only_their_own_server(class_hub):
    import requests

    browser = requests.Session()
    login = browser.get(f"{class_hub.url}/hub/login", timeout=30)
    xsrf = browser.cookies.get("_xsrf")
    assert login.status_code == 200 and xsrf
    reply = browser.post(f"{class_hub.url}/hub/login?next=", timeout=30,
                         data={"username": "alice", "password": class_hub.password, "_xsrf": xsrf})
    assert reply.status_code == 200, reply.status_code
    own = browser.get(f"{class_hub.url}/user/alice/lab", timeout=30)
    assert own.status_code == 200 and "/user/alice/" in own.url
    other = browser.get(f"{class_hub.url}/user/bob/lab", timeout=30)
    assert other.status_code == 403, (other.status_code, other.url)
    assert "/hub/" in other.url                          # refused by the hub's OAuth, not by a page of bob's
    api = browser.get(f"{class_hub.url}/user/bob/api/contents", timeout=30)
    assert api.status_code == 403
    wrong = requests.post(f"{class_hub.url}/hub/login", timeout=30, allow_redirects=False,
                          data={"username": "alice", "password": "not-the-password", "_xsrf": xsrf},
                          cookies={"_xsrf": xsrf})
    assert wrong.status_code in (200, 403) and "jupyterhub-hub-login" not in wrong.cookies


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_three_learners_in_chromium_get_their_own_copies_and_lesson_00_runs(class_hub, browser):
    """The try-out hub in chromium: alice, bob and carol log in through the hub's form (carol's
    server starts then), each lands on lesson 00 of their own working copies, alice's cookie does
    not open bob's lab, and lesson 00 runs top to bottom in alice's lab (no error output).

    This module's hub, not one of its own (issue 21: one hub per test run); it runs in the suite,
    not in the browser run, which has the lab and the decks to itself. Screenshot:
    ``artifacts/screenshots/hub_lesson00.png`` (git-ignored)."""
    from test_browser_lessons import errors_in, run_all

    lesson = f"lessons/{lab.WELCOME}"
    contexts, pages = [], {}
    try:
        for user in USERS:                      # log in as a learner does; the hub starts carol's server
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{class_hub.url}/hub/login")
            page.fill("#username_input", user)
            page.fill("#password_input", class_hub.password)
            page.click("#login_submit")
            pages[user] = page
        expected = sorted(f"{p.stem}.ipynb" for p in lab.lessons())
        for user, page in pages.items():        # each lands on lesson 00 of their own copies
            page.wait_for_url(f"**/user/{user}/lab/tree/{lesson}*", timeout=240_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", state="visible", timeout=120_000)
            server = LearnerServer(class_hub, user)
            listed = sorted(m["name"] for m in server.api("contents/lessons")["content"] if m["type"] == "notebook")
            assert listed == expected, user
        refused = pages["alice"].context.new_page()       # alice's cookie does not open bob's lab
        response = refused.goto(f"{class_hub.url}/user/bob/lab")
        assert response.status == 403 and "/hub/" in refused.url, (response.status, refused.url)
        refused.close()

        server = LearnerServer(class_hub, "alice")
        server.wait_idle(lesson, 120)
        run_all(pages["alice"], server, lesson, timeout=300)
        errors = errors_in(pages["alice"])
        assert not errors, f"lesson 00 on the hub: {len(errors)} error output(s); first:\n{errors[0]}"
        prompts = pages["alice"].locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        assert prompts and all(p.strip() not in ("[ ]:", "") for p in prompts), prompts
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        pages["alice"].screenshot(path=str(SHOT))
    finally:
        for context in contexts:
            context.close()
        for user in USERS:                      # free the CPU: the learners' lesson 00 kernels
            try:
                LearnerServer(class_hub, user).shutdown(lesson)
            except Exception:                   # noqa: BLE001 (a server that never started)
                pass
    class_hub.stop_server("carol")


class LearnerServer(LabServer):
    """A learner's server through the hub: conftest's :class:`LabServer` (``session``,
    ``wait_idle``, ``shutdown``: what tests/test_browser_lessons.py's ``run_all`` calls) with the
    learner's token in the header."""

    def __init__(self, running: hub.Hub, user: str):
        super().__init__(f"{running.url}/user/{user}", running.user_token(user), running.home(user), log=None)

    def api(self, path: str, method: str = "GET"):
        reply = _get(f"{self.base}/api/{path}", self.token, method)
        reply.raise_for_status()
        return reply.json() if reply.content else None


def test_a_culled_server_comes_back_with_the_saved_work(class_hub):
    """bob saves work, jupyterhub-idle-culler (the hub's service command, a 1 s timeout) stops his
    idle server, he starts it again: his edited copy and his own file are there, untouched."""
    services = class_hub.api("GET", "/services").json()
    assert "idle-culler" in services and "--timeout=3600" in " ".join(services["idle-culler"]["command"])
    token = class_hub.user_token("bob")
    notebook = f"{class_hub.url}/user/bob/api/contents/lessons/{lab.WELCOME}"
    model = _get(notebook, token).json()
    model["content"]["cells"][0]["source"] = "bob's own notes, saved before the cull"
    saved = _get(notebook, token, "PUT", json={"type": "notebook", "format": "json", "content": model["content"]})
    assert saved.status_code == 200, saved.text[:200]
    assert _get(f"{class_hub.url}/user/bob/api/contents/todo.txt", token, "PUT",
                json={"type": "file", "format": "text", "content": "ask about eq. 3"}).status_code == 201
    started = class_hub.api("GET", "/users/bob").json()["servers"][""]["started"]

    time.sleep(1.5)                           # idle longer than the culler's timeout
    env = dict(os.environ, JUPYTERHUB_API_TOKEN=class_hub.api_token, JUPYTERHUB_API_URL=f"{class_hub.url}/hub/api")
    culler = subprocess.Popen(hub.culler_command(timeout=1, every=1), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        class_hub.wait_server("bob", ready=False, timeout=60)
    finally:
        culler.terminate()
        culler.wait(10)
    back = class_hub.start_server("bob", timeout=90)
    assert back["servers"][""]["started"] != started          # a new server, not the old one
    token = class_hub.user_token("bob")
    content = _get(notebook, token).json()["content"]
    assert content["cells"][0]["source"] == "bob's own notes, saved before the cull"
    assert _get(f"{class_hub.url}/user/bob/api/contents/todo.txt", token).json()["content"] == "ask about eq. 3"
    class_hub.stop_server("bob")


# ---------------------------------------------------------------------------- course updates (no hub)
def _git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="course", GIT_AUTHOR_EMAIL="course@example.org",
               GIT_COMMITTER_NAME="course", GIT_COMMITTER_EMAIL="course@example.org")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def test_a_course_update_through_nbgitpuller_keeps_the_learners_edited_copy(tmp_path):
    import nbformat

    course = tmp_path / "course"
    (course / "notebooks").mkdir(parents=True)
    (course / ".gitignore").write_text((REPO / ".gitignore").read_text())      # lessons/ is ignored there
    for suffix in (".py", ".ipynb"):
        (course / "notebooks" / f"00_welcome{suffix}").write_bytes((REPO / "notebooks" / f"00_welcome{suffix}").read_bytes())
    _git(course, "init", "-q", "-b", "main")
    _git(course, "add", "-A")
    _git(course, "commit", "-qm", "course v1")
    home = tmp_path / "home" / "alice"

    work = hub.prepare_learner(home, course_repo=str(course), branch="main", log=lambda *_: None)
    assert work == home / "nls-lessons" / "lessons"
    mine = work / "00_welcome.ipynb"
    nb = nbformat.read(mine, as_version=4)
    nb.cells[0].source = "my own notes"
    nbformat.write(nb, mine)
    edited = mine.read_bytes()

    # the course changes lesson 00's source and adds lesson 01
    source = course / "notebooks" / "00_welcome.ipynb"
    upstream = nbformat.read(source, as_version=4)
    upstream.cells[0].source += "\n\nAn update from the course."
    nbformat.write(upstream, source)
    for suffix in (".py", ".ipynb"):
        name = f"01_label_noise{suffix}"
        (course / "notebooks" / name).write_bytes((REPO / "notebooks" / name).read_bytes())
    _git(course, "add", "-A")
    _git(course, "commit", "-qm", "course v2")

    hub.prepare_learner(home, course_repo=str(course), branch="main", log=lambda *_: None)
    clone = home / "nls-lessons"
    assert "An update from the course." in (clone / "notebooks" / "00_welcome.ipynb").read_text()
    assert mine.read_bytes() == edited                               # the learner's copy survives
    assert (work / "01_label_noise.ipynb").exists()                  # the new lesson got its copy
    assert _git(clone, "status", "--porcelain") == ""                # nothing for a later pull to trip on


# ---------------------------------------------------------------------------- bad input (no hub)
def _busy_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


#: (case, running_hub keyword arguments from (tmp_path, busy port), words the error must name)
BAD = [
    ("port in use", lambda t, p: {"port": p}, ["port", "in use"]),
    ("port out of range", lambda t, p: {"port": 70000}, ["port", "1..65535"]),
    ("missing proxy", lambda t, p: {"proxy": t / "no-proxy"}, ["proxy", "nls_lessons.setup hub", "npm"]),
    ("unwritable home", lambda t, p: {"home_root": t / "a-file" / "home"}, ["home_root", "writable"]),
    ("unwritable runtime", lambda t, p: {"runtime_dir": t / "a-file"}, ["runtime_dir", "writable"]),
    ("path in a user name", lambda t, p: {"users": ("alice", "../bob")}, ["users", "'../bob'", "'/'"]),
    ("slash in a user name", lambda t, p: {"users": ("a/b",)}, ["users", "'a/b'"]),
    ("space in a user name", lambda t, p: {"users": ("bob smith",)}, ["users", "'bob smith'"]),
    ("no users", lambda t, p: {"users": ()}, ["users", "empty"]),
    ("a user twice", lambda t, p: {"users": ("alice", "alice")}, ["users", "twice"]),
    ("empty host", lambda t, p: {"host": ""}, ["host", "127.0.0.1"]),
]


@pytest.mark.parametrize("case,kwargs,words", BAD, ids=[row[0] for row in BAD])
def test_bad_hub_input_is_refused_before_anything_starts(tmp_path, case, kwargs, words):
    (tmp_path / "a-file").write_text("not a folder")
    sock = _busy_port()
    try:
        args = {"runtime_dir": tmp_path / "runtime", "proxy": sys.executable, **kwargs(tmp_path, sock.getsockname()[1])}
        with pytest.raises(hub.HubConfigError) as info:
            with hub.running_hub(**args):
                pytest.fail("the hub started")
    finally:
        sock.close()
    missing = [w for w in words if w.lower() not in str(info.value).lower()]
    assert not missing, f"{info.value} does not name {missing}"
    assert not (tmp_path / "runtime" / "jupyterhub.sqlite").exists()


@pytest.mark.parametrize("argv,words", [
    (["--users", "alice,../etc"], ["--users", "'../etc'"]),
    (["--proxy", "/no/such/proxy"], ["--proxy", "nls_lessons.setup hub"]),
    (["--port", "0"], ["--port", "1..65535"]),
], ids=["user name", "proxy", "port"])
def test_make_hub_refuses_bad_input_naming_the_option(tmp_path, capsys, argv, words):
    from bad_input import check_cli_refuses

    port = [] if "--port" in argv else ["--port", str(lab.find_free_port(20000, 500))]
    check_cli_refuses(hub.main, [*argv, *port, "--runtime-dir", str(tmp_path / "rt")], words, tmp_path / "rt", capsys)


def test_make_hub_refuses_a_busy_port(tmp_path, capsys):
    from bad_input import check_cli_refuses

    sock = _busy_port()
    try:
        check_cli_refuses(hub.main, ["--port", str(sock.getsockname()[1]), "--runtime-dir", str(tmp_path / "rt")],
                          ["--port", "in use"], tmp_path / "rt", capsys)
    finally:
        sock.close()


def test_config_refuses_a_bad_user_name_from_the_environment(tmp_path):
    """Run by hand (``jupyterhub -f``), the config checks NLS_HUB_USERS itself."""
    env = dict(os.environ, NLS_HUB_USERS="alice,../root", NLS_HUB_RUNTIME=str(tmp_path), NLS_HUB_PROXY=sys.executable,
               PYTHONPATH=str(REPO))
    code = ("from traitlets.config import Config\nc = Config()\nget_config = lambda: c\n"
            f"exec(open({str(hub.CONFIG)!r}).read())")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "'../root'" in done.stderr and "users" in done.stderr
    assert not (tmp_path / "admin_token").exists()


# ---------------------------------------------------------------------------- the proxy's set-up (no npm run)
def test_setup_installs_the_pinned_proxy_with_npm_once(tmp_path, monkeypatch):
    """``python -m nls_lessons.setup hub``'s proxy step: npm installs configurable-http-proxy@5.3.0
    into the prefix, only when it is missing (a stand-in npm records its arguments)."""
    from nls_lessons import setup

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text('#!/bin/sh\necho "$@" >> "$NPM_LOG"\n'
                   'prefix=$(echo "$@" | sed "s/.*--prefix \\([^ ]*\\).*/\\1/")\n'
                   'mkdir -p "$prefix/node_modules/.bin" && printf "#!/bin/sh\\n" > '
                   '"$prefix/node_modules/.bin/configurable-http-proxy" && chmod +x "$prefix/node_modules/.bin/"*\n')
    npm.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("NPM_LOG", str(tmp_path / "npm.log"))
    prefix = tmp_path / "node"
    assert setup.ensure_proxy(prefix) == setup.proxy_path(prefix)
    assert setup.ensure_proxy(prefix) == setup.proxy_path(prefix)          # second call: nothing to do
    calls = (tmp_path / "npm.log").read_text().splitlines()
    assert len(calls) == 1 and "configurable-http-proxy@5.3.0" in calls[0] and f"--prefix {prefix}" in calls[0]
    assert hub.find_proxy(setup.proxy_path(prefix)) == setup.proxy_path(prefix).resolve()


def test_setup_without_npm_says_what_to_install(tmp_path, monkeypatch):
    from nls_lessons import setup

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SystemExit) as info:
        setup.ensure_proxy(tmp_path / "node")
    assert "npm" in str(info.value) and "configurable-http-proxy" in str(info.value) and "Node.js" in str(info.value)


def test_make_hub_installs_the_proxy_then_starts_the_hub(monkeypatch):
    from nls_lessons import setup

    calls = []
    monkeypatch.setattr(setup, "ensure_env", lambda **_: calls.append("env"))
    monkeypatch.setattr(setup, "ensure_proxy", lambda: calls.append("proxy"))
    monkeypatch.setattr(setup, "run_in_env", lambda args, *a, **k: calls.append(args) or 0)
    assert setup.main(["hub"]) == 0
    assert calls == ["env", "proxy", ("nls_lessons.publish.hub",)]
    assert "\nhub:\n\t$(SETUP) hub\n" in (REPO / "Makefile").read_text()


def test_make_test_installs_the_proxy_where_npm_is_and_says_why_hub_tests_skip_where_not(tmp_path, monkeypatch, capsys):
    """README's one test command sets the hub tests up itself (a fresh machine with npm runs them)."""
    from nls_lessons import setup

    calls = []
    monkeypatch.setattr(setup, "run_tests", lambda: calls.append("tests") or 0)
    monkeypatch.setattr(setup, "ensure_proxy", lambda: calls.append("proxy"))
    monkeypatch.setattr(setup, "PROXY_PREFIX", tmp_path / "node")
    monkeypatch.setattr(setup, "proxy_path", lambda prefix=None: tmp_path / "node" / "missing")
    monkeypatch.setattr(setup.shutil, "which", lambda name: "/usr/bin/npm")
    assert setup.main(["test"]) == 0 and calls == ["proxy", "tests"]
    calls.clear()
    monkeypatch.setattr(setup.shutil, "which", lambda name: None)
    assert setup.main(["test"]) == 0 and calls == ["tests"]
    assert "npm is not installed: the hub tests skip" in capsys.readouterr().out
