"""nls_lessons.noise: transition matrices, injection, instance-dependent noise, measuring noise."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nls_lessons import noise

FAST = settings(max_examples=25, deadline=None)


# --------------------------------------------------------------------------- transition_matrix
@pytest.mark.parametrize("kind", noise.KINDS)
@pytest.mark.parametrize("k", [2, 3, 10, 11])
@pytest.mark.parametrize("eps", [0.0, 0.2, 0.6, 0.95])
def test_transition_matrix_is_stochastic(kind, k, eps):
    T = noise.transition_matrix(kind, k, eps)
    assert T.shape == (k, k) and T.dtype == np.float64
    assert (T >= 0).all()
    np.testing.assert_allclose(T.sum(axis=1), 1.0, atol=1e-15)


def test_symmetric_matches_official_scheme():
    T = noise.transition_matrix("symmetric", 10, 0.4)
    np.testing.assert_allclose(np.diag(T), 0.6)
    off = T[~np.eye(10, dtype=bool)]
    np.testing.assert_allclose(off, 0.4 / 9)


def test_pairflip_cifar10_pairs_are_bidirectional():
    T = noise.transition_matrix("pairflip", 10, 0.3)
    for a, b in [(0, 2), (1, 9), (3, 5), (4, 7), (6, 8)]:
        assert T[a, b] == pytest.approx(0.3) and T[b, a] == pytest.approx(0.3)
        assert T[a, a] == pytest.approx(0.7) and T[b, b] == pytest.approx(0.7)
    assert np.count_nonzero(T) == 20


def test_pairflip_generic_pairs():
    np.testing.assert_array_equal(noise.pair_partner(4), [1, 0, 3, 2])
    np.testing.assert_array_equal(noise.pair_partner(5), [1, 0, 3, 2, 0])   # last flips into 0
    T = noise.transition_matrix("pairflip", 4, 0.25)
    assert T[2, 3] == pytest.approx(0.25) and T[3, 2] == pytest.approx(0.25)


def test_asymmetric_cifar10_classic_mapping():
    T = noise.transition_matrix("asymmetric", 10, 0.4)
    flips = {9: 1, 2: 0, 4: 7, 3: 5, 5: 3}                 # truck->auto, bird->plane, deer->horse, cat<->dog
    for src, dst in flips.items():
        assert T[src, dst] == pytest.approx(0.4) and T[src, src] == pytest.approx(0.6)
    for c in set(range(10)) - set(flips):
        assert T[c, c] == 1.0


def test_asymmetric_generic_next_class():
    T = noise.transition_matrix("asymmetric", 4, 0.3)
    for i in range(4):
        assert T[i, (i + 1) % 4] == pytest.approx(0.3)


def test_zero_noise_is_identity():
    for kind in noise.KINDS:
        np.testing.assert_array_equal(noise.transition_matrix(kind, 10, 0.0), np.eye(10))


# --------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("eps", [-0.1, 1.0, 1.5, float("inf")])
def test_noise_rate_outside_range(eps):
    with pytest.raises(ValueError, match=r"noise_rate must lie in \[0, 1\)"):
        noise.transition_matrix("symmetric", 10, eps)


def test_noise_rate_nan():
    with pytest.raises(ValueError, match=r"noise_rate must lie in \[0, 1\).*nan"):
        noise.transition_matrix("symmetric", 10, float("nan"))


def test_noise_rate_not_a_number():
    with pytest.raises(TypeError, match="noise_rate must be a number"):
        noise.transition_matrix("symmetric", 10, "0.2")


@pytest.mark.parametrize("k", [1, 0, -3, 2.5, True])
def test_num_classes_below_two(k):
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        noise.transition_matrix("symmetric", k, 0.2)


def test_kind_not_listed():
    with pytest.raises(ValueError, match=r"kind must be one of \('symmetric', 'pairflip', 'asymmetric'\)"):
        noise.transition_matrix("uniform", 10, 0.2)


@pytest.mark.parametrize("bad", [[0, 1, 10], [-1, 0, 1]])
def test_labels_outside_range(bad):
    T = noise.transition_matrix("symmetric", 10, 0.2)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\)"):
        noise.inject(np.array(bad), T, seed=0)


def test_labels_not_integers():
    T = noise.transition_matrix("symmetric", 3, 0.2)
    with pytest.raises(ValueError, match="labels must hold integer class indices"):
        noise.inject(np.array([0.0, 1.0]), T, seed=0)


def test_labels_wrong_shape():
    T = noise.transition_matrix("symmetric", 3, 0.2)
    with pytest.raises(ValueError, match=r"labels must be a 1-d array .*shape \(N,\)"):
        noise.inject(np.zeros((2, 2), dtype=int), T, seed=0)


def test_T_rows_not_summing_to_one():
    T = np.array([[0.9, 0.2], [0.5, 0.5]])
    with pytest.raises(ValueError, match="every row of T must sum to 1; row 0 sums to 1.1"):
        noise.inject(np.array([0, 1]), T, seed=0)


def test_T_negative_entries():
    T = np.array([[1.2, -0.2], [0.5, 0.5]])
    with pytest.raises(ValueError, match="T must have finite, non-negative entries"):
        noise.inject(np.array([0, 1]), T, seed=0)


def test_T_not_square():
    with pytest.raises(ValueError, match=r"T must be a square \(K, K\) matrix"):
        noise.inject(np.array([0, 1]), np.full((2, 3), 1 / 3), seed=0)


def test_T_mismatched_num_classes():
    with pytest.raises(ValueError, match=r"T has shape \(3, 3\) but num_classes = 4"):
        noise.check_transition_matrix(np.eye(3), num_classes=4)


def test_empirical_transition_mismatched_shapes():
    with pytest.raises(ValueError, match="clean and noisy must have the same shape"):
        noise.empirical_transition(np.array([0, 1, 2]), np.array([0, 1]), 3)


def test_noise_rate_of_mismatched_shapes():
    with pytest.raises(ValueError, match="clean and noisy must have the same shape"):
        noise.noise_rate_of(np.array([0, 1, 2]), np.array([0, 1]))


@pytest.mark.parametrize("seed", [None, -1, 1.5, "0"])
def test_seed_must_be_explicit_integer(seed):
    T = noise.transition_matrix("symmetric", 3, 0.2)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        noise.inject(np.array([0, 1]), T, seed=seed)


# --------------------------------------------------------------------------- inject
def test_inject_same_seed_same_labels_and_different_seed_differs():
    y = np.random.default_rng(1).integers(0, 10, 5000)
    T = noise.transition_matrix("symmetric", 10, 0.4)
    a, b, c = noise.inject(y, T, 7), noise.inject(y, T, 7), noise.inject(y, T, 8)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_inject_numpy_in_numpy_out(dtype):
    y = np.arange(100, dtype=dtype) % 10
    out = noise.inject(y, noise.transition_matrix("pairflip", 10, 0.3), 0)
    assert isinstance(out, np.ndarray) and out.dtype == dtype and out.shape == y.shape


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8])
def test_inject_torch_in_torch_out(dtype):
    y = torch.arange(100, dtype=dtype) % 10
    T = noise.transition_matrix("pairflip", 10, 0.3)
    out = noise.inject(y, torch.as_tensor(T), 0)            # T may be a tensor too
    assert isinstance(out, torch.Tensor) and out.dtype == dtype and out.shape == y.shape
    np.testing.assert_array_equal(out.numpy(), noise.inject(y.numpy(), T, 0))


def test_inject_never_draws_impossible_classes():
    y = np.random.default_rng(0).integers(0, 10, 20_000)
    T = noise.transition_matrix("pairflip", 10, 0.45)
    z = noise.inject(y, T, 3)
    assert (T[y, z] > 0).all()


def test_inject_noise_rate_matches():
    y = np.random.default_rng(0).integers(0, 10, 50_000)
    z = noise.inject(y, noise.transition_matrix("symmetric", 10, 0.6), 0)
    assert noise.noise_rate_of(y, z) == pytest.approx(0.6, abs=0.01)


def test_inject_empty_labels():
    out = noise.inject(np.array([], dtype=np.int64), np.eye(3), 0)
    assert out.shape == (0,)


@given(
    kind=st.sampled_from(noise.KINDS),
    k=st.integers(2, 12),
    eps=st.floats(0.0, 0.9),
    seed=st.integers(0, 2**31),
)
@FAST
def test_inject_empirical_T_approaches_T(kind, k, eps, seed):
    """The realised T converges to T: max error ~ 1/sqrt(n per class), shrinking with N."""
    T = noise.transition_matrix(kind, k, eps)
    errors = []
    for n_per_class in (200, 20_000):
        y = np.repeat(np.arange(k), n_per_class)
        z = noise.inject(y, T, seed)
        E = noise.empirical_transition(y, z, k)
        err = np.abs(E - T).max()
        assert err < 6 * np.sqrt(0.25 / n_per_class)          # 6 standard errors of a proportion
        errors.append(err)
    assert errors[1] <= errors[0] or errors[1] < 0.01


# --------------------------------------------------------------------------- empirical transition
def test_empirical_transition_counts():
    clean = np.array([0, 0, 0, 0, 1, 1])
    noisy = np.array([0, 0, 0, 1, 1, 0])
    E = noise.empirical_transition(clean, noisy, 3)
    np.testing.assert_allclose(E, [[0.75, 0.25, 0], [0.5, 0.5, 0], [0, 0, 0]])


def test_empirical_transition_accepts_torch():
    y = torch.tensor([0, 1, 1])
    np.testing.assert_allclose(noise.empirical_transition(y, y, 2), np.eye(2))


# --------------------------------------------------------------------------- instance_dependent
def _features(n=6000, d=16, k=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, k, n)


def test_instance_dependent_rate_and_seed():
    x, y = _features()
    a = noise.instance_dependent(x, y, 0.4, seed=1)
    b = noise.instance_dependent(x, y, 0.4, seed=1)
    c = noise.instance_dependent(x, y, 0.4, seed=2)
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()
    assert noise.noise_rate_of(y, a) == pytest.approx(0.4, abs=0.03)   # truncated N(0.4, 0.1^2) has mean 0.400


def test_instance_dependent_depends_on_features():
    """Two samples with the same features and label flip to the same wrong class when
    the projection saturates the softmax (large features, as the official raw pixels)."""
    rng = np.random.default_rng(0)
    x = np.repeat(rng.standard_normal((1, 8)) * 100, 4000, axis=0)
    y = np.zeros(4000, dtype=np.int64)
    z = noise.instance_dependent(x, y, 0.3, seed=0)
    flipped = z[z != 0]
    assert len(flipped) > 800 and len(np.unique(flipped)) == 1


def test_instance_dependent_types_and_shapes():
    x, y = _features(n=500)
    out = noise.instance_dependent(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int32), 0.2, 0)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.int32 and out.shape == (500,)
    images = np.random.default_rng(0).random((500, 3, 4, 4))     # (N, ...) is flattened
    out = noise.instance_dependent(images, y, 0.2, 0, num_classes=10)
    assert isinstance(out, np.ndarray) and out.min() >= 0 and out.max() < 10


def test_instance_dependent_raw_uint8_pixels():
    """The official code feeds raw 0-255 pixels: accepted as they are (projected in chunks)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5000, 3, 8, 8), dtype=np.uint8)
    y = rng.integers(0, 10, 5000)
    z = noise.instance_dependent(images, y, 0.3, seed=0)
    assert noise.noise_rate_of(y, z) == pytest.approx(0.3, abs=0.03)
    np.testing.assert_array_equal(z, noise.instance_dependent(images.astype(np.float64), y, 0.3, seed=0))


def test_instance_dependent_zero_noise_is_clean():
    x, y = _features(n=300)
    np.testing.assert_array_equal(noise.instance_dependent(x, y, 0.0, 0), y)


def test_instance_dependent_bad_inputs():
    x, y = _features(n=10)
    with pytest.raises(ValueError, match=r"noise_rate must lie in \[0, 1\)"):
        noise.instance_dependent(x, y, 1.0, 0)
    with pytest.raises(ValueError, match="same number of samples"):
        noise.instance_dependent(x[:5], y, 0.2, 0)
    with pytest.raises(ValueError, match=r"features must have shape \(N, d\)"):
        noise.instance_dependent(x[:, 0], y, 0.2, 0)
    with pytest.raises(ValueError, match="features must be finite"):
        noise.instance_dependent(np.full((10, 2), np.nan), y, 0.2, 0)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        noise.instance_dependent(x, y, 0.2, 0, num_classes=3)


def test_instance_dependent_empty_features_and_labels():
    for eps in (0.0, 0.3):
        out = noise.instance_dependent(np.zeros((0, 4)), np.zeros(0, dtype=np.int64), eps, 0, num_classes=3)
        assert out.shape == (0,) and out.dtype == np.int64


def test_instance_dependent_does_not_depend_on_the_chunk_size(monkeypatch):
    """The draw is processed 4,096 samples at a time (never an (N, K) float64 array); the
    labels are the same for any chunk size."""
    x, y = _features(n=500)
    whole = noise.instance_dependent(x, y, 0.4, 3)
    monkeypatch.setattr(noise, "_CHUNK", 7)
    np.testing.assert_array_equal(noise.instance_dependent(x, y, 0.4, 3), whole)


def test_shared_checks_reject_booleans_and_bound_sizes():
    for value in (True, np.bool_(False), torch.tensor(False)):
        with pytest.raises(TypeError, match="noise_rate must be a number"):
            noise.check_noise_rate(value)
    assert noise.check_noise_rate(torch.tensor(0.25)) == 0.25 and noise.check_noise_rate(np.float32(0.5)) == 0.5
    assert noise.check_num_classes(noise.MAX_CLASSES) == 10_000 and noise.check_num_classes(10.0) == 10
    assert noise.check_seed(noise.MAX_SEED) == 2**32 - 1 and noise.check_seed(np.int64(3)) == 3
    with pytest.raises(ValueError, match=r"num_classes must be an integer >= 2 and <= 10000"):
        noise.check_num_classes(10_001)


def test_docstrings_mark_the_course_extensions():
    """Pair-flip for K != 10, the Patrini-style kind and clean labels at eps = 0 are the course's own."""
    assert "course's own extension" in noise.pair_partner.__doc__
    assert "course's own" in noise.asymmetric_target.__doc__ and "Patrini" in noise.asymmetric_target.__doc__
    assert "unconfirmed" in noise.asymmetric_target.__doc__
    doc = " ".join(noise.instance_dependent.__doc__.split())
    assert "course's own choice" in doc and "about 8%" in doc
