"""Training: one model (:func:`fit`), and a whole grid of models at once (:func:`sweep`).

Lessons 02-03 (``fit`` behind the live retrain), 04 (``sweep``: smooth rate r x noise
rate eps x seed on digits in seconds), 05 (the warm-up protocol), 06 (choosing r on your
own data). ``from nls_lessons import train`` gives every name below; the package is split
by concept, bottom to top:

===================  ==========================================================================
``config``           :class:`TrainConfig` and the checks of every argument (grid, seeds, data)
``pairing``          how a sweep is paired: :func:`noisy_labels`, :func:`batch_order`, :func:`derive_seed`
``stacked``          the engine that trains M models as one; divergence, the warm-up, evaluation
``single``           one model: :func:`fit`, and :func:`reference_fit` (the textbook loop)
``chunks``           the grid split into chunks that fit memory, run here or on Dask workers
``results``          the sweep's results and history tables
``cache``            the sweep's on-disk cache and :data:`CODE_FINGERPRINT`
``grid``             :func:`sweep`
``selection``        lesson 06: :func:`out_of_sample_probs`, :func:`select_smooth_rate` (k-fold, one-SE rule)
===================  ==========================================================================
"""
from .cache import CACHE_FORMAT, CODE_FINGERPRINT, SweepCacheWarning
from .chunks import DEFAULT_MEMORY_BUDGET, _chunks, models_per_chunk
from .config import OPTIMIZERS, SGD_MOMENTUM, WARMUP_RESTARTS, TrainConfig, _check_seed, _fit_config, check_grid
from .grid import sweep
from .pairing import batch_order, derive_seed, noisy_labels
from .results import HISTORY_COLUMNS, RESULT_COLUMNS
from .selection import (SELECTION_COLUMNS, SELECTION_RULES, _fit_kwargs_config, _subset, one_se_choice, out_of_sample_probs,
                        select_smooth_rate)
from .single import FitResult, fit, reference_fit
from .stacked import EPOCH_METRICS, EVAL_BATCH, DivergenceWarning, _evaluate, _train_chunk, stacked_gls_loss

__all__ = [
    "CACHE_FORMAT", "CODE_FINGERPRINT", "DEFAULT_MEMORY_BUDGET", "EPOCH_METRICS", "EVAL_BATCH", "HISTORY_COLUMNS",
    "OPTIMIZERS", "RESULT_COLUMNS", "SELECTION_COLUMNS", "SELECTION_RULES", "SGD_MOMENTUM", "WARMUP_RESTARTS",
    "DivergenceWarning", "FitResult", "SweepCacheWarning", "TrainConfig",
    "batch_order", "check_grid", "derive_seed", "fit", "models_per_chunk", "noisy_labels", "one_se_choice", "out_of_sample_probs",
    "reference_fit", "select_smooth_rate", "stacked_gls_loss", "sweep",
]
