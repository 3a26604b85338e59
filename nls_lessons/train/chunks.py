"""Splitting a sweep's grid into chunks that fit in memory, and running them here or on
Dask workers (lesson 04's grid; lesson 05's scale-out).

A chunk is a rectangle of seeds x (noise rate, smooth rate) configurations trained as one
stacked model (:mod:`nls_lessons.train.stacked`). With a ``dask.distributed.Client`` each
chunk is one task; the function a worker runs, :func:`_run_chunk`, is a module-level
function of this module, so workers import it by its path (``nls_lessons.train.chunks``).
"""
from __future__ import annotations

import math

import torch

from nls_lessons import models as _models
from nls_lessons.data import Dataset
from nls_lessons.device import resolve_device

from .config import TrainConfig, _is_real, _item
from .stacked import EPOCH_METRICS, EVAL_BATCH, _ChunkResult, _train_chunk

DEFAULT_MEMORY_BUDGET = {"cpu": 2 * 2**30, "cuda": None}
"""Bytes a chunk of models may use; ``None`` on CUDA means half of the free GPU memory."""


def _chunks(seeds: list[int], configs: list, max_models: int) -> list[tuple[list[int], list]]:
    """Split seeds x configs into rectangular blocks of at most ``max_models`` models
    (whole seeds when possible, so a block shares each batch gather among many models)."""
    per_block = max(1, min(len(configs), max_models))
    seeds_per_block = max(1, max_models // per_block)
    return [(seeds[i:i + seeds_per_block], configs[j:j + per_block])
            for i in range(0, len(seeds), seeds_per_block) for j in range(0, len(configs), per_block)]


def _check_memory_budget(memory_budget) -> float | None:
    memory_budget = _item(memory_budget)
    if memory_budget is None:
        return None
    if not _is_real(memory_budget):
        raise TypeError(f"memory_budget must be a number of bytes > 0 (or None for the default), "
                        f"got {memory_budget!r}")
    if not math.isfinite(memory_budget) or memory_budget <= 0:
        raise ValueError(f"memory_budget must be a finite number of bytes > 0 (or None for the default), "
                         f"got {memory_budget!r}")
    return float(memory_budget)


def models_per_chunk(data: Dataset, cfg: TrainConfig, device: str, memory_budget: int | None = None) -> int:
    """How many models fit one chunk: parameters with gradients and optimiser state, and
    the activations of a training batch and of an evaluation batch, within the budget
    (bytes, a finite number > 0; default :data:`DEFAULT_MEMORY_BUDGET`)."""
    dev = resolve_device(device)
    memory_budget = _check_memory_budget(memory_budget)
    if memory_budget is None:
        memory_budget = DEFAULT_MEMORY_BUDGET.get(dev.type)
        if memory_budget is None:
            free, _ = torch.cuda.mem_get_info(dev)
            memory_budget = free // 2
    numel = _models.Stacked(cfg.model, data.in_features, data.num_classes, [0], 1,
                            hidden=cfg.hidden, channels=cfg.channels).numel_per_model()
    acts = _models.activations_per_sample(cfg.model, data.in_features, data.num_classes,
                                          hidden=cfg.hidden, channels=cfg.channels)
    eval_acts = acts // 4 * min(EVAL_BATCH, len(data.y_test))      # no gradients kept
    per_model = 4 * (6 * numel + acts * cfg.batch_size + eval_acts + len(EPOCH_METRICS) * cfg.epochs)
    return max(1, int(memory_budget // per_model))


def _run_chunk(data, seeds, configs, cfg, device) -> _ChunkResult:
    """What a Dask worker runs: one chunk, numbers only."""
    return _train_chunk(data, seeds, configs, cfg, device)


def _run_chunks(data, chunks, cfg, device, progress, client) -> list[_ChunkResult]:
    from nls_lessons.progress import progress_bar

    n_models = sum(len(s) * len(c) for s, c in chunks)
    bar = progress_bar(len(chunks) * cfg.epochs, disable=not progress,
                       desc=f"sweep: {n_models} models in {len(chunks)} chunk{'s' * (len(chunks) > 1)}")
    try:
        if client is None:
            return [_train_chunk(data, seeds, configs, cfg, device, on_epoch=lambda: bar.update(1))
                    for seeds, configs in chunks]
        from dask.distributed import as_completed

        # hash=False: a fresh key for every sweep. With content hashing, a sweep on the same
        # data reused the previous sweep's key while the scheduler was still releasing it,
        # and its tasks failed with "lost dependencies". The future stays referenced until
        # every result is gathered.
        remote_data = client.scatter(data, broadcast=True, hash=False)
        futures = [client.submit(_run_chunk, remote_data, seeds, configs, cfg, device, pure=False)
                   for seeds, configs in chunks]
        for _ in as_completed(futures):
            bar.update(cfg.epochs)
        outputs = client.gather(futures)
        del futures, remote_data
        return outputs
    finally:
        bar.close()
