"""Explorer latency on this machine (issues 6 and 15): slider move -> new figure.

Goal (issue 15 item 14): a slider move shows its new figure in <= 300 ms (median) for the
live explorers on a CPU. The paths, measured side by side in ONE run, interleaved move by
move so all see the same machine load:

- "fresh figure": the earliest path, a new figure per frame (``fresh_figure=True``);
- "today": one kept figure whose artists are updated; the training explorers retrain one
  model for every move (``rate_axis=False``);
- "r axis": the training explorers as they are now: after a setting's first frame they train
  every r of the slider at once in the background (``nls_lessons.widgets.rate_axis``), and a
  move of r looks its model up (the same model as a retrain). The bench waits for that axis
  before moving r (a learner looks at the first frame for longer than the axis takes) and
  prints what the axes cost (the setting's and one ε step either side); an ε step is a lookup
  too, an ε jump (or another control) still trains its one model.

Every path runs each explorer's own debounce (the wait for a slider to settle, part of what a
learner feels). "fit" is the median training time of the moves that trained. Not a pass/fail test.

    OMP_NUM_THREADS=1 .venv/bin/python bench/widgets.py [--repeats 7]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
import torch

from nls_lessons import widgets

GOAL_MS = 300.0


def _synthetic_sweep() -> pd.DataFrame:
    """A results table of lesson 04's grid shape (5 eps x 10 r x 3 seeds): the sweep explorer
    only reads it, so no training is needed to time it."""
    rng = np.random.default_rng(0)
    rows = [{"noise_kind": "symmetric", "noise_rate": e, "smooth_rate": r, "seed": s,
             "test_acc": a, "best_test_acc": a + 0.01}
            for e in widgets.SWEEP_NOISE_RATES for r in widgets.SWEEP_SMOOTH_RATES for s in widgets.SWEEP_SEEDS
            for a in [0.95 - 0.5 * e + (0.1 * e if r < 0 else 0.0) + rng.normal(0, 0.005)]]
    return pd.DataFrame(rows)


def _cases():
    """(name, make(path) -> explorer, moves: list of control settings); path is "fresh", "today"
    or "axis" (an explorer without an r axis has no "axis" path)."""
    sweep = _synthetic_sweep()
    cells = [{"noise_rate": e, "smooth_rate": r} for e in widgets.SWEEP_NOISE_RATES[1:]
             for r in widgets.SWEEP_SMOOTH_RATES[::3]]
    r_moves = [{"smooth_rate": r} for r in (-2.0, -0.5, 0.4, 0.8, -1.0, 0.2)]
    eps_steps = [{"noise_rate": e} for e in (0.35, 0.4, 0.45, 0.4, 0.35, 0.3)]      # one slider step each
    eps_jumps = [{"noise_rate": e} for e in (0.1, 0.5, 0.2, 0.6, 0.15, 0.45)]

    def training(**kw):
        return lambda path: widgets.TrainingExplorer(fresh_figure=path == "fresh", rate_axis=path == "axis", **kw)

    return [
        ("noise explorer", lambda path: widgets.NoiseExplorer(fresh_figure=path == "fresh"),
         [{"noise_rate": e, "kind": k} for k in ("symmetric", "pairflip") for e in (0.1, 0.3, 0.5, 0.7)], False),
        ("smoothing explorer", lambda path: widgets.SmoothingExplorer(fresh_figure=path == "fresh"),
         [{"smooth_rate": r} for r in (-8.0, -4.0, -2.0, -1.0, -0.5, 0.2, 0.4, 0.8)], False),
        ("training explorer, blobs, r moves", training(), r_moves, True),
        ("training explorer, digits, r moves", training(dataset="digits"), r_moves, True),
        ("training explorer, blobs, ε steps", training(), eps_steps, True),
        ("training explorer, blobs, ε jumps", training(), eps_jumps, True),
        ("sweep explorer (cached)", lambda path: widgets.SweepExplorer(sweep, fresh_figure=path == "fresh"),
         cells, False),
    ]


def _move_ms(ex, setting) -> float:
    t0 = time.perf_counter()
    ex.set(**setting)
    if not ex.wait(120) or ex.error:
        raise RuntimeError(f"{ex.name} explorer failed: {ex.error}")
    return 1000 * (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="slider moves per explorer and path")
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}, cuda: {torch.cuda.is_available()}; "
          f"median of {args.repeats} slider moves per path, the paths interleaved")
    print(f"{'explorer':36s} {'fresh figure':>12s} {'today':>8s} {'r axis':>8s} {'fit':>7s} {'axis':>7s}  goal")
    for name, make, moves, has_axis in _cases():
        paths = ("fresh", "today", "axis") if has_axis else ("fresh", "today")
        explorers = {p: make(p) for p in paths}     # first frame drawn here
        axis_s = ""
        if has_axis:
            t0 = time.perf_counter()
            explorers["axis"].wait_for_axis(300)
            axis_s = f"{time.perf_counter() - t0:5.1f} s"   # what remained of it after the first frame
        times = {p: [] for p in paths}
        fits = []
        for i in range(args.repeats):
            setting = moves[i % len(moves)]
            for p in (paths if i % 2 == 0 else paths[::-1]):     # alternate who goes first
                times[p].append(_move_ms(explorers[p], setting))
                res = explorers[p].result
                if "seconds" in res and not res.get("from_axis"):
                    fits.append(1000 * res["seconds"])
                if p == "axis":     # a new setting's axis trains before the next move (a learner looks)
                    explorers[p].wait_for_axis(300)
        med = {p: statistics.median(times[p]) for p in paths}
        best = med.get("axis", med["today"])
        fit = f"{statistics.median(fits):5.0f} ms" if fits else "      -"
        axis_col = f"{med['axis']:5.0f} ms" if has_axis else "       -"
        print(f"{name:36s} {med['fresh']:9.0f} ms {med['today']:5.0f} ms {axis_col} {fit} {axis_s or '      -':>7s}  "
              f"{'<=' if best <= GOAL_MS else '>'} {GOAL_MS:.0f} ms")
        for ex in explorers.values():
            ex.close()


if __name__ == "__main__":
    main()
