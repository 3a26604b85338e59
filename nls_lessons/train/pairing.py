"""How a sweep is paired: the noisy labels and the mini-batch order of a seed (lessons 02-04).

For a seed s and a noise rate eps:
  * the noisy training labels are ``noise.inject`` with a seed derived from
    (s, noise kind, eps) (:func:`noisy_labels`), the same for every smooth rate r;
  * the initial weights are :func:`nls_lessons.models.plain_model` under seed s;
  * the mini-batch order is drawn from a generator seeded from s (:func:`batch_order`).
So two rows of a sweep that differ only in r differ only in the loss. Every one of these
draws uses its own explicit generator (numpy ``default_rng`` or ``torch.Generator``), never a
global random state: models trained in threads, on a threaded Dask client or on Dask worker
processes are the models trained alone, bit for bit (same torch build and thread settings).
"""
from __future__ import annotations

import hashlib
import json

import torch
from torch import Tensor

from nls_lessons import noise as _noise
from nls_lessons.data import Dataset


def derive_seed(seed: int, *tags) -> int:
    """A 32-bit seed derived from ``seed`` and a few tags (strings or numbers), stable
    across platforms and Python versions."""
    text = json.dumps([int(seed), *[t if isinstance(t, str) else repr(float(t)) for t in tags]])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def noisy_labels(data: Dataset, noise_kind: str, noise_rate: float, seed: int) -> Tensor:
    """The noisy training labels of (seed, noise kind, noise rate): int64 (N_train,).

    The same for every smooth rate, so a sweep's comparisons across r are paired.
    """
    T = _noise.transition_matrix(noise_kind, data.num_classes, noise_rate)
    return _noise.inject(data.y_train, T, derive_seed(seed, "labels", noise_kind, noise_rate))


def batch_order(n: int, seed: int):
    """Yield, epoch after epoch, a random permutation of range(n) (int64 (n,)) drawn from a
    generator seeded from ``seed``: the mini-batch order every model of that seed uses."""
    gen = torch.Generator().manual_seed(derive_seed(seed, "batches"))
    while True:
        yield torch.randperm(n, generator=gen)
