"""CIFAR-N human labels: exact noise rates and the structure of the worst label set."""
from __future__ import annotations

import numpy as np
import pytest

from nls_lessons.data import load_cifar_n
from nls_lessons.noise import empirical_transition, noise_rate_of

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@pytest.mark.parametrize("dataset, label_set, rate", [
    ("cifar10", "aggre", 0.0901),
    ("cifar10", "random1", 0.1723),
    ("cifar10", "random2", 0.1812),
    ("cifar10", "random3", 0.1764),
    ("cifar10", "worst", 0.4021),
    ("cifar100", "noisy", 0.4020),
])
def test_noise_rates_to_four_decimals(dataset, label_set, rate):
    clean, noisy = load_cifar_n(dataset, label_set)
    assert round(noise_rate_of(clean, noisy), 4) == rate


@pytest.mark.parametrize("dataset, label_set, k", [("cifar10", "worst", 10), ("cifar100", "noisy", 100)])
def test_arrays(dataset, label_set, k):
    clean, noisy = load_cifar_n(dataset, label_set)
    for labels in (clean, noisy):
        assert labels.shape == (50_000,) and labels.dtype == np.int64
        assert labels.min() == 0 and labels.max() == k - 1
    assert np.bincount(clean).tolist() == [50_000 // k] * k            # balanced training set


def test_clean_labels_agree_across_label_sets():
    reference, _ = load_cifar_n("cifar10", "aggre")
    for label_set in ("worst", "random1", "random2", "random3"):
        np.testing.assert_array_equal(load_cifar_n("cifar10", label_set)[0], reference)


def test_worst_set_confuses_automobile_truck_and_cat_dog():
    clean, noisy = load_cifar_n("cifar10", "worst")
    T = empirical_transition(clean, noisy, 10)
    auto, cat, dog, truck = (CIFAR10_CLASSES.index(c) for c in ("automobile", "cat", "dog", "truck"))
    off = T.copy()
    np.fill_diagonal(off, 0)
    # each of these rows sends most of its mistakes to its partner
    assert off[auto].argmax() == truck and off[truck].argmax() == auto
    assert off[cat].argmax() == dog and off[dog].argmax() == cat
    assert T[auto, truck] == pytest.approx(0.247, abs=5e-4)
    assert T[truck, auto] == pytest.approx(0.282, abs=5e-4)
    assert T[cat, dog] == pytest.approx(0.206, abs=5e-4)
    assert T[dog, cat] == pytest.approx(0.183, abs=5e-4)
    # far from symmetric noise: the two pairs are the strongest confusions in the matrix
    top_four = {tuple(divmod(int(i), 10)) for i in np.argsort(off, axis=None)[-4:]}
    assert top_four == {(auto, truck), (truck, auto), (cat, dog), (dog, cat)}
    diag = np.diag(T)
    assert diag.argmin() == cat and diag.min() == pytest.approx(0.487, abs=5e-4)


@pytest.mark.parametrize("dataset, label_set, message", [
    ("cifar1000", "worst", "dataset must be one of"),
    ("cifar10", "noisy", "label_set for cifar10 must be one of"),
    ("cifar100", "worst", "label_set for cifar100 must be one of"),
])
def test_bad_names(dataset, label_set, message):
    with pytest.raises(ValueError, match=message):
        load_cifar_n(dataset, label_set)
