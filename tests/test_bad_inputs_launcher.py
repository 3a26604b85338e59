"""Hostile input to the lab launcher, ``python -m nls_lessons.publish.lab`` (issue 25, items 3, 6).

Every case runs ``lab.main(argv)`` in-process with ``os.execv``/``os.execve`` replaced by a
function that fails the test: a bad port, host, folder, token or lesson name must stop with
exit status 2 and one message naming the flag (or variable) and what is allowed, before any
working copy is made and before JupyterLab starts. Two cases also run as real subprocesses.
The token never appears on JupyterLab's command line (``/proc/PID/cmdline`` is readable by
every local user): it travels in the environment (``JUPYTER_TOKEN``), readable only by the learner.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nls_lessons.publish import lab

REPO = Path(__file__).resolve().parent.parent
GOOD_TOKEN = "4f0c9a7be21d53e8a6b0c4d91f27e3a5"


@pytest.fixture
def no_start(monkeypatch, tmp_path):
    """JupyterLab never starts; the lessons folder is a fresh temporary one; no NLS_LAB_* is set."""
    def fail(*a, **k):
        raise AssertionError("JupyterLab started although an argument was bad")
    monkeypatch.setattr(os, "execv", fail)
    monkeypatch.setattr(os, "execve", fail)
    monkeypatch.setattr(lab, "install_lab_settings", lambda *a, **k: None)
    monkeypatch.chdir(tmp_path)              # main() changes into the lessons folder
    real = socket.getaddrinfo

    def offline(host, *a, **k):              # no name service in tests: only this machine's names
        if host in ("localhost", "127.0.0.1", "::1", "0.0.0.0", "::"):
            return real(host, *a, **k)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    monkeypatch.setattr(socket, "getaddrinfo", offline)
    for name in ("NLS_LAB_PORT", "NLS_LAB_HOST", "NLS_LAB_TOKEN", "NLS_LAB_NO_BROWSER"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "lessons"


def a_file(tmp_path):
    f = tmp_path / "a-file"
    f.write_text("not a folder")
    return f


# (id, argv, environment, words the message must contain); {file} is a plain file
CASES = [
    ("port-zero", ["--port", "0"], {}, ("--port", "1..65535")),
    ("port-negative", ["--port", "-5"], {}, ("--port", "1..65535")),
    ("port-too-big", ["--port", "70000"], {}, ("--port", "1..65535")),
    ("port-text", ["--port", "http"], {}, ("--port", "1..65535")),
    ("port-float", ["--port", "8888.5"], {}, ("--port", "1..65535")),
    ("port-arabic-digits", ["--port", "٨٨٨٨"], {}, ("--port", "1..65535")),
    ("port-top-of-range", ["--port", "65535", "--no-browser"], {}, ("--port", "65535")),
    ("env-port-text", [], {"NLS_LAB_PORT": "eighty"}, ("NLS_LAB_PORT", "1..65535")),
    ("env-port-too-big", [], {"NLS_LAB_PORT": "123456"}, ("NLS_LAB_PORT", "1..65535")),
    ("env-port-empty", [], {"NLS_LAB_PORT": " "}, ("NLS_LAB_PORT", "1..65535")),
    ("host-does-not-resolve", ["--host", "no-such-host.invalid"], {}, ("--host", "resolve")),
    ("host-empty", ["--host", ""], {}, ("--host", "127.0.0.1")),
    ("host-with-space", ["--host", "my laptop"], {}, ("--host", "resolve")),
    ("env-host-does-not-resolve", [], {"NLS_LAB_HOST": "no-such-host.invalid"}, ("NLS_LAB_HOST", "resolve")),
    ("lessons-dir-is-a-file", ["--lessons-dir", "{file}"], {}, ("--lessons-dir", "folder")),
    ("lessons-dir-under-a-file", ["--lessons-dir", "{file}/lessons"], {}, ("--lessons-dir", "folder")),
    ("lessons-dir-empty", ["--lessons-dir", ""], {}, ("--lessons-dir", "folder")),
    ("token-short", [], {"NLS_LAB_TOKEN": "abc123"}, ("NLS_LAB_TOKEN", "at least 16")),
    ("token-one-character", [], {"NLS_LAB_TOKEN": "a" * 40}, ("NLS_LAB_TOKEN", "different")),
    ("token-two-characters", [], {"NLS_LAB_TOKEN": "ab" * 20}, ("NLS_LAB_TOKEN", "different")),
    ("token-password", [], {"NLS_LAB_TOKEN": "password"}, ("NLS_LAB_TOKEN", "at least 16")),
    ("token-spaces", [], {"NLS_LAB_TOKEN": "my very own secret token"}, ("NLS_LAB_TOKEN", "letters, digits")),
    ("token-url-characters", [], {"NLS_LAB_TOKEN": "abcdefgh12345678&x=1"}, ("NLS_LAB_TOKEN", "letters, digits")),
    ("token-non-ascii", [], {"NLS_LAB_TOKEN": "éàüöñçßøåæœđħŧłŋ"}, ("NLS_LAB_TOKEN", "letters, digits")),
    ("token-blank", [], {"NLS_LAB_TOKEN": "   "}, ("NLS_LAB_TOKEN", "at least 16")),
    ("reset-superscript-digit", ["--reset", "²"], {}, ("lesson", "00..")),
    ("reset-arabic-digit", ["--reset", "٣"], {}, ("lesson", "00..")),
    ("reset-fullwidth-digit", ["--reset", "３"], {}, ("lesson", "00..")),
    ("reset-empty", ["--reset", ""], {}, ("lesson", "00..")),
    ("reset-and-copies-only", ["--reset", "03", "--copies-only"], {}, ("--reset", "--copies-only")),
    ("reset-negative", ["--reset", "-1"], {}, ("lesson", "00..")),
]


def run_main(argv, env, monkeypatch, tmp_path, capsys, work):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    f = a_file(tmp_path)
    argv = [a.replace("{file}", str(f)) for a in argv]
    if "--lessons-dir" not in argv:
        argv = ["--lessons-dir", str(work)] + argv
    with pytest.raises(SystemExit) as info:
        lab.main(argv)
    return info.value.code, capsys.readouterr()


@pytest.mark.parametrize("argv, env, words", [pytest.param(a, e, w, id=i) for i, a, e, w in CASES])
def test_a_bad_launcher_argument_stops_before_anything_starts(argv, env, words, no_start, monkeypatch, tmp_path,
                                                              capsys):
    if argv[:2] == ["--port", "65535"]:       # 65535 itself is fine, but it must be free to be used
        monkeypatch.setattr(lab, "port_is_free", lambda *a, **k: False)
    code, out = run_main(argv, env, monkeypatch, tmp_path, capsys, no_start)
    assert code == 2, out
    missing = [w for w in words if w.lower() not in out.err.lower()]
    assert not missing, f"{out.err!r} does not mention {missing}"
    assert "Traceback" not in out.err and "invalid literal" not in out.err
    assert "abc123" not in out.err and "password" not in out.err.replace("NLS_LAB_TOKEN", "")
    if "--reset" not in argv:
        assert not no_start.exists() or not any(no_start.glob("*.ipynb")), "copies made before the check"


def started(monkeypatch):
    seen = {}

    def execve(path, argv, env):
        seen.update(path=path, argv=list(argv), env=dict(env))
        raise SystemExit(0)
    monkeypatch.setattr(os, "execve", execve)
    return seen


def test_the_token_is_not_on_the_command_line(no_start, monkeypatch, capsys):
    monkeypatch.setenv("NLS_LAB_TOKEN", GOOD_TOKEN)
    seen = started(monkeypatch)
    with pytest.raises(SystemExit):
        lab.main(["--lessons-dir", str(no_start), "--no-browser"])
    assert seen, "JupyterLab was not started"
    assert not any(GOOD_TOKEN in a for a in seen["argv"]), seen["argv"]
    assert not any("token=" in a.lower() for a in seen["argv"]), seen["argv"]
    assert seen["env"]["JUPYTER_TOKEN"] == GOOD_TOKEN
    assert "JUPYTER_TOKEN_FILE" not in seen["env"]
    assert GOOD_TOKEN in capsys.readouterr().out          # the learner's own URL, on their terminal


def test_a_generated_token_is_strong_and_in_the_environment(no_start, monkeypatch, capsys):
    seen = started(monkeypatch)
    with pytest.raises(SystemExit):
        lab.main(["--lessons-dir", str(no_start), "--no-browser"])
    token = seen["env"]["JUPYTER_TOKEN"]
    assert lab.check_token(token) == token and len(token) >= 32
    assert not any(token in a for a in seen["argv"])


def test_lab_command_carries_no_token():
    cmd = lab.lab_command(8888, "127.0.0.1", open_browser=False)
    assert not any("token=" in a.lower() for a in cmd)
    env = lab.lab_environment(GOOD_TOKEN, {"PATH": "/bin", "JUPYTER_TOKEN_FILE": "/tmp/x"})
    assert env["JUPYTER_TOKEN"] == GOOD_TOKEN and "JUPYTER_TOKEN_FILE" not in env and env["PATH"] == "/bin"


@pytest.mark.parametrize("host, loud", [("0.0.0.0", True), ("::", True), ("127.0.0.1", False), ("localhost", False),
                                        ("::1", False)])
def test_a_host_beyond_loopback_is_warned_about_loudly(host, loud, no_start, monkeypatch, capsys):
    if host in ("::", "::1") and not lab.socket.has_ipv6:
        pytest.skip("no IPv6 here")
    monkeypatch.setenv("NLS_LAB_HOST", host)
    seen = started(monkeypatch)
    with pytest.raises(SystemExit):
        lab.main(["--lessons-dir", str(no_start), "--no-browser"])
    err = capsys.readouterr().err
    assert seen, err
    assert ("WARNING" in err and "other machines" in err and host in err) == loud, err
    assert f"--ServerApp.ip={host}" in seen["argv"]


@pytest.mark.parametrize("value, browser", [("1", False), ("yes", False), ("0", True), ("false", True), ("", True)])
def test_no_browser_variable_means_what_it_says(value, browser, no_start, monkeypatch):
    monkeypatch.setenv("NLS_LAB_NO_BROWSER", value)
    seen = started(monkeypatch)
    with pytest.raises(SystemExit):
        lab.main(["--lessons-dir", str(no_start)])
    assert ("--no-browser" not in seen["argv"]) == browser


def test_bad_arguments_as_real_processes_print_one_line_and_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "NLS_LAB_TOKEN": "short"}
    for argv, words in ((["--port", "70000"], ("--port", "1..65535")), ([], ("NLS_LAB_TOKEN", "at least 16"))):
        out = subprocess.run([sys.executable, "-m", "nls_lessons.publish.lab", "--lessons-dir",
                              str(tmp_path / "lessons"), *argv], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL)
        assert out.returncode == 2, out.stderr
        assert all(w in out.stderr for w in words) and "Traceback" not in out.stderr, out.stderr
        assert not (tmp_path / "lessons").exists()
