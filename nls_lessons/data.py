"""Datasets as tensors, offline.

Lesson 01 (CIFAR-N label files), 02-04 (digits, the 2-D toys, mnist1d), 05 (the CIFAR-N label
files again; the CIFAR images are loaded by :mod:`nls_lessons.paper.cifar`).

The small datasets come as a :class:`Dataset` bundle of torch tensors: a stratified
train/test split, standardised with *training* statistics only, so nothing about the test
set leaks into training. Every generator takes an explicit ``seed``.
"""
from __future__ import annotations

import hashlib
import math
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .checks import MAX_CLASSES, check_integer, check_num_classes, check_number, check_seed

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
    if not isinstance(dataset, str) or dataset not in CIFAR_N_LABEL_SETS:
        raise ValueError(f"dataset must be one of {tuple(CIFAR_N_LABEL_SETS)}, got {dataset!r}")
    if not isinstance(label_set, str) or label_set not in CIFAR_N_LABEL_SETS[dataset]:
        raise ValueError(f"label_set for {dataset} must be one of {CIFAR_N_LABEL_SETS[dataset]}, "
                         f"got {label_set!r}")
    path = CIFAR_N_DIR / f"{dataset}n.npz"
    regenerate = "it ships with the course; regenerate it with `python data/cifar-n/convert.py`"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: {regenerate}")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            clean, noisy = arrays["clean"], arrays[label_set]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is damaged ({type(error).__name__}: {error}); {regenerate}") from None
    if clean.shape != (50_000,) or noisy.shape != (50_000,) or clean.dtype.kind not in "iu" \
            or noisy.dtype.kind not in "iu":
        raise ValueError(f"{path} does not hold two integer label arrays of shape (50000,) "
                         f"(got {clean.dtype} {clean.shape} and {noisy.dtype} {noisy.shape}); {regenerate}")
    return clean.astype(np.int64), noisy.astype(np.int64)


# ---------------------------------------------------------------- small datasets
@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split as tensors (lessons 02-04), checked at construction.

    Attributes:
        x_train: float32 (N_train, *feature_shape), standardised with training statistics.
        y_train: int64 (N_train,) *clean* labels in [0, num_classes).
        x_test: float32 (N_test, *feature_shape), standardised with the same statistics.
        y_test: int64 (N_test,) clean labels.
        num_classes: K, an integer in [2, 10,000].
        name: a short name that also says how the bundle was made, e.g. "digits(seed=0)".
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    name: str

    def __post_init__(self):
        """Check everything a trainer relies on, once, so that a bad bundle fails here and not
        an epoch later deep inside torch: tensors of the right kinds and shapes, finite
        features, labels in [0, num_classes), at least one sample per split."""
        k = check_num_classes(self.num_classes)
        object.__setattr__(self, "num_classes", k)
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty string, got {self.name!r}")
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if not isinstance(x, torch.Tensor) or not x.dtype.is_floating_point:
                got = f"dtype {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
                raise TypeError(f"x_{split} must be a floating-point torch tensor of shape "
                                f"(N_{split}, *feature_shape), got {got}")
            if not isinstance(y, torch.Tensor) or y.dtype.is_floating_point or y.dtype.is_complex \
                    or y.dtype == torch.bool:
                got = f"dtype {y.dtype}" if isinstance(y, torch.Tensor) else type(y).__name__
                raise TypeError(f"y_{split} must be an integer torch tensor of class indices "
                                f"in [0, num_classes), got {got}")
            if x.dim() < 2 or y.dim() != 1 or x.shape[0] != y.shape[0]:
                raise ValueError(f"x_{split} {tuple(x.shape)} and y_{split} {tuple(y.shape)} "
                                 "must have the same number of rows, and y must be 1-d, x of shape "
                                 f"(N_{split}, *feature_shape) with at least one feature axis")
            if y.shape[0] == 0:
                raise ValueError(f"x_{split} and y_{split} must hold at least one sample, got 0")
            lo, hi = (int(v) for v in torch.stack(torch.aminmax(y)).tolist())
            if lo < 0 or hi >= k:
                raise ValueError(f"y_{split} must lie in [0, num_classes) = [0, {k}); "
                                 f"got labels from {lo} to {hi}")
            finite = torch.isfinite(x)
            if not bool(finite.all()):
                raise ValueError(f"x_{split} must be finite: it holds {int((~finite).sum())} NaN or inf "
                                 "values; clean or impute them before building the Dataset")
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"train and test features differ in shape: x_train {tuple(self.x_train.shape[1:])} "
                             f"vs x_test {tuple(self.x_test.shape[1:])}")

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
MAX_TOY_POINTS = 1_000_000
MAX_MNIST1D = 100_000


def _check_noise(noise) -> float:
    value = check_number(noise, "noise", "a finite number >= 0 (the jitter / spread of the points)")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"noise must be a finite number >= 0 (the jitter / spread of the points), got {noise!r}")
    return value


def toy2d(kind: str = "moons", n: int = 600, seed: int = 0, *, noise: float = 0.2,
          num_classes: int = 3) -> Dataset:
    """A 2-D toy for decision-region plots (lesson 03's live retrain).

    Args:
        kind: "moons" (two interleaved half circles, 2 classes) or "blobs"
            (``num_classes`` Gaussian blobs).
        n: total number of points, an integer in [20, 1,000,000] (70/30 stratified split).
        seed: draws the points and the split, an integer in [0, 2**32 - 1].
        noise: std of the Gaussian jitter of the moons / spread of the blobs, a finite
            number >= 0.
        num_classes: number of blobs, an integer in [2, n // 10] (every blob needs 10 points
            for the stratified split); ignored for moons.

    Returns a :class:`Dataset` with x of shape (0.7 n, 2) / (0.3 n, 2), standardised.
    """
    from sklearn.datasets import make_blobs, make_moons

    if not isinstance(kind, str) or kind not in TOY_KINDS:
        raise ValueError(f"kind must be one of {TOY_KINDS}, got {kind!r}")
    seed = check_seed(seed)
    n = check_integer(n, "n", 20, MAX_TOY_POINTS, floats_ok=True, what="the number of points")
    noise = _check_noise(noise)
    if kind == "moons":
        x, y = make_moons(n_samples=n, noise=noise, random_state=seed)
        name = f"toy2d(moons, n={n}, noise={noise}, seed={seed})"
    else:
        num_classes = check_integer(num_classes, "num_classes", 2, min(n // 10, MAX_CLASSES), floats_ok=True,
                                    what=f"the number of blobs; n // 10 = {n // 10} for n = {n}, so that "
                                         "every blob has 10 points for the stratified split")
        x, y = make_blobs(n_samples=n, centers=num_classes, cluster_std=1.0 + 5 * noise,
                          random_state=seed)
        name = f"toy2d(blobs, n={n}, noise={noise}, num_classes={num_classes}, seed={seed})"
    return _split_standardise(name, x, y, 0.3, seed)


def mnist1d(n: int = 5000, seed: int = 0) -> Dataset:
    """MNIST-1D (Greydanus 2020): 10 classes of length-40 1-D signals, *generated* offline
    with ``mnist1d.data.make_dataset`` (never its downloader). Lesson 04 (bigger grid, 1-D CNN).

    Args:
        n: total number of samples, an integer in [100, 100,000] (80/20 stratified split);
            the generator draws ``n // 10`` per class, about 1 s per 5,000 on a laptop CPU.
        seed: the generator's seed (also picks the split), an integer in [0, 2**32 - 1].

    Returns a :class:`Dataset` with x of shape (0.8 n, 40) / (0.2 n, 40), standardised with
    one scalar mean/std (so each signal keeps its shape). The generator seeds Python's and
    NumPy's global random state; this function restores both afterwards.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    seed = check_seed(seed)
    n = check_integer(n, "n", 100, MAX_MNIST1D, floats_ok=True, what="the number of samples")
    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = n, seed, 1.0
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        raw = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return _split_standardise(f"mnist1d(n={n}, seed={seed})", raw["x"], raw["y"], 0.2, seed,
                              per_feature=False)

