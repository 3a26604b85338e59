"""nls_lessons.data: the small dataset bundles (digits, 2-D toys, mnist1d)."""
import random

import numpy as np
import pytest
import torch

from nls_lessons import data


@pytest.fixture(scope="module")
def digits():
    return data.digits(seed=0)


def test_digits_shapes_and_types(digits):
    assert digits.x_train.shape == (1257, 64) and digits.x_test.shape == (540, 64)
    assert digits.y_train.shape == (1257,) and digits.y_test.shape == (540,)
    assert digits.x_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64
    assert digits.num_classes == 10 and digits.feature_shape == (64,) and digits.in_features == 64
    assert digits.name == "digits(seed=0)" and "1257 train" in repr(digits)


def test_digits_standardised_with_train_statistics(digits):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x_tr, x_te, _, _ = train_test_split(bunch.data, bunch.target, test_size=0.3, stratify=bunch.target,
                                        random_state=0)
    mean, std = x_tr.mean(0), x_tr.std(0)
    std[std == 0] = 1
    np.testing.assert_allclose(digits.x_train.numpy(), (x_tr - mean) / std, atol=1e-5)
    np.testing.assert_allclose(digits.x_test.numpy(), (x_te - mean) / std, atol=1e-5)   # train stats, not test
    varying = digits.x_train.std(0) > 0
    assert torch.allclose(digits.x_train.mean(0), torch.zeros(64), atol=1e-5)
    assert torch.allclose(digits.x_train.std(0, unbiased=False)[varying], torch.ones(int(varying.sum())), atol=1e-4)


def test_digits_split_is_stratified_and_seeded(digits):
    train_counts = torch.bincount(digits.y_train, minlength=10).float()
    test_counts = torch.bincount(digits.y_test, minlength=10).float()
    fraction = test_counts / (train_counts + test_counts)
    assert ((fraction - 0.3).abs() < 0.01).all()
    again, other = data.digits(seed=0), data.digits(seed=1)
    assert torch.equal(again.x_train, digits.x_train) and again.fingerprint() == digits.fingerprint()
    assert not torch.equal(other.y_test, digits.y_test) and other.fingerprint() != digits.fingerprint()


@pytest.mark.parametrize("kind, classes", [("moons", 2), ("blobs", 3)])
def test_toy2d(kind, classes):
    toy = data.toy2d(kind, n=200, seed=3)
    assert toy.x_train.shape == (140, 2) and toy.x_test.shape == (60, 2)
    assert toy.num_classes == classes and set(toy.y_train.tolist()) == set(range(classes))
    assert torch.allclose(toy.x_train.mean(0), torch.zeros(2), atol=1e-5)
    assert data.toy2d("blobs", n=100, num_classes=4).num_classes == 4


def test_mnist1d_generated_offline_without_touching_global_rng():
    # the conftest's network guard refuses any non-loopback connection
    np.random.seed(123)
    random.seed(123)
    expected_np, expected_py = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    m = data.mnist1d(n=300, seed=1)
    assert (np.random.random(), random.random()) == (expected_np, expected_py)
    assert m.x_train.shape == (240, 40) and m.x_test.shape == (60, 40) and m.num_classes == 10
    assert torch.bincount(m.y_test, minlength=10).tolist() == [6] * 10          # stratified
    assert abs(float(m.x_train.mean())) < 1e-5 and abs(float(m.x_train.std(unbiased=False)) - 1) < 1e-4
    assert torch.equal(data.mnist1d(n=300, seed=1).x_test, m.x_test)


@pytest.mark.parametrize("call, match", [
    (lambda: data.digits(seed=-1), "seed"),
    (lambda: data.digits(seed=1.5), "seed"),
    (lambda: data.toy2d("spirals"), "kind"),
    (lambda: data.toy2d(n=5), "n must"),
    (lambda: data.toy2d("blobs", num_classes=1), "num_classes"),
    (lambda: data.mnist1d(n=10), "n must"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_dataset_checks_shapes():
    x, y = torch.zeros(4, 2), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(ValueError, match="same number of rows"):
        data.Dataset(x, y[:3], x, y, 2, "bad")
    with pytest.raises(ValueError, match="differ in shape"):
        data.Dataset(x, y, torch.zeros(4, 3), y, 2, "bad")


def test_dataset_checks_labels_against_num_classes():
    """A test label >= K used to train an epoch and then crash deep inside torch."""
    x, y = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"y_test must lie in \[0, num_classes\) = \[0, 2\); got labels from 0 to 2"):
        data.Dataset(x, y, x, torch.tensor([0, 1, 2, 1]), 2, "bad")
    with pytest.raises(ValueError, match=r"x_train must be finite: it holds 1 NaN or inf"):
        data.Dataset(torch.tensor([[0.0, float("nan")]] + [[0.0, 0.0]] * 3), y, x, y, 2, "bad")
    with pytest.raises(TypeError, match="y_train must be an integer torch tensor"):
        data.Dataset(x, y.float(), x, y, 2, "bad")
    ok = data.Dataset(x, y, x, y, 2.0, "ok")
    assert ok.num_classes == 2 and type(ok.num_classes) is int


def test_toy2d_bounds_the_number_of_blobs_by_n():
    toy = data.toy2d("blobs", n=100, num_classes=10)             # n // 10 = 10 blobs still split
    assert toy.num_classes == 10 and set(toy.y_test.tolist()) == set(range(10))
    with pytest.raises(ValueError, match=r"num_classes must be an integer >= 2 and <= 10 .*n // 10"):
        data.toy2d("blobs", n=100, num_classes=11)
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        data.toy2d(noise=float("inf"))


@pytest.mark.parametrize("content", [b"", b"\x00\x9f random bytes \xff" * 10, "missing-key"])
def test_load_cifar_n_damaged_file_names_the_file(tmp_path, monkeypatch, content):
    path = tmp_path / "cifar10n.npz"
    if content == "missing-key":
        np.savez(path, clean=np.zeros(50_000, dtype=np.int64))          # no "worst" array
    else:
        path.write_bytes(content)
    monkeypatch.setattr(data, "CIFAR_N_DIR", tmp_path)
    with pytest.raises(ValueError, match=r"cifar10n\.npz is damaged .*regenerate it with"):
        data.load_cifar_n("cifar10", "worst")


def test_load_cifar_n_wrong_shape_names_the_file(tmp_path, monkeypatch):
    np.savez(tmp_path / "cifar10n.npz", clean=np.zeros(3, dtype=np.int64), worst=np.zeros(3, dtype=np.int64))
    monkeypatch.setattr(data, "CIFAR_N_DIR", tmp_path)
    with pytest.raises(ValueError, match=r"cifar10n\.npz does not hold two integer label arrays of shape \(50000,\)"):
        data.load_cifar_n("cifar10", "worst")
