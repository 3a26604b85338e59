"""Start JupyterLab on the course (``make lab`` runs ``python -m nls_lessons.lab``).

- opens ``notebooks/00_welcome.ipynb``;
- picks a free port (8888 upwards) when the default one is busy;
- adds ``--allow-root`` when run as root (JupyterLab refuses to start otherwise);
- prints the URL, token included, before JupyterLab's own log starts.
"""
from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WELCOME = "notebooks/00_welcome.ipynb"


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


def lab_command(port: int, token: str, host: str, open_browser: bool) -> list[str]:
    """The ``jupyter lab`` argument list (kept separate so it can be tested)."""
    cmd = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={REPO}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.ip={host}",
        f"--IdentityProvider.token={token}",
        f"--LabApp.default_url=/lab/tree/{WELCOME}",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("NLS_LAB_PORT", 8888)),
                        help="first port to try (default 8888; the next free one is used if busy)")
    parser.add_argument("--host", default=os.environ.get("NLS_LAB_HOST", "127.0.0.1"))
    parser.add_argument("--no-browser", action="store_true",
                        default=bool(os.environ.get("NLS_LAB_NO_BROWSER")),
                        help="do not try to open a web browser")
    args = parser.parse_args(argv)

    port = find_free_port(args.port, host=args.host)
    if port != args.port:
        print(f"port {args.port} is busy; using {port} instead", flush=True)
    token = os.environ.get("NLS_LAB_TOKEN") or secrets.token_hex(16)
    url = f"http://{args.host}:{port}/lab/tree/{WELCOME}?token={token}"
    print("\n  nls-lessons: JupyterLab is starting. Open this URL in your browser:\n"
          f"\n      {url}\n\n  (Ctrl-C twice stops the server.)\n", flush=True)
    cmd = lab_command(port, token, args.host, open_browser=not args.no_browser)
    os.chdir(REPO)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
