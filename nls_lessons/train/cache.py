"""The sweep cache (``sweep(cache=...)``), lesson 04's instant re-runs (and lesson 05's grids).

An entry is a results CSV, a history CSV and a JSON sidecar that holds the full
configuration and the SHA-256 of both CSVs. Its key hashes that configuration together with
a fingerprint of the source of the modules that determine the numbers
(:data:`CODE_FINGERPRINT`: every module of this package and the library modules it trains
with), so editing the training code never serves stale results. A read checks everything
(the sidecar's configuration, both checksums, the exact columns, one row per grid point in
grid order, one history row per model and epoch); an entry that fails any check is
recomputed with a :class:`SweepCacheWarning` that names the file. Every file is written to a
unique temporary file in the same directory and moved into place with ``os.replace``, the
sidecar last, so readers never see half an entry and concurrent writers of one key do not
collide.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import nls_lessons
from nls_lessons import files, output
from nls_lessons import checks as _checks
from nls_lessons import data as _data
from nls_lessons import losses as _losses
from nls_lessons import metrics as _metrics
from nls_lessons import models as _models
from nls_lessons import noise as _noise
from nls_lessons.data import Dataset

from .config import TrainConfig
from .results import _RESULT_DTYPES, HISTORY_COLUMNS, RESULT_COLUMNS


def _code_fingerprint() -> str:
    """SHA-256 of the source of the modules that determine a sweep's numbers: the library
    modules training uses, then every module of this package (found on disk, so a module
    added to the package is covered without a list to update)."""
    h = hashlib.sha256()
    for module in (_checks, _data, _losses, _metrics, _models, _noise):
        h.update(module.__name__.encode())
        h.update(Path(module.__file__).read_bytes())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f"{__package__}.{path.stem}".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


CODE_FINGERPRINT = _code_fingerprint()
"""Fingerprint of the training code as imported (the ``nls_lessons.train`` package, models,
losses, noise, checks, data, metrics): part of every sweep cache key."""


class SweepCacheWarning(UserWarning):
    """A sweep cache entry failed a check (or could not be written) and is recomputed."""


CACHE_FORMAT = 2
"""Version of the cache entry layout (CSV + CSV + JSON sidecar with checksums)."""


class _Unusable(Exception):
    """A cache entry failed a check: ``path`` is the file, ``reason`` what was wrong."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _cache_key(data: Dataset, smooth_rates, noise_rates, seeds, cfg: TrainConfig) -> tuple[str, dict]:
    config = {"data": {"name": data.name, "fingerprint": data.fingerprint(), "num_classes": data.num_classes,
                       "train_shape": list(data.x_train.shape), "test_shape": list(data.x_test.shape)},
              "smooth_rates": smooth_rates, "noise_rates": noise_rates, "seeds": seeds, "train": asdict(cfg),
              "divergence_loss": _losses.DIVERGENCE_LOSS, "nls_lessons": nls_lessons.__version__,
              "code": CODE_FINGERPRINT, "torch": torch.__version__.split("+")[0], "format": CACHE_FORMAT}
    text = json.dumps(config, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24], json.loads(text)


def _cache_paths(cache, key: str) -> dict[str, Path]:
    if not isinstance(cache, (str, os.PathLike)):
        raise TypeError(f"cache must be a directory path (str or pathlib.Path) or None, got {type(cache).__name__}")
    directory = Path(cache)
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"cache must be a directory, but {str(directory)!r} is an existing file; "
                         "pass a directory (it is created if missing) or cache=None")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cache={str(directory)!r} cannot be created as a directory: {exc.strerror or exc}") from None
    return {part: directory / f"sweep-{key}{suffix}" for part, suffix in
            (("results", ".csv"), ("history", "-history.csv"), ("meta", ".json"))}


def _read_cache(paths: dict[str, Path], config: dict, cfg: TrainConfig, smooth_rates, noise_rates, seeds):
    """The cached (results, history), or None when there is no entry or it fails a check
    (then a :class:`SweepCacheWarning` names the file). Never raises on a bad file."""
    if not any(p.exists() for p in paths.values()):
        return None
    try:
        meta = _read_meta(paths["meta"])
        if meta.get("config") != config:
            raise _Unusable(paths["meta"], "it describes another configuration")
        frames = {part: _read_csv(paths[part], meta) for part in ("results", "history")}
        try:
            _check_frames(frames, paths, cfg, smooth_rates, noise_rates, seeds)
        except _Unusable:
            raise
        except Exception as exc:       # whatever a forged but checksummed file holds: recompute
            raise _Unusable(paths["results"], f"unexpected content ({type(exc).__name__})") from None
    except _Unusable as bad:
        output.warn(f"sweep cache file {bad.path} is unusable ({bad.reason}); recomputing the sweep",
                     SweepCacheWarning)
        return None
    return frames["results"], frames["history"]


def _read_meta(path: Path) -> dict:
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise _Unusable(path, "the entry's JSON sidecar is missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _Unusable(path, f"not a readable JSON sidecar: {type(exc).__name__}") from None
    if not isinstance(meta, dict) or meta.get("format") != CACHE_FORMAT or not isinstance(meta.get("files"), dict):
        raise _Unusable(path, f"not a format-{CACHE_FORMAT} sidecar")
    return meta


def _read_csv(path: Path, meta: dict) -> pd.DataFrame:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _Unusable(path, f"cannot be read ({type(exc).__name__})") from None
    expected = meta["files"].get(path.name)
    if not isinstance(expected, dict) or hashlib.sha256(raw).hexdigest() != expected.get("sha256"):
        raise _Unusable(path, "its SHA-256 does not match the sidecar's (truncated, edited or replaced)")
    try:
        frame = pd.read_csv(io.BytesIO(raw),
                            dtype={k: v for k, v in _RESULT_DTYPES.items() if k != "diverged"})
    except Exception as exc:       # a checksummed file should parse; if not, recompute
        raise _Unusable(path, f"cannot be parsed ({type(exc).__name__})") from None
    if len(frame) != expected.get("rows"):
        raise _Unusable(path, f"{len(frame)} rows, the sidecar says {expected.get('rows')}")
    return frame


def _check_frames(frames, paths, cfg, smooth_rates, noise_rates, seeds) -> None:
    """Columns, dtypes and one row per grid point (results) / model and epoch (history)."""
    grid = pd.DataFrame(list(itertools.product(noise_rates, smooth_rates, seeds)),
                        columns=["noise_rate", "smooth_rate", "seed"])
    for part, columns, repeat in (("results", RESULT_COLUMNS, 1), ("history", HISTORY_COLUMNS, cfg.epochs)):
        frame, path = frames[part], paths[part]
        if list(frame.columns) != list(columns):
            raise _Unusable(path, f"columns {list(frame.columns)}, expected {list(columns)}")
        if len(frame) != len(grid) * repeat:
            raise _Unusable(path, f"{len(frame)} rows, expected {len(grid) * repeat} for this grid")
        keys = grid.loc[grid.index.repeat(repeat)].reset_index(drop=True)
        same = all(np.array_equal(frame[c].to_numpy(dtype=float), keys[c].to_numpy(dtype=float)) for c in keys)
        if not same or not (frame["noise_kind"] == cfg.noise_kind).all():
            raise _Unusable(path, "its rows are not this sweep's grid")
        if part == "history" and not np.array_equal(frame["epoch"].to_numpy(),
                                                    np.tile(np.arange(1, cfg.epochs + 1), len(grid))):
            raise _Unusable(path, f"its epochs are not 1..{cfg.epochs} per model")
    results = frames["results"]
    if results["diverged"].dtype != bool or not (results["diverged"] == results["diverged_epoch"].notna()).all():
        raise _Unusable(paths["results"], "its diverged / diverged_epoch columns disagree")
    results["diverged_epoch"] = results["diverged_epoch"].astype("Int64")


def _write_cache(paths: dict[str, Path], config: dict, results: pd.DataFrame, history: pd.DataFrame) -> None:
    """The two CSVs first, then the sidecar with their checksums (readers check it)."""
    written = {}
    try:
        for part, frame in (("results", results), ("history", history)):
            payload = frame.to_csv(index=False).encode("utf-8")
            files.write_atomic(paths[part], payload)
            written[paths[part].name] = {"sha256": hashlib.sha256(payload).hexdigest(), "rows": len(frame)}
        meta = {"format": CACHE_FORMAT, "config": config, "files": written}
        files.write_atomic(paths["meta"], json.dumps(meta, indent=1, sort_keys=True).encode("utf-8"))
    except OSError as exc:
        output.warn(f"the sweep cache entry {paths['meta']} could not be written ({exc}); the results are "
                     "returned but not cached", SweepCacheWarning)
