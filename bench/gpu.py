"""Paper-scale throughput: ResNet-34 and the fast net, stacked GLS fine-tunes, grid projections.

    python bench/gpu.py            # full sizes on CUDA; a small smoke size on CPU (and says so)
    python bench/gpu.py --smoke    # force the smoke size

Prints training throughput (images/s: forward + backward + SGD step, random CIFAR-shaped data,
cudnn.benchmark on CUDA) of ResNet-34 in fp32 (the official recipes' precision) and in bf16 with
channels-last, and of the fast net in bf16 (its default), the throughput of M stacked GLS
fine-tunes (M smooth rates trained as one vmapped model) against M separate models, and the
projected time of the CIFAR-10 Table-2 grid (10 smooth rates x 4 symmetric noise rates, one
seed) for each protocol (``paper`` = official + direct). Numbers, not pass/fail.
``bench/gpu_check.py`` runs every CUDA path once and writes a JSON.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from nls_lessons import paper as R  # noqa: E402
from nls_lessons.device import resolve_device  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--smoke", action="store_true", help="small sizes (the default on CPU)")
    parser.add_argument("--rates", type=int, default=10, help="stacked fine-tunes to time")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    smoke = args.smoke or device.type == "cpu"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name}; torch {torch.__version__}"
          + ("; SMOKE SIZE (small batches, few steps): CPU numbers only show the code runs" if smoke else ""))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    batch = {"resnet34": 16 if smoke else 512, "fastnet": 32 if smoke else 1024}
    steps = 2 if smoke else 20
    thr = {}
    t_start = time.perf_counter()
    for model, amp in (("resnet34", False), ("resnet34", True), ("fastnet", True)):
        thr[model, amp] = R.measure_throughput(model, device, batch[model], steps=steps, amp=amp,
                                               warmup_steps=1 if smoke else 5)
        print(f"train {model:9s} {'bf16' if amp else 'fp32'} batch {batch[model]:5d}: "
              f"{thr[model, amp]:10,.0f} images/s")

    m = 3 if smoke else args.rates
    fb = 16 if smoke else 512
    one = R.measure_throughput("fastnet", device, fb, steps=steps, warmup_steps=1 if smoke else 5)
    stacked = R.measure_throughput("fastnet", device, fb, steps=steps, num_models=m,
                                   warmup_steps=1 if smoke else 5)
    gain = stacked / one
    print(f"GLS fine-tune, fast net, {m} rates stacked (vmap), batch {fb}: {stacked:10,.0f} model-images/s; "
          f"{gain:.2f}x the speed of training them one after another ({one:,.0f} images/s)")

    print("\nprojected CIFAR-10 Table-2 grid: 10 smooth rates x 4 symmetric noise rates, 1 seed, "
          "50k train + 10k test images per epoch")
    for pname in ("fast", "official", "direct", "paper"):
        sec = 0.0
        for p in R.protocol_routes(pname):
            base = thr[p.model, p.amp]
            # fine-tunes from a shared warm-up run stacked (measured gain); direct runs one model per rate
            fine = base * (gain if p.warmup is not None else 1.0)
            for _ in range(4):
                if p.warmup is not None:
                    sec += p.warmup.epochs * (50_000 + 10_000 / 3) / base
                sec += p.gls.epochs * 10 * (50_000 + 10_000 / 3) / fine
        model = R.protocol_routes(pname)[0].model
        print(f"  {pname:8s} ({model}): {R.format_duration(sec):>12s}"
              + ("   (goal: <= 30 min on one H100)" if pname == "fast" else ""))
    print(f"\nbench time {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
