"""Bad input to lesson 05's command line and to ``nls_lessons.paper``'s public functions.

Every CLI case must stop *before* any training (``run_cell`` is replaced by a function that
fails the test) with exit status 2 and a message on stderr that names the argument and what
is allowed. Function cases use ``tests/bad_input.py``.
"""
from __future__ import annotations

import math

import pytest

from bad_input import Case, check_case, check_cli_refuses
from nls_lessons import paper as R
from nls_lessons.paper import cifar
from nls_lessons.exercises import lesson05

SYN = ["--dataset", "synthetic", "--noise", "symmetric", "--noise-rate", "0.2", "--device", "cpu",
       "--no-progress"]

# (id, argv, words the message must contain); every case also runs without --dry-run
CLI_CASES = [
    ("seeds-repeated", SYN + ["--seeds", "0", "0"], ("--seeds", "repeat", "0")),
    ("seeds-negative", SYN + ["--seeds", "-1"], ("--seeds", ">= 0")),
    ("noise-rate-repeated", SYN[:4] + ["--noise-rate", "0.2", "0.2"] + SYN[6:], ("--noise-rate", "repeat")),
    ("noise-rate-above-1", SYN[:4] + ["--noise-rate", "1.2"] + SYN[6:], ("--noise-rate", "[0, 1)")),
    ("noise-rate-nan", SYN[:4] + ["--noise-rate", "nan"] + SYN[6:], ("--noise-rate",)),
    ("noise-rate-missing", SYN[:4] + SYN[6:], ("--noise-rate", "needs")),
    ("smooth-rates-repeated", SYN + ["--smooth-rates", "0", "-2", "0"], ("--smooth-rates", "repeat")),
    ("smooth-rates-above-1", SYN + ["--smooth-rates", "1.5"], ("--smooth-rates", "<= 1")),
    ("smooth-rates-inf", SYN + ["--smooth-rates", "-inf"], ("--smooth-rates",)),
    ("epochs-zero", SYN + ["--epochs", "0"], ("--epochs", ">= 1")),
    ("warmup-epochs-zero", SYN + ["--warmup-epochs", "0"], ("--warmup-epochs", ">= 1")),
    ("warmup-for-direct", SYN + ["--protocol", "direct", "--warmup-epochs", "3"], ("--warmup-epochs", "direct")),
    ("batch-size-one", SYN + ["--batch-size", "1"], ("--batch-size", ">= 2")),
    ("lr-negative", SYN + ["--lr", "-0.1"], ("--lr", "positive")),
    ("lr-nan", SYN + ["--lr", "nan"], ("--lr", "positive")),
    ("widths-zero", SYN + ["--widths", "0", "8", "8", "8"], ("--widths", "positive")),
    ("widths-for-resnet", SYN + ["--protocol", "official", "--widths", "4", "4", "4", "4"], ("--widths", "fast")),
    ("n-train-zero", SYN + ["--n-train", "0"], ("--n-train", ">= 1")),
    ("n-test-negative", SYN + ["--n-test", "-5"], ("--n-test", ">= 1")),
    ("max-stack-zero", SYN + ["--max-stack", "0"], ("--max-stack", ">= 1")),
    ("device-bogus", SYN[:-3] + ["--device", "tpu", "--no-progress"], ("device", "cpu")),
    ("noise-bogus", ["--dataset", "synthetic", "--noise", "gaussian"], ("--noise", "symmetric")),
    ("noise-cifar-n-on-synthetic", ["--dataset", "synthetic", "--noise", "worst"], ("--noise", "cifar-n")),
    ("noise-rate-for-cifar-n", ["--noise", "worst", "--noise-rate", "0.2"], ("--noise-rate", "own noise rate")),
    ("scheduler-and-local-cluster", SYN + ["--scheduler", "tcp://x:1", "--local-cluster", "2"],
     ("--scheduler", "--local-cluster")),
    ("local-cluster-zero", SYN + ["--local-cluster", "0"], ("--local-cluster", ">= 1")),
    ("download-synthetic", SYN + ["--download"], ("--download", "synthetic")),
    ("download-no-verify", ["--noise", "clean", "--download", "--no-verify"], ("--download", "--no-verify")),
    ("precision-for-cpu-is-fine-but-bogus", SYN + ["--precision", "fp8"], ("--precision", "fp32")),
]


@pytest.fixture
def no_training(monkeypatch):
    def fail(*a, **k):
        raise AssertionError("training started although an argument was bad")
    monkeypatch.setattr(R.runner, "run_cell", fail)
    monkeypatch.setattr(R.estimate, "measure_throughput", fail)


@pytest.mark.parametrize("dry", [True, False], ids=["dry-run", "run"])
@pytest.mark.parametrize("argv, words", [pytest.param(a, w, id=i) for i, a, w in CLI_CASES])
def test_bad_cli_argument_stops_before_training(argv, words, dry, tmp_path, capsys, no_training):
    argv = argv + ["--out", str(tmp_path / "o")] + (["--dry-run"] if dry else [])
    check_cli_refuses(R.main, argv, words, tmp_path / "o", capsys)


def test_calibrate_without_dry_run_is_an_error(tmp_path, capsys, no_training):
    with pytest.raises(SystemExit):
        R.main(SYN + ["--calibrate", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert "--calibrate" in err and "--dry-run" in err


@pytest.mark.parametrize("make", ["file", "file-parent", "read-only"])
def test_out_that_cannot_be_written_fails_at_once(make, tmp_path, capsys, no_training):
    if make == "file":
        out = tmp_path / "results"
        out.write_text("not a folder")
    elif make == "file-parent":
        (tmp_path / "f").write_text("x")
        out = tmp_path / "f" / "sub"
    else:
        import os
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        out = ro / "sub"
    for dry in ([], ["--dry-run"]):
        with pytest.raises(SystemExit) as info:
            R.main(SYN + ["--out", str(out)] + dry)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "--out" in err and str(out) in err


def test_download_offline_prints_one_clear_line(tmp_path, capsys, monkeypatch, no_training):
    import urllib.error
    import urllib.request

    def offline(*a, **k):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    code = R.main(["--noise", "clean", "--download", "--root", str(tmp_path / "data"),
                   "--out", str(tmp_path / "o"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err and "URLError" not in err
    assert "could not download" in err.lower() and "cifar-10-python.tar.gz" in err


# ------------------------------------------------------------------ public functions
TABLE_FUNCS = [
    Case("protocol-unknown", R.get_protocol, ("slow",), words=("protocol", "official")),
    Case("protocol-epochs-zero", R.get_protocol, ("fast",), dict(epochs=0), words=("epochs", ">= 1")),
    Case("protocol-precision", R.get_protocol, ("fast",), dict(precision="fp16x"), words=("precision", "bf16")),
    Case("routes-unknown", R.protocol_routes, ("bogus",), words=("protocol", "paper")),
    Case("phase-lr-inf", R.Phase, (1, math.inf), words=("lr", "positive")),
    Case("phase-schedule", R.Phase, (1, 0.1, "cosine"), words=("schedule", "step")),
    Case("dataspec-noise-method", R.DataSpec("synthetic", "symmetric", 0.2, n_train=8).load, (0,),
         dict(noise_method="numpy"), words=("method", "official")),
    Case("summarize-none", R.summarize, (None,), exc=(TypeError, ValueError), words=("results", "DataFrame")),
    Case("summarize-missing-columns", R.summarize, (__import__("pandas").DataFrame({"x": [1]}),),
         words=("results", "best_acc")),
    Case("select-rows-bad-frame", R.load_results, (123,), exc=(TypeError, ValueError), words=("path",)),
    Case("check-best-rate-bad-noise-rate", lesson05.check_best_rate, (-6,), dict(noise_rate=float("nan")),
         words=("noise_rate", "table 2")),
    Case("check-best-rate-no-column", lesson05.check_best_rate, (-6,), dict(noise_rate=0.8),
         words=("noise_rate", "0.6")),
    Case("check-best-rate-bad-noise", lesson05.check_best_rate, (-6,), dict(noise_rate=0.2, noise="instance"),
         words=("noise", "pairflip")),
    Case("synthetic-n-zero", cifar.synthetic_cifar, (0,), words=("n", ">= 1")),
    Case("cifar-noise-method", cifar.synthetic_cifar, (8,), dict(noise="symmetric", noise_rate=0.2,
                                                               noise_method="x"), words=("method", "official")),
]


@pytest.mark.parametrize("case", [c.param() for c in TABLE_FUNCS])
def test_bad_function_argument(case):
    check_case(case)


def test_check_best_rate_on_nan_answer_is_feedback_not_nonsense():
    verdict = lesson05.check_best_rate(float("nan"), noise_rate=0.6)
    assert not verdict and "nan points" not in verdict.message and "number" in verdict.message
