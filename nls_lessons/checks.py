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
import sys
from numbers import Real

import numpy as np

# torch is not imported here: a tensor (or a torch dtype) can only reach a check once its caller
# has imported torch, so ``sys.modules`` tells whether there is one to look for. An autograder
# kernel that only imports the exercises' checks then starts without torch's ~3 s import.


def _torch():
    """The ``torch`` module if this process has imported it, else None."""
    return sys.modules.get("torch")


def is_tensor(value) -> bool:
    """True for a ``torch.Tensor`` (without importing torch)."""
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)

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
    torch = _torch()
    return dtype is not None and ((torch is not None and dtype == torch.bool) or dtype == np.bool_)


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
    if ok and is_tensor(value):
        ok = value.ndim == 0 and not value.dtype.is_complex
    elif ok and isinstance(value, (np.ndarray, np.generic)):
        ok = value.ndim == 0 and not np.iscomplexobj(value)
    if ok:
        try:
            return _as_decimal(value)
        except (TypeError, ValueError, RuntimeError):
            pass
    raise TypeError(f"{name} must be {allowed}, got {_short(value)}")


def _as_decimal(value) -> float:
    """``float(value)``; a float16/bfloat16/float32 number becomes the shortest decimal that is
    the same number in its dtype (``np.float32(0.2)`` is 0.2, not 0.20000000298...), so a rate
    given in low precision means what it shows and draws what the float64 rate draws."""
    x = float(value)
    if not math.isfinite(x):
        return x
    torch = _torch()
    if is_tensor(value) and value.dtype in (torch.float16, torch.bfloat16, torch.float32):
        same = lambda c: torch.tensor(c, dtype=value.dtype).item() == x       # noqa: E731
    elif isinstance(value, (np.floating, np.ndarray)) and value.dtype.kind == "f" and value.dtype.itemsize < 8:
        same = lambda c: float(np.asarray(c, dtype=value.dtype)) == x        # noqa: E731
    else:
        return x
    for digits in range(1, 18):
        candidate = float(f"{x:.{digits}g}")
        if same(candidate):
            return candidate
    return x


#: Minus signs a learner may paste from the course's own text (U+2212 is what it prints).
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\ufe63": "-", "\uff0d": "-"})


def parse_number(text, name: str = "text") -> float:
    """The finite number written in ``text`` (``"0.5"``, ``"-2"``, ``"\u22122"``: the minus sign U+2212
    the course prints counts as one), or ``ValueError`` naming ``name``; ``TypeError`` if not a str."""
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str holding a number, got {type(text).__name__}")
    try:
        value = float(text.strip().translate(_MINUS_SIGNS))
    except ValueError:
        raise ValueError(f"{name} {_short(text)} is not a number (write e.g. 0.5, -2 or 1e-3)") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} {_short(text)} is not a finite number")
    return value


def as_python_number(value):
    """A 0-d tensor/array or a numpy scalar as the Python number it holds (a float16/bfloat16/
    float32 one as the decimal it shows, :func:`check_number`); anything else unchanged."""
    zero_d = (is_tensor(value) or isinstance(value, np.ndarray)) and value.ndim == 0
    if not (zero_d or isinstance(value, np.generic)):
        return value
    if is_tensor(value):
        floating = value.dtype.is_floating_point
    else:
        floating = np.asarray(value).dtype.kind == "f"
    return _as_decimal(value) if floating else value.item()


# ---------------------------------------------------------------- probability rows
def row_sum_tolerance(dtype) -> float:
    """How far from 1 a row of probabilities of ``dtype`` may sum: 1e-6, or twice the dtype's
    machine epsilon when that is larger (a float16 softmax sums to 1 within ~1e-3, bfloat16 ~1e-2)."""
    try:
        torch = _torch()
        is_torch_dtype = torch is not None and isinstance(dtype, torch.dtype)
        eps = float(torch.finfo(dtype).eps if is_torch_dtype else np.finfo(dtype).eps)
    except (TypeError, ValueError):
        eps = 0.0                                   # integers (0/1 rows) are exact
    return max(1e-6, 2.0 * eps)


def check_probability_rows(p, name: str) -> np.ndarray:
    """Return ``p`` (an array or tensor, probabilities along the last axis) as float64 rows that
    sum to 1 exactly enough for numpy (a row off by more than 1e-12 divided by its sum; the
    others unchanged, to the bit), or raise ``ValueError``.

    A row must be finite, >= 0 and sum to 1 within :func:`row_sum_tolerance` of ``p``'s dtype.
    The shape is the caller's to check. Every function of the library that takes rows of
    probabilities (a transition matrix, predicted probabilities) checks them with this.
    """
    if is_tensor(p):
        dtype = p.dtype
        p = p.detach().cpu()
        arr = p.double().numpy() if dtype.is_floating_point else p.numpy()
    else:
        arr = np.asarray(p)
        dtype = arr.dtype
    if arr.dtype.kind not in "iuf" or is_bool(p):
        raise ValueError(f"{name} must hold probabilities (real numbers), got dtype {dtype}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)) or (arr < 0).any():
        raise ValueError(f"{name} must have finite, non-negative entries (probabilities in [0, 1], >= 0)")
    sums = arr.sum(axis=-1, keepdims=True)
    tol = row_sum_tolerance(dtype)
    off = np.abs(sums[..., 0] - 1.0)
    if off.size and not (off <= tol).all():
        bad = np.unravel_index(int(np.argmax(off)), off.shape)
        where = bad[0] if len(bad) == 1 else bad
        raise ValueError(f"every row of {name} must sum to 1; row {where} sums to {float(sums[..., 0][bad]):.6g} "
                         f"(allowed: within {tol:g} of 1 for {dtype})")
    off_rows = np.abs(sums - 1.0) > 1e-12             # numpy's multinomial allows 1e-12: others stay bit-exact
    return np.where(off_rows, arr / sums, arr)


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
