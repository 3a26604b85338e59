"""Files the library writes: whole or not at all, readable as the user's umask says.

The sweep cache (``train``), the results store and checkpoints (``paper``), the book's executed
notebooks and the learner's working copies (``publish``) all write through :func:`write_atomic`::

    from nls_lessons import files
    files.write_atomic(path, b"...")                              # bytes
    files.write_atomic(path, "text")                              # str, UTF-8
    files.write_atomic(path, lambda f: torch.save(state, f))      # a writer given the open binary file

- A reader (another thread, process or Dask worker) sees the old file or the new one, never a part:
  the bytes go to a uniquely named temporary file in the same folder, then ``os.replace`` moves it
  into place; a failure removes the temporary file and re-raises.
- The file gets the mode a plain ``open(path, "w")`` would give (``0o666`` less the umask), not
  ``mkstemp``'s ``0o600``: with umask 002 a group sharing a results folder can read it; with 077 it
  stays the user's alone.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

#: The names of the temporary files :func:`write_atomic` makes (a glob; a killed writer leaves one).
TEMPORARY = ".*.tmp"


def umask() -> int:
    """The process's umask, read without changing it where the system allows (``/proc``)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)    # elsewhere: set and restore (not thread-safe, but momentary)
    os.umask(mask)
    return mask


def write_atomic(path, payload, *, fsync: bool = True) -> Path:
    """Write ``payload`` (bytes, str, or a callable given the open binary file) to ``path`` atomically;
    returns ``path`` as a :class:`~pathlib.Path`. ``fsync``: flush to disk before the move (results
    that must survive a crash); off for files that are cheap to rebuild."""
    path = Path(path)
    if not (isinstance(payload, (bytes, bytearray, str)) or callable(payload)):
        raise TypeError(f"payload must be bytes, str or a callable writer, got {type(payload).__name__}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")     # TEMPORARY
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as f:
            if callable(payload):
                payload(f)
            else:
                f.write(payload.encode("utf-8") if isinstance(payload, str) else payload)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
