"""Paths and markers shared by the book and slides tests (tests/test_book.py, tests/test_slides.py)."""
import contextlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "book_demo.py"
WELCOME = REPO / "notebooks" / "00_welcome.py"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
# Shared with `make book`: entries are keyed by notebook + library hashes, so sharing is safe
# and a second test run does not execute the notebooks again.
EXEC_CACHE = REPO / "build" / "exec-cache"


@contextlib.contextmanager
def exec_cache_lock():
    """Hold while building from :data:`EXEC_CACHE`: the book and the slides tests (two xdist
    workers, or the browser run) build from the same notebooks, so the first executes them and the
    others wait for its cache entries instead of executing them too."""
    import fcntl

    EXEC_CACHE.mkdir(parents=True, exist_ok=True)
    with open(EXEC_CACHE / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

# Unique strings planted in the fixture notebook's solution and removed cells.
SOLUTION_MARKER = "SOLUTION-MARKER-7f3a"
REMOVED_MARKER = "REMOVED-CELL-MARKER"
HINT_MARKER = "HINT-MARKER-2c9e"

# Requests a built page may make: local files and inline data only.
ALLOWED_URL = re.compile(r"^(file:|data:|about:|blob:|https?://(127\.0\.0\.1|localhost)[:/])")


DETAILS_RE = re.compile(r"<details\b[^>]*>(?:(?!<details\b).)*?</details>", re.S)


def outside_details(text: str) -> str:
    """``text`` with every ``<details>…</details>`` block removed (innermost first)."""
    while True:
        new = DETAILS_RE.sub("", text)
        if new == text:
            return new
        text = new


def solution_details(text: str) -> list[str]:
    return re.findall(r'<details class="nls-solution">.*?</details>', text, flags=re.S)
