"""Self-checks for lesson 01 (``notebooks/01_label_noise``): transition matrices, sampling
error of the realised noise rate, asymmetric noise, CIFAR-10N's human confusions.

Each ``check_...`` returns a :class:`~nls_lessons.exercises.Feedback`: truthy with the reason
when the answer is right, falsy with a hint (never the answer) when it is not. ``None``, the
starter value, gives "not yet" feedback without raising.
"""
from __future__ import annotations

import math

from . import NOT_YET, Feedback, as_number, check_number, number_problem, right, wrong

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def check_symmetric_entry(answer) -> Feedback:
    """Exercise 1: the off-diagonal entry T[2, 5] of symmetric noise, K = 10, eps = 0.3."""
    return check_number(
        answer, 0.3 / 9, tol=1e-4,
        not_a_number="Give a single number, the probability P(noisy = 5 | clean = 2).",
        why="Symmetric noise spreads ε over the K − 1 = 9 other classes evenly: "
            "ε / (K − 1) = 0.3 / 9 ≈ 0.0333.",
        mistakes=[
            (0.3 / 10, "Close: but the label moves to one of the *other* classes only; how many "
                       "other classes are there?"),
            ((0.3, 0.7), "That is a whole-row quantity. Split the flip probability ε among the wrong "
                         "classes: each off-diagonal cell gets an equal share."),
        ],
        hint="Row 2 of T must sum to 1: the diagonal holds 1 − ε, and the rest is shared "
             "equally by the wrong classes.")


def check_rate_sd(answer) -> Feedback:
    """Exercise 2: the standard deviation of the realised rate, eps = 0.3, N = 1257 (the lesson's
    demo prints the sd for eps = 0.2, so the answer is not on the page)."""
    expected = math.sqrt(0.3 * 0.7 / 1257)
    return check_number(
        answer, expected, tol=2e-4,
        not_a_number="Give a single number: a standard deviation of a fraction (about 0.01 in size?).",
        why=f"The number of flips is Binomial(N, ε), so the rate has sd "
            f"sqrt(ε(1 − ε)/N) = sqrt(0.21/1257) ≈ {expected:.4f}: about 1.3 "
            "percentage points.",
        mistakes=[
            (0.3 * 0.7 / 1257, "That is the variance. The standard deviation is its square root.", 2e-5),
            (math.sqrt(0.3 * 0.7), "That is the sd of a single flip (one Bernoulli draw). Averaging N "
                                   "independent draws divides it by sqrt(N).", 1e-3),
            (math.sqrt(0.3 * 0.7 * 1257), "That is the sd of the *number* of flipped labels. Divide by N "
                                          "to get the sd of the *fraction*.", 0.05),
        ],
        hint="Each label flips independently with probability ε, so the number of flips is "
             "binomial. What is the sd of a binomial count, and of that count divided by N?")


def check_asymmetric_rate(answer) -> Feedback:
    """Exercise 3: the overall noise rate of 'asymmetric' noise, K = 10, eps = 0.3, balanced."""
    return check_number(
        answer, 0.15, tol=1e-3,
        not_a_number="Give a single number between 0 and 1.",
        why="Only five of the ten classes (truck, bird, deer, cat, dog) ever flip, each "
            "with probability 0.3; the other five stay clean. On balanced data: "
            "5/10 × 0.3 = 0.15.",
        mistakes=[
            (0.3, "0.3 is the flip probability of a class that flips. Do all ten classes flip? "
                  "Look at the rows of the asymmetric heatmap."),
            (lambda v: v > 1 or v < 0, "A noise rate is a fraction of labels, between 0 and 1."),
        ],
        hint="Count the rows of the asymmetric T whose diagonal is below 1, then average "
             "1 − T_ii over all ten classes (they are equally frequent).")


def _class_index(answer) -> int | None:
    """A CIFAR-10 class as its index 0-9: a name (a few aliases too), an index, or an index
    written as text (``"9"``); ``None`` for anything else."""
    if isinstance(answer, str):
        name = answer.strip().lower()
        aliases = {"car": "automobile", "auto": "automobile", "plane": "airplane"}
        name = aliases.get(name, name)
        if name in CIFAR10_CLASSES:
            return CIFAR10_CLASSES.index(name)
    value = as_number(answer)
    if value is None or not value.is_integer() or not 0 <= value < 10:
        return None
    return int(value)


def check_most_confused_class(answer) -> Feedback:
    """Exercise 4: the clean class of CIFAR-10N 'worst' with the largest single off-diagonal T entry."""
    if answer is None:
        return wrong(NOT_YET)
    index = _class_index(answer)
    if index is None:
        if isinstance(answer, str):
            problem = f"{answer.strip()!r} is not a CIFAR-10 class."
        else:
            problem = number_problem(answer) or f"{as_number(answer):g} is not a class index."
        return wrong(problem + " Answer with one CIFAR-10 class name (" + ", ".join(CIFAR10_CLASSES)
                     + ") or its index 0-9.")
    if index == 9:
        return right("Truck: about 28 % of the trucks are labelled automobile, the largest "
                     "off-diagonal entry of the worst set's T̂ (automobile → truck is second, "
                     "about 25 %).")
    if index == 1:
        return wrong("Automobile's biggest confusion is large, but one row has a larger one. Compare "
                     "each bright off-diagonal cell with its mirror image across the diagonal.")
    if index in (3, 5):
        return wrong("Cat ↔ dog is a strong confusion, but one pair of vehicles is confused even "
                     "more often. Sort the off-diagonal entries of T̂.")
    return wrong("Look for the brightest cell off the diagonal of the worst set's heatmap; its "
                 "row is the clean class.")
