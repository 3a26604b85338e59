"""Lesson 05's command line: ``python -m nls_lessons.paper --help``.

Lesson 05 (paper scale). Every argument is checked before anything is trained or downloaded
(a bad one exits with status 2 and one line naming the flag); then the grid runs
(:func:`nls_lessons.paper.runner.run_grid`, resumable and safe to kill), the table is printed
next to Table 2 and a figure saved. ``--dry-run`` prints the plan and its estimated time.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import warnings
from pathlib import Path

from .. import files, losses
from .. import noise as noise_module
from ..device import resolve_device
from . import cifar as cifar_module
from . import estimate
from .protocols import PAPER_RATES, PROTOCOL_NAMES, DataSpec, protocol_routes
from .report import format_table, plot_results, summarize
from .runner import grid_size, plan_grid, run_grid, select
from .store import DEFAULT_OUT, ROWS_DIR, check_distinct, load_results


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m nls_lessons.paper",
        description="Reproduce the CIFAR experiments of Wei et al. (ICML 2022; numbering and Table 2 of the ICLR "
                    "2022 submission): train every smooth rate of a grid, store each finished row (resumable, "
                    "safe to kill), print the table next to Table 2, save a figure.",
        epilog="example: python -m nls_lessons.paper --dataset cifar10 --noise symmetric --noise-rate 0.6 "
               "--smooth-rates 0.4 0 -0.8 -4 --protocol paper --seeds 0 1 2")
    p.add_argument("--dataset", default="cifar10", choices=("cifar10", "cifar100", "synthetic"),
                   help="synthetic = CIFAR-shaped toy data for a CPU smoke run")
    p.add_argument("--noise", default="symmetric",
                   help="clean | symmetric | pairflip | asymmetric (synthetic, need --noise-rate; asymmetric and "
                        "pair-flip for K != 10 are course extensions) | aggre | worst | random1 | random2 | random3 "
                        "(CIFAR-10N) | noisy (CIFAR-100N)")
    p.add_argument("--noise-rate", type=float, nargs="+", default=None, metavar="EPS",
                   help="one or more synthetic noise rates in [0, 1), e.g. 0 0.2 0.4 0.6")
    p.add_argument("--smooth-rates", type=float, nargs="+", default=list(PAPER_RATES), metavar="R",
                   help="smooth rates r <= 1 (default: the 10 rates of Table 2)")
    p.add_argument("--protocol", default="fast", choices=PROTOCOL_NAMES,
                   help="official (warm-up route) | direct | paper (both routes, the better per setting, as "
                        "Table 2 with noisy labels) | fast (course extension: minutes on one GPU, agreement with Table 2 unmeasured)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--epochs", type=int, default=None, help="epochs of the GLS phase (override)")
    p.add_argument("--warmup-epochs", type=int, default=None, help="epochs of the CE warm-up (override)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="learning rate of the GLS phase (override)")
    p.add_argument("--widths", type=int, nargs=4, default=None, metavar="W", help="fast-net widths")
    p.add_argument("--precision", default=None,
                   help="fp32 | bf16 (bf16 autocast + channels-last on CUDA). Default: fp32 for official/direct/"
                        "paper (as the official runs), bf16 for fast")
    p.add_argument("--no-amp", action="store_true", help="same as --precision fp32")
    p.add_argument("--n-train", type=int, default=None, help="use the first N training images")
    p.add_argument("--n-test", type=int, default=None, help="use the first N test images")
    p.add_argument("--root", default=None, help=f"data folder (default ${cifar_module.ENV_VAR} or data/)")
    p.add_argument("--download", action="store_true", help="download CIFAR with torchvision (online only)")
    p.add_argument("--no-verify", action="store_true", help="skip torchvision's MD5 check of the files")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--out", default=str(DEFAULT_OUT),
                   help="folder for rows/ (the store), results.csv, results.png, checkpoints/")
    p.add_argument("--loop", action="store_true", help="train the rates one after another, not stacked")
    p.add_argument("--max-stack", type=int, default=None, help="at most this many rates stacked at once")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address: run cells on that cluster")
    p.add_argument("--local-cluster", type=int, default=None, metavar="N",
                   help="start a Dask LocalCluster with N worker processes")
    p.add_argument("--dry-run", action="store_true", help="print the plan and estimated time, train nothing")
    p.add_argument("--calibrate", action="store_true", help="with --dry-run: measure throughput here")
    p.add_argument("--no-progress", action="store_true")
    return p


_CLI_NAMES = {"warmup_epochs": "--warmup-epochs", "epochs": "--epochs", "batch_size": "--batch-size",
              "lr": "--lr", "widths": "--widths", "precision": "--precision", "smooth_rates": "--smooth-rates"}


def _cli_message(err: Exception) -> str:
    """A library error message with its argument names spelled as command-line flags."""
    import re

    return re.sub(r"(?<![-\w])(" + "|".join(_CLI_NAMES) + r")(?!\w)", lambda m: _CLI_NAMES[m.group(1)], str(err))


def _no_repeats(values, flag: str, parser, rates: bool = True) -> None:
    """Two values that are one setting of the results store (the store's own key) are refused."""
    try:
        check_distinct(values, flag, rates=rates)
    except ValueError as err:
        parser.error(str(err))


def _specs_from_args(args, parser) -> list[DataSpec]:
    kinds = noise_module.KINDS
    label_sets = () if args.dataset == "synthetic" else cifar_module.CIFAR_N_LABEL_SETS[args.dataset]
    if args.noise in kinds:
        if not args.noise_rate:
            parser.error(f"--noise {args.noise} needs --noise-rate (e.g. --noise-rate 0.6)")
        rates = args.noise_rate
    elif args.noise == "clean" or args.noise in label_sets:
        if args.noise_rate:
            parser.error(f"--noise {args.noise} has its own noise rate; drop --noise-rate")
        rates = [0.0]
    else:
        allowed = ("clean",) + kinds + tuple(label_sets)
        extra = " (CIFAR-N label sets need --dataset cifar10/cifar100)" if args.dataset == "synthetic" else ""
        parser.error(f"--noise for {args.dataset} must be one of {', '.join(allowed)}; got {args.noise!r}{extra}")
    for eps in rates:
        try:
            noise_module.check_noise_rate(eps, "--noise-rate")
        except (ValueError, TypeError) as err:
            parser.error(str(err))
    _no_repeats(rates, "--noise-rate", parser)
    for name in ("n_train", "n_test", "max_stack", "local_cluster"):
        v = getattr(args, name)
        if v is not None and v < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {v}")
    return [DataSpec(args.dataset, args.noise, float(eps), args.root, not args.no_verify, args.download,
                     args.n_train, args.n_test) for eps in rates]


def _check_out(out: str, parser, create: bool = True) -> None:
    """``--out`` must be (or become) a writable folder: checked before anything trains. A dry
    run (``create=False``) makes the same check and removes the folders it made for it."""
    if not out.strip():
        parser.error(f"--out {out!r} is empty; --out must name a folder (it gets rows/, results.csv, checkpoints/)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} is a file; --out must name a folder (it gets rows/, results.csv, checkpoints/)")
    base = out
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        parser.error(f"--out {out} lies under {base}, which is a file; --out must name a folder")
    made = [p for p in [out, *out.parents] if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        parser.error(f"--out {out} is not a writable folder ({err.strerror or err}); choose another --out")
    finally:
        if not create:
            for folder in made:                  # deepest first: a dry run leaves nothing behind
                with contextlib.suppress(OSError):
                    folder.rmdir()


def _check_args(args, parser):
    """Every argument, checked before anything is trained or downloaded. Returns
    (specs, routes, device)."""
    specs = _specs_from_args(args, parser)
    if args.calibrate and not args.dry_run:
        parser.error("--calibrate only works with --dry-run (it measures the throughput the plan uses); "
                     "add --dry-run or drop --calibrate")
    if args.scheduler and args.local_cluster:
        parser.error("use either --scheduler or --local-cluster, not both")
    if args.download and args.dataset == "synthetic":
        parser.error("--download fetches CIFAR; --dataset synthetic needs no download")
    if args.download and args.no_verify:
        parser.error("--download always verifies the checksums; drop --no-verify")
    for seed in args.seeds:
        try:
            noise_module.check_seed(seed, "--seeds")
        except (ValueError, TypeError) as err:
            parser.error(str(err))
    _no_repeats(args.seeds, "--seeds", parser, rates=False)
    _no_repeats(args.smooth_rates, "--smooth-rates", parser)
    if args.no_amp and args.precision not in (None, "fp32"):
        parser.error(f"--precision {args.precision} and --no-amp contradict each other (--no-amp means "
                     f"--precision fp32); give one of them")
    if args.loop and args.max_stack is not None:
        parser.error("--loop trains the rates one after another, so --max-stack (how many are stacked) has "
                     "no effect; give one of them")
    precision = "fp32" if args.no_amp else args.precision
    try:
        losses.check_smooth_rate(args.smooth_rates, "--smooth-rates")
        if args.widths is not None and min(args.widths) < 1:
            raise ValueError(f"widths must be four positive integers, got {tuple(args.widths)}")
        routes = protocol_routes(args.protocol, epochs=args.epochs, warmup_epochs=args.warmup_epochs,
                                 batch_size=args.batch_size, lr=args.lr, widths=args.widths, precision=precision)
        device = resolve_device(args.device)
    except (ValueError, TypeError) as err:
        parser.error(_cli_message(err))
    _check_out(args.out, parser, create=not args.dry_run)
    return specs, routes, device


def _download(args) -> bool:
    """Fetch CIFAR when ``--download`` is given; False (after one clear line) when it fails."""
    if not args.download:
        return True
    try:
        cifar_module.fetch(args.dataset, args.root)
    except cifar_module.DownloadError as err:
        print(f"error: {err}", file=sys.stderr)
        return False
    return True


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    specs, routes, device = _check_args(args, parser)
    out = Path(args.out)
    if not _download(args):
        return 1
    if args.dataset != "synthetic" and not cifar_module.is_available(args.dataset, args.root):
        print(cifar_module.missing_message(args.dataset, args.root), file=sys.stderr)
        if not args.dry_run:
            return 1
    done = load_results(out)
    cells = [c for p in routes for c in plan_grid(specs, args.smooth_rates, p, args.seeds, done)]
    if args.dry_run:
        return _dry_run(args, cells, routes, device)
    client = cluster = None
    total = grid_size(specs, args.smooth_rates, routes, args.seeds)
    try:
        if args.scheduler or args.local_cluster:
            from distributed import Client, LocalCluster

            if args.local_cluster:
                cluster = LocalCluster(n_workers=args.local_cluster, threads_per_worker=1, dashboard_address=None)
                client = Client(cluster)
            else:
                client = Client(args.scheduler)
        results = run_grid(specs, args.smooth_rates, routes, args.seeds, out, device, not args.loop,
                           args.max_stack, client, not args.no_progress)
    except KeyboardInterrupt:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            saved = select(load_results(out), specs, args.smooth_rates, routes, args.seeds)
        n = 0 if saved is None else len(saved)
        print(f"\ninterrupted: {n} of {total} rows of this grid are saved in {out / ROWS_DIR} "
              f"(a cell's rows are saved when the cell finishes). To resume, run the same command again: "
              f"saved rows are not retrained.", file=sys.stderr)
        return 130
    except (FileNotFoundError, cifar_module.DownloadError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    table = summarize(results)
    print(format_table(table))
    fig = plot_results(table)
    files.write_atomic(out / "results.png", lambda f: fig.savefig(f, dpi=120, format="png"))
    print(f"\nresults: {out / 'results.csv'} (store: {out / ROWS_DIR})  figure: {out / 'results.png'}")
    n_div = int(results["diverged"].astype(str).str.lower().eq("true").sum())
    if n_div:
        print(f"warning: {n_div} run(s) diverged (losses.diverging: non-finite or |loss| > "
              f"{losses.DIVERGENCE_LOSS:g}(1 + |r|)); see the 'diverged' column", file=sys.stderr)
    return 0


def _dry_run(args, cells, routes, device) -> int:
    for protocol in routes:
        mine = [c for c in cells if c["protocol"] is protocol]
        if args.calibrate:
            thr = estimate.measure_throughput(protocol.model, device, min(protocol.gls.batch_size, 64), steps=3,
                                              widths=protocol.widths, amp=protocol.amp)
            source = "measured here just now"
        else:
            thr = estimate.assumed_throughput(protocol, device.type)
            source = ("reference number for this model on " + device.type +
                      " (the full-width net; --calibrate measures this machine)")
        print(estimate.describe_plan(mine, protocol, args.smooth_rates, device, thr, source))
        if device.type == "cpu":
            gpu = estimate.assumed_throughput(protocol, "cuda")
            sec = sum(estimate.estimate_seconds(protocol, *estimate._sizes(c["spec"]), len(c["rates"]), gpu)
                      for c in mine)
            print(f"on one GPU (assumed {gpu:,.0f} images/s, an H100 in {protocol.precision}; not measured "
                  f"here): ~{estimate.format_duration(sec)}")
    if len(routes) > 1:
        print("protocol 'paper': both routes above; the summary reports the better one per setting, as Table 2 "
              "does with noisy labels (at noise rate 0 too: the course's choice)")
    return 0
