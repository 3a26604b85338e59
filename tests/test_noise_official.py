"""``noise.inject(..., method="official")``: the official code's label draw, bit for bit.

The official generator (``multiclass_noisify`` in UCSC-REAL/negative-label-smoothing, read, not
copied) makes one ``numpy.random.RandomState(0)`` and, for every training label ``y`` in dataset
order, draws one ``multinomial(1, T[y])``; the new label is the index of the 1. A multinomial
with one trial is, in numpy's legacy algorithm, a chain of binomial draws: class ``j`` gets the
trial with probability ``T[y, j] / (mass not yet assigned)``, the first success wins, and the last
class takes the trial when no binomial succeeded; a class of probability 0 is skipped without a
draw (numpy's multinomial does not call its binomial for p = 0). The tests below redo that chain by hand, one
``RandomState.binomial`` call at a time, so they do not lean on the implementation under test.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nls_lessons import noise


def by_hand(labels, T, seed=0):
    """The official draw, step by step: binomial chain per label, in dataset order."""
    rs = np.random.RandomState(seed)
    out = []
    for y in labels:
        row, left, new = T[y], 1.0, len(T) - 1
        for j in range(len(T) - 1):
            # p = 0: no draw consumed; a ratio rounded just above 1 is a certain success
            if row[j] > 0 and rs.binomial(1, min(row[j] / left, 1.0)):
                new = j
                break
            left -= row[j]
        out.append(new)
    return np.array(out, dtype=np.int64)


def official_symmetric(k, eps):
    """The official symmetric matrix: eps / (K - 1) everywhere, 1 - eps on the diagonal."""
    P = (eps / (k - 1)) * np.ones((k, k))
    P[np.arange(k), np.arange(k)] = 1.0 - eps
    return P


def official_pairflip(eps):
    """The official CIFAR-10 pair-flip matrix: the pairs (1,9), (0,2), (4,7), (3,5), (6,8)."""
    P = np.eye(10)
    P[np.arange(10), np.arange(10)] = 1.0 - eps
    for a, b in [(9, 1), (2, 0), (4, 7), (3, 5), (6, 8)]:
        P[a, b] = P[b, a] = eps
    return P


LABELS10 = np.random.default_rng(5).integers(0, 10, 2000)
LABELS100 = np.random.default_rng(6).integers(0, 100, 2000)


@pytest.mark.parametrize("kind, k, eps, labels", [
    ("symmetric", 10, 0.2, LABELS10), ("symmetric", 10, 0.6, LABELS10),
    ("pairflip", 10, 0.2, LABELS10), ("pairflip", 10, 0.4, LABELS10),
    ("symmetric", 100, 0.4, LABELS100), ("symmetric", 100, 0.6, LABELS100),
])
def test_official_draw_equals_the_hand_derived_chain(kind, k, eps, labels):
    T = noise.transition_matrix(kind, k, eps)
    reference = official_symmetric(k, eps) if kind == "symmetric" else official_pairflip(eps)
    assert np.array_equal(T, reference)                       # the same matrix, to the bit
    got = noise.inject(labels, T, 0, method="official")
    assert np.array_equal(got, by_hand(labels, T))
    realised = (got != labels).mean()
    assert abs(realised - eps) < 4 * np.sqrt(eps * (1 - eps) / len(labels))


def test_first_labels_of_a_short_sequence():
    # five labels 3, 3, 3, 3, 3 at symmetric eps = 0.6, K = 10, RandomState(0): derived above
    labels = np.full(5, 3)
    T = noise.transition_matrix("symmetric", 10, 0.6)
    assert noise.inject(labels, T, 0, method="official").tolist() == by_hand(labels, T).tolist()
    # ...and the draw depends on the order: the first label's draw is consumed first
    mixed = np.array([0, 9, 3, 7])
    assert noise.inject(mixed, T, 0, method="official").tolist() == by_hand(mixed, T).tolist()


def test_official_keeps_the_container_and_the_default_stays_the_course_sampler():
    T = noise.transition_matrix("symmetric", 10, 0.4)
    t = torch.as_tensor(LABELS10[:300])
    got = noise.inject(t, T, 0, method="official")
    assert isinstance(got, torch.Tensor) and got.dtype == t.dtype
    assert np.array_equal(got.numpy(), by_hand(LABELS10[:300], T))
    assert np.array_equal(noise.inject(LABELS10, T, 3), noise.inject(LABELS10, T, 3, method="course"))
    assert not np.array_equal(noise.inject(LABELS10, T, 0), noise.inject(LABELS10, T, 0, method="official"))


def test_seed_selects_the_random_state():
    T = noise.transition_matrix("symmetric", 10, 0.4)
    assert np.array_equal(noise.inject(LABELS10, T, 7, method="official"), by_hand(LABELS10, T, 7))


@pytest.mark.parametrize("method", ["Official", "numpy", None, 1])
def test_bad_method_names_the_argument(method):
    T = noise.transition_matrix("symmetric", 10, 0.4)
    with pytest.raises(ValueError, match=r"method.*'course'.*'official'"):
        noise.inject(LABELS10, T, 0, method=method)
