"""Self-checks for lesson 03 (``notebooks/03_negative_label_smoothing``).

Each ``check_...`` returns a :class:`~nls_lessons.exercises.Feedback`: truthy when right,
with the reason; falsy with a hint otherwise. A hint never states the answer, and
``None`` (the starter value) is always a polite "not yet".
"""
from __future__ import annotations

from . import NOT_YET, Feedback, as_text, check_number, right, wrong


# --------------------------------------------------------------- exercise 1: an NLS target
def check_nls_target(answer) -> Feedback:
    """Exercise 1: the true-class entry of the GLS target for K = 10 and r = -4."""
    return check_number(
        answer, 4.6, tol=1e-6,
        not_a_number="Give a single number (the target of the true class).",
        why="(1 − r) + r/K = 5 − 0.4 = 4.6. The other nine entries are r/K = −0.4 each, "
            "so the vector still sums to 4.6 − 9·0.4 = 1: NLS *sharpens* the one-hot target "
            "instead of softening it.",
        mistakes=[
            (5.0, "You have (1 − r)·1 but forgot the uniform part: every entry, the true class "
                  "included, also receives r/K."),
            (-0.4, "That is the entry of every *other* class. The question asks for the true class."),
            ((1.0 - 4.0 + (-4.0) / 10, -3.4), "Check the sign: 1 − r with r = −4 is 1 + 4, not 1 − 4."),
            (lambda v: v <= 1, "For r < 0 the true class gets *more* than 1. Start from "
                               "(1 − r)·onehot + r/K."),
        ],
        hint="Not quite. The target is (1 − r)·onehot(y) + r/K; evaluate it at the true class "
             "with K = 10 and r = −4.")


# --------------------------------------------------------------- exercise 2: Theorem 1
def check_theorem1(answer) -> Feedback:
    """Exercise 2: NLS(−0.4) on a batch where CE = 0.55 and LS(0.4) = 0.87 (Theorem 1)."""
    return check_number(
        answer, 2 * 0.55 - 0.87, tol=1e-6,
        not_a_number="Give a single number (the value of the NLS loss).",
        why="Theorem 1: NLS(−r) = 2·CE − LS(r) = 2·0.55 − 0.87 = 0.23. Because the loss is "
            "linear in r, the three rates −r, 0 and r lie on one straight line: "
            "CE is the midpoint of NLS(−r) and LS(r).",
        mistakes=[
            (0.55 - 0.87, "You computed CE − LS(r). Theorem 1 weights CE by 2: CE is the *midpoint* of "
                   "NLS(−r) and LS(r)."),
            ((2 * 0.55 + 0.87, 0.55 + 0.87), "The LS loss enters with a minus sign: NLS pulls the other way from LS."),
            (0.87 - 0.55, "Not LS − CE: think of CE as the midpoint between NLS(−r) and LS(r)."),
        ],
        hint="Not quite. The GLS loss is (1 − r)·CE + r·CE(uniform), linear in r: write "
             "NLS(−r), CE and LS(r) in that form and compare.")


# --------------------------------------------------------------- exercise 3: loss correction
def check_backward_rate(answer) -> Feedback:
    """Exercise 3: the GLS rate that equals backward loss correction for K = 10, ε = 0.5."""
    kap = 10 * 0.5 / 9
    expected = -kap / (1 - kap)                       # -1.25
    return check_number(
        answer, expected, tol=5e-3,
        not_a_number="Give a single number (a smooth rate r).",
        why="κ = Kε/(K − 1) = 5/9 ≈ 0.556 and r = −κ/(1 − κ) = −(5/9)/(4/9) = −1.25. "
            "Backward correction with the true T is NLS with r = −1.25; as ε → 0.9 "
            "(κ → 1) the rate runs to −∞.",
        mistakes=[
            (-kap, "That is −κ. Backward correction also rescales by 1/(1 − κ): look again at "
                   "T⁻¹ = (I − (κ/K)·J)/(1 − κ)."),
            ((-0.5, -1.0), "Use κ = Kε/(K − 1), not ε itself: symmetric noise spreads ε over "
                           "the K − 1 *other* classes."),
            ((-expected, kap), "Check the sign: inverting the noise *sharpens* the target, so the rate "
                               "is negative (NLS)."),
        ],
        hint="Not quite. Compute κ = Kε/(K − 1) first, then r = −κ/(1 − κ); "
             "theory.backward_correction_rate lets you check the table values.")


# --------------------------------------------------------------- exercise 4: the misconception
_CONFIDENCE_CHOICES = {"higher", "lower", "same"}


def check_wrong_confidence(answer) -> Feedback:
    """Exercise 4: is an NLS model's max-softmax confidence on its *wrong* predictions higher,
    lower or the same as an LS model's? (answer "higher", "lower" or "same")"""
    if answer is None:
        return wrong(NOT_YET)
    text = as_text(answer)
    text = text.strip("\"'.!() ") if text is not None else None
    if text not in _CONFIDENCE_CHOICES:
        return wrong('Answer with one of the strings "higher", "lower" or "same" (a string, in quotes).')
    if text == "higher":
        return right("NLS drives MC = p_y − max_{k≠y} p_k toward −1 on a wrong prediction: almost all "
                     "mass sits on one *wrong* class, so the max-softmax confidence is close to 1. "
                     "'Lower confidence on wrong predictions' in the paper means lower MC in the true "
                     "label, which is *higher* confidence in the predicted class.")
    if text == "lower":
        return wrong("That is the common misreading of 'NLS lowers MC on wrong predictions'. MC is "
                     "confidence in the *true* label. Look at where the wrong (vermillion) bars of the "
                     "NLS histogram sit, and ask how large max_k p_k must be for MC to be near −1.")
    return wrong("Compare the NLS and LS histograms for the wrong predictions: are the bars in the "
                 "same place?")
