"""Convert the CIFAR-N label files (torch pickles) once into plain .npz arrays.

Run from the repository root:  python data/cifar-n/convert.py
The course then loads labels with ``np.load(..., allow_pickle=False)``: nothing is ever
unpickled at run time. Labels are stored as uint8 (CIFAR-100 has 100 classes).
"""
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent

# file -> {npz key: key in the torch dict}
SOURCES = {
    "CIFAR-10_human.pt": ("cifar10n.npz", {
        "clean": "clean_label", "aggre": "aggre_label", "worst": "worse_label",
        "random1": "random_label1", "random2": "random_label2", "random3": "random_label3",
    }),
    "CIFAR-100_human.pt": ("cifar100n.npz", {
        "clean": "clean_label", "noisy": "noisy_label",
        "clean_coarse": "clean_coarse_label", "noisy_coarse": "noisy_coarse_label",
    }),
}


def main() -> None:
    for source, (target, keys) in SOURCES.items():
        # These files are trusted (shipped with the course); this is the only unpickling.
        raw = torch.load(HERE / source, weights_only=False)
        arrays = {}
        for new, old in keys.items():
            values = np.asarray(raw[old], dtype=np.int64)
            assert values.shape == (50_000,) and values.min() >= 0 and values.max() < 100
            arrays[new] = values.astype(np.uint8)
        np.savez_compressed(HERE / target, **arrays)
        print(f"wrote {target}: {', '.join(arrays)}")


if __name__ == "__main__":
    main()
