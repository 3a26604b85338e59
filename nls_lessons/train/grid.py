"""The grid: :func:`sweep` trains every (noise rate, smooth rate, seed) model at once
(lesson 04's workhorse; lessons 02-03 and 06 call it too, lesson 05 at paper scale).

It validates the grid (:mod:`~nls_lessons.train.config`), reads the cache
(:mod:`~nls_lessons.train.cache`), splits the grid into chunks and trains them on the stacked
engine here or on Dask workers (:mod:`~nls_lessons.train.chunks`), and returns the tidy
tables (:mod:`~nls_lessons.train.results`).
"""
from __future__ import annotations

import itertools
import os

from nls_lessons import output
from nls_lessons import models as _models
from nls_lessons.data import Dataset
from nls_lessons.device import resolve_device

from .cache import _cache_key, _cache_paths, _read_cache, _write_cache
from .chunks import _check_memory_budget, _chunks, _run_chunks, models_per_chunk
from .config import _check_data, _check_flag, _fit_config, _is_int, _item, check_grid
from .results import _tidy
from .stacked import DivergenceWarning


def sweep(data: Dataset, smooth_rates, noise_rates, seeds, *, noise_kind: str = "symmetric",
          model: str = "linear", epochs: int = 30, batch_size: int = 128, optimizer: str = "adam",
          lr: float = 1e-2, weight_decay: float = 0.0, warmup_epochs: int = 0, gls_lr_scale: float = 1.0,
          hidden: int = _models.DEFAULT_HIDDEN, channels: int = _models.DEFAULT_CHANNELS,
          warmup_restart: str = "continue", device: str = "auto", progress: bool = True,
          cache: str | os.PathLike | None = None, client=None, max_models_per_chunk: int | None = None,
          memory_budget: int | None = None, return_history: bool = False):
    """Train every (noise rate, smooth rate, seed) model of a grid; lesson 04's workhorse.

    Args:
        data: a :class:`nls_lessons.data.Dataset` with flat features (N, D), all finite.
        smooth_rates: GLS rates r <= 1 (r < 0 is NLS); a number counts as a grid of one.
        noise_rates: noise rates eps in [0, 1) of kind ``noise_kind``.
        seeds: non-negative integers; each seeds the initialisation, the batch order and
            (with eps and the kind) the noisy labels, shared by every r (paired comparisons).
        noise_kind: "symmetric", "pairflip" or "asymmetric" (see ``noise.transition_matrix``).
        model: "linear", "mlp" (``hidden`` units) or "cnn" (``channels``), see ``models``.
        epochs: total epochs, the warm-up included.
        batch_size, optimizer ("adam", or "sgd" with momentum 0.9), lr, weight_decay: as torch.optim.
        warmup_epochs: this many epochs of plain CE at ``lr`` first, then GLS at
            ``lr * gls_lr_scale`` (the warm-up route of the official protocol).
        gls_lr_scale: the GLS phase's learning-rate factor.
        warmup_restart: how the GLS phase starts after the warm-up. "continue" (default):
            from the last warm-up epoch, the optimiser state carried over (the course's toy
            route, lessons 03-04). "best": from each model's best warm-up epoch (highest clean
            test accuracy) with a fresh optimiser: what the official code does
            (``main_GLS_load.py`` loads the best-test-accuracy warm-up checkpoint).
        device: "auto" (CUDA when present), "cpu" or "cuda".
        progress: show a tqdm progress bar over epochs x chunks.
        cache: a directory (created if missing; an existing file is an error). Results are
            stored there as CSV + CSV + JSON sidecar under a hash of the full configuration
            (data fingerprint, grid, every hyper-parameter, a fingerprint of the training
            code, library and torch versions) and read back instantly when the same sweep is
            asked for again; an entry that fails a check is recomputed with a
            :class:`SweepCacheWarning` (:mod:`nls_lessons.train.cache`). The device is not part of the key:
            a CPU and a GPU run agree to float tolerance.
        client: a ``dask.distributed.Client``; each chunk then runs as one task on its
            workers (the local numbers, bit for bit, with the same torch build and threads).
        max_models_per_chunk, memory_budget: bound the models trained together (default:
            as many as fit ``memory_budget`` bytes, a finite number > 0, see
            :func:`~nls_lessons.train.models_per_chunk`).
        return_history: also return the per-epoch history.

    Returns:
        ``results``: a DataFrame with one row per (noise_rate, smooth_rate, seed), in grid
        order, and columns noise_kind, noise_rate, smooth_rate, seed, test_acc (final
        epoch), best_test_acc (the largest over epochs), best_epoch (1-based, the first epoch
        that reached it; the official code reports the best-epoch test accuracy),
        confidence (final mean max-softmax probability on the test set), model_confidence
        (final mean MC = p_y - max_{k!=y} p_k, clean test labels), train_loss (final
        epoch's mean GLS loss on the noisy labels; NaN for a diverged model), diverged
        (bool), diverged_epoch (nullable Int64: the 1-based epoch of the first diverging
        step, ``pandas.NA`` when never). Accuracies are fractions in [0, 1] on the clean
        test labels, always finite (diverged models: see :mod:`nls_lessons.train.stacked`).
        With ``return_history=True``: ``(results, history)``, history a long DataFrame with
        one row per model and epoch (noise_kind, noise_rate, smooth_rate, seed, epoch,
        train_loss, test_acc, confidence, model_confidence), ready for ``groupby`` plots.

    A model that diverges is stopped, flagged and reported in one :class:`DivergenceWarning`;
    see :mod:`nls_lessons.train.stacked`.
    """
    data = _check_data(data)
    smooth_rates, noise_rates, seeds = check_grid(smooth_rates, noise_rates, seeds)
    cfg = _fit_config(noise_kind, model, epochs, batch_size, optimizer, lr, weight_decay, warmup_epochs,
                      gls_lr_scale, hidden, channels, warmup_restart)
    max_models_per_chunk = _item(max_models_per_chunk)
    if max_models_per_chunk is not None and (not _is_int(max_models_per_chunk) or max_models_per_chunk < 1):
        raise ValueError(f"max_models_per_chunk must be an integer >= 1 (or None), got {max_models_per_chunk!r}")
    memory_budget = _check_memory_budget(memory_budget)
    progress, return_history = _check_flag(progress, "progress"), _check_flag(return_history, "return_history")
    if client is not None and not all(callable(getattr(client, name, None)) for name in ("scatter", "submit", "gather")):
        raise TypeError(f"client must be a dask.distributed.Client (or None to train here), "
                        f"got {type(client).__name__}")
    resolve_device(device)

    paths = None
    if cache is not None:
        key, config = _cache_key(data, smooth_rates, noise_rates, seeds, cfg)
        paths = _cache_paths(cache, key)
        hit = _read_cache(paths, config, cfg, smooth_rates, noise_rates, seeds)
        if hit is not None:
            return hit if return_history else hit[0]

    configs = list(itertools.product(noise_rates, smooth_rates))
    capacity = max_models_per_chunk or models_per_chunk(data, cfg, device, memory_budget)
    chunks = _chunks(seeds, configs, capacity)
    outputs = _run_chunks(data, chunks, cfg, device, progress, client)
    results, history = _tidy(chunks, outputs, cfg, smooth_rates, noise_rates, seeds)

    stopped = results[results["diverged"]]
    if len(stopped):
        listed = ", ".join(f"(eps={row.noise_rate:g}, r={row.smooth_rate:g}, seed={row.seed}, "
                           f"epoch {row.diverged_epoch})" for row in stopped.itertuples())
        output.warn(f"{len(stopped)} of {len(results)} models diverged and were stopped: {listed}. "
                     "Their rows have diverged=True; try warmup_epochs with a small gls_lr_scale.",
                     DivergenceWarning)
    if paths is not None:
        _write_cache(paths, config, results, history)
    return (results, history) if return_history else results
