"""Input checks shared by the whole library: numbers, integers, seeds, numbers of classes,
noise rates and booleans, with one clear message per argument (lessons 01-06).

Every layer-0 module (``noise``, ``losses``, ``theory``, ``metrics``, ``data``, ``models``)
and ``train`` validate their arguments with these; the message names the argument and the
allowed range. The checks of one concept's own objects live with that concept (a transition
matrix: :func:`nls_lessons.noise.check_transition_matrix`; a smooth rate:
:func:`nls_lessons.losses.check_smooth_rate`). ``noise`` re-exports every name here, so
``noise.check_seed`` and friends keep working.
"""
from __future__ import annotations

import math
import operator
from numbers import Real

import numpy as np
import torch

MAX_CLASSES = 10_000
"""Largest ``num_classes`` the library accepts (a (K, K) float64 transition matrix at the cap
takes 800 MB; the course's largest K is CIFAR-100's 100)."""

MAX_SEED = 2**32 - 1
"""Largest seed: numpy's legacy ``RandomState`` and scikit-learn's ``random_state`` take
seeds in [0, 2**32 - 1]."""

def is_bool(value) -> bool:
    """True for Python and numpy booleans and for boolean arrays/tensors.

    ``True`` is an ``int`` to Python (and ``np.True_`` converts to 1), so every check of a
    number, a class index or a size rejects booleans explicitly with this one test.
    """
    if isinstance(value, (bool, np.bool_)):
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and (dtype == torch.bool or dtype == np.bool_)


def reject_bool_items(values, name: str) -> None:
    """Raise ``TypeError`` if a Python list/tuple holds a boolean.

    ``np.asarray([0, True])`` silently gives ``[0, 1]``; a boolean is never a class index
    or a rate, so lists are checked item by item (arrays and tensors by their dtype).
    """
    if isinstance(values, (list, tuple)) and any(is_bool(v) for v in values):
        raise TypeError(f"{name} must hold numbers, not booleans (True/False); got {_short(values)}")


def _short(value, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def check_integer(value, name: str, low: int, high: int | None = None, *, floats_ok: bool = False,
                  what: str = "") -> int:
    """Return ``value`` as an int, or raise ``ValueError`` unless it is an integer in [low, high].

    Accepts Python and numpy integers and 0-d integer tensors; integral floats such as
    ``3.0`` only with ``floats_ok``. Booleans, strings, None, NaN and inf are rejected.
    ``what`` (e.g. "the number of samples") is added to the message.
    """
    result = None
    if not is_bool(value) and not isinstance(value, (str, bytes)):
        try:
            result = operator.index(value)
        except TypeError:
            if floats_ok and isinstance(value, Real) and math.isfinite(value) and float(value).is_integer():
                result = int(value)
    if result is None or result < low or (high is not None and result > high):
        bound = f">= {low}" if high is None else f">= {low} and <= {high}"
        detail = f" ({what})" if what else ""
        raise ValueError(f"{name} must be an integer {bound}{detail}, got {_short(value)}")
    return int(result)


def check_number(value, name: str, allowed: str) -> float:
    """Return ``value`` as a float, or raise ``TypeError`` unless it is one real number.

    Accepts Python/numpy reals and 0-d tensors/arrays; rejects booleans, strings, None,
    complex numbers and arrays of more than one value. ``allowed`` says what the caller
    accepts (e.g. "a number in [0, 1)") and goes into the message. The range is the
    caller's to check.
    """
    ok = not is_bool(value) and not isinstance(value, (str, bytes, complex))
    if ok and isinstance(value, torch.Tensor):
        ok = value.ndim == 0 and not value.dtype.is_complex
    elif ok and isinstance(value, (np.ndarray, np.generic)):
        ok = value.ndim == 0 and not np.iscomplexobj(value)
    if ok:
        try:
            return float(value)
        except (TypeError, ValueError, RuntimeError):
            pass
    raise TypeError(f"{name} must be {allowed}, got {_short(value)}")


def check_noise_rate(noise_rate, name: str = "noise_rate") -> float:
    """Return ``noise_rate`` as a float, or raise ``ValueError`` unless it lies in [0, 1).

    NaN is rejected too; a non-number (string, None, boolean, list) raises ``TypeError``.
    Used by every function of the library that takes a noise rate.
    """
    value = check_number(noise_rate, name, "a number in [0, 1)")
    if math.isnan(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must lie in [0, 1) (the fraction of labels that change), got {noise_rate}")
    return value


def check_num_classes(num_classes, name: str = "num_classes") -> int:
    """Return ``num_classes`` as an int, or raise ``ValueError`` unless it is an integer in
    [2, MAX_CLASSES] (an integral float such as 10.0 is accepted)."""
    return check_integer(num_classes, name, 2, MAX_CLASSES, floats_ok=True, what="the number of classes K")


def check_seed(seed, name: str = "seed") -> int:
    """Return ``seed`` as an int, or raise ``ValueError`` unless it is an integer in [0, 2**32 - 1].

    The library never draws from a global random state: every random function takes an
    explicit seed, so the same seed always gives the same result.
    """
    return check_integer(seed, name, 0, MAX_SEED, what="an explicit seed")
