"""Benchmark of the stacked sweep engine (issue 5; lesson 04's "a full grid in seconds").

Trains the 200-model digits grid (eps in {0, .2, .4, .6, .8} x r in {.8, .4, 0, -.4, -1,
-2, -4, -8} x 5 seeds, linear softmax, Adam lr 1e-2, batch 128, 30 epochs) with
``train.sweep``, and in the same run the textbook per-model loop (``nn.Linear`` +
``torch.optim.Adam``, ``train.reference_fit``) on a subset of the same models; prints the
stacked time, the loop's time per model, the speed-up, that both give the same numbers,
and the course's claims on the grid.

    python bench/sweep.py                     # CPU, 2 threads
    python bench/sweep.py --device cuda --big # and the mnist1d CNN grid on a GPU

Not a pass/fail test: it prints measurements (best of --repeats runs).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from nls_lessons import data, train
from nls_lessons.device import resolve_device

NOISE_RATES = [0.0, 0.2, 0.4, 0.6, 0.8]
SMOOTH_RATES = [0.8, 0.4, 0.0, -0.4, -1.0, -2.0, -4.0, -8.0]
SEEDS = [0, 1, 2, 3, 4]


def timed(fn, repeats: int):
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return out, times


def claims(results, value: str = "test_acc") -> list[str]:
    """The course's claims on the grid (COURSE.md, lesson 04), with their margins, on the
    final-epoch ("test_acc") or best-epoch ("best_test_acc") accuracy. The best rates are
    picked by their mean over seeds, then compared seed by seed (paired)."""
    acc = results.pivot_table(index=["noise_rate", "seed"], columns="smooth_rate", values=value)
    mean = acc.groupby(level="noise_rate").mean()
    ls = [r for r in SMOOTH_RATES if r > 0]
    nls = [r for r in SMOOTH_RATES if r < 0]
    lines = [f"claims on {value}:"]
    best_ls = mean.loc[0.2, ls].idxmax()
    gain = acc.xs(0.2)[best_ls] - acc.xs(0.2)[0.0]          # per seed (paired)
    lines.append(f"[{'ok' if gain.mean() > 0 else 'FAIL'}] eps=0.2: best LS (r={best_ls:g}) beats CE by "
                 f"{100 * gain.mean():+.1f} points (seeds won {(gain > 0).sum()}/{len(gain)})")
    for eps in (0.6, 0.8):
        r_ls, r_nls = mean.loc[eps, ls].idxmax(), mean.loc[eps, nls].idxmax()
        gain = acc.xs(eps)[r_nls] - acc.xs(eps)[r_ls]
        lines.append(f"[{'ok' if (gain > 0).all() else 'FAIL'}] eps={eps}: best NLS (r={r_nls:g}) beats best LS "
                     f"(r={r_ls:g}) by {100 * gain.mean():+.1f} points, min {100 * gain.min():+.1f} "
                     f"(seeds won {(gain > 0).sum()}/{len(gain)})")
    return lines


def confidence_claims(results) -> list[str]:
    lines = []
    for column in ("confidence", "model_confidence"):
        conf = results.groupby(["noise_rate", "smooth_rate"])[column].mean().unstack()[sorted(SMOOTH_RATES)]
        steps = -np.diff(conf.to_numpy(), axis=1)      # change as r falls one grid step
        worst = np.unravel_index(np.argmin(steps), steps.shape)
        lines.append(f"[{'ok' if (steps > 0).all() else 'FAIL'}] mean {column} rises as r falls at every eps: "
                     f"smallest step {steps.min():+.3f} (eps={conf.index[worst[0]]:g}, r "
                     f"{conf.columns[worst[1] + 1]:g} -> {conf.columns[worst[1]]:g}); steps > 0 in "
                     f"{(steps > 0).sum()}/{steps.size}; r=0.8: {conf[0.8].mean():.2f}, r=-8: {conf[-8.0].mean():.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="stacked runs; the best is reported")
    parser.add_argument("--loop-models", type=int, default=8, help="models trained by the per-model loop")
    parser.add_argument("--big", action="store_true", help="also the mnist1d CNN grid (GPU sized)")
    parser.add_argument("--big-n", type=int, default=50_000, help="mnist1d samples for --big (default 50,000)")
    parser.add_argument("--big-epochs", type=int, default=30, help="epochs for --big (default 30)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = str(resolve_device(args.device))
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} CPU threads")

    digits = data.digits(seed=0)
    grid = dict(epochs=30, batch_size=128, lr=1e-2, device=device, progress=False)
    train.sweep(digits, SMOOTH_RATES[:2], NOISE_RATES[:2], SEEDS[:1], **grid | dict(epochs=2))   # warm up
    n_models = len(NOISE_RATES) * len(SMOOTH_RATES) * len(SEEDS)
    results, times = timed(lambda: train.sweep(digits, SMOOTH_RATES, NOISE_RATES, SEEDS, **grid), args.repeats)
    stacked = min(times)
    print(f"stacked sweep: {n_models} models x 30 epochs in {stacked:.2f} s (best of {len(times)}; "
          f"median {statistics.median(times):.2f} s), {1e3 * stacked / n_models:.1f} ms per model")

    rng = np.random.default_rng(0)
    picks = results.iloc[rng.choice(len(results), size=args.loop_models, replace=False)]
    start, worst = time.perf_counter(), 0.0
    for row in picks.itertuples():
        _, history = train.reference_fit(digits, row.smooth_rate, row.noise_rate, row.seed, epochs=30,
                                         device=device)
        worst = max(worst, abs(history["test_acc"].iloc[-1] - row.test_acc))
    per_model = (time.perf_counter() - start) / len(picks)
    print(f"per-model loop (nn.Linear + torch.optim.Adam): {per_model:.3f} s per model "
          f"({len(picks)} models) -> {n_models} models would take {per_model * n_models:.1f} s")
    print(f"speed-up: {per_model * n_models / stacked:.1f}x; same numbers: max |test_acc difference| "
          f"over the {len(picks)} models = {worst:.4f}")
    for line in claims(results) + claims(results, "best_test_acc") + confidence_claims(results):
        print(line)

    if args.big:
        big = data.mnist1d(n=args.big_n, seed=0)
        rates = [0.8, 0.6, 0.4, 0.2, 0.0, -0.2, -0.4, -0.8, -1.0, -2.0, -4.0, -8.0, -16.0, -32.0]
        out, times = timed(lambda: train.sweep(big, rates, [0.2, 0.4, 0.6, 0.8], [0, 1, 2], model="cnn",
                                               epochs=args.big_epochs, device=device, progress=False), 1)
        print(f"{big.name} CNN grid ({len(big.y_train)} train): {len(out)} models x {args.big_epochs} epochs "
              f"in {times[0]:.1f} s; diverged {int(out['diverged'].sum())}")
        print(out.groupby(["noise_rate", "smooth_rate"])["test_acc"].mean().unstack(0).round(3).to_string())


if __name__ == "__main__":
    main()
