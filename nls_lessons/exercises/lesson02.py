"""Self-checks for lesson 02 (``notebooks/02_label_smoothing``): the LS target, the implicit
smooth rate kappa of symmetric noise, over-smoothing, and where the LS loss is smallest.

Each ``check_...`` returns a :class:`~nls_lessons.exercises.Feedback`: truthy with the reason
when the answer is right, falsy with a hint (never the answer) when it is not. ``None``, the
starter value, gives "not yet" feedback without raising.
"""
from __future__ import annotations

from . import Feedback, check_number


def check_true_class_target(answer) -> Feedback:
    """Exercise 1: the LS target of the true class, K = 10, r = 0.3 (the lesson's figure works
    r = 0.2 through, so the answer is not on the page)."""
    return check_number(
        answer, 0.73, tol=1e-4,
        not_a_number="Give a single number: one entry of the target vector.",
        why="(1 − r)·1 + r/K = 0.7 + 0.03 = 0.73: the label keeps 1 − r of its mass and also "
            "gets its share r/K of the uniform part.",
        mistakes=[
            (0.7, "Almost: (1 − r) is the one-hot part, but the uniform part r/K is added to *every* "
                  "class, the true one included."),
            (0.03, "That is the entry of a *wrong* class. The true class also keeps the one-hot part."),
        ],
        hint="Use the target (1 − r)·y + r/K with y the one-hot vector: what is its entry where y = 1?")


def check_kappa(answer) -> Feedback:
    """Exercise 2: the implicit smooth rate kappa of symmetric noise, K = 10, eps = 0.45."""
    return check_number(
        answer, 0.5, tol=1e-4,
        not_a_number="Give a single number, the implicit smooth rate κ.",
        why="κ = Kε/(K − 1) = 10 × 0.45 / 9 = 0.5: the noisy labels are as smooth as clean ones "
            "with LS at r = 0.5.",
        mistakes=[
            (0.45, "κ is not ε itself. Symmetric noise moves ε to the K − 1 *other* classes, while LS "
                   "spreads r over *all* K classes; match the two."),
            (0.45 * 9 / 10, "The factor is upside down: should κ be larger or smaller than ε? Write "
                            "(1 − ε)p_j + ε(1 − p_j)/(K − 1) in the form (1 − κ)p_j + κ/K."),
        ],
        hint="Write the noisy posterior (1 − ε)p_j + ε(1 − p_j)/(K − 1) in the form "
             "(1 − κ)p_j + κ/K and read off κ.")


def check_total_shrinkage(answer) -> Feedback:
    """Exercise 3: the factor (1 - r)(1 - kappa) for K = 10, eps = 0.3, r = 0.5."""
    kap = 10 * 0.3 / 9
    expected = (1 - 0.5) * (1 - kap)
    return check_number(
        answer, expected, tol=1e-3,
        not_a_number="Give a single number between 0 and 1: a shrinkage factor.",
        why=f"Noise shrinks the gap to uniform by 1 − κ = 1 − 1/3 = 2/3, LS by 1 − r = 0.5; "
            f"together (1 − r)(1 − κ) = {expected:.4f}, a third of the clean gap.",
        mistakes=[
            (0.5 * 0.7, "You used 1 − ε for the noise. The noise's shrinkage factor is 1 − κ, "
                        "with κ the implicit smooth rate from exercise 2."),
            ((0.5, 1 - kap), "That is one of the two shrinkages. Both act on the same gap, one after the "
                             "other."),
            (1 - expected, "That is how much of the gap is *removed*. The question asks for the factor "
                           "that multiplies it."),
        ],
        hint="Each smoothing step multiplies the deviation from uniform by (1 − its rate). Which two "
             "rates act here, and what is κ for ε = 0.3, K = 10?")


def check_loss_minimum(answer) -> Feedback:
    """Exercise 4: where the LS loss is smallest as a function of p_y, K = 5, r = 0.4."""
    return check_number(
        answer, 0.68, tol=1e-3,
        not_a_number="Give a single number between 0 and 1: a probability.",
        why="The loss is a cross-entropy against the target, so it is smallest when the "
            "prediction equals the target: p_y = 1 − r + r/K = 0.6 + 0.08 = 0.68.",
        mistakes=[
            (1.0, "That is where plain CE is smallest. LS adds a term that pulls towards uniform; "
                  "the figure of section 2 shows the minimum moving left."),
            (0.6, "Close: 1 − r is the one-hot part of the target. Which other part of the target "
                  "does the true class also receive?"),
        ],
        hint="Cross-entropy against a soft target t is smallest when p = t. What is the target "
             "of the true class for K = 5, r = 0.4?")
