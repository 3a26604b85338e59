"""One prepared GPU check: every CUDA path of the course, measured, in <= 5 minutes on one GPU.

    python bench/gpu_check.py                    # on a CUDA machine: full sizes, writes gpu_check.json
    python bench/gpu_check.py --smoke            # on a CPU: tiny sizes, seconds (the test suite runs it)
    python bench/gpu_check.py --out some/file.json --budget 280

Checks, each timed and recorded (ok / error / skipped when the time budget is spent):

1. ``sweep``: lesson 04's stacked sweep (``train.sweep``) on the device and on the CPU, the
   largest difference in test accuracy between the two (they should agree to float tolerance).
2. ``live_retrain``: the live explorer's retrain (``widgets.training_compute``) on the device,
   its seconds, and its test accuracy next to the CPU's.
3. ``protocol_<name>``: each route of ``nls_lessons.paper`` (official, direct, fast; ``paper`` = official +
   direct) for one short epoch (warm-up included) on full-size synthetic CIFAR (50,000 train /
   10,000 test images; smoke: a few dozen), three smooth rates stacked.
4. ``precision``: the same ResNet-34 batch in fp32 and under bf16 autocast: throughput of each
   and the largest logit difference.

In smoke mode the routes and the precision check run on the toy fast net instead of ResNet-34
(ResNet-34 itself takes one timed step in ``throughput``), so the whole check takes seconds.
5. ``oom_fallback``: a stacked fine-tune whose stack of more than one model raises CUDA
   out-of-memory (simulated; a real OOM would need a bigger GPU budget than this check has):
   ``run_cell`` must halve the stack until it fits and still return every rate.
6. ``throughput``: training images/s of ResNet-34 and the fast net, and of the fast net with
   the rates stacked, as ``bench/gpu.py`` prints them.

The JSON holds the device, versions, and per check its numbers. Exit status 1 when a check fails.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from nls_lessons import paper as R  # noqa: E402
from nls_lessons.device import resolve_device  # noqa: E402

RATES = (0.4, 0.0, -2.0)


def sizes(smoke: bool) -> dict:
    """Problem sizes: full size on a GPU, a few images in smoke mode."""
    if smoke:
        return dict(n_train=24, n_test=16, batch=8, widths=(4, 8, 8, 8), sweep_epochs=2, seeds=[0], steps=1,
                    live_epochs=4, big_model="fastnet")
    return dict(n_train=50_000, n_test=10_000, batch=128, widths=None, sweep_epochs=10, seeds=[0, 1], steps=20,
                live_epochs=None, big_model="resnet34")


def check_sweep(device, sz) -> dict:
    from nls_lessons import train, widgets

    data = widgets.live_dataset("blobs")
    kw = dict(smooth_rates=[0.4, 0.0, -2.0], noise_rates=[0.2, 0.6], seeds=sz["seeds"], model="mlp",
              epochs=sz["sweep_epochs"], progress=False)
    t0 = time.perf_counter()
    here = train.sweep(data, device=str(device), **kw)
    t_dev = time.perf_counter() - t0
    t0 = time.perf_counter()
    cpu = train.sweep(data, device="cpu", **kw)
    t_cpu = time.perf_counter() - t0
    cols = ["noise_rate", "smooth_rate", "seed"]
    merged = here.merge(cpu, on=cols, suffixes=("_dev", "_cpu"))
    diff = float((merged["test_acc_dev"] - merged["test_acc_cpu"]).abs().max())
    return dict(models=len(here), seconds_device=round(t_dev, 3), seconds_cpu=round(t_cpu, 3),
                max_abs_test_acc_difference=diff, ok=bool(len(merged) == len(here) and diff <= 0.02))


def check_live_retrain(device, sz) -> dict:
    from nls_lessons import widgets

    extra = {} if sz["live_epochs"] is None else {"epochs": sz["live_epochs"]}
    widgets.training_compute(-2.0, 0.4, device=str(device), **extra)          # warm (CUDA context, kernels)
    t0 = time.perf_counter()
    dev = widgets.training_compute(-2.0, 0.4, device=str(device), **extra)
    seconds = time.perf_counter() - t0
    cpu = widgets.training_compute(-2.0, 0.4, device="cpu", **extra)
    diff = abs(dev["test_acc"] - cpu["test_acc"])
    return dict(seconds=round(seconds, 3), test_acc_device=dev["test_acc"], test_acc_cpu=cpu["test_acc"],
                abs_difference=diff, ok=bool(math.isfinite(dev["test_acc"]) and diff <= 0.05))


def check_protocol(name, device, sz, out_dir) -> dict:
    kw = dict(epochs=1, batch_size=sz["batch"])
    if name != "direct":
        kw["warmup_epochs"] = 1
    if name == "fast" and sz["widths"] is not None:
        kw["widths"] = sz["widths"]
    routes = R.protocol_routes(name, **kw)
    if sz["big_model"] != "resnet34":      # smoke: the routes' logic on the toy net, not ResNet-34
        routes = tuple(dataclasses.replace(p, model="fastnet", widths=sz["widths"]) for p in routes)
    spec = R.DataSpec("synthetic", "symmetric", 0.4, n_train=sz["n_train"], n_test=sz["n_test"])
    t0 = time.perf_counter()
    res = R.run_grid([spec], list(RATES), routes, seeds=[0], out=out_dir / name, device=str(device),
                     progress=False)
    seconds = time.perf_counter() - t0
    table = R.summarize(res)
    ok = len(res) == len(RATES) * len(routes) and bool(res["best_acc"].notna().all())
    return dict(routes=[p.name for p in routes], model=routes[0].model, precision=[p.precision for p in routes],
                seconds=round(seconds, 2),
                rows=len(res), best_acc={f"{r:g}": float(a) for r, a in zip(table["smooth_rate"], table["best_mean"])},
                route_reported={f"{r:g}": str(x) for r, x in zip(table["smooth_rate"], table["route"])}, ok=ok)


def check_precision(device, sz) -> dict:
    from nls_lessons.paper.resnet import autocast, build_model, init_parameters, prepare_model

    big, widths = sz["big_model"], sz["widths"] if sz["big_model"] == "fastnet" else None
    thr = {p: R.measure_throughput(big, device, sz["batch"], steps=sz["steps"], amp=(p == "bf16"),
                                   warmup_steps=1, widths=widths) for p in R.PRECISIONS}
    gen = torch.Generator().manual_seed(0)
    model = build_model(big, 10, widths)
    init_parameters(model, gen)
    model = prepare_model(model, device).eval()
    x = torch.randn(sz["batch"], 3, 32, 32, generator=gen).to(device)
    with torch.no_grad():
        fp32 = model(x).float()
        with autocast(device, True):
            low = model(x).float()
    diff = float((fp32 - low).abs().max())
    return dict(model=big, images_per_s=thr, bf16_speedup=thr["bf16"] / thr["fp32"], max_abs_logit_difference=diff,
                autocast_active=device.type == "cuda", ok=bool(math.isfinite(diff) and all(v > 0 for v in thr.values())))


def check_oom_fallback(device, sz) -> dict:
    real = R.engine.train_models            # run_cell calls it through its module
    seen = []

    def limited(init_state, model_fn, rates, *a, **k):
        seen.append(len(rates))
        if len(rates) > 1:
            raise torch.cuda.OutOfMemoryError("simulated: CUDA out of memory for a stack of more than one model")
        return real(init_state, model_fn, rates, *a, **k)

    spec = R.DataSpec("synthetic", "symmetric", 0.4, n_train=min(sz["n_train"], 512), n_test=min(sz["n_test"], 256))
    protocol = R.get_protocol("fast", epochs=1, warmup_epochs=1, batch_size=sz["batch"],
                              widths=sz["widths"] or (16, 32, 64, 128))
    R.engine.train_models = limited
    try:
        rows = R.run_cell(spec, list(RATES), protocol, 0, device)
    finally:
        R.engine.train_models = real
    return dict(stack_sizes_tried=seen, rows=len(rows),
                ok=bool(len(rows) == len(RATES) and seen[1] == len(RATES) and seen[-1] == 1))


def check_throughput(device, sz) -> dict:
    batch = {"resnet34": sz["batch"] if sz["big_model"] == "resnet34" else 2, "fastnet": 4 * sz["batch"]}
    one = {m: R.measure_throughput(m, device, batch[m], steps=sz["steps"], warmup_steps=1,
                                   widths=sz["widths"] if m == "fastnet" else None, amp=m == "fastnet")
           for m in batch}
    stacked = R.measure_throughput("fastnet", device, batch["fastnet"], steps=sz["steps"], warmup_steps=1,
                                   num_models=len(RATES), widths=sz["widths"], amp=True)
    return dict(images_per_s=one, fastnet_stacked_model_images_per_s=stacked,
                stacked_gain=stacked / one["fastnet"], ok=bool(all(v > 0 for v in one.values())))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (the default on a CPU)")
    parser.add_argument("--out", default="artifacts/gpu_check.json", help="the JSON report")
    parser.add_argument("--budget", type=float, default=280.0, help="seconds; checks after it are skipped")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    smoke = args.smoke or device.type == "cpu"
    sz = sizes(smoke)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / (out.stem + "-runs")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    report = dict(device=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                  torch=torch.__version__, python=platform.python_version(), smoke=smoke, sizes=sz, checks={})
    checks = [("sweep", lambda: check_sweep(device, sz)),
              ("live_retrain", lambda: check_live_retrain(device, sz))]
    checks += [(f"protocol_{n}", lambda n=n: check_protocol(n, device, sz, work)) for n in ("fast", "official", "direct")]
    checks += [("protocol_paper", lambda: check_protocol("paper", device, sz, work)),
               ("precision", lambda: check_precision(device, sz)),
               ("oom_fallback", lambda: check_oom_fallback(device, sz)),
               ("throughput", lambda: check_throughput(device, sz))]
    t_start = time.perf_counter()
    for name, fn in checks:
        if time.perf_counter() - t_start > args.budget:
            report["checks"][name] = dict(ok=None, skipped=f"time budget of {args.budget:g} s spent")
            continue
        t0 = time.perf_counter()
        try:
            result = fn()
        except Exception as err:  # noqa: BLE001  (recorded, the other checks still run)
            result = dict(ok=False, error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(limit=4))
        result["check_seconds"] = round(time.perf_counter() - t0, 2)
        report["checks"][name] = result
        print(f"{name:16s} {'ok' if result.get('ok') else 'FAILED':6s} {result['check_seconds']:7.1f} s", flush=True)
        out.write_text(json.dumps(report, indent=2, default=str))     # partial results survive a kill
    report["seconds"] = round(time.perf_counter() - t_start, 1)
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {out} ({report['seconds']} s)")
    failed = [n for n, c in report["checks"].items() if c.get("ok") is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
