"""Self-checks for lesson 04 (``notebooks/04_high_noise_regimes``).

Each ``check_...`` returns a :class:`~nls_lessons.exercises.Feedback`: truthy when right,
with the reason; falsy with a hint otherwise. A hint never states the answer, and
``None`` (the starter value) is always a polite "not yet".
"""
from __future__ import annotations

import math
from numbers import Real

import pandas as pd

from . import NOT_YET, Feedback, as_number, as_text, check_number, right, wrong


# --------------------------------------------------------------- exercise 1: r_opt
def check_optimal_rate(answer) -> Feedback:
    """Exercise 1: r_opt for K = 10, ε = 0.5 and a clean optimal rate r* = 0.3 (not 0.2, whose
    answer −0.8 the lesson's table prints for other settings)."""
    kap = 10 * 0.5 / 9
    expected = (0.3 - kap) / (1 - kap)            # -0.575
    return check_number(
        answer, expected, tol=5e-3,
        not_a_number="Give a single number (a smooth rate r).",
        why="κ = 10·0.5/9 = 5/9 and r_opt = (r* − κ)/(1 − κ) = (0.3 − 0.556)/0.444 = −0.575. "
            "Although the clean data liked LS (r* = 0.3 > 0), half the labels being wrong "
            "already smooths more than that, so the best rate is negative: NLS.",
        mistakes=[
            ((0.3 - 0.5) / (1 - 0.5), "You used ε in place of κ. For K classes κ = Kε/(K − 1)."),
            (0.3 - kap, "Close: the numerator is right, but r_opt also divides by (1 − κ)."),
            (-kap / (1 - kap), "That is the rate for r* = 0 (backward correction). Here the clean data's "
                               "own optimum is r* = 0.3."),
            (lambda v: v > 0, "At ε = 0.5 the noise already smooths the labels more than r* asks for, so "
                              "the sign of r_opt should tell you to sharpen, not smooth."),
        ],
        hint="Not quite. Compute κ = Kε/(K − 1), then r_opt = (r* − κ)/(1 − κ).")


# --------------------------------------------------------------- exercise 2: the phase boundary
def check_threshold(answer) -> Feedback:
    """Exercise 2: the noise rate at which r_opt changes sign for K = 10 and r* = 0.3."""
    return check_number(
        answer, 0.27, tol=2e-3,
        not_a_number="Give a single number (a noise rate ε).",
        why="r_opt = 0 exactly when κ = r*, i.e. ε = (K − 1)·r*/K = 0.9·0.3 = 0.27. Below "
            "0.27 use LS, above it NLS: the black line of the phase diagram.",
        mistakes=[
            (0.3, "That sets ε = r*, but the boundary is κ = r*, and κ = Kε/(K − 1) is a little "
                  "larger than ε."),
            (0.15, "That is the binary boundary e = r*/2 (κ = 2e for K = 2). Redo it with K = 10."),
            (0.3 * 10 / 9, "Solve κ = r* for ε the other way round: κ = Kε/(K − 1)."),
        ],
        hint="Not quite. r_opt = (r* − κ)/(1 − κ) is zero when its numerator is; solve for ε.")


# --------------------------------------------------------------- exercise 3: read the sweep
#: The metrics ``check_best_rate`` can rank smooth rates by (columns of ``train.sweep``'s frame).
BEST_RATE_METRICS = ("test_acc", "best_test_acc")
_SWEEP_COLUMNS = ("noise_rate", "smooth_rate", "seed")


def _sweep_rows(results, noise_rate, metric: str):
    """The symmetric-noise rows of ``results`` at ``noise_rate``, after checking the caller's
    arguments (a wrong argument raises, naming it and what is allowed; a wrong *answer* never does)."""
    if not isinstance(metric, str) or metric not in BEST_RATE_METRICS:
        raise ValueError(f"metric must be one of {', '.join(map(repr, BEST_RATE_METRICS))} "
                         f"(a column of the sweep's results), got {metric!r}")
    if isinstance(noise_rate, bool) or not isinstance(noise_rate, Real) or math.isnan(noise_rate):
        raise TypeError(f"noise_rate must be a number in [0, 1), got {noise_rate!r}")
    if not 0 <= noise_rate < 1:
        raise ValueError(f"noise_rate must be a number in [0, 1), got {noise_rate!r}")
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be the pandas DataFrame returned by train.sweep, "
                        f"got {type(results).__name__}")
    missing = [c for c in (*_SWEEP_COLUMNS, metric) if c not in results.columns]
    if missing:
        raise ValueError(f"results must be the frame returned by train.sweep, with columns "
                         f"{', '.join((*_SWEEP_COLUMNS, metric))}; missing {', '.join(missing)}")
    if results.empty:
        raise ValueError("results is empty: pass the frame returned by train.sweep")
    for column in ("noise_rate", "smooth_rate", metric):
        if not pd.api.types.is_numeric_dtype(results[column]):
            raise ValueError(f"results column {column!r} must be numeric, got dtype {results[column].dtype}")
    sym = results
    if "noise_kind" in results.columns:
        sym = results[results["noise_kind"] == "symmetric"]
        if sym.empty:
            kinds = ", ".join(sorted(map(str, results["noise_kind"].unique())))
            raise ValueError(f"results has no symmetric-noise rows (noise_kind: {kinds}); the exercise "
                             "reads the symmetric sweep")
    return sym[(sym["noise_rate"] - float(noise_rate)).abs() < 1e-6]


def check_best_rate(answer, results, noise_rate: float = 0.6, metric: str = "test_acc") -> Feedback:
    """Exercise 3: the smooth rate with the highest *mean* ``metric`` at ``noise_rate``,
    read from the sweep's tidy frame ``results`` (symmetric noise).

    ``metric`` is one of :data:`BEST_RATE_METRICS`; ``noise_rate`` a number in [0, 1).
    Bad arguments raise ``TypeError``/``ValueError`` naming them; any ``answer`` gets feedback.
    """
    rows = _sweep_rows(results, noise_rate, metric)
    if answer is None:
        return wrong(NOT_YET)
    value = as_number(answer)
    if value is None:
        return wrong("Give a single number (one of the smooth rates of the sweep).")
    if rows.empty:
        rates = ", ".join(f"{e:g}" for e in sorted(results["noise_rate"].unique()))
        return wrong(f"The results frame has no rows at noise rate {noise_rate:g} (it has {rates}): "
                     "pass the sweep's frame and a noise rate it contains.")
    means = rows.groupby("smooth_rate")[metric].mean()
    best = float(means.idxmax())
    label = "final" if metric == "test_acc" else "best-epoch"
    if abs(value - best) <= 1e-9:
        return right(f"At ε = {noise_rate:g} the mean {label} test accuracy over seeds is highest at "
                     f"r = {best:g} ({100 * means.max():.1f} %). "
                     + ("A negative rate: at this noise level NLS wins." if best < 0 else
                        "A non-negative rate: at this noise level LS or CE wins."))
    nearest = min(means.index, key=lambda r: abs(r - value))
    if abs(value - nearest) > 1e-9:
        return wrong("That rate is not in the sweep. Pick one of the smooth rates in the results frame.")
    best_per_seed = rows.loc[rows.groupby("seed")[metric].idxmax(), "smooth_rate"]
    if any(abs(value - float(r)) <= 1e-9 for r in best_per_seed):
        return wrong("That is the best rate of a single seed. Average over seeds first "
                     "(groupby smooth_rate, then mean), then take the arg-max.")
    gap = 100 * (means.max() - means.loc[nearest])
    return wrong(f"Not the best: that rate is {gap:.1f} points below the best mean at ε = {noise_rate:g}. "
                 f"Filter the frame to this ε, group by smooth_rate, average {metric} and take idxmax().")


# --------------------------------------------------------------- exercise 4: the contrast case
_CHOICES = {"a", "b", "c", "d"}


def check_pairflip(answer) -> Feedback:
    """Exercise 4: what the lesson's pair-flip numbers support. Choices:

    a) NLS does not help under pair-flip noise (GLS sharpens around the uniform vector over all
       K classes, pair-flip noise mixes probability within each pair);
    b) the winner depends on the noise rate (and, at 40 %, on the report): LS at 20 %, while at
       higher pair-flip rates NLS comes out ahead in some of the reports;
    c) LS wins at every pair-flip rate, because one class of each pair is a low-noise class (M-Inc2);
    d) nothing: the LS-NLS gaps are within the seed-to-seed spread at every rate.

    The data (lesson 04, digits, 6 paired seeds): at 20 % the best LS rate is ahead on every seed,
    final and best epoch; at 40 % the best NLS rate is ahead by the final epoch on 5 of 6 seeds
    (+6.0 points on average) and behind at the best epoch; Table 2 (ICLR numbering) has LS ahead
    in its 20 % "asym" column, NLS in its 30 % one.
    """
    if answer is None:
        return wrong(NOT_YET)
    text = as_text(answer)
    text = text.strip("().: ") if text is not None else None
    if text not in _CHOICES:
        return wrong('Answer with one of the letters "a", "b", "c" or "d" (a string).')
    if text == "b":
        return right("At 20 % LS is ahead on every seed, final or best epoch, as in Table 2's 20 % "
                     "column. At 40 % the final epoch has the best NLS rate ahead on most seeds, while "
                     "at the best epoch LS keeps a small lead; Table 2's 30 % column has NLS ahead. "
                     "Pair noise is not all-class smoothing and the main-text theory does not cover "
                     "it, but the data do not say NLS is useless there: as under symmetric noise, "
                     "the answer changes with the noise rate.")
    if text == "a":
        return wrong("The mechanism sounds right, but check it against the numbers: look at the 40 % "
                     "rows (final epoch, seed by seed) and at Table 2's 30 % column. Which side is "
                     "ahead there?")
    if text == "c":
        return wrong("M-Inc2 is proportional to e_Δ = e1 − e0, the difference between the two classes' "
                     "flip rates. In these pairs both classes flip to each other at the same rate: "
                     "what does that make e_Δ? And does LS win every pair-flip column you saw?")
    return wrong("Look at the 20 % rows seed by seed: how large is the smallest paired gap, and "
                 "does its sign ever change?")
