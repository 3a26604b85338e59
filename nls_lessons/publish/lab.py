"""Start JupyterLab on the learner's own working copies (``make lab`` runs this module).

    python -m nls_lessons.publish.lab                     # create missing copies, start JupyterLab
    python -m nls_lessons.publish.lab --reset 03          # lesson 03's copy back to fresh (asks nothing)
    python -m nls_lessons.publish.lab --copies-only       # create missing copies, do not start

Working copies (issue 15, item 8):

- Every lesson in ``notebooks/`` gets a plain ``.ipynb`` copy in ``lessons/`` (top level, next to
  ``notebooks/``, git-ignored), made once from the *learner* version of the lesson
  (:func:`nls_lessons.publish.learner.write_learner_copy`: solutions folded, none runnable),
  without outputs and without Jupytext pairing.
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
  scrolling, wrapped code lines so nothing is clipped on a slide) as an ``overrides.d`` file in
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
- prints the URL, token included, before JupyterLab's own log starts.
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

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
#: The learner's working folder (git-ignored); ``$NLS_LESSONS_DIR`` moves it.
WORK_DIR = Path(os.environ.get("NLS_LESSONS_DIR", REPO / "lessons"))
BACKUP_DIR_NAME = ".reset-backups"
WELCOME = "00_welcome.ipynb"

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
}
SETTINGS_FILE_NAME = "nls-lessons.json"
#: The course's slide style for RISE (a markdown code block stays inside the slide); RISE loads
#: ``rise.css`` from the notebook's folder, so :func:`write_slide_style` copies it to ``lessons/``.
RISE_CSS = Path(__file__).resolve().parent / "assets" / "rise.css"
#: Set to 1 for JupyterLab and so for every kernel it starts (unless already set).
KERNEL_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
#: The lecturer's tools that nbgrader (the ``[classroom]`` extra) adds to JupyterLab; a learner's
#: ``make lab`` turns them off (:func:`install_learner_config`). The student side (the assignment
#: list, "Validate") stays: on a JupyterHub a learner fetches and submits with it.
INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:menu")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")


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


def copy_path(src: Path | str, work_dir: Path | str = WORK_DIR) -> Path:
    """Where the working copy of lesson ``src`` lives."""
    return Path(work_dir) / f"{Path(src).stem}.ipynb"


def ensure_working_copies(src_dir: Path | str = NOTEBOOKS, work_dir: Path | str = WORK_DIR,
                          log=print) -> list[Path]:
    """Create the working copy of every lesson that has none yet; never touch an existing one.

    Returns the copies created (empty when every lesson already had one).
    """
    sources = lessons(src_dir)
    if not sources:
        raise ValueError(f"src_dir={str(src_dir)!r} holds no lesson (NN_topic.py / .ipynb)")
    write_slide_style(work_dir)
    created = []
    for src in sources:
        dst = copy_path(src, work_dir)
        if not dst.exists():
            write_working_copy(src, dst)
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
    ``03_negative_label_smoothing.ipynb`` or a path to the copy or source all name lesson 03."""
    sources = lessons(src_dir)
    stems = [s.stem for s in sources]
    key = Path(str(name).strip()).name
    for suffix in (".ipynb", ".py"):
        key = key.removesuffix(suffix)
    if key.isdigit():
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
        write_working_copy(src, dst)
        log(f"reset {_show(dst)} to a fresh copy of {_show(src)}; your previous copy is in {_show(backup)}")
    else:
        write_working_copy(src, dst)
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
        target.write_text(text)
    return target


def learner_config_dir(prefix: Path | str = sys.prefix) -> Path:
    """``<prefix>/etc/nls-lessons/learner``: Jupyter config read only by ``make lab``."""
    return Path(prefix) / "etc" / "nls-lessons" / "learner"


def install_learner_config(prefix: Path | str = sys.prefix) -> Path:
    """Write the learner-only Jupyter config (:data:`INSTRUCTOR_LAB_PLUGINS` and
    :data:`INSTRUCTOR_SERVER_EXTENSIONS` off) and return its folder, for ``JUPYTER_CONFIG_PATH``.
    A folder there outranks the environment's own config, so nbgrader's "on" is overridden for
    this launch only; a lecturer's plain ``jupyter lab`` keeps formgrader."""
    folder = learner_config_dir(prefix)
    files = {
        folder / "labconfig" / "page_config.json": {"disabledExtensions": {p: True for p in INSTRUCTOR_LAB_PLUGINS}},
        folder / "jupyter_server_config.json": {
            "ServerApp": {"jpserver_extensions": {e: False for e in INSTRUCTOR_SERVER_EXTENSIONS}}},
    }
    for path, data in files.items():
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return folder


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def find_free_port(start: int = 8888, tries: int = 50, host: str = "127.0.0.1") -> int:
    """The first free port in ``[start, start + tries)``; a clear error when none is."""
    for port in range(start, start + tries):
        if port_is_free(port, host):
            return port
    raise RuntimeError(
        f"no free port in {start}..{start + tries - 1} on {host}; "
        "stop another Jupyter server or pass --port"
    )


def lab_command(port: int, token: str, host: str, open_browser: bool,
                root_dir: Path | str = WORK_DIR, default_path: str = WELCOME) -> list[str]:
    """The ``jupyter lab`` argument list (kept separate so it can be tested).

    ``root_dir`` is the folder JupyterLab may read and write (the working copies);
    ``default_path`` the notebook it opens, relative to ``root_dir``.
    """
    cmd = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={Path(root_dir).resolve()}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.ip={host}",
        f"--IdentityProvider.token={token}",
        f"--LabApp.default_url=/lab/tree/{default_path}",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nls_lessons.publish.lab",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("NLS_LAB_PORT", 8888)),
                        help="first port to try (default 8888; the next free one is used if busy)")
    parser.add_argument("--host", default=os.environ.get("NLS_LAB_HOST", "127.0.0.1"))
    parser.add_argument("--no-browser", action="store_true",
                        default=bool(os.environ.get("NLS_LAB_NO_BROWSER")),
                        help="do not try to open a web browser")
    parser.add_argument("--lessons-dir", default=str(WORK_DIR),
                        help=f"the working copies' folder (default {_show(WORK_DIR)}/)")
    parser.add_argument("--reset", metavar="LESSON",
                        help="replace one lesson's working copy with a fresh one (e.g. 03), then exit")
    parser.add_argument("--copies-only", action="store_true",
                        help="create the missing working copies, then exit without starting JupyterLab")
    args = parser.parse_args(argv)
    work_dir = Path(args.lessons_dir)

    if args.reset is not None:
        try:
            reset_lesson(args.reset, work_dir=work_dir)
        except ValueError as exc:
            parser.error(str(exc))
        return
    created = ensure_working_copies(work_dir=work_dir)
    print(f"==> your working copies are in {_show(work_dir)}/ "
          f"({len(created)} new; existing copies are never overwritten; "
          "`make reset LESSON=NN` starts one lesson afresh)", flush=True)
    if args.copies_only:
        return
    install_lab_settings()
    learner = str(install_learner_config())
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        [learner, *[p for p in os.environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p]])

    port = find_free_port(args.port, host=args.host)
    if port != args.port:
        print(f"port {args.port} is busy; using {port} instead", flush=True)
    token = os.environ.get("NLS_LAB_TOKEN") or secrets.token_hex(16)
    url = f"http://{args.host}:{port}/lab/tree/{WELCOME}?token={token}"
    print("\n  nls-lessons: JupyterLab is starting. Open this URL in your browser:\n"
          f"\n      {url}\n\n  (Ctrl-C twice stops the server.)\n", flush=True)
    cmd = lab_command(port, token, args.host, open_browser=not args.no_browser, root_dir=work_dir)
    os.chdir(work_dir)
    for name in KERNEL_THREAD_ENV:     # every kernel inherits this (lesson 02 explains why)
        os.environ.setdefault(name, "1")
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
