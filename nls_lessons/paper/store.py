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
import io
import json
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np

from nls_lessons import files, output


DEFAULT_OUT = Path("artifacts") / "reproduce"
#: Where the command line's default ``--out`` lands when run from the repository root, as the
#: README does; lesson 05 reads it from here (working copies sit in another folder).
COURSE_RESULTS = Path(__file__).resolve().parents[2] / DEFAULT_OUT


KEY = ["dataset", "noise", "noise_rate", "protocol", "config", "n_train", "n_test", "seed", "smooth_rate"]
ROWS_DIR = "rows"
_INT_COLUMNS = ("best_epoch", "diverged_epoch", "warmup_best_epoch")


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

    A row's file name is a hash of its key (:func:`row_key`), so saving the same row again (a
    resumed or a concurrent run) replaces it instead of adding a duplicate. Each file carries a
    checksum of its content (:data:`CHECKSUM`), so a damaged file is never read as a result.
    """
    folder = Path(out) / ROWS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(files.TEMPORARY):     # left by a writer killed an hour or more ago
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 3600:
                stale.unlink()
    for row in rows:
        row = {k: v for k, v in row.items() if k != CHECKSUM}
        row[CHECKSUM] = _checksum(row)
        files.write_atomic(folder / _file_name(row), json.dumps(row, default=_json_value, sort_keys=True))


def _file_name(row) -> str:
    return hashlib.sha1(repr(row_key(*(row[k] for k in KEY))).encode()).hexdigest()[:20] + ".json"


def _checksum(row) -> str:
    body = {k: v for k, v in row.items() if k != CHECKSUM}
    return hashlib.sha256(json.dumps(body, default=_json_value, sort_keys=True).encode()).hexdigest()[:16]


def load_results(path) -> "pd.DataFrame":
    """The stored results as a DataFrame (empty, with the key columns, when there are none).

    ``path``: the ``--out`` folder (its ``rows/`` store; an older ``results.csv`` alone is read
    too), or a ``results.csv`` file. Every row is validated (:func:`row_problem`); a file that
    is unreadable, damaged, not named by its key or holds an unusable row is skipped with a
    warning naming it, so a damaged store never stops a run: the missing rows are trained
    again. A ``results.csv`` that does not match the rows is named in a warning too (the next
    run rebuilds it, :func:`sync_export`).
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise TypeError(f"path must be an output folder or a results.csv path, got {path!r}")
    path = Path(path)
    folder = path.parent if path.suffix == ".csv" else path
    frame = _load(path)
    csv = folder / "results.csv"
    if (folder / ROWS_DIR).is_dir() and csv.exists() and not _export_matches(csv, frame):
        output.warn(f"{csv} does not match the rows in {folder / ROWS_DIR} (damaged or from another run); "
                      f"it is not read, and the next run rebuilds it from the rows")
    return frame


def _load(path: Path):
    """:func:`load_results` without the check of the export."""
    import pandas as pd

    folder = path.parent if path.suffix == ".csv" else path
    rows_dir = folder / ROWS_DIR
    if rows_dir.is_dir():
        rows, bad = [], []
        for f in sorted(rows_dir.glob("*.json")):
            if f.name.startswith("."):          # a temporary file of a writer (maybe killed): not a row
                continue
            try:
                row = json.loads(f.read_bytes().decode("utf-8"))
            except (OSError, UnicodeDecodeError, ValueError, RecursionError):
                bad.append(f"{f.name} (unreadable)")
                continue
            problem = row_problem(row)
            if problem is None and f.name != _file_name(row):
                problem = "not named by its key: a copy?"
            if problem is None:
                rows.append({k: v for k, v in row.items() if k != CHECKSUM})
            else:
                bad.append(f"{f.name} ({problem})")
        if bad:
            output.warn(f"skipped {len(bad)} unreadable file(s) in {rows_dir}: {'; '.join(bad[:3])}"
                          f"{'; ...' if len(bad) > 3 else ''}. Their rows will be trained again")
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=KEY)
    else:
        frame = _read_csv(path if path.suffix == ".csv" else folder / "results.csv")
    frame = _typed(frame)
    if len(frame):
        keys = [row_key(*row) for row in frame[KEY].itertuples(index=False)]
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
    """An exported or older results.csv, keeping only usable rows (warns about the rest)."""
    import pandas as pd

    if not csv.is_file() or csv.stat().st_size == 0:
        return pd.DataFrame(columns=KEY)
    text = csv.read_bytes()
    cut = not text.endswith(b"\n")                  # its last line was cut by a crash: not a row
    try:
        frame = pd.read_csv(io.BytesIO(text[:text.rfind(b"\n") + 1] if cut else text), on_bad_lines="skip")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as err:
        output.warn(f"{csv} is unreadable ({type(err).__name__}); ignoring it")
        return pd.DataFrame(columns=KEY)
    if not set(KEY) <= set(frame.columns):
        output.warn(f"{csv} has no results columns ({', '.join(KEY)}); ignoring it")
        return pd.DataFrame(columns=KEY)
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    ok = np.array([row_problem(r, from_csv=True) is None for r in records], dtype=bool)
    if not ok.all() or cut:
        output.warn(f"skipped {int((~ok).sum()) + cut} incomplete or unusable row(s) of {csv} (a run stopped "
                      f"while writing, or the file was changed); they will be trained again")
    return frame[ok].reset_index(drop=True)


def _export_text(frame) -> str:
    return frame.to_csv(index=False)


def _export_matches(csv: Path, frame) -> bool:
    try:
        return csv.read_bytes() == _export_text(frame).encode()
    except OSError:
        return False


def export_csv(out) -> Path:
    """Rebuild ``out/results.csv`` (atomically) from the ``rows/`` store; returns its path."""
    out = Path(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = _load(out)
    csv = out / "results.csv"
    files.write_atomic(csv, _export_text(frame))
    return csv


def sync_export(out) -> bool:
    """Rebuild ``out/results.csv`` when it is missing or does not match the ``rows/`` store
    (damaged, edited, from another run). Returns True when it was rebuilt."""
    out = Path(out)
    if not (out / ROWS_DIR).is_dir():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = _load(out)
    if _export_matches(out / "results.csv", frame):
        return False
    files.write_atomic(out / "results.csv", _export_text(frame))
    return True


# ---------------------------------------------------------------------------- what a row is
#: Every column a stored row may have (``runner.run_cell``'s row and the store's own).
CHECKSUM = "checksum"
RESULT_COLUMNS = ("best_acc", "final_acc", "diverged")
COLUMNS = frozenset(KEY) | frozenset(RESULT_COLUMNS) | {
    "realised_noise_rate", "model", "best_epoch", "train_loss", "diverged_epoch", "warmup_best_acc",
    "warmup_best_epoch", "warmup_epochs", "epochs", "n_train_used", "n_test_used", "precision", "noise_method",
    "device", "seconds", CHECKSUM}


def _real(v):
    """``v`` as a float when it is a real number (not a boolean), else None."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    return float(v)


def _int(v, from_csv: bool):
    """``v`` as an int when it is an integer (an integral float too when read from a CSV)."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    if from_csv and isinstance(v, (float, np.floating)) and float(v).is_integer():
        return int(v)
    return None


def row_problem(row, from_csv: bool = False) -> str | None:
    """Why ``row`` (a stored row, a dict) cannot be used as a result; None when it can.

    A usable row has the :data:`KEY` columns with valid values (rates in range, an integer
    seed >= 0, sizes None or >= 1), boolean ``diverged``, accuracies in [0, 100] (NaN only
    when the run diverged), epochs None or >= 1, no column outside :data:`COLUMNS`, and, when
    it carries one, a matching :data:`CHECKSUM`. ``from_csv``: values read back from a CSV
    (integral floats for integers, "True"/"False" for booleans).
    """
    if not isinstance(row, dict):
        return f"not a row object but {type(row).__name__}"
    missing = [c for c in (*KEY, *RESULT_COLUMNS) if c not in row]
    if missing:
        return f"no {', '.join(missing)}"
    unknown = sorted(str(c) for c in set(row) - COLUMNS)
    if unknown:
        return f"unknown column(s) {', '.join(unknown[:3])}"
    if CHECKSUM in row and row[CHECKSUM] != _checksum(row):
        return "checksum does not match its content"
    for c in ("dataset", "noise", "protocol", "config"):
        if not isinstance(row[c], str) or not row[c]:
            return f"{c} is not a name"
    eps, rate = _real(row["noise_rate"]), _real(row["smooth_rate"])
    if eps is None or not 0.0 <= eps < 1.0:
        return f"noise_rate {row['noise_rate']!r} is not in [0, 1)"
    if rate is None or not math.isfinite(rate) or rate > 1.0:
        return f"smooth_rate {row['smooth_rate']!r} is not a finite number <= 1"
    seed = _int(row["seed"], from_csv)
    if seed is None or not 0 <= seed <= 2**32 - 1:
        return f"seed {row['seed']!r} is not an integer in [0, 2**32 - 1]"
    for c in ("n_train", "n_test", *_INT_COLUMNS):
        v = row.get(c)
        if v is not None and not (from_csv and isinstance(v, float) and math.isnan(v)):
            n = _int(v, from_csv)
            if n is None or n < 1:
                return f"{c} {v!r} is not None or an integer >= 1"
    diverged = row["diverged"]
    if from_csv and isinstance(diverged, str) and diverged in ("True", "False"):
        diverged = diverged == "True"
    if not isinstance(diverged, (bool, np.bool_)):
        return f"diverged {row['diverged']!r} is not true or false"
    for c in ("best_acc", "final_acc"):
        acc = _real(row[c]) if row[c] is not None else (math.nan if from_csv else None)
        if acc is None or (math.isnan(acc) and not diverged) or not (math.isnan(acc) or 0.0 <= acc <= 100.0):
            return f"{c} {row[c]!r} is not an accuracy in [0, 100] (NaN only for a diverged run)"
    return None


# ---------------------------------------------------------------------------- one key per setting
#: Decimals of a rate in a setting's key: two rates that agree to this many decimals are one
#: setting (the store, the command line's check and the report all use :func:`rate_key`).
KEY_DECIMALS = 6


def rate_key(value) -> float:
    """A noise or smooth rate as the store keys it: rounded to :data:`KEY_DECIMALS` decimals
    (``-0.0`` is ``0.0``)."""
    return round(float(value), KEY_DECIMALS) + 0.0


def row_key(dataset, noise, noise_rate, protocol, config, n_train, n_test, seed, rate) -> tuple:
    """The one canonical key of a setting: a row's identity in the store, the plan and the report."""
    def opt_int(v):       # None, NaN and pandas.NA all mean "not given"
        try:
            return None if v is None else int(v)
        except (TypeError, ValueError):
            return None
    return (str(dataset), str(noise), rate_key(noise_rate), str(protocol), str(config),
            opt_int(n_train), opt_int(n_test), int(seed), rate_key(rate))


_row_key = row_key


def check_distinct(values, name: str, rates: bool = True) -> None:
    """Raise ``ValueError`` when two of ``values`` are one setting of the store: equal, or (for
    rates) equal to :data:`KEY_DECIMALS` decimals, so that the second row would overwrite the first."""
    seen = {}
    for v in values:
        k = rate_key(v) if rates else int(v)
        if k in seen:
            first = seen[k]
            if float(first) == float(v):
                raise ValueError(f"{name} must not repeat values; {v:g} is given more than once "
                                 f"(each value trains its own models)")
            raise ValueError(f"{name} gives {float(first)!r} and {float(v)!r}, one setting for the results store, "
                             f"which keeps rates to {KEY_DECIMALS} decimals (the second would overwrite the first); "
                             f"give values that differ within {KEY_DECIMALS} decimals")
        seen[k] = v
