"""CIFAR-10/100 as uint8 tensors from a local folder, with synthetic or CIFAR-N noisy labels.

Lesson 05 (paper scale): ``nls_lessons.paper.cifar``. The CIFAR-N label files themselves are read by
:func:`nls_lessons.data.load_cifar_n` (lesson 01 uses them without images).

The images are read by torchvision from its usual on-disk layout (the "python version"
tarballs from https://www.cs.toronto.edu/~kriz/cifar.html, extracted)::

    <root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}
    <root>/cifar-100-python/{train, test, meta}

``<root>`` is the ``root`` argument, else ``$NLS_DATA_DIR``, else the repository's ``data/``.
Nothing is downloaded unless you pass ``download=True``.

Noisy labels are either synthetic (``noise="symmetric" | "pairflip" | "asymmetric"`` with a
``noise_rate``, drawn by :mod:`nls_lessons.noise` with an explicit seed, by the course's
sampler or, with ``noise_method="official"``, exactly as the official code draws them for
CIFAR-10 (for CIFAR-100 the official code loads pre-generated files its repository does not
ship, so the same draw there is the course's own); ``asymmetric`` and pair-flip for CIFAR-100
are course extensions) or real human labels
from CIFAR-N (``noise="aggre" | "worst" | "random1" | "random2" | "random3"`` for CIFAR-10,
``noise="noisy"`` for CIFAR-100; shipped in ``data/cifar-n``).
"""
from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import noise as noise_module
from ..data import CIFAR_N_LABEL_SETS, DATA_DIR, load_cifar_n

DATASETS = ("cifar10", "cifar100")
SYNTHETIC_NOISE = ("clean",) + noise_module.KINDS
ENV_VAR = "NLS_DATA_DIR"
DEFAULT_ROOT = DATA_DIR

# Normalisation of the official code (PAPER_NOTES §3.2).
MEAN_STD = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
    "cifar100": ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)),
}

# What torchvision expects on disk, and where the python-version tarballs live.
_LAYOUT = {
    "cifar10": dict(folder="cifar-10-batches-py", train=[f"data_batch_{i}" for i in range(1, 6)],
                    test=["test_batch"], meta="batches.meta", meta_key="label_names",
                    label_key="labels", num_classes=10,
                    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz", size="163 MB"),
    "cifar100": dict(folder="cifar-100-python", train=["train"], test=["test"], meta="meta",
                     meta_key="fine_label_names", label_key="fine_labels", num_classes=100,
                     url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", size="161 MB"),
}


@dataclass
class CifarData:
    """One CIFAR split as tensors.

    Attributes:
        images: uint8 tensor (N, 3, 32, 32).
        labels: int64 (N,) clean labels.
        noisy_labels: int64 (N,) training labels (equal to ``labels`` for clean data / test).
        classes: the K class names.
        dataset: "cifar10", "cifar100" or "synthetic".
        noise: "clean", a synthetic kind, or a CIFAR-N label set name.
        noise_rate: the nominal rate (synthetic noise) or the realised one (CIFAR-N).
    """

    images: torch.Tensor
    labels: torch.Tensor
    noisy_labels: torch.Tensor
    classes: list = field(default_factory=list)
    dataset: str = "cifar10"
    noise: str = "clean"
    noise_rate: float = 0.0

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def realised_noise_rate(self) -> float:
        """Fraction of training labels that differ from the clean ones."""
        return float((self.labels != self.noisy_labels).float().mean()) if len(self.labels) else 0.0

    @property
    def mean_std(self):
        return MEAN_STD.get(self.dataset, MEAN_STD["cifar10"])

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, n: int) -> "CifarData":
        """The first ``n`` samples (CIFAR-N labels stay aligned because they are per index)."""
        if int(n) < 1:
            raise ValueError(f"subset size must be >= 1, got {n}")
        n = min(int(n), len(self))
        return CifarData(self.images[:n], self.labels[:n], self.noisy_labels[:n], self.classes,
                         self.dataset, self.noise, self.noise_rate)


def data_root(root=None) -> Path:
    """``root`` if given, else ``$NLS_DATA_DIR``, else the repository's ``data/`` folder."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else DEFAULT_ROOT


def missing_files(dataset: str = "cifar10", root=None) -> list[Path]:
    """The files torchvision needs for ``dataset`` that are absent under ``root``."""
    lay = _layout(dataset)
    folder = data_root(root) / lay["folder"]
    return [folder / f for f in lay["train"] + lay["test"] + [lay["meta"]] if not (folder / f).is_file()]


def is_available(dataset: str = "cifar10", root=None) -> bool:
    """True when every file of ``dataset`` is present (no checksum check)."""
    return not missing_files(dataset, root)


def missing_message(dataset: str = "cifar10", root=None) -> str:
    """What to download and where to put it."""
    lay = _layout(dataset)
    root = data_root(root)
    missing = missing_files(dataset, root)
    names = ", ".join(p.name for p in missing) or "(none)"
    return (
        f"{dataset.upper()} is not under {root} (missing in {root / lay['folder']}: {names}).\n"
        f"Download the python version, {lay['url']} ({lay['size']}), and extract it into {root}:\n"
        f"    mkdir -p {root} && tar -xzf {lay['url'].rsplit('/', 1)[1]} -C {root}\n"
        f"so that {root / lay['folder'] / lay['train'][0]} exists. Or, when this machine is online, "
        f"pass download=True (command line: --download) and torchvision fetches and checks it. "
        f"To keep the data elsewhere, set {ENV_VAR}=/path/to/folder or pass root=."
    )


class DownloadError(ConnectionError):
    """CIFAR could not be downloaded (offline, or the server did not answer)."""


def fetch(dataset: str = "cifar10", root=None) -> Path:
    """Download and extract ``dataset`` into ``root`` with torchvision (checks the MD5 sums).

    Returns the dataset folder. Raises :class:`DownloadError` with one clear line when the
    machine is offline or the download fails; nothing is downloaded when the files are there.
    """
    lay = _layout(dataset)
    root = data_root(root)
    if is_available(dataset, root):
        return root / lay["folder"]
    cls = _torchvision_class(dataset, True)
    try:
        root.mkdir(parents=True, exist_ok=True)
        cls(str(root), train=True, download=True)
    except (OSError, RuntimeError) as err:   # urllib.error.URLError is an OSError
        reason = getattr(err, "reason", None) or err
        raise DownloadError(
            f"could not download {lay['url'].rsplit('/', 1)[1]} from {lay['url']} ({reason}); this machine "
            f"seems offline. Download it elsewhere and extract it into {root} (see cifar.missing_message)"
        ) from None
    return root / lay["folder"]


def cifar(dataset: str = "cifar10", root=None, train: bool = True, download: bool = False,
          noise: str | None = None, noise_rate: float = 0.0, seed: int = 0,
          verify: bool = True, noise_method: str = "course") -> CifarData:
    """Load a CIFAR split as tensors, with noisy training labels.

    Args:
        dataset: "cifar10" or "cifar100".
        root: folder holding ``cifar-10-batches-py`` / ``cifar-100-python``; default
            ``$NLS_DATA_DIR`` or the repository's ``data/``.
        train: the 50,000-image training split (True) or the 10,000-image test split.
        download: fetch the tarball with torchvision when it is missing (needs the network).
        noise: None / "clean"; "symmetric", "pairflip", "asymmetric" (synthetic, with
            ``noise_rate`` and ``seed``); or a CIFAR-N label set ("aggre", "worst", "random1",
            "random2", "random3" for CIFAR-10; "noisy" for CIFAR-100), training split only.
        noise_rate: epsilon for synthetic noise, in [0, 1).
        seed: seed of the synthetic noise draw.
        verify: check the files' MD5 sums against torchvision's (the default). ``False``
            only checks that the files exist: for re-packed or tiny test copies.
        noise_method: "course" or "official", see :func:`nls_lessons.noise.inject`.

    Returns:
        :class:`CifarData`.

    Raises:
        FileNotFoundError: the files are missing and ``download`` is False; the message
            names the URL and the folder.
        ValueError: bad arguments, a CIFAR-N label set that does not fit the images, or a
            truncated / damaged batch file (with ``verify=False``; the message names it).
        DownloadError: ``download=True`` and the download failed.
    """
    lay = _layout(dataset)
    root = data_root(root)
    noise = _check_noise(dataset, noise, noise_rate, train)
    dataset_cls = _torchvision_class(dataset, verify)
    if download:
        if not verify:
            raise ValueError("download=True always verifies checksums; drop verify=False")
        fetch(dataset, root)
    if missing_files(dataset, root):
        raise FileNotFoundError(missing_message(dataset, root))
    try:
        ds = dataset_cls(str(root), train=train, download=False)
    except RuntimeError as err:   # torchvision: "Dataset not found or corrupted"
        raise RuntimeError(
            f"{dataset.upper()} files under {root / lay['folder']} failed torchvision's MD5 check "
            f"({err}). Re-extract {lay['url']}, or pass verify=False (command line: --no-verify) "
            f"if this is a deliberately re-packed copy.") from err
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise ValueError(
            f"{dataset.upper()} batch file {_first_damaged(root / lay['folder'], lay)} under {root / lay['folder']} "
            f"is truncated or not a CIFAR batch ({type(err).__name__}: {err}). Re-extract {lay['url']}.") from None
    images = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))
    labels = torch.as_tensor(np.asarray(ds.targets, dtype=np.int64))
    return with_noise(CifarData(images, labels, labels.clone(), list(ds.classes), dataset),
                      noise, noise_rate, seed, noise_method)


def _first_damaged(folder: Path, lay: dict) -> str:
    """The name of the first batch file that does not unpickle to a CIFAR batch ("?" if none)."""
    for name in lay["train"] + lay["test"]:
        try:
            with open(folder / name, "rb") as f:
                entry = pickle.load(f, encoding="latin1")
            np.asarray(entry["data"]).reshape(-1, 3, 32, 32)
            if len(entry[lay["label_key"]]) != len(entry["data"]):
                return name
        except Exception:   # noqa: BLE001  (any failure marks the damaged file)
            return name
    return "?"


def with_noise(data: CifarData, noise: str | None, noise_rate: float = 0.0, seed: int = 0,
               noise_method: str = "course") -> CifarData:
    """Return ``data`` with noisy labels drawn (synthetic, by :func:`nls_lessons.noise.inject`
    with ``method=noise_method``) or read (CIFAR-N) by name."""
    noise = noise or "clean"
    k = data.num_classes
    if noise == "clean":
        noisy, rate = data.labels.clone(), 0.0
    elif noise in noise_module.KINDS:
        rate = noise_module.check_noise_rate(noise_rate)
        noisy = noise_module.inject(data.labels, noise_module.transition_matrix(noise, k, rate), seed,
                                    method=noise_method)
    else:
        clean_n, noisy_n = load_cifar_n(data.dataset, noise)
        if len(noisy_n) != len(data):
            raise ValueError(
                f"CIFAR-N label set {noise!r} has {len(noisy_n)} labels but the {data.dataset} "
                f"training split here has {len(data)} images. CIFAR-N labels fit only the full, "
                f"unmodified training set in torchvision's order (take a subset after loading, "
                f"with CifarData.subset).")
        if not np.array_equal(clean_n, data.labels.numpy()):
            raise ValueError(
                f"the clean labels of CIFAR-N {data.dataset} do not match the images' labels: the "
                f"training files are not in torchvision's order, so the human labels would be "
                f"attached to the wrong images.")
        noisy = torch.as_tensor(noisy_n, dtype=torch.int64)
        rate = float((noisy != data.labels).float().mean())
    return CifarData(data.images, data.labels, noisy, data.classes, data.dataset, noise, rate)


def synthetic_cifar(n: int = 512, num_classes: int = 10, seed: int = 0, noise: str | None = None,
                    noise_rate: float = 0.0, noise_seed: int = 0, difficulty: float = 1.0,
                    noise_method: str = "course") -> CifarData:
    """CIFAR-shaped toy data (uint8 (n, 3, 32, 32)) that a small conv net can learn in seconds.

    Each class has a fixed random low-frequency colour pattern; an image is its class pattern,
    randomly shifted by up to 4 pixels, plus pixel noise scaled by ``difficulty``. Used by the
    lesson and the tests when CIFAR itself is not on the machine.
    """
    if int(n) < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    noise_module.check_num_classes(num_classes)
    gen = torch.Generator().manual_seed(int(seed) + 1)
    pattern_gen = torch.Generator().manual_seed(12345 + num_classes)   # same classes for any seed
    coarse = torch.rand(num_classes, 3, 4, 4, generator=pattern_gen)
    patterns = torch.nn.functional.interpolate(coarse, size=(40, 40), mode="bilinear", align_corners=False)
    labels = torch.randint(0, num_classes, (int(n),), generator=gen)
    dx, dy = torch.randint(0, 9, (2, int(n)), generator=gen)
    rows = (dy[:, None] + torch.arange(32))[:, :, None]
    cols = (dx[:, None] + torch.arange(32))[:, None, :]
    img = patterns[labels][torch.arange(int(n))[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    img = img + 0.25 * float(difficulty) * torch.randn(img.shape, generator=gen)
    images = (img.clamp(0, 1) * 255).round().to(torch.uint8)
    data = CifarData(images, labels, labels.clone(), [f"class {i}" for i in range(num_classes)], "synthetic")
    return with_noise(data, noise, noise_rate, noise_seed, noise_method)


def write_tiny_cifar(root, dataset: str = "cifar10", per_batch: int = 20, n_test: int = 40,
                     seed: int = 0) -> Path:
    """Write a tiny copy of CIFAR in torchvision's on-disk format (pickled dicts).

    CIFAR-10: five training batches of ``per_batch`` images, a ``test_batch``, ``batches.meta``.
    CIFAR-100: ``train`` (5 * ``per_batch`` images), ``test``, ``meta``. The images come from
    :func:`synthetic_cifar`. Load it with ``cifar(..., root=root, verify=False)`` (the MD5 sums
    differ from the real files). Returns the dataset folder.
    """
    lay = _layout(dataset)
    k = lay["num_classes"]
    folder = Path(root) / lay["folder"]
    folder.mkdir(parents=True, exist_ok=True)
    n_train = 5 * int(per_batch)
    data = synthetic_cifar(n_train + int(n_test), num_classes=k, seed=seed)
    flat = data.images.reshape(len(data), -1).numpy()
    labels = data.labels.tolist()
    splits = {name: (0 + i * per_batch, (i + 1) * per_batch) for i, name in enumerate(lay["train"])} \
        if dataset == "cifar10" else {"train": (0, n_train)}
    splits[lay["test"][0]] = (n_train, n_train + int(n_test))
    for name, (a, b) in splits.items():
        # The real files are Python 2 pickles whose keys torchvision reads back (latin1) as
        # str ("data", "labels"); a Python 3 pickle needs str keys to round-trip the same way.
        entry = {"batch_label": name, "data": flat[a:b], lay["label_key"]: labels[a:b],
                 "filenames": [f"img_{i}.png" for i in range(a, b)]}
        if dataset == "cifar100":
            entry["coarse_labels"] = [y % 20 for y in labels[a:b]]
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)
    meta = {lay["meta_key"]: [f"class_{i}" for i in range(k)]}
    with open(folder / lay["meta"], "wb") as f:
        pickle.dump(meta, f)
    return folder


def _layout(dataset: str) -> dict:
    if dataset not in _LAYOUT:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    return _LAYOUT[dataset]


def _check_noise(dataset: str, noise, noise_rate, train: bool) -> str:
    noise = noise or "clean"
    label_sets = CIFAR_N_LABEL_SETS[dataset]
    if noise in SYNTHETIC_NOISE:
        if noise != "clean":
            noise_module.check_noise_rate(noise_rate)
        elif noise_rate:
            raise ValueError(f"noise_rate={noise_rate} needs a noise kind; got noise={noise!r}")
        return noise
    if noise in label_sets:
        if not train:
            raise ValueError(f"CIFAR-N label set {noise!r} exists only for the training split "
                             f"(train=True); test labels are always clean")
        if noise_rate:
            raise ValueError(f"CIFAR-N label set {noise!r} has its own noise rate; drop noise_rate")
        return noise
    raise ValueError(f"noise for {dataset} must be one of {SYNTHETIC_NOISE} (synthetic) or "
                     f"{label_sets} (CIFAR-N human labels), got {noise!r}")


def _torchvision_class(dataset: str, verify: bool):
    """torchvision's CIFAR class, or a subclass that skips the MD5 check when ``verify=False``.

    torchvision's ``_check_integrity`` (and ``_load_meta``) compare every file's MD5 with the
    real release, so a tiny test copy or a re-packed copy is reported as "corrupted". With
    ``verify=False`` we replace only that check by "the file exists" (we check existence
    ourselves in :func:`missing_files` before loading); the files are still read by
    torchvision's own code, so the format is tested for real.
    """
    from torchvision import datasets

    base = datasets.CIFAR10 if dataset == "cifar10" else datasets.CIFAR100
    if verify:
        return base

    class Unverified(base):
        def _check_integrity(self) -> bool:
            folder = Path(self.root) / self.base_folder
            return all((folder / name).is_file() for name, _ in self.train_list + self.test_list)

        def _load_meta(self) -> None:
            with open(Path(self.root) / self.base_folder / self.meta["filename"], "rb") as f:
                self.classes = pickle.load(f, encoding="latin1")[self.meta["key"]]
            self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    Unverified.__name__ = f"Unverified{base.__name__}"
    return Unverified
