"""The sweep's two tables (lesson 04): their columns and dtypes, and the chunk arrays
turned into tidy frames in grid order (what :func:`nls_lessons.train.sweep` returns and
:mod:`nls_lessons.train.cache` stores)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .stacked import EPOCH_METRICS

RESULT_COLUMNS = ("noise_kind", "noise_rate", "smooth_rate", "seed", "test_acc", "best_test_acc",
                  "best_epoch", "confidence", "model_confidence", "train_loss", "diverged", "diverged_epoch")
HISTORY_COLUMNS = ("noise_kind", "noise_rate", "smooth_rate", "seed", "epoch", *EPOCH_METRICS)
_RESULT_DTYPES = {"seed": "int64", "best_epoch": "int64", "diverged": "bool", "diverged_epoch": "Int64"}


def _tidy(chunks, outputs, cfg, smooth_rates, noise_rates, seeds) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chunk arrays -> the results and history frames, rows in grid order (eps, r, seed)."""
    rows, hist = [], []
    for (chunk_seeds, chunk_configs), out in zip(chunks, outputs):
        for si, seed in enumerate(chunk_seeds):
            for gi, (eps, r) in enumerate(chunk_configs):
                curves = {k: v[si, gi] for k, v in out.history.items()}
                acc = curves["test_acc"]
                best = int(np.argmax(acc))
                div = int(out.diverged_epoch[si, gi])
                rows.append((cfg.noise_kind, eps, r, seed, float(acc[-1]), float(acc[best]), best + 1,
                             float(curves["confidence"][-1]), float(curves["model_confidence"][-1]),
                             float(curves["train_loss"][-1]), div > 0, div if div else pd.NA))
                hist.append(pd.DataFrame({"noise_kind": cfg.noise_kind, "noise_rate": eps, "smooth_rate": r,
                                          "seed": seed, "epoch": np.arange(1, cfg.epochs + 1), **curves}))
    results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS)).astype(_RESULT_DTYPES)
    order = {"noise_rate": noise_rates, "smooth_rate": smooth_rates, "seed": seeds}
    rank = lambda col: col.map({v: i for i, v in enumerate(order[col.name])})
    results = results.sort_values(list(order), key=rank, kind="stable").reset_index(drop=True)
    history = pd.concat(hist, ignore_index=True).sort_values(list(order) + ["epoch"], key=lambda c: (
        c if c.name == "epoch" else rank(c)), kind="stable").reset_index(drop=True)
    return results, history
