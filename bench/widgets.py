"""Explorer latency on this machine (issue 6): redraw from cache and live retrain.

Goals: a redraw from cached results <= 50 ms (sweep explorer: move a slider over a cached
sweep); a live retrain of one small model <= 1 s (training explorer). Prints medians over a
few repetitions; not a pass/fail test.

    OMP_NUM_THREADS=1 .venv/bin/python bench/widgets.py
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from nls_lessons import plots, train, widgets


def _median_ms(fn, repeats: int) -> tuple[float, float]:
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times), max(times)


def main() -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"torch threads: {torch.get_num_threads()}, cuda: {torch.cuda.is_available()}")

    # a cached sweep: the lesson-04 grid shape (5 eps x 10 r x 3 seeds), trained once, small epochs
    data = widgets.live_dataset("digits")
    t0 = time.perf_counter()
    results = train.sweep(data, list(widgets.SWEEP_SMOOTH_RATES), list(widgets.SWEEP_NOISE_RATES),
                          list(widgets.SWEEP_SEEDS), epochs=5, progress=False, device="cpu")
    print(f"sweep for the cache: {len(results)} models, 5 epochs, {time.perf_counter() - t0:.1f} s")

    ex = widgets.SweepExplorer(results, data=data, train_kwargs={"epochs": 5}, debounce=0.0)
    cells = [(e, r) for e in widgets.SWEEP_NOISE_RATES for r in widgets.SWEEP_SMOOTH_RATES]
    summary = ex.summary("best_test_acc")

    def blit(i):
        e, r = cells[i % len(cells)]
        ex.render(widgets.sweep_compute(summary, e, r))

    med, worst = _median_ms(blit, 30)
    print(f"sweep explorer, redraw from cache (compute + blit + PNG): median {med:.1f} ms, max {worst:.1f} ms"
          f"  [goal <= 50 ms]")

    def via_widget(i):
        e, r = cells[(i * 7) % len(cells)]
        ex.set(noise_rate=e, smooth_rate=r)
        ex.wait()

    med, worst = _median_ms(via_widget, 15)
    print(f"sweep explorer, slider set -> image updated (widget path, no debounce): median {med:.1f} ms, "
          f"max {worst:.1f} ms")

    def full(i):
        e, r = cells[i % len(cells)]
        fig = plots.sweep_panel(widgets.sweep_compute(summary, e, r))
        plots.to_png(fig, dpi=72)
        plots.close(fig)

    med, _ = _median_ms(full, 5)
    print(f"sweep explorer, full figure rebuild instead (for comparison): median {med:.1f} ms")
    ex.close()

    sm = widgets.SmoothingExplorer(debounce=0.0)
    rates = np.linspace(-8, 1, 10)

    def smooth(i):
        sm.set(smooth_rate=round(float(rates[i % 10]), 1))
        sm.wait()

    med, _ = _median_ms(smooth, 6)
    print(f"smoothing explorer, slider -> image (full redraw of 3 panels): median {med:.1f} ms")
    sm.close()

    for dataset in ("blobs", "digits"):
        widgets.training_compute(0.0, 0.3, dataset=dataset)          # warm-up (imports, data)
        fits, totals = [], []
        for r in (-2.0, -0.5, 0.0, 0.4, 0.8):
            t0 = time.perf_counter()
            res = widgets.training_compute(r, 0.3, dataset=dataset)
            fig = widgets.training_panel(res)
            plots.to_png(fig, dpi=72)
            plots.close(fig)
            totals.append(time.perf_counter() - t0)
            fits.append(res["seconds"])
        kw = widgets.LIVE_TRAIN[dataset]
        print(f"live retrain on {dataset} ({kw['model']}, {kw['epochs']} epochs, CPU): fit median "
              f"{1000 * statistics.median(fits):.0f} ms, fit + grid + figure median "
              f"{1000 * statistics.median(totals):.0f} ms  [goal <= 1 s]")


if __name__ == "__main__":
    main()
