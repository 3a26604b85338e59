"""The CIFAR loader of lesson 05, tested on tiny copies in torchvision's on-disk format."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from nls_lessons.paper import cifar


def write_cifar10_by_hand(root, per_batch=6, n_test=4, seed=0):
    """The layout and pickle format of the real python-version tarball, written directly."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    labels = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        n = n_test if name == "test_batch" else per_batch
        y = rng.integers(0, 10, n).tolist()
        x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels[name] = (x, y)
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "data": x, "labels": y,
                         "filenames": [f"{i}.png" for i in range(n)]}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                     "horse", "ship", "truck"], "num_vis": 3072}, f)
    return labels


def test_loads_the_on_disk_format_through_torchvision(tmp_path):
    written = write_cifar10_by_hand(tmp_path)
    train = cifar.cifar("cifar10", root=tmp_path, verify=False)
    test = cifar.cifar("cifar10", root=tmp_path, train=False, verify=False)
    assert train.images.shape == (30, 3, 32, 32) and train.images.dtype == torch.uint8
    assert test.images.shape == (4, 3, 32, 32)
    expected = sum((written[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    assert train.labels.tolist() == expected
    assert torch.equal(train.noisy_labels, train.labels) and train.noise == "clean"
    # CHW: the first row of red pixels is the first 32 bytes of the flat record
    x0 = written["data_batch_1"][0][0]
    assert train.images[0, 0, 0].tolist() == x0[:32].tolist()
    assert train.images[0, 1, 0].tolist() == x0[1024:1056].tolist()
    assert train.classes[3] == "cat" and train.num_classes == 10


def test_cifar100_and_the_library_writer(tmp_path):
    cifar.write_tiny_cifar(tmp_path, "cifar100", per_batch=8, n_test=6)
    train = cifar.cifar("cifar100", root=tmp_path, verify=False)
    test = cifar.cifar("cifar100", root=tmp_path, train=False, verify=False)
    assert len(train) == 40 and len(test) == 6 and train.num_classes == 100
    assert train.mean_std == cifar.MEAN_STD["cifar100"]


def test_checksums_are_verified_by_default(tmp_path):
    cifar.write_tiny_cifar(tmp_path, "cifar10", per_batch=2, n_test=2)
    with pytest.raises(RuntimeError, match="MD5.*verify=False"):
        cifar.cifar("cifar10", root=tmp_path)


def test_missing_data_says_what_to_download_and_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        cifar.cifar("cifar10", root=tmp_path / "nowhere")
    msg = str(info.value)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in msg
    assert str(tmp_path / "nowhere") in msg and "download=True" in msg and "NLS_DATA_DIR" in msg
    with pytest.raises(FileNotFoundError, match="cifar-100-python.tar.gz"):
        cifar.cifar("cifar100", root=tmp_path)


def test_root_from_environment_variable(tmp_path, monkeypatch):
    cifar.write_tiny_cifar(tmp_path, "cifar10", per_batch=2, n_test=2)
    monkeypatch.setenv("NLS_DATA_DIR", str(tmp_path))
    assert cifar.data_root() == tmp_path and cifar.is_available("cifar10")
    assert len(cifar.cifar("cifar10", verify=False)) == 10
    monkeypatch.delenv("NLS_DATA_DIR")
    assert cifar.data_root() == cifar.DEFAULT_ROOT


def test_synthetic_noise_is_seeded_and_near_its_rate():
    data = cifar.synthetic_cifar(2000, noise="symmetric", noise_rate=0.4, noise_seed=3)
    again = cifar.synthetic_cifar(2000, noise="symmetric", noise_rate=0.4, noise_seed=3)
    assert torch.equal(data.noisy_labels, again.noisy_labels)
    # binomial sd at n = 2000 is 0.011: 4 sd
    assert abs(data.realised_noise_rate - 0.4) < 0.044
    pair = cifar.synthetic_cifar(2000, noise="pairflip", noise_rate=0.3)
    flipped = pair.labels != pair.noisy_labels
    partner = {0: 2, 2: 0, 1: 9, 9: 1, 3: 5, 5: 3, 4: 7, 7: 4, 6: 8, 8: 6}
    assert all(partner[int(a)] == int(b) for a, b in zip(pair.labels[flipped], pair.noisy_labels[flipped]))


def full_size(dataset):
    """A CifarData of 50,000 clean CIFAR-N labels with placeholder images (no CIFAR needed)."""
    from nls_lessons.data import load_cifar_n

    clean, _ = load_cifar_n(dataset, cifar.CIFAR_N_LABEL_SETS[dataset][0])
    labels = torch.as_tensor(clean)
    k = 10 if dataset == "cifar10" else 100
    return cifar.CifarData(torch.zeros(len(labels), 1, dtype=torch.uint8), labels, labels.clone(),
                           [str(i) for i in range(k)], dataset)


@pytest.mark.parametrize("dataset, label_set, rate", [
    ("cifar10", "aggre", 0.0901), ("cifar10", "worst", 0.4021), ("cifar10", "random1", 0.1723),
    ("cifar10", "random2", 0.1812), ("cifar10", "random3", 0.1764), ("cifar100", "noisy", 0.4020),
])
def test_cifar_n_label_sets_by_name(dataset, label_set, rate):
    noisy = cifar.with_noise(full_size(dataset), label_set)
    assert noisy.noise == label_set
    assert abs(noisy.realised_noise_rate - rate) < 5e-5 and abs(noisy.noise_rate - rate) < 5e-5


def test_cifar_n_needs_the_full_training_set(tmp_path):
    cifar.write_tiny_cifar(tmp_path, "cifar10", per_batch=4, n_test=2)
    with pytest.raises(ValueError, match="50000 labels but .* 20 images"):
        cifar.cifar("cifar10", root=tmp_path, verify=False, noise="worst")
    shuffled = full_size("cifar10")
    shuffled.labels = shuffled.labels.roll(1)
    with pytest.raises(ValueError, match="not in torchvision's order"):
        cifar.with_noise(shuffled, "aggre")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(dataset="mnist"), ValueError, "dataset must be one of"),
    (dict(noise="noisy"), ValueError, "CIFAR-N human labels"),
    (dict(dataset="cifar100", noise="worst"), ValueError, r"\('noisy',\)"),
    (dict(noise="worst", train=False), ValueError, "only for the training split"),
    (dict(noise="worst", noise_rate=0.2), ValueError, "own noise rate"),
    (dict(noise="clean", noise_rate=0.2), ValueError, "needs a noise kind"),
    (dict(noise="symmetric", noise_rate=1.5), ValueError, r"\[0, 1\)"),
    (dict(download=True, verify=False), ValueError, "always verifies"),
])
def test_bad_arguments_say_why(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        cifar.cifar(root=tmp_path, **kwargs)


@pytest.mark.parametrize("damage", ["truncated", "short-data"])
def test_a_damaged_batch_file_is_named_in_a_clear_error(tmp_path, damage):
    cifar.write_tiny_cifar(tmp_path, "cifar10", per_batch=8, n_test=8)
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    if damage == "truncated":
        batch.write_bytes(batch.read_bytes()[:200])                  # a download cut short
    else:
        with open(batch, "rb") as f:
            entry = pickle.load(f)
        entry["data"] = entry["data"][:, :1000]                      # rows that are not 3x32x32 images
        with open(batch, "wb") as f:
            pickle.dump(entry, f)
    with pytest.raises(ValueError, match=r"data_batch_3.*(truncated|not a CIFAR batch).*Re-extract"):
        cifar.cifar("cifar10", tmp_path, verify=False)


def test_official_noise_method_reaches_the_draw(tmp_path):
    from nls_lessons import noise

    cifar.write_tiny_cifar(tmp_path, "cifar10", per_batch=40, n_test=8)
    data = cifar.cifar("cifar10", tmp_path, noise="symmetric", noise_rate=0.4, seed=0, verify=False,
                       noise_method="official")
    T = noise.transition_matrix("symmetric", 10, 0.4)
    assert torch.equal(data.noisy_labels, noise.inject(data.labels, T, 0, method="official"))


def test_fetch_offline_raises_one_clear_download_error(tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(cifar.DownloadError, match=r"could not download cifar-10-python.tar.gz .*offline"):
        cifar.fetch("cifar10", tmp_path)
