"""nls_lessons.files: one atomic writer for everything the library saves, following the umask."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from nls_lessons import files
from nls_lessons.publish.learner import write_learner_copy

WELCOME = Path(__file__).resolve().parents[1] / "notebooks" / "00_welcome.py"


@pytest.mark.parametrize("payload, expected", [(b"\x00bytes", b"\x00bytes"), ("r = \u22122", "r = \u22122".encode()),
                                               (lambda f: f.write(b"from a writer"), b"from a writer")])
def test_every_kind_of_payload_lands_whole(tmp_path, payload, expected):
    path = files.write_atomic(tmp_path / "out.bin", payload)
    assert path.read_bytes() == expected and os.listdir(tmp_path) == ["out.bin"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("old")

    def broken(f):
        f.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        files.write_atomic(target, broken)
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["results.csv"]
    assert not list(tmp_path.glob(files.TEMPORARY))


def test_a_payload_of_another_type_is_refused_by_name(tmp_path):
    with pytest.raises(TypeError, match="payload must be bytes, str or a callable writer, got int"):
        files.write_atomic(tmp_path / "x", 3)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_the_mode_is_what_open_would_give(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        assert files.umask() == umask
        written = files.write_atomic(tmp_path / "a", b"x")
        copy = write_learner_copy(WELCOME, tmp_path / "00_welcome.ipynb")
    finally:
        os.umask(old)
    for path in (written, copy):
        assert stat.S_IMODE(path.stat().st_mode) == mode, f"{path.name}: {oct(path.stat().st_mode)}"
