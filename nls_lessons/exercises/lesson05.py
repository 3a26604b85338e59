"""Self-checks for lesson 05 (``notebooks/05_paper_scale``).

Each ``check_...`` returns a :class:`~nls_lessons.exercises.Feedback`: truthy when right,
with the reason; falsy with a hint otherwise. A hint never states the answer, and
``None`` (the starter value) is always a polite "not yet". The answers are read from the
shipped Table 2 of the ICLR 2022 submission (``data/paper/table2.csv``), so a check and the
table can never disagree. Bad *arguments* (a column Table 2 does not have) raise a
``ValueError`` naming the argument; a bad *answer* is feedback.
"""
from __future__ import annotations

import math

from ..checks import as_python_number
from . import NOT_YET, Feedback, as_number, check_number, right, wrong

_NOISES = ("symmetric", "pairflip")


def _column(dataset: str, noise: str, noise_rate):
    """The ten rows of one Table 2 column, as a Series smooth_rate -> mean accuracy (%)."""
    from ..paper import paper_table2

    t = paper_table2()
    columns = sorted({(d, n, float(e)) for d, n, e in t[["dataset", "noise", "noise_rate"]].itertuples(index=False)})
    if noise not in _NOISES:
        raise ValueError(f"noise must be one of {_NOISES} (Table 2's columns), got {noise!r}")
    try:
        eps = float(as_python_number(noise_rate))      # 0.4 in float32 (or a 0-d tensor) is Table 2's 0.4
    except (TypeError, ValueError, RuntimeError):
        eps = math.nan
    sub = t[(t["dataset"] == dataset) & (t["noise"] == noise) & ((t["noise_rate"] - eps).abs() < 1e-9)]
    if isinstance(noise_rate, bool) or not math.isfinite(eps) or not len(sub):
        listed = ", ".join(f"{d} {n} {e:g}" for d, n, e in columns)
        raise ValueError(f"noise_rate={noise_rate!r}: Table 2 has no column {dataset} {noise} {noise_rate!r}; "
                         f"its columns are {listed}")
    return sub.set_index("smooth_rate")["mean"].sort_index(ascending=False)


# --------------------------------------------------------------- exercises 1 and 2: the best rate
def check_best_rate(answer, noise_rate: float = 0.4, dataset: str = "cifar10", noise: str = "symmetric") -> Feedback:
    """Exercises 1 and 2: the smooth rate Table 2 ranks best in one column."""
    col = _column(dataset, noise, noise_rate)
    best = float(col.idxmax())
    if answer is None:
        return wrong(NOT_YET)
    value = as_number(answer)
    if value is None:
        return wrong("Give a single finite number: one smooth rate of Table 2, such as 0.4 or -1.")
    where = f"{dataset} {noise} ε = {float(noise_rate):g}"
    if abs(value - best) <= 1e-9:
        kind = "NLS (r < 0)" if best < 0 else ("CE (r = 0)" if best == 0 else "LS (r > 0)")
        runner = col.drop(best)
        return right(f"In {where} the best row reaches {col.max():.2f} %, {col.max() - runner.max():.2f} points "
                     f"above the runner-up: {kind} wins this column.")
    rows = [float(r) for r in col.index]
    if not any(abs(value - r) <= 1e-9 for r in rows):
        return wrong("That rate is not one of Table 2's ten rows; look at table2.smooth_rate.unique().")
    mine = float(col[min(rows, key=lambda r: abs(r - value))])
    gap = col.max() - mine
    sign = "negative (NLS)" if best < 0 else "non-negative (LS or CE)"
    return wrong(f"Not the best: that row reaches {mine:.2f} %, {gap:.2f} points below the best of {where}. "
                 f"The best rate here is {sign}. Filter table2 to this column and take idxmax() of mean.")


# --------------------------------------------------------------- exercise 3: the NLS - LS gap
def nls_ls_gap(noise_rate: float = 0.6, dataset: str = "cifar10") -> float:
    """Best NLS row minus best LS row (r > 0) of a symmetric Table 2 column, in points."""
    col = _column(dataset, "symmetric", noise_rate)
    return float(col[col.index < 0].max() - col[col.index > 0].max())


def check_nls_ls_gap(answer) -> Feedback:
    """Exercise 3: by how many points does the best NLS rate beat the best LS rate in
    Table 2's CIFAR-10 symmetric ε = 0.6 column?"""
    col = _column("cifar10", "symmetric", 0.6)
    gap = nls_ls_gap(0.6)
    ce = float(col[0.0])
    return check_number(
        answer, gap, tol=0.015,
        not_a_number="Give a single number: a difference of accuracies in points (%).",
        why=f"Best NLS {col[col.index < 0].max():.2f} % minus best LS {col[col.index > 0].max():.2f} % = "
            f"{gap:.2f} points, several times the standard deviations (about 0.1-0.2). At this noise level every "
            "LS rate is also below CE (r = 0): smoothing labels that the noise has already smoothed hurts.",
        mistakes=[
            (-gap, "Right size, wrong sign: NLS minus LS, and NLS is the higher one here."),
            (float(col[col.index < 0].max()) - ce, "That compares NLS with CE (r = 0). The question asks for "
                                                   "the best LS rate, r > 0."),
            (float(col[col.index < 0].max() - col[col.index > 0].min()), "That uses the worst LS rate; take the "
                                                                         "best LS row (r > 0) instead."),
        ],
        hint="Not quite. Take the column's maximum over r < 0 and its maximum over r > 0, then subtract.")
