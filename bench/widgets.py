"""Explorer latency on this machine (issues 6 and 15): slider move -> new figure.

Goal (issue 15 item 14): a slider move shows its new figure in <= 300 ms (median) for the
live explorers on a CPU. Two paths, measured side by side in ONE run, interleaved move by move
so both see the same machine load:

- "fresh figure": today's earlier path, a new figure per frame (``fresh_figure=True``);
- "kept figure": the explorers' path now, one figure whose artists are updated.

Both paths run the same compute (the training explorers retrain for every move: their fit
time is printed too, it is the same for both) and each explorer's own debounce (the wait for
a slider to settle, part of what a learner feels). Not a pass/fail test.

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
    """(name, make(fresh_figure) -> explorer, moves: list of control settings)."""
    sweep = _synthetic_sweep()
    cells = [{"noise_rate": e, "smooth_rate": r} for e in widgets.SWEEP_NOISE_RATES[1:]
             for r in widgets.SWEEP_SMOOTH_RATES[::3]]
    return [
        ("noise explorer", lambda fresh: widgets.NoiseExplorer(fresh_figure=fresh),
         [{"noise_rate": e, "kind": k} for k in ("symmetric", "pairflip") for e in (0.1, 0.3, 0.5, 0.7)]),
        ("smoothing explorer", lambda fresh: widgets.SmoothingExplorer(fresh_figure=fresh),
         [{"smooth_rate": r} for r in (-8.0, -4.0, -2.0, -1.0, -0.5, 0.2, 0.4, 0.8)]),
        ("training explorer, blobs (retrains)",
         lambda fresh: widgets.TrainingExplorer(fresh_figure=fresh),
         [{"smooth_rate": r} for r in (-2.0, -0.5, 0.4, 0.8, -1.0, 0.2)]),
        ("training explorer, digits (retrains)",
         lambda fresh: widgets.TrainingExplorer(dataset="digits", fresh_figure=fresh),
         [{"smooth_rate": r} for r in (-2.0, -0.5, 0.4, 0.8, -1.0, 0.2)]),
        ("sweep explorer (cached)", lambda fresh: widgets.SweepExplorer(sweep, fresh_figure=fresh),
         cells),
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
          f"median of {args.repeats} slider moves per path, both paths interleaved")
    print(f"{'explorer':40s} {'fresh figure':>13s} {'kept figure':>12s} {'speed-up':>9s} {'fit':>7s}  goal")
    for name, make, moves in _cases():
        explorers = {fresh: make(fresh) for fresh in (True, False)}     # first frame drawn here
        times = {True: [], False: []}
        fits = []
        for i in range(args.repeats):
            setting = moves[i % len(moves)]
            for fresh in ((True, False) if i % 2 == 0 else (False, True)):   # alternate who goes first
                times[fresh].append(_move_ms(explorers[fresh], setting))
                if "seconds" in explorers[fresh].result:
                    fits.append(1000 * explorers[fresh].result["seconds"])
        old, new = (statistics.median(times[f]) for f in (True, False))
        fit = f"{statistics.median(fits):5.0f} ms" if fits else "      -"
        print(f"{name:40s} {old:10.0f} ms {new:9.0f} ms {old / new:8.1f}x {fit}  "
              f"{'<=' if new <= GOAL_MS else '>'} {GOAL_MS:.0f} ms")
        for ex in explorers.values():
            ex.close()


if __name__ == "__main__":
    main()
