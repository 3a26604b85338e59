"""Self-checks for lesson 06 (``notebooks/06_your_own_data``).

Each ``check_...`` returns a :class:`~nls_lessons.exercises.Feedback`: truthy when right,
with the reason; falsy with a hint otherwise. A hint never states the answer, and
``None`` (the starter value) is always a polite "not yet".
"""
from __future__ import annotations

from . import Feedback, check_number


# --------------------------------------------------------------- exercise 1: accuracy on noisy labels
def check_noisy_accuracy(answer) -> Feedback:
    """Exercise 1: expected accuracy on symmetric-noisy labels (ε = 0.6, K = 10) of a model
    whose clean accuracy is 0.8."""
    expected = 0.4 * 0.8 + 0.6 * 0.2 / 9          # 0.3333
    # exact arithmetic: 0.333 passes, 0.334 (an estimated noise rate the lesson prints above) does not
    return check_number(
        answer, expected, tol=5e-4,
        not_a_number="Give a single number (an accuracy as a fraction, e.g. 0.5).",
        why="(1 − ε)·acc + ε·(1 − acc)/(K − 1) = 0.4·0.8 + 0.6·0.2/9 = 0.32 + 0.013 = 0.333. "
            "A model that is right 80 % of the time agrees with only a third of the noisy labels, "
            "yet a better model still agrees with more of them: the ranking survives.",
        mistakes=[
            (0.4 * 0.8, "Almost: a wrong prediction can also score, when the label moved to exactly "
                        "that wrong class (probability ε/(K − 1))."),
            (0.8, "That is the clean accuracy. Against noisy labels a right prediction scores only "
                  "when the label stayed."),
            (0.4 * 0.8 + 0.6 * 0.2, "A wrong prediction scores only if the label moved to *that* class: "
                                    "divide ε by the K − 1 classes it can move to."),
        ],
        hint="Not quite. Split into 'prediction right and label stayed' and 'prediction wrong and "
             "the label moved to exactly the predicted class'.")


# --------------------------------------------------------------- exercise 2: when ranking breaks
def check_ranking_limit(answer) -> Feedback:
    """Exercise 2: the largest symmetric noise rate at which noisy-validation accuracy still
    ranks models like clean accuracy, for K = 4 classes."""
    return check_number(
        answer, 0.75, tol=5e-3,
        not_a_number="Give a single number (a noise rate ε).",
        why="acc_noisy = ε/(K − 1) + (1 − κ)·acc rises with acc while κ = Kε/(K − 1) < 1, i.e. "
            "ε < (K − 1)/K = 3/4. At ε = 0.75 every label is uniform noise and validation says nothing.",
        mistakes=[
            (0.9, "That is (K − 1)/K for K = 10. Here K = 4."),
            (0.5, "0.5 is the binary limit. With more classes the wrong labels spread out, so the "
                  "limit is higher."),
            (1 / 3, "That is ε/(K − 1) at the limit, not the limit itself."),
        ],
        hint="Not quite. Find where the slope 1 − κ of acc_noisy in acc becomes zero.")


# --------------------------------------------------------------- exercise 3: correct a noisy accuracy
def check_corrected_accuracy(answer) -> Feedback:
    """Exercise 3: clean-accuracy estimate from a noisy validation accuracy of 0.45 when the
    estimated symmetric noise rate is 0.5 (K = 10)."""
    kap = 10 * 0.5 / 9
    expected = (0.45 - 0.5 / 9) / (1 - kap)        # 0.8875
    return check_number(
        answer, expected, tol=5e-3,
        not_a_number="Give a single number (an accuracy as a fraction).",
        why="acc = (acc_noisy − ε/(K − 1))/(1 − κ) = (0.45 − 0.056)/(1 − 0.556) = 0.8875. The noisy "
            "validation split under-reports the model by more than 40 points; the estimated T "
            "lets you read it back, as far as the estimate is right.",
        mistakes=[
            (0.45 / 0.5, "You divided by 1 − ε. The slope is 1 − κ with κ = Kε/(K − 1), and the "
                         "lucky hits ε/(K − 1) come off first."),
            ((0.45 - 0.5 / 9) / 0.5, "Close: the slope is 1 − κ, κ = Kε/(K − 1), not 1 − ε."),
            (0.45 / (1 - kap), "Take off the lucky hits ε/(K − 1) before dividing by 1 − κ."),
        ],
        hint="Not quite. Solve acc_noisy = ε/(K − 1) + (1 − κ)·acc for acc.")
