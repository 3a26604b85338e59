"""Protocols, the stacked trainer, the resumable grid and the command line of lesson 05."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from nls_lessons import cifar, reproduce as R
from nls_lessons.resnet import build_model

TINY = ["--widths", "4", "8", "8", "8", "--batch-size", "32", "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    cifar.write_tiny_cifar(root, "cifar10", per_batch=16, n_test=32)
    return root


def test_official_protocol_is_the_papers():
    p = R.get_protocol("official")
    w, g = p.warmup, p.gls
    assert p.model == "resnet34"
    assert (w.epochs, w.momentum, w.weight_decay, w.nesterov) == (120, 0.0, 0.0, False)
    assert [w.lr_at(e) for e in (0, 39.9, 40, 79.9, 80, 119)] == pytest.approx([0.1, 0.1, 0.01, 0.01, 1e-3, 1e-3])
    assert (g.epochs, g.lr, g.momentum, g.nesterov, g.weight_decay) == (100, 1e-6, 0.9, True, 1e-4)
    assert g.lr_at(0) == g.lr_at(99) == 1e-6
    d = R.get_protocol("direct")
    assert d.warmup is None and d.gls.epochs == 200
    assert [d.gls.lr_at(e) for e in (0, 100, 150)] == pytest.approx([0.1, 0.01, 1e-3])
    # epoch counts are parameters; step milestones scale with them
    assert R.get_protocol("official", warmup_epochs=12).warmup.milestones == (4, 8)
    assert R.get_protocol("fast", epochs=1).gls.epochs == 1
    assert R.get_protocol("fast").config_id() != R.get_protocol("fast", epochs=1).config_id()


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="slow"), "protocol must be one of"),
    (dict(name="direct", warmup_epochs=3), "no warm-up"),
    (dict(name="official", widths=(4, 4, 4, 4)), "fast net only"),
    (dict(name="fast", epochs=0), "epochs must be"),
])
def test_bad_protocol_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        R.get_protocol(**kwargs)


def tiny_setup(n=64):
    train = cifar.synthetic_cifar(n, seed=0, noise="symmetric", noise_rate=0.2)
    test = cifar.synthetic_cifar(32, seed=1)
    fn = lambda: build_model("fastnet", 10, (4, 8, 8, 8))   # noqa: E731
    return train, test, fn, R.initial_state(R.get_protocol("fast", widths=(4, 8, 8, 8)), 10, 0)


def test_stacked_fine_tunes_equal_a_loop_over_rates():
    train, test, fn, state = tiny_setup()
    phase = R.Phase(2, 0.05, "constant", momentum=0.9, nesterov=True, weight_decay=1e-4, batch_size=32)
    rates = [0.4, 0.0, -2.0]
    stacked = R.train_models(state, fn, rates, train, test, phase, seed=3, device="cpu", stacked=True)
    loop = R.train_models(state, fn, rates, train, test, phase, seed=3, device="cpu", stacked=False)
    for a, b in zip(stacked, loop):
        assert a["smooth_rate"] == b["smooth_rate"]
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4, abs=1e-5)
        assert np.allclose(a["history"], b["history"], atol=100 / 32 + 1e-9)   # at most one test image
    assert len({round(r["train_loss"], 6) for r in stacked}) == 3           # the rates really differ
    assert not any(r["diverged"] for r in stacked)


def test_divergence_is_detected_and_reported():
    train, test, fn, state = tiny_setup()
    phase = R.Phase(3, 1e12, "constant", momentum=0.9, batch_size=32)   # an absurd learning rate
    res = R.train_models(state, fn, [-8.0], train, test, phase, device="cpu")[0]
    assert res["diverged"] and res["diverged_epoch"] is not None and math.isnan(res["train_loss"])
    assert math.isfinite(res["final_acc"]) and len(res["history"]) == 3


def test_cli_end_to_end_and_resume(tiny_root, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    args = ["--dataset", "cifar10", "--root", str(tiny_root), "--no-verify", "--noise", "symmetric",
            "--noise-rate", "0.6", "--smooth-rates", "0.4", "0", "-4", "--protocol", "fast", "--seeds", "0",
            "--epochs", "1", "--warmup-epochs", "1", "--out", str(out)] + TINY
    assert R.main(args) == 0
    printed = capsys.readouterr().out
    csv = pd.read_csv(out / "results.csv")
    assert sorted(csv["smooth_rate"]) == [-4.0, 0.0, 0.4] and len(csv) == 3
    assert set(csv["n_train_used"]) == {80} and set(csv["protocol"]) == {"fast"}
    assert csv[["best_acc", "final_acc", "warmup_best_acc"]].notna().all().all()
    assert (out / "results.png").stat().st_size > 10_000
    # Table 2 alongside: cifar10 symmetric 0.6 at r = -4 is 77.22 ± 0.09
    assert "77.22 ± 0.09" in printed and "75.34 ± 0.13" in printed
    # resume: finished cells are not retrained; a new rate trains alone from the saved warm-up
    calls = []
    real = R.run_cell

    def spy(spec, rates, *a, **kw):
        calls.append(list(rates))
        return real(spec, rates, *a, **kw)

    monkeypatch.setattr(R, "run_cell", spy)
    assert R.main(args) == 0 and calls == []
    assert len(pd.read_csv(out / "results.csv")) == 3
    assert R.main(args[:12] + ["-6"] + args[12:]) == 0
    assert calls == [[-6.0]]
    assert len(pd.read_csv(out / "results.csv")) == 4 and len(list((out / "checkpoints").glob("*.pt"))) == 1


def test_dry_run_prints_the_plan(tiny_root, tmp_path, capsys):
    assert R.main(["--dataset", "cifar10", "--root", str(tmp_path), "--noise", "symmetric", "--noise-rate",
                   "0", "0.2", "0.4", "0.6", "--protocol", "official", "--seeds", "0", "1", "2",
                   "--dry-run", "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert "cifar-10-python.tar.gz" in captured.err            # the data is missing there: say so
    plan = captured.out
    assert plan.count("[todo]") == 12 and "estimated" in plan and "lr 1e-06" in plan
    assert "120 epochs" in plan and "100 epochs" in plan and re.search(r"estimated [\d.]+ (h|days)", plan)
    assert "on one GPU" in plan


@pytest.mark.parametrize("argv, match", [
    (["--noise", "symmetric"], "needs --noise-rate"),
    (["--noise", "worst", "--noise-rate", "0.2"], "own noise rate"),
    (["--noise", "symmetric", "--noise-rate", "1.2"], r"\[0, 1\)"),
    (["--noise", "symmetric", "--noise-rate", "0.2", "--smooth-rates", "1.5"], "<= 1"),
    (["--noise", "gaussian"], "must be one of"),
    (["--dataset", "synthetic", "--noise", "worst"], "CIFAR-N label sets need"),
    (["--noise", "clean", "--protocol", "official", "--widths", "4", "4", "4", "4"], "fast net only"),
    (["--noise", "clean", "--protocol", "direct", "--warmup-epochs", "3"], "no warm-up"),
    (["--noise", "clean", "--n-train", "0"], "--n-train must be >= 1"),
    (["--noise", "clean", "--smooth-rates", "0", "0"], "duplicates"),
])
def test_bad_cli_arguments_say_why(argv, match, capsys):
    with pytest.raises(SystemExit) as info:
        R.main(argv + ["--dry-run"])
    assert info.value.code == 2
    assert re.search(match, capsys.readouterr().err)


def test_missing_data_exits_with_the_download_hint(tmp_path, capsys):
    assert R.main(["--root", str(tmp_path), "--noise", "clean", "--out", str(tmp_path / "o")]) == 1
    assert "Download the python version" in capsys.readouterr().err


def test_dask_client_runs_the_cells(tmp_path):
    from distributed import Client, LocalCluster

    specs = [R.DataSpec("synthetic", "symmetric", eps, n_train=64, n_test=32) for eps in (0.2, 0.6)]
    protocol = R.get_protocol("fast", epochs=1, warmup_epochs=1, widths=(4, 8, 8, 8), batch_size=32)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://", host="127.0.0.1",
                      dashboard_address=None) as cluster, \
            Client(cluster) as client:
        res = R.run_grid(specs, [0.0, -2.0], protocol, seeds=[0], out=tmp_path, device="cpu", client=client,
                         progress=False)
    assert len(res) == 4 and sorted(res["noise_rate"].unique()) == [0.2, 0.6]
    assert len(pd.read_csv(tmp_path / "results.csv")) == 4


def test_table2_data_and_summary():
    t = R.paper_table2()
    assert len(t) == 80 and t["source"].notna().all()
    c10_06 = t[(t.dataset == "cifar10") & (t.noise == "symmetric") & (t.noise_rate == 0.6)]
    assert c10_06.loc[c10_06["mean"].idxmax(), "smooth_rate"] == -6.0
    fake = pd.DataFrame(dict(dataset="cifar10", noise="symmetric", noise_rate=0.6, smooth_rate=[-6.0, -6.0, 0.4],
                             seed=[0, 1, 0], best_acc=[77.0, 78.0, 74.0], final_acc=[76.0, 77.0, 73.0],
                             diverged=[False, False, True]))
    s = R.summarize(fake)
    row = s[s.smooth_rate == -6.0].iloc[0]
    assert (row.seeds, row.best_mean, row.best_std, row.paper_mean) == (2, 77.5, 0.5, 77.42)
    assert s[s.smooth_rate == 0.4].iloc[0].diverged == 1
    assert "77.42 ± 0.16" in R.format_table(s)


def test_check_best_rate(capsys):
    assert R.check_best_rate(-6, 0.6)
    assert "Right" in capsys.readouterr().out
    assert not R.check_best_rate(0.4, 0.6)
    assert "negative (NLS)" in capsys.readouterr().out
    assert R.check_best_rate(0.4, 0.2, noise="pairflip")
    with pytest.raises(ValueError, match="no column"):
        R.check_best_rate(0, 0.8)


def test_grid_estimate_projects_the_full_grid():
    fast, official = R.get_protocol("fast"), R.get_protocol("official")
    assert R.grid_estimate(official, 4, 10) > 4 * 3600            # hours even on one fast GPU
    assert R.grid_estimate(fast, 4, 10) < R.grid_estimate(official, 4, 10) / 50
