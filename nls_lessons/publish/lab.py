"""Start JupyterLab on the learner's own working copies (``make lab`` runs this module).

    python -m nls_lessons.publish.lab                     # create missing copies, start JupyterLab
    python -m nls_lessons.publish.lab --reset 03          # lesson 03's copy back to fresh (asks nothing)
    python -m nls_lessons.publish.lab --copies-only       # create missing copies, do not start
    python -m nls_lessons.publish.lab --lecture           # open the 50-minute lecture (``make lecture``)

Working copies (issue 15, item 8):

- Every lesson in ``notebooks/`` gets a plain ``.ipynb`` copy in ``lessons/`` (top level, next to
  ``notebooks/``, git-ignored), made once from the *learner* version of the lesson
  (:func:`nls_lessons.publish.learner.write_learner_copy`: solutions folded, none runnable),
  without outputs and without Jupytext pairing.
- Lecturers get theirs too: every notebook in ``notebooks/instructor/`` (the 50-minute lecture)
  and the notes ``NN_topic.md`` there are copied to ``lessons/instructor/`` (notebooks kept whole,
  solutions and speaker notes included, without outputs); ``make lecture`` (``--lecture``) opens
  JupyterLab at the lecture. From there the lecture's ``../01_label_noise.ipynb`` links reach the
  lesson copies, and RISE finds the course's ``rise.css`` in that folder too.
- A copy is never overwritten: it is the learner's work. A lesson added to ``notebooks/`` later
  gets its copy on the next start. ``--reset NN`` (``make reset LESSON=NN``) replaces one copy with
  a fresh one and keeps the old one in ``lessons/.reset-backups/``.
- JupyterLab's root is ``lessons/``: autosave, RISE's save before a slideshow and Jupytext can
  only write there, so the committed sources in ``notebooks/`` stay clean and a ``git pull`` of a
  new course version never conflicts with a learner's work. ``lessons/`` sits at the same depth as
  ``notebooks/``, so a lesson's relative paths (``../artifacts``) mean the same in both; the
  library finds ``data/`` from its own location.

The launcher also

- installs the course's JupyterLab settings (:data:`LAB_SETTINGS`: RISE slides at 1280x720 with
  scrolling, wrapped code lines so nothing is clipped on a slide, widget state saved with the
  notebook so a reopened copy shows its explorers) as an ``overrides.d`` file in
  the environment's JupyterLab settings folder, which the lab and RISE both read;
- puts the course's slide style ``rise.css`` in ``lessons/`` (:func:`write_slide_style`), where
  RISE loads it;
- turns off the lecturer's tools nbgrader adds (formgrader, "Create Assignment", the course list;
  :func:`install_learner_config`) for this launch only, through ``JUPYTER_CONFIG_PATH``;
- starts every kernel with one BLAS/OpenMP thread (:data:`KERNEL_THREAD_ENV`, as ``make test``):
  the course's models are tiny, and two threads on a busy 2-core laptop wait for each other
  (lesson 02's MNIST-1D cell ran 19x slower that way);
- picks a free port (8888 upwards) when the default one is busy;
- adds ``--allow-root`` when run as root (JupyterLab refuses to start otherwise);
- prints the URL, token included, before JupyterLab's own log starts. The token reaches
  JupyterLab in its environment (``JUPYTER_TOKEN``), never on its command line, which every local
  user can read (``ps``, ``/proc/PID/cmdline``); ``$NLS_LAB_TOKEN`` sets it and is refused when weak
  (:func:`check_token`); a ``--host``/``$NLS_LAB_HOST`` beyond loopback is warned about loudly.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import sys
import time
from pathlib import Path

from nls_lessons.files import write_atomic
from nls_lessons.publish.learner_config import (INSTRUCTOR_LAB_PLUGINS, INSTRUCTOR_SERVER_EXTENSIONS,  # noqa: F401
                                                  install_learner_config, learner_config_dir)

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
#: The learner's working folder (git-ignored); ``$NLS_LESSONS_DIR`` moves it.
WORK_DIR = Path(os.environ.get("NLS_LESSONS_DIR", REPO / "lessons"))
BACKUP_DIR_NAME = ".reset-backups"
WELCOME = "00_welcome.ipynb"
#: Instructor material (``notebooks/instructor/``) gets its copies in this subfolder of the working folder.
INSTRUCTOR_DIR_NAME = "instructor"
#: What ``make lecture`` opens, relative to the working folder.
LECTURE = f"{INSTRUCTOR_DIR_NAME}/50_minute_lecture.ipynb"

#: Slide geometry for live lectures: reveal.js lays every slide out at 1280x720 and scales it to
#: the window; a slide taller than the window scrolls instead of being cut off.
RISE_SETTINGS = {
    "width": "1280",
    "height": "720",
    "scroll": True,
    "center": False,
    "transition": "none",          # a slide is where it belongs at once (no half-moved slide)
    "start_slideshow_at": "beginning",
    "slideNumber": "c/t",
}

#: JupyterLab settings overrides (plugin id -> settings) installed by :func:`install_lab_settings`.
#: Overrides change the defaults only: a learner's own choices in the Settings Editor still win.
LAB_SETTINGS = {
    "jupyterlab-rise:plugin": RISE_SETTINGS,
    # long code lines wrap instead of running off the right edge of a slide or the page
    "@jupyterlab/notebook-extension:tracker": {
        "codeCellConfig": {"lineWrap": True},
    },
    # no news pop-up over the course
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false"},
    # a saved notebook keeps its explorers' last state, so a reopened copy shows each explorer's
    # last figure and sliders instead of "Error displaying widget: model not found" (moving a
    # slider needs the cell run again: the kernel behind the widget is a new one)
    "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
}
SETTINGS_FILE_NAME = "nls-lessons.json"
#: The course's slide style for RISE (a markdown code block stays inside the slide); RISE loads
#: ``rise.css`` from the notebook's folder, so :func:`write_slide_style` copies it to ``lessons/``.
RISE_CSS = Path(__file__).resolve().parent / "assets" / "rise.css"
#: Set to 1 for JupyterLab and so for every kernel it starts (unless already set).
KERNEL_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ---------------------------------------------------------------------------- working copies
def lessons(src_dir: Path | str = NOTEBOOKS) -> list[Path]:
    """The lesson sources in ``src_dir`` (``NN_topic``; the ``.py`` of a Jupytext pair)."""
    from nls_lessons.publish import book

    return book.discover(src_dir)


def write_working_copy(src: Path | str, dst: Path | str) -> Path:
    """Write the fresh working copy of lesson ``src`` to ``dst`` (overwrites: callers decide).

    The copy is the learner version (:func:`nls_lessons.publish.learner.write_learner_copy`: every
    solution folded behind a closed "Show the solution", no outputs, no Jupytext pairing),
    made from the lesson's paired ``.ipynb`` (the same cells, with stable cell ids).
    """
    from nls_lessons.publish.learner import write_learner_copy

    src = Path(src)
    paired = src.with_suffix(".ipynb")
    return write_learner_copy(paired if paired.exists() else src, dst)


def instructor_material(src_dir: Path | str = NOTEBOOKS) -> list[Path]:
    """The lecturer's material in ``src_dir/instructor/``: its notebooks (``NN_name``, the ``.py`` of a
    Jupytext pair; today the 50-minute lecture), then its notes ``NN_name.md``. Empty without that folder."""
    from nls_lessons.publish import book

    folder = Path(src_dir) / INSTRUCTOR_DIR_NAME
    if not folder.is_dir():
        return []
    return book.discover(folder) + [p for p in sorted(folder.glob("*.md")) if book.LESSON_RE.match(p.stem)]


def is_instructor_material(src: Path | str) -> bool:
    return Path(src).parent.name == INSTRUCTOR_DIR_NAME


def write_instructor_copy(src: Path | str, dst: Path | str) -> Path:
    """Write the lecturer's copy of ``src`` to ``dst`` (overwrites: callers decide): a notes file as it
    is; a notebook whole (solutions and speaker notes kept), without outputs or Jupytext pairing."""
    import nbformat

    from nls_lessons.publish import book
    from nls_lessons.publish.learner import strip_outputs

    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.suffix == ".md":
        shutil.copyfile(src, dst)
        return dst
    paired = src.with_suffix(".ipynb")
    nb = strip_outputs(book.read_notebook(paired if paired.exists() else src))
    nb.metadata.pop("jupytext", None)
    nbformat.write(nb, str(dst))
    return dst


def copy_path(src: Path | str, work_dir: Path | str = WORK_DIR) -> Path:
    """Where the working copy of lesson ``src`` lives (instructor material: in ``instructor/``)."""
    src = Path(src)
    if is_instructor_material(src):
        return Path(work_dir) / INSTRUCTOR_DIR_NAME / (src.name if src.suffix == ".md" else f"{src.stem}.ipynb")
    return Path(work_dir) / f"{src.stem}.ipynb"


def _write_copy(src: Path, dst: Path) -> Path:
    return (write_instructor_copy if is_instructor_material(src) else write_working_copy)(src, dst)


def ensure_working_copies(src_dir: Path | str = NOTEBOOKS, work_dir: Path | str = WORK_DIR,
                          log=print, instructor: bool = False) -> list[Path]:
    """Create the working copy of every lesson that has none yet, and with ``instructor=True``
    (``make lecture``) of the instructor material too (:func:`instructor_material`: the lecture
    and the notes, which hold the solutions, so a learner's ``make lab`` never copies them);
    never touch an existing one.

    Returns the copies created (empty when every lesson already had one).
    """
    sources = lessons(src_dir)
    if not sources:
        raise ValueError(f"src_dir={str(src_dir)!r} holds no lesson (NN_topic.py / .ipynb)")
    material = instructor_material(src_dir) if instructor else []
    write_slide_style(work_dir)
    if material:
        write_slide_style(Path(work_dir) / INSTRUCTOR_DIR_NAME)
    created = []
    for src in sources + material:
        dst = copy_path(src, work_dir)
        if not dst.exists():
            _write_copy(src, dst)
            created.append(dst)
            log(f"  new working copy {_show(dst)} (from {_show(src)})")
    return created


def write_slide_style(work_dir: Path | str = WORK_DIR) -> Path:
    """Put the course's ``rise.css`` (:data:`RISE_CSS`) next to the working copies, where RISE
    loads it for every slideshow. The file is the course's, not the learner's: it is refreshed
    when the course's version changes."""
    target = Path(work_dir) / RISE_CSS.name
    target.parent.mkdir(parents=True, exist_ok=True)
    text = RISE_CSS.read_text(encoding="utf-8")
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return target


def resolve_lesson(name: str, src_dir: Path | str = NOTEBOOKS) -> Path:
    """The lesson source that ``name`` means: ``03``, ``3``, ``03_negative_label_smoothing``,
    ``03_negative_label_smoothing.ipynb`` or a path to the copy or source all name lesson 03;
    ``50`` or ``50_minute_lecture`` name the lecture (instructor notebooks count too)."""
    sources = lessons(src_dir) + [p for p in instructor_material(src_dir) if p.suffix != ".md"]
    stems = [s.stem for s in sources]
    key = Path(str(name).strip()).name
    for suffix in (".ipynb", ".py"):
        key = key.removesuffix(suffix)
    if key.isascii() and key.isdigit():        # "²" and "٣" are digits to Python, not lesson numbers
        key = f"{int(key):02d}"
        matches = [s for s in sources if s.stem.split("_", 1)[0] == key]
    else:
        matches = [s for s in sources if s.stem == key]
    if len(matches) != 1:
        raise ValueError(f"lesson={name!r} names no lesson; use a number (00..{stems[-1][:2]}) "
                         f"or one of: {', '.join(stems)}")
    return matches[0]


def reset_lesson(name: str, src_dir: Path | str = NOTEBOOKS, work_dir: Path | str = WORK_DIR,
                 log=print) -> Path:
    """Replace the working copy of lesson ``name`` with a fresh one; keep the old one as a backup.

    Asks nothing; logs what it did. Returns the path of the fresh copy.
    """
    src = resolve_lesson(name, src_dir)
    dst = copy_path(src, work_dir)
    if dst.exists():
        backup = Path(work_dir) / BACKUP_DIR_NAME / f"{dst.stem}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(dst, backup)
        _write_copy(src, dst)
        log(f"reset {_show(dst)} to a fresh copy of {_show(src)}; your previous copy is in {_show(backup)}")
    else:
        _write_copy(src, dst)
        log(f"created {_show(dst)} from {_show(src)} (there was no copy to reset)")
    return dst


def _show(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------- JupyterLab
def lab_settings_dir(prefix: Path | str = sys.prefix) -> Path:
    """``<prefix>/share/jupyter/lab/settings``: the settings folder JupyterLab and RISE read."""
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings"


def install_lab_settings(prefix: Path | str = sys.prefix) -> Path:
    """Write :data:`LAB_SETTINGS` to ``overrides.d/nls-lessons.json`` (only when it changed)."""
    target = lab_settings_dir(prefix) / "overrides.d" / SETTINGS_FILE_NAME
    text = json.dumps(LAB_SETTINGS, indent=2, sort_keys=True) + "\n"
    if not target.exists() or target.read_text() != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text, fsync=False)     # two test workers may write it at once
    return target


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port`` (IPv4 or IPv6, as ``host`` resolves)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def find_free_port(start: int = 8888, tries: int = 50, host: str = "127.0.0.1") -> int:
    """The first free port in ``[start, start + tries)`` (at most 65535); a clear error when none is."""
    stop = min(start + tries, MAX_PORT + 1)
    for port in range(start, stop):
        if port_is_free(port, host):
            return port
    raise RuntimeError(f"no free port in {start}..{stop - 1} on {host}; stop another Jupyter server or pass "
                       f"another --port (1..{MAX_PORT})")


# ---------------------------------------------------------------------------- the token and the host
MAX_PORT = 65535
#: A token is the only thing between the lab and anyone who can reach its port: at least this many
#: characters, of at least :data:`MIN_TOKEN_DISTINCT` different ones, URL-safe.
MIN_TOKEN_LENGTH = 16
MIN_TOKEN_DISTINCT = 8
_TOKEN_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")


def check_token(token: str, name: str = "NLS_LAB_TOKEN") -> str:
    """Return ``token``, or raise ``ValueError`` (never quoting it) when it is weak: shorter than
    :data:`MIN_TOKEN_LENGTH`, of fewer than :data:`MIN_TOKEN_DISTINCT` different characters, or
    with a character outside letters, digits and ``-_.~`` (it goes into the URL)."""
    allowed = (f"at least {MIN_TOKEN_LENGTH} characters, of at least {MIN_TOKEN_DISTINCT} different ones, "
               f"letters, digits, '-', '_', '.' or '~' (a new one: python -c \"import secrets; "
               f"print(secrets.token_hex(16))\"), or leave it unset for a fresh random token")
    if not isinstance(token, str) or len(token.strip()) < MIN_TOKEN_LENGTH:
        raise ValueError(f"{name} is too weak ({len(str(token).strip())} characters); it must be {allowed}")
    if not set(token) <= _TOKEN_CHARACTERS:
        raise ValueError(f"{name} holds a character that is not a letter, digit, '-', '_', '.' or '~'; it must be "
                         f"{allowed}")
    if len(set(token)) < MIN_TOKEN_DISTINCT:
        raise ValueError(f"{name} is too weak ({len(set(token))} different characters); it must be {allowed}")
    return token


def lab_environment(token: str, environ=None) -> dict:
    """The environment JupyterLab runs in: ``environ`` (default ``os.environ``) with the token in
    ``JUPYTER_TOKEN`` (a process's environment is readable only by its user, its command line by
    everyone) and one BLAS/OpenMP thread for every kernel (:data:`KERNEL_THREAD_ENV`)."""
    env = dict(os.environ if environ is None else environ)
    env.pop("JUPYTER_TOKEN_FILE", None)          # it would win over JUPYTER_TOKEN
    env["JUPYTER_TOKEN"] = token
    for name in KERNEL_THREAD_ENV:
        env.setdefault(name, "1")
    return env


def resolve_host(host: str, name: str = "--host") -> list[str]:
    """The addresses ``host`` resolves to, or ``ValueError`` naming ``name`` when it does not."""
    import ipaddress

    if not isinstance(host, str) or not host.strip():
        raise ValueError(f"{name} is empty; give an address to listen on, e.g. 127.0.0.1 (this machine only)")
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise ValueError(f"{name} {host!r} does not resolve to an address ({err}); give an address or a "
                         f"known host name, e.g. 127.0.0.1 (this machine only)") from None
    return sorted({info[4][0] for info in infos})


def beyond_loopback(addresses) -> list[str]:
    """The addresses of ``addresses`` that other machines may reach (not 127.0.0.0/8 or ::1)."""
    import ipaddress

    return [a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback]


def lab_command(port: int, host: str, open_browser: bool,
                root_dir: Path | str = WORK_DIR, default_path: str = WELCOME) -> list[str]:
    """The ``jupyter lab`` argument list (kept separate so it can be tested). It holds no token:
    the token goes in the environment (:func:`lab_environment`).

    ``root_dir`` is the folder JupyterLab may read and write (the working copies);
    ``default_path`` the notebook it opens, relative to ``root_dir``.
    """
    cmd = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={Path(root_dir).resolve()}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.ip={host}",
        f"--LabApp.default_url=/lab/tree/{default_path}",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def _port(text: str) -> int:
    """argparse type: a port number 1..65535 (ASCII digits)."""
    text = str(text).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be a port number in 1..{MAX_PORT}, got {text!r}")
    return int(text)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nls_lessons.publish.lab",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=_port, default=None,
                        help="first port to try, 1..65535 (default $NLS_LAB_PORT or 8888; the next free one is "
                             "used if busy)")
    parser.add_argument("--host", default=None,
                        help="address to listen on (default $NLS_LAB_HOST or 127.0.0.1: this machine only)")
    parser.add_argument("--no-browser", action="store_true", default=_env_flag("NLS_LAB_NO_BROWSER"),
                        help="do not try to open a web browser")
    parser.add_argument("--lessons-dir", default=str(WORK_DIR),
                        help=f"the working copies' folder (default {_show(WORK_DIR)}/)")
    parser.add_argument("--reset", metavar="LESSON",
                        help="replace one lesson's working copy with a fresh one (e.g. 03), then exit")
    parser.add_argument("--lecture", action="store_true",
                        help=f"open the 50-minute lecture ({LECTURE}) instead of the welcome lesson")
    parser.add_argument("--copies-only", action="store_true",
                        help="create the missing working copies, then exit without starting JupyterLab")
    args = parser.parse_args(argv)
    if args.reset is not None and args.copies_only:
        parser.error("--reset and --copies-only are two different actions; give one of them")
    if args.port is None:
        try:
            args.port = _port(os.environ.get("NLS_LAB_PORT", "8888"))
        except argparse.ArgumentTypeError as err:
            parser.error(f"NLS_LAB_PORT {err}")
    if not args.lessons_dir.strip():
        parser.error("--lessons-dir is empty; it must name a folder (for the working copies)")
    work_dir = Path(args.lessons_dir)
    base = work_dir
    while not base.exists() and base != base.parent:
        base = base.parent
    if base.exists() and not base.is_dir():
        parser.error(f"--lessons-dir {work_dir}: {base} is a file; --lessons-dir must name a folder")
    host_flag = "--host" if args.host is not None else "NLS_LAB_HOST"
    host = args.host if args.host is not None else os.environ.get("NLS_LAB_HOST", "127.0.0.1")
    start = args.reset is None and not args.copies_only
    if start:
        try:
            addresses = resolve_host(host, host_flag)
            token = check_token(os.environ["NLS_LAB_TOKEN"]) if "NLS_LAB_TOKEN" in os.environ \
                else secrets.token_hex(16)
            port = find_free_port(args.port, host=host)
        except (ValueError, RuntimeError) as exc:
            parser.error(str(exc))

    if args.reset is not None:
        try:
            reset_lesson(args.reset, work_dir=work_dir)
        except ValueError as exc:
            parser.error(str(exc))
        return
    created = ensure_working_copies(work_dir=work_dir, instructor=args.lecture)
    print(f"==> your working copies are in {_show(work_dir)}/ "
          f"({len(created)} new; existing copies are never overwritten; "
          "`make reset LESSON=NN` starts one lesson afresh)", flush=True)
    if args.copies_only:
        return
    install_lab_settings()
    if not args.lecture:        # a learner's lab: nbgrader's instructor tools off (a lecturer's keeps them)
        learner = str(install_learner_config())
        os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            [learner, *[p for p in os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]])
    if port != args.port:
        print(f"port {args.port} is busy; using {port} instead", flush=True)
    open_to = beyond_loopback(addresses)
    if open_to:
        print(f"\n  WARNING: {host_flag} {host} listens on {', '.join(open_to)}: other machines can reach this "
              f"JupyterLab, and anyone with the URL's token can run code as you. Use 127.0.0.1 (this machine "
              f"only) unless you mean it.\n", file=sys.stderr, flush=True)
    start = LECTURE if args.lecture else WELCOME
    url = f"http://{host}:{port}/lab/tree/{start}?token={token}"
    print("\n  nls-lessons: JupyterLab is starting. Open this URL in your browser:\n"
          f"\n      {url}\n\n  (Ctrl-C twice stops the server.)\n", flush=True)
    cmd = lab_command(port, host, open_browser=not args.no_browser, root_dir=work_dir, default_path=start)
    os.chdir(work_dir)
    os.execve(cmd[0], cmd, lab_environment(token))


if __name__ == "__main__":
    main()
