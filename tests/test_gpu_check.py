"""bench/gpu_check.py in smoke mode on the CPU: every check runs and the JSON says what it measured."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "gpu_check.py"
CHECKS = {"sweep", "live_retrain", "protocol_fast", "protocol_official", "protocol_direct", "protocol_paper",
          "precision", "oom_fallback", "throughput"}


def load():
    spec = importlib.util.spec_from_file_location("gpu_check", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_run_writes_every_check(tmp_path):
    out = tmp_path / "gpu_check.json"
    assert load().main(["--smoke", "--device", "cpu", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["smoke"] and report["device"] == "cpu"
    assert set(report["checks"]) == CHECKS
    failed = {n: c for n, c in report["checks"].items() if c.get("ok") is not True}
    assert not failed, failed
    c = report["checks"]
    assert c["protocol_paper"]["routes"] == ["official", "direct"] and c["protocol_paper"]["rows"] == 6
    assert c["protocol_official"]["precision"] == ["fp32"] and c["protocol_fast"]["precision"] == ["bf16"]
    assert c["oom_fallback"]["stack_sizes_tried"][:2] == [1, 3] and c["oom_fallback"]["rows"] == 3
    assert c["sweep"]["max_abs_test_acc_difference"] == 0.0          # CPU against CPU: identical
    assert c["protocol_official"]["model"] == "fastnet"                # smoke: the toy net
    assert c["throughput"]["images_per_s"]["resnet34"] > 0


def test_a_spent_budget_skips_the_rest_and_says_so(tmp_path):
    out = tmp_path / "g.json"
    assert load().main(["--smoke", "--device", "cpu", "--out", str(out), "--budget", "0"]) == 0
    checks = json.loads(out.read_text())["checks"]
    skipped = [n for n, c in checks.items() if c.get("skipped")]
    assert set(skipped) == CHECKS and "budget" in checks["sweep"]["skipped"]
