"""Running lesson 05's grid: one cell (warm-up + fine-tunes of every smooth rate), and the
resumable grid of cells, locally or on a Dask cluster.

Lesson 05 (paper scale). :func:`run_cell` trains one (dataset, noise, noise rate, seed) cell
with :func:`nls_lessons.paper.engine.train_models` (its warm-up checkpoint saved atomically
and reused); :func:`run_grid` runs the cells the results store (:mod:`nls_lessons.paper.store`)
does not hold yet and stores each finished cell's rows, so a run killed at any moment resumes
where it stopped.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import torch

from nls_lessons import files, output
from .. import losses
from ..device import resolve_device
from . import engine
from .engine import _bar
from .protocols import PAPER_RATES, PROTOCOL_NAMES, DataSpec, Protocol, protocol_routes
from .resnet import build_model, init_parameters
from .store import (KEY, KEY_DECIMALS, ROWS_DIR, _row_key, _typed, check_distinct, export_csv,
                    load_results, rate_key, save_rows, sync_export)


def _model_fn(protocol: Protocol, num_classes: int):
    widths = protocol.widths if protocol.model == "fastnet" else None
    return lambda: build_model(protocol.model, num_classes, widths)


def initial_state(protocol: Protocol, num_classes: int, seed: int) -> dict:
    """The seeded initialisation shared by every smooth rate of a cell (an explicit
    ``torch.Generator``; torch's global random state is neither read nor changed)."""
    with torch.device("meta"):
        model = _model_fn(protocol, num_classes)()
    model = model.to_empty(device="cpu")
    init_parameters(model, torch.Generator().manual_seed(int(seed)))
    return model.state_dict()


def run_cell(spec: DataSpec, smooth_rates, protocol: Protocol, seed: int = 0, device="auto",
             stacked: bool = True, max_stack: int | None = None, checkpoint_dir=None,
             progress: bool = False) -> list[dict]:
    """Train one (dataset, noise, noise rate, seed) cell for every smooth rate; one row each.

    The warm-up (if the protocol has one) runs once; every smooth rate fine-tunes from its
    best-test-accuracy checkpoint with a fresh optimiser, as the official ``main_GLS_load.py``
    does. With ``checkpoint_dir`` the warm-up checkpoint is saved (atomically) and reused, so
    resuming a cell with missing rates does not warm up again. ``max_stack`` caps how many
    rates train as one stacked model (CUDA out-of-memory halves it automatically).
    """
    device = resolve_device(device)
    t0 = time.perf_counter()
    train, test = spec.load(protocol.noise_seed(seed), protocol.noise_method)
    k = train.num_classes
    model_fn = _model_fn(protocol, k)
    state = initial_state(protocol, k, seed)
    precision = dict(amp=protocol.amp, channels_last=protocol.channels_last, augment=protocol.augment)
    warm = None
    if protocol.warmup is not None:
        ckpt = None
        if checkpoint_dir is not None:
            ckpt = Path(checkpoint_dir) / f"warmup-{_cell_key(spec, protocol, seed)}.pt"
            warm = _load_checkpoint(ckpt)
        if warm is None:
            res = engine.train_models(state, model_fn, [0.0], train, test, protocol.warmup, seed=seed,
                               device=device, keep_best_state=True, progress=progress,
                               desc=f"warm-up seed {seed}", **precision)[0]
            warm = dict(state=res.pop("best_state"), best_acc=res["best_acc"], best_epoch=res["best_epoch"],
                        diverged=res["diverged"])
            if ckpt is not None:
                ckpt.parent.mkdir(parents=True, exist_ok=True)
                files.write_atomic(ckpt, lambda f: torch.save(warm, f))
        state = warm["state"]
    rates = [float(r) for r in smooth_rates]
    chunk = len(rates) if max_stack is None else max(1, int(max_stack))
    results, i = [], 0
    while i < len(rates):
        part = rates[i:i + chunk]
        try:
            results += engine.train_models(state, model_fn, part, train, test, protocol.gls, seed=seed,
                                    device=device, stacked=stacked, progress=progress,
                                    desc=f"GLS x{len(part)} seed {seed}", **precision)
            i += len(part)
        except torch.cuda.OutOfMemoryError:
            if chunk == 1:
                raise
            chunk = max(1, chunk // 2)
            torch.cuda.empty_cache()
    seconds = time.perf_counter() - t0
    rows = []
    for res in results:
        res.pop("history")
        rows.append(dict(
            dataset=spec.dataset, noise=spec.noise, noise_rate=spec.noise_rate,
            realised_noise_rate=round(train.realised_noise_rate, 5), protocol=protocol.name,
            model=protocol.model, seed=int(seed), **res,
            warmup_best_acc=warm["best_acc"] if warm else float("nan"),
            warmup_best_epoch=warm["best_epoch"] if warm else None,
            warmup_epochs=protocol.warmup.epochs if protocol.warmup else 0,
            epochs=protocol.gls.epochs, n_train=len(train), n_test=len(test), precision=protocol.precision,
            noise_method=protocol.noise_method,
            device=str(device), seconds=round(seconds / len(results), 2), config=protocol.config_id()))
    return rows


def _load_checkpoint(path: Path):
    """A saved warm-up checkpoint, or None when it is absent or unreadable (then it is retrained)."""
    if not path.exists():
        return None
    try:
        warm = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(warm, dict) and "state" in warm:
            return warm
    except Exception as err:   # noqa: BLE001  (a damaged file of any kind: retrain, say so)
        output.warn(f"warm-up checkpoint {path} is unreadable ({type(err).__name__}); training the warm-up "
                     f"again")
        return None
    output.warn(f"warm-up checkpoint {path} has an unexpected content; training the warm-up again")
    return None


def _cell_key(spec: DataSpec, protocol: Protocol, seed: int) -> str:
    blob = f"{spec.dataset}|{spec.noise}|{spec.noise_rate}|{spec.n_train}|{spec.n_test}|{seed}|{protocol.config_id()}"
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def plan_grid(specs, smooth_rates, protocol: Protocol, seeds, done=None) -> list[dict]:
    """The cells to run: one dict per (spec, seed) with the rates still missing."""
    done_keys = set()
    if done is not None and len(done):
        for row in done[KEY].itertuples(index=False):
            done_keys.add(_row_key(*row))
    cells = []
    for spec in specs:
        for seed in seeds:
            todo = [float(r) for r in smooth_rates
                    if _row_key(spec.dataset, spec.noise, spec.noise_rate, protocol.name, protocol.config_id(),
                                spec.n_train, spec.n_test, seed, r) not in done_keys]
            cells.append(dict(spec=spec, seed=int(seed), rates=todo, done=len(smooth_rates) - len(todo),
                              protocol=protocol))
    return cells


def _rows_for_store(rows, spec: DataSpec):
    # the key stores the *requested* sizes (None = full), the measured ones stay in n_train/n_test
    out = []
    for r in rows:
        r = dict(r)
        r["n_train_used"], r["n_test_used"] = r.pop("n_train"), r.pop("n_test")
        r["n_train"], r["n_test"] = spec.n_train, spec.n_test
        out.append(r)
    return out


def _as_routes(protocol) -> tuple[Protocol, ...]:
    if isinstance(protocol, str):
        return protocol_routes(protocol)
    if isinstance(protocol, Protocol):
        return (protocol,)
    routes = tuple(protocol)
    if not routes or not all(isinstance(p, Protocol) for p in routes):
        raise TypeError(f"protocol must be a name {PROTOCOL_NAMES}, a Protocol or a sequence of Protocols, "
                        f"got {protocol!r}")
    return routes


def run_grid(specs, smooth_rates=PAPER_RATES, protocol: Protocol | str = "fast", seeds=(0,), out=None,
             device="auto", stacked: bool = True, max_stack: int | None = None, client=None,
             progress: bool = True):
    """Run every (spec, seed) cell that is not finished yet; store each finished cell's rows.

    Args:
        specs: :class:`DataSpec` objects (one per noise setting).
        smooth_rates, seeds: the grid.
        protocol: a name (``"paper"`` runs both the official and the direct route), a
            :class:`Protocol`, or a sequence of Protocols (routes).
        out: output folder (``rows/`` store, ``results.csv`` export, ``checkpoints/``); None
            keeps nothing on disk.
        client: a ``dask.distributed.Client``: cells are submitted to it (each worker loads its
            own data), results are stored here as they finish.

    Returns:
        ``pandas.DataFrame`` with the rows of the requested grid (finished earlier or now).
        A ``KeyboardInterrupt`` propagates after the finished cells are stored.
    """
    import pandas as pd

    routes = _as_routes(protocol)
    check_grid(specs, smooth_rates, seeds)
    ckpt_dir = Path(out) / "checkpoints" if out is not None else None
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        sync_export(out)
        done = load_results(out)
        if not (Path(out) / ROWS_DIR).is_dir() and len(done):
            save_rows(out, done.astype(object).where(done.notna(), None).to_dict("records"))   # migrate
    else:
        done = None
    cells = [c for p in routes for c in plan_grid(specs, smooth_rates, p, seeds, done) if c["rates"]]
    new_rows = []

    def record(cell, rows):
        rows = _rows_for_store(rows, cell["spec"])
        new_rows.extend(rows)
        if out is not None:
            save_rows(out, rows)
            export_csv(out)

    try:
        if client is None:
            outer = _bar(progress and len(cells) > 1, len(cells), "cells")
            for cell in cells:
                record(cell, run_cell(cell["spec"], cell["rates"], cell["protocol"], cell["seed"], device,
                                      stacked, max_stack, ckpt_dir, progress))
                if outer is not None:
                    outer.update(1)
            if outer is not None:
                outer.close()
        else:
            from distributed import as_completed

            futures = {client.submit(run_cell, c["spec"], c["rates"], c["protocol"], c["seed"], device, stacked,
                                     max_stack, ckpt_dir, False, pure=False): c for c in cells}
            for fut in as_completed(list(futures)):
                record(futures[fut], fut.result())
    finally:
        if out is not None and new_rows:
            export_csv(out)
    frame = load_results(out) if out is not None else _typed(pd.DataFrame(new_rows))
    return select(frame, specs, smooth_rates, routes, seeds)


def check_grid(specs, smooth_rates, seeds) -> None:
    """Raise before anything trains unless every row of the grid has its own key in the store:
    valid, distinct smooth rates and seeds, and specs that are distinct settings (noise rates
    compared to the store's :data:`~nls_lessons.paper.store.KEY_DECIMALS` decimals)."""
    from ..checks import check_seed

    if isinstance(smooth_rates, (str, bytes)) or isinstance(seeds, (str, bytes)):
        raise TypeError(f"smooth_rates and seeds must be sequences of numbers, got {smooth_rates!r} and {seeds!r}")
    losses.check_smooth_rate(list(smooth_rates), "smooth_rates")
    check_distinct(smooth_rates, "smooth_rates")
    seeds = [check_seed(s, "seeds") for s in seeds]
    check_distinct(seeds, "seeds", rates=False)
    specs = list(specs)
    if not all(isinstance(s, DataSpec) for s in specs):
        raise TypeError(f"specs must be DataSpec objects, got {[type(s).__name__ for s in specs]}")
    seen = {}
    for j, s in enumerate(specs):
        k = (s.dataset, s.noise, rate_key(s.noise_rate), s.n_train, s.n_test)
        if k in seen:
            i = seen[k]
            raise ValueError(f"specs[{j}] and specs[{i}] are the same setting in the results store (dataset, noise, "
                             f"noise_rate to {KEY_DECIMALS} decimals, n_train, n_test): noise_rate "
                             f"{specs[i].noise_rate!r} and {s.noise_rate!r}; give each setting once")
        seen[k] = j


def grid_size(specs, smooth_rates, protocol, seeds) -> int:
    """Number of rows of the grid (all routes)."""
    return len(_as_routes(protocol)) * len(specs) * len(seeds) * len(smooth_rates)


def select(frame, specs, smooth_rates, protocol, seeds):
    """The rows of ``frame`` that belong to this grid (last one wins on duplicates)."""
    if frame is None or not len(frame):
        return frame
    wanted = {_row_key(s.dataset, s.noise, s.noise_rate, p.name, p.config_id(), s.n_train,
                       s.n_test, seed, r) for p in _as_routes(protocol) for s in specs for seed in seeds
              for r in smooth_rates}
    keys = [_row_key(*row) for row in frame[KEY].itertuples(index=False)]
    mask = np.array([k in wanted for k in keys], dtype=bool)
    sub = frame[mask].copy()
    sub["_key"] = [k for k, m in zip(keys, mask) if m]
    return sub.drop_duplicates("_key", keep="last").drop(columns="_key").reset_index(drop=True)
