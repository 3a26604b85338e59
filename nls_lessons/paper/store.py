"""Lesson 05's results store: one atomically written JSON file per row, named by its key.

Lesson 05 (paper scale). Results are stored one JSON file per finished (cell, smooth rate)
row in ``<out>/rows/``, written atomically (temporary file + ``os.replace``) and named by a
hash of the row's key (:data:`KEY`), so a run killed at any moment, or two runs writing the
same ``--out`` at once, never leave a half-written or a duplicated row.
``<out>/results.csv`` is an export rebuilt from ``rows/`` (:func:`export_csv`);
:func:`load_results` reads either.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from nls_lessons import output


DEFAULT_OUT = Path("artifacts") / "reproduce"
#: Where the command line's default ``--out`` lands when run from the repository root, as the
#: README does; lesson 05 reads it from here (working copies sit in another folder).
COURSE_RESULTS = Path(__file__).resolve().parents[2] / DEFAULT_OUT


KEY = ["dataset", "noise", "noise_rate", "protocol", "config", "n_train", "n_test", "seed", "smooth_rate"]
ROWS_DIR = "rows"
_INT_COLUMNS = ("best_epoch", "diverged_epoch", "warmup_best_epoch")


def _atomic_write(path: Path, write, binary: bool = False) -> None:
    """Write ``path`` through a uniquely named temporary file in the same folder and
    ``os.replace`` it into place: readers see the old file or the new one, never a part."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            if callable(write):
                write(f)
            else:
                f.write(write)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _json_value(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    raise TypeError(f"cannot store {type(v).__name__} in a results row")


def save_rows(out, rows) -> None:
    """Store ``rows`` (dicts with the :data:`KEY` columns) in ``out/rows/``, one file each.

    A row's file name is a hash of its key, so saving the same row again (a resumed or a
    concurrent run) replaces it instead of adding a duplicate.
    """
    folder = Path(out) / ROWS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".tmp-*"):          # left by a writer killed an hour or more ago
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink()
    for row in rows:
        key = _row_key(*(row[k] for k in KEY))
        name = hashlib.sha1(repr(key).encode()).hexdigest()[:20] + ".json"
        _atomic_write(folder / name, json.dumps(row, default=_json_value, sort_keys=True))


def _valid_key(row) -> bool:
    try:
        _row_key(*(row[k] for k in KEY))
    except (KeyError, TypeError, ValueError):
        return False
    return all(row[k] is not None and not (isinstance(row[k], float) and math.isnan(row[k]))
               for k in KEY if k not in ("n_train", "n_test"))


def load_results(path) -> "pd.DataFrame":
    """The stored results as a DataFrame (empty, with the key columns, when there are none).

    ``path``: the ``--out`` folder (its ``rows/`` store; an older ``results.csv`` alone is read
    too), or a ``results.csv`` file. Unreadable row files and incomplete CSV rows are skipped
    with a warning naming them, so a damaged store never stops a run: the missing rows are
    simply trained again.
    """
    import pandas as pd

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be an output folder or a results.csv path, got {type(path).__name__}")
    path = Path(path)
    folder = path.parent if path.suffix == ".csv" else path
    rows_dir = folder / ROWS_DIR
    if rows_dir.is_dir():
        rows, bad = [], []
        for f in sorted(rows_dir.glob("*.json")):
            if f.name.startswith("."):          # a temporary file of a writer (maybe killed): not a row
                continue
            try:
                row = json.loads(f.read_bytes().decode("utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                bad.append(f.name)
                continue
            (rows if isinstance(row, dict) and _valid_key(row) else bad).append(row if isinstance(row, dict) else f.name)
        bad = [b if isinstance(b, str) else "?" for b in bad]
        if bad:
            output.warn(f"skipped {len(bad)} unreadable file(s) in {rows_dir} ({', '.join(bad[:3])}"
                         f"{', ...' if len(bad) > 3 else ''}); their rows will be trained again")
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=KEY)
    else:
        csv = path if path.suffix == ".csv" else folder / "results.csv"
        frame = _read_csv(csv)
    frame = _typed(frame)
    if len(frame):
        keys = [_row_key(*row) for row in frame[KEY].itertuples(index=False)]
        frame = frame.assign(_key=keys).drop_duplicates("_key", keep="last").drop(columns="_key")
        frame = frame.sort_values(KEY[:5] + ["seed", "smooth_rate"], ascending=True, kind="stable")
    return frame.reset_index(drop=True)


def _typed(frame):
    """Epoch columns as nullable integers: ``diverged_epoch`` / ``best_epoch`` missing = pandas.NA."""
    import pandas as pd

    for col in _INT_COLUMNS:
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    return frame


def _read_csv(csv: Path):
    """An exported or older results.csv, keeping only complete rows (warns about the rest)."""
    import pandas as pd

    if not csv.is_file() or csv.stat().st_size == 0:
        return pd.DataFrame(columns=KEY)
    try:
        frame = pd.read_csv(csv, on_bad_lines="skip")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as err:
        output.warn(f"{csv} is unreadable ({type(err).__name__}); ignoring it")
        return pd.DataFrame(columns=KEY)
    if not set(KEY) <= set(frame.columns):
        output.warn(f"{csv} has no results columns ({', '.join(KEY)}); ignoring it")
        return pd.DataFrame(columns=KEY)
    ok = np.array([_valid_key(dict(zip(KEY, r))) for r in frame[KEY].itertuples(index=False)], dtype=bool)
    ok &= frame.drop(columns=KEY).notna().any(axis=1).to_numpy() if frame.shape[1] > len(KEY) else ok
    if not ok.all():
        output.warn(f"skipped {int((~ok).sum())} incomplete row(s) of {csv} (a run stopped while "
                     f"writing); they will be trained again")
    return frame[ok].reset_index(drop=True)


def export_csv(out) -> Path:
    """Rebuild ``out/results.csv`` (atomically) from the ``rows/`` store; returns its path."""
    out = Path(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = load_results(out)
    csv = out / "results.csv"
    _atomic_write(csv, frame.to_csv(index=False))
    return csv


def _row_key(dataset, noise, noise_rate, protocol, config, n_train, n_test, seed, rate):
    def opt_int(v):       # None, NaN and pandas.NA all mean "not given"
        try:
            return None if v is None else int(v)
        except (TypeError, ValueError):
            return None
    return (str(dataset), str(noise), round(float(noise_rate), 6), str(protocol), str(config),
            opt_int(n_train), opt_int(n_test), int(seed), round(float(rate), 6))
