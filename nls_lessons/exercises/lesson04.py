"""Self-checks for lesson 04 (``notebooks/04_high_noise_regimes``).

Each ``check_...`` returns a :class:`~nls_lessons.exercises.Feedback`: truthy when right,
with the reason; falsy with a hint otherwise. A hint never states the answer, and
``None`` (the starter value) is always a polite "not yet".
"""
from __future__ import annotations

from . import NOT_YET, Feedback, as_number, check_number, right, wrong


# --------------------------------------------------------------- exercise 1: r_opt
def check_optimal_rate(answer) -> Feedback:
    """Exercise 1: r_opt for K = 10, ε = 0.5 and a clean optimal rate r* = 0.2."""
    kap = 10 * 0.5 / 9
    expected = (0.2 - kap) / (1 - kap)            # -0.8
    return check_number(
        answer, expected, tol=5e-3,
        not_a_number="Give a single number (a smooth rate r).",
        why="κ = 10·0.5/9 = 5/9 and r_opt = (r* − κ)/(1 − κ) = (0.2 − 0.556)/0.444 = −0.8. "
            "Although the clean data liked LS (r* = 0.2 > 0), half the labels being wrong "
            "already smooths more than that, so the best rate is negative: NLS.",
        mistakes=[
            ((0.2 - 0.5) / (1 - 0.5), "You used ε in place of κ. For K classes κ = Kε/(K − 1)."),
            (0.2 - kap, "Close: the numerator is right, but r_opt also divides by (1 − κ)."),
            (-kap / (1 - kap), "That is the rate for r* = 0 (backward correction). Here the clean data's "
                               "own optimum is r* = 0.2."),
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
def check_best_rate(answer, results, noise_rate: float = 0.6, metric: str = "test_acc") -> Feedback:
    """Exercise 3: the smooth rate with the highest *mean* ``metric`` at ``noise_rate``,
    read from the sweep's tidy frame ``results`` (symmetric noise)."""
    if answer is None:
        return wrong(NOT_YET)
    value = as_number(answer)
    if value is None:
        return wrong("Give a single number (one of the smooth rates of the sweep).")
    sym = results[results["noise_kind"] == "symmetric"] if "noise_kind" in results else results
    rows = sym[(sym["noise_rate"] - noise_rate).abs() < 1e-9]
    if rows.empty:
        return wrong(f"The results frame has no rows at noise rate {noise_rate}: pass the sweep's frame.")
    means = rows.groupby("smooth_rate")[metric].mean()
    best = float(means.idxmax())
    rates = [float(r) for r in means.index]
    if abs(value - best) <= 1e-9:
        return right(f"At ε = {noise_rate:g} the mean {metric} over seeds is highest at r = {best:g} "
                     f"({100 * means.max():.1f} %). "
                     + ("A negative rate: at this noise level NLS wins." if best < 0 else
                        "A non-negative rate: at this noise level LS or CE wins."))
    if not any(abs(value - r) <= 1e-9 for r in rates):
        return wrong("That rate is not in the sweep. Pick one of the smooth rates in the results frame.")
    best_per_seed = rows.loc[rows.groupby("seed")[metric].idxmax(), "smooth_rate"]
    if abs(value - float(best_per_seed.iloc[0])) <= 1e-9:
        return wrong("That is the best rate of a single seed. Average over seeds first "
                     "(groupby smooth_rate, then mean), then take the arg-max.")
    gap = 100 * (means.max() - means.loc[min(means.index, key=lambda r: abs(r - value))])
    return wrong(f"Not the best: that rate is {gap:.1f} points below the best mean at ε = {noise_rate:g}. "
                 "Filter the frame to this ε, group by smooth_rate, average test_acc and take idxmax().")


# --------------------------------------------------------------- exercise 4: the contrast case
_CHOICES = {"a", "b", "c"}


def check_pairflip(answer) -> Feedback:
    """Exercise 4: why NLS does not help under pair-flip noise. Choices:

    a) pair-flip noise is not of the form (1 − κ)p + κ/K, so it is not "extra smoothing",
       and sharpening the target cannot undo it;
    b) pair-flip noise rates are too small to matter;
    c) NLS always loses on digits.
    """
    if answer is None:
        return wrong(NOT_YET)
    text = answer.strip().lower().rstrip(")") if isinstance(answer, str) else None
    if text not in _CHOICES:
        return wrong('Answer with one of the letters "a", "b" or "c".')
    if text == "a":
        return right("Pair-flip noise moves mass to *one* partner class instead of spreading it "
                     "evenly, so the noisy posterior is not a smoothed version of the clean one. "
                     "NLS undoes smoothing (it sharpens around uniform); it cannot undo a flip "
                     "towards a specific class, and the paper's theory adds a confidence bias "
                     "(M-Inc2) under asymmetric noise.")
    if text == "b":
        return wrong("The pair-flip rates in the sweep are as large as the symmetric ones. Think about "
                     "*where* the flipped labels go.")
    return wrong("The symmetric sweep above showed NLS winning at high noise on the same data and "
                 "model. What is different about this noise?")
