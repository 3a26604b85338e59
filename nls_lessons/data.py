"""Datasets as tensors, offline.

Lesson 01 (CIFAR-N label files), 02-04 (digits, the 2-D toys, mnist1d), 05 (CIFAR).

The small datasets come as a :class:`Dataset` bundle of torch tensors: a stratified
train/test split, standardised with *training* statistics only, so nothing about the test
set leaks into training. Every generator takes an explicit ``seed``.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .noise import check_seed

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


# ---------------------------------------------------------------- small datasets
@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split as tensors (lessons 02-04).

    Attributes:
        x_train: float32 (N_train, *feature_shape), standardised with training statistics.
        y_train: int64 (N_train,) *clean* labels in [0, num_classes).
        x_test: float32 (N_test, *feature_shape), standardised with the same statistics.
        y_test: int64 (N_test,) clean labels.
        num_classes: K.
        name: a short name that also says how the bundle was made, e.g. "digits(seed=0)".
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    name: str

    def __post_init__(self):
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.shape[0] != y.shape[0] or y.dim() != 1:
                raise ValueError(f"x_{split} {tuple(x.shape)} and y_{split} {tuple(y.shape)} "
                                 "must have the same number of rows, and y must be 1-d")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"train and test features differ in shape: {tuple(self.x_train.shape[1:])} "
                             f"vs {tuple(self.x_test.shape[1:])}")

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. (64,) for digits, (40,) for mnist1d, (2,) for the toys."""
        return tuple(self.x_train.shape[1:])

    @property
    def in_features(self) -> int:
        """Number of input numbers per sample (the product of ``feature_shape``)."""
        return int(np.prod(self.feature_shape))

    def fingerprint(self) -> str:
        """SHA-256 of the name, shapes, dtypes and contents: the sweep cache keys on it."""
        h = hashlib.sha256(f"{self.name}|{self.num_classes}".encode())
        for t in (self.x_train, self.y_train, self.x_test, self.y_test):
            t = t.detach().cpu().contiguous()
            h.update(f"{tuple(t.shape)}{t.dtype}".encode())
            h.update(t.numpy().tobytes())
        return h.hexdigest()

    def __repr__(self) -> str:
        return (f"Dataset({self.name}: {len(self.y_train)} train / {len(self.y_test)} test, "
                f"features {self.feature_shape}, {self.num_classes} classes)")


def _split_standardise(name: str, x: np.ndarray, y: np.ndarray, test_size: float, seed: int,
                       per_feature: bool = True) -> Dataset:
    """Stratified split, then standardise with the training mean/std (per feature, or one
    scalar for sequences whose shape should survive)."""
    from sklearn.model_selection import train_test_split

    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed)
    axis = 0 if per_feature else None
    mean, std = x_tr.mean(axis=axis), x_tr.std(axis=axis)
    std = np.where(std > 0, std, 1.0)          # constant pixels (digits' borders) stay 0
    as_x = lambda a: torch.as_tensor((a - mean) / std, dtype=torch.float32)
    as_y = lambda a: torch.as_tensor(a, dtype=torch.int64)
    return Dataset(as_x(x_tr), as_y(y_tr), as_x(x_te), as_y(y_te), int(y.max()) + 1, name)


def digits(seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes), shipped with
    scikit-learn, so offline. Lessons 01-04: the course's default dataset.

    70/30 stratified split (``seed`` picks it), standardised per pixel with training
    statistics. Returns a :class:`Dataset` with x of shape (1257, 64) / (540, 64).
    """
    from sklearn.datasets import load_digits

    seed = check_seed(seed)
    bunch = load_digits()
    return _split_standardise(f"digits(seed={seed})", bunch.data, bunch.target, 0.3, seed)


TOY_KINDS = ("moons", "blobs")


def toy2d(kind: str = "moons", n: int = 600, seed: int = 0, *, noise: float = 0.2,
          num_classes: int = 3) -> Dataset:
    """A 2-D toy for decision-region plots (lesson 03's live retrain).

    Args:
        kind: "moons" (two interleaved half circles, 2 classes) or "blobs"
            (``num_classes`` Gaussian blobs).
        n: total number of points (70/30 stratified split).
        seed: draws the points and the split.
        noise: std of the Gaussian jitter of the moons / spread of the blobs.
        num_classes: number of blobs (ignored for moons).

    Returns a :class:`Dataset` with x of shape (0.7 n, 2) / (0.3 n, 2), standardised.
    """
    from sklearn.datasets import make_blobs, make_moons

    if kind not in TOY_KINDS:
        raise ValueError(f"kind must be one of {TOY_KINDS}, got {kind!r}")
    seed = check_seed(seed)
    if isinstance(n, bool) or int(n) != n or n < 20:
        raise ValueError(f"n must be an integer >= 20, got {n!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    if kind == "moons":
        x, y = make_moons(n_samples=int(n), noise=noise, random_state=seed)
        name = f"toy2d(moons, n={n}, noise={noise}, seed={seed})"
    else:
        if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        x, y = make_blobs(n_samples=int(n), centers=int(num_classes), cluster_std=1.0 + 5 * noise,
                          random_state=seed)
        name = f"toy2d(blobs, n={n}, noise={noise}, num_classes={num_classes}, seed={seed})"
    return _split_standardise(name, x, y, 0.3, seed)


def mnist1d(n: int = 5000, seed: int = 0) -> Dataset:
    """MNIST-1D (Greydanus 2020): 10 classes of length-40 1-D signals, *generated* offline
    with ``mnist1d.data.make_dataset`` (never its downloader). Lesson 04 (bigger grid, 1-D CNN).

    Args:
        n: total number of samples (80/20 stratified split); the generator draws
            ``n // 10`` per class, about 1 s per 5,000 on a laptop CPU.
        seed: the generator's seed (also picks the split).

    Returns a :class:`Dataset` with x of shape (0.8 n, 40) / (0.2 n, 40), standardised with
    one scalar mean/std (so each signal keeps its shape). The generator seeds Python's and
    NumPy's global random state; this function restores both afterwards.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    seed = check_seed(seed)
    if isinstance(n, bool) or int(n) != n or n < 100:
        raise ValueError(f"n must be an integer >= 100, got {n!r}")
    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = int(n), seed, 1.0
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        raw = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return _split_standardise(f"mnist1d(n={n}, seed={seed})", raw["x"], raw["y"], 0.2, seed,
                              per_feature=False)


def cifar(*args, **kwargs):
    """torchvision CIFAR-10/100 from a local root (lesson 05); see nls_lessons.cifar.cifar."""
    from nls_lessons.cifar import cifar as _cifar
    return _cifar(*args, **kwargs)
