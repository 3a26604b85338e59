"""Datasets as tensors, offline: CIFAR-N human labels (and, below, the small datasets).

Lesson 01 (CIFAR-N), 04 (digits), 05 (CIFAR).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CIFAR_N_DIR = DATA_DIR / "cifar-n"

CIFAR_N_LABEL_SETS = {
    "cifar10": ("aggre", "worst", "random1", "random2", "random3"),
    "cifar100": ("noisy",),
}


def load_cifar_n(dataset: str = "cifar10", label_set: str = "worst") -> tuple[np.ndarray, np.ndarray]:
    """Clean and human-noisy labels of CIFAR-10N / CIFAR-100N (50,000 training images each).

    Args:
        dataset: "cifar10" or "cifar100".
        label_set: for "cifar10" one of aggre, worst, random1, random2, random3;
            for "cifar100" "noisy" (fine labels).

    Returns:
        (clean, noisy): int64 arrays of shape (50000,) in torchvision's training order.

    The labels are CC BY-NC 4.0 (Wei et al., ICLR 2022); see data/cifar-n/README.md.
    """
    if dataset not in CIFAR_N_LABEL_SETS:
        raise ValueError(f"dataset must be one of {tuple(CIFAR_N_LABEL_SETS)}, got {dataset!r}")
    if label_set not in CIFAR_N_LABEL_SETS[dataset]:
        raise ValueError(f"label_set for {dataset} must be one of {CIFAR_N_LABEL_SETS[dataset]}, "
                         f"got {label_set!r}")
    path = CIFAR_N_DIR / f"{dataset}n.npz"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: it ships with the course; "
                                "regenerate it with `python data/cifar-n/convert.py`")
    with np.load(path, allow_pickle=False) as arrays:
        return arrays["clean"].astype(np.int64), arrays[label_set].astype(np.int64)
