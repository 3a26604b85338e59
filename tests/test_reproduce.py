"""Protocols, the stacked trainer, the resumable grid and the command line of lesson 05."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

from exercise_contract import contract_tests
from nls_lessons import losses
from nls_lessons import paper as R
from nls_lessons.paper import cifar
from nls_lessons.exercises import lesson05
from nls_lessons.paper.resnet import build_model

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
    assert res["diverged"] and res["diverged_epoch"] == 1 and math.isnan(res["train_loss"])
    # stopped in its first epoch: no epoch before the divergence, so no accuracy to report
    assert len(res["history"]) == 3 and all(math.isnan(h) for h in res["history"])
    assert math.isnan(res["best_acc"]) and res["best_epoch"] is None and math.isnan(res["final_acc"])


def test_divergence_uses_the_librarys_one_definition(monkeypatch):
    """A finite but huge loss is divergence too (losses.diverging), and diverged_epoch is 1-based."""
    train, test, fn, state = tiny_setup()
    phase = R.Phase(3, 0.05, "constant", momentum=0.9, batch_size=32)
    calls = {"n": 0}
    real = losses.gls_loss
    steps_per_epoch = 2                                    # 64 images, batch 32

    def huge_in_epoch_2(logits, labels, r, reduction="mean"):
        out = real(logits, labels, r, reduction=reduction)
        calls["n"] += 1
        if calls["n"] == steps_per_epoch + 1:              # the first step of epoch 2
            out = out + 9.6e17 * torch.tensor([1.0, 0.0], device=out.device)
        return out

    monkeypatch.setattr(losses, "gls_loss", huge_in_epoch_2)
    a, b = R.train_models(state, fn, [-2.0, 0.0], train, test, phase, device="cpu")
    assert a["diverged"] and a["diverged_epoch"] == 2 and not b["diverged"] and b["diverged_epoch"] is None
    assert math.isfinite(a["history"][0]) and all(math.isnan(h) for h in a["history"][1:])
    assert a["best_epoch"] == 1 and a["final_acc"] == a["history"][0]
    assert all(math.isfinite(h) for h in b["history"])


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

    monkeypatch.setattr(R.runner, "run_cell", spy)
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
    (["--noise", "clean", "--smooth-rates", "0", "0"], "must not repeat"),
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
                             diverged=[False, False, True], protocol="official"))
    s = R.summarize(fake)
    row = s[s.smooth_rate == -6.0].iloc[0]
    assert (row.seeds, row.best_mean, row.best_std, row.paper_mean) == (2, 77.5, 0.5, 77.42)
    assert s[s.smooth_rate == 0.4].iloc[0].diverged == 1
    assert "77.42 ± 0.16" in R.format_table(s)
    assert "warm-up route only" in R.format_table(s)


def test_paper_protocol_reports_the_better_route_per_setting():
    assert [p.name for p in R.protocol_routes("paper")] == ["official", "direct"]
    assert R.protocol_routes("paper", warmup_epochs=3, epochs=2)[0].warmup.epochs == 3
    assert R.protocol_routes("paper", warmup_epochs=3, epochs=2)[1].gls.epochs == 2
    rows = []
    for route, acc in (("official", {-6.0: 77.0, 0.4: 70.0}), ("direct", {-6.0: 60.0, 0.4: 74.0})):
        for seed in (0, 1):
            for r, a in acc.items():
                rows.append(dict(dataset="cifar10", noise="symmetric", noise_rate=0.6, smooth_rate=r, seed=seed,
                                 best_acc=a + seed, final_acc=a, diverged=False, protocol=route))
    s = R.summarize(pd.DataFrame(rows)).set_index("smooth_rate")
    assert s.loc[-6.0, "route"] == "official" and s.loc[-6.0, "best_mean"] == 77.5
    assert s.loc[0.4, "route"] == "direct" and s.loc[0.4, "best_mean"] == 74.5
    assert s.loc[0.4, "routes"] == "direct 74.50 / official 70.50"
    assert s.loc[-6.0, "best_minus_paper"] == pytest.approx(77.5 - 77.42)
    assert "warm-up route only" not in R.format_table(s.reset_index())


def test_official_and_direct_default_to_fp32_and_the_official_noise():
    for name in ("official", "direct"):
        p = R.get_protocol(name)
        assert (p.amp, p.channels_last, p.precision, p.noise_method) == (False, False, "fp32", "official")
        assert p.noise_seed(3) == 0                            # RandomState(0) for every run
        assert R.get_protocol(name, precision="bf16").amp and R.get_protocol(name, precision="bf16").channels_last
    f = R.get_protocol("fast")
    assert (f.amp, f.channels_last, f.noise_method, f.noise_seed(3)) == (True, True, "course", 3)
    spec = R.DataSpec("synthetic", "symmetric", 0.4, n_train=300, n_test=8)
    train, _ = spec.load(0, "official")
    from nls_lessons import noise
    T = noise.transition_matrix("symmetric", 10, 0.4)
    assert torch.equal(train.noisy_labels, noise.inject(train.labels, T, 0, method="official"))


def test_initialisation_never_touches_the_global_rng():
    p = R.get_protocol("fast", widths=(4, 8, 8, 8))
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = R.initial_state(p, 10, 5)
    assert torch.equal(before, torch.get_rng_state())
    b = R.initial_state(p, 10, 5)
    assert all(torch.equal(a[k], b[k]) for k in a)


CASES05 = {
    lesson05.check_best_rate: (-6.0, [-2.0, 0.4, 0.0, -4.0, 0.5, "x", float("nan")]),
    lesson05.check_nls_ls_gap: (lesson05.nls_ls_gap(0.6), [-3.21, 2.08, 4.26, 1.0, "x"]),
}
(test_lesson05_right_answer_passes, test_lesson05_wrong_answers_fail_with_a_hint_that_hides_the_answer,
 test_lesson05_starter_none_is_not_yet_and_never_raises) = contract_tests(CASES05)


def test_lesson05_best_rate_reads_each_column():
    assert lesson05.check_best_rate(-6, 0.6)
    assert lesson05.check_best_rate(0.4, 0.2, noise="pairflip")           # LS wins pair-flip 0.2 ...
    assert lesson05.check_best_rate(-0.4, 0.3, noise="pairflip")          # ... NLS wins pair-flip 0.3
    assert lesson05.check_best_rate(-4, 0.4, dataset="cifar100")
    assert "negative (NLS)" in lesson05.check_best_rate(0.4, 0.6).message
    assert lesson05.nls_ls_gap(0.6) == pytest.approx(77.42 - 74.21)
    with pytest.raises(ValueError, match="noise_rate"):
        lesson05.check_best_rate(0, 0.8)


def test_grid_estimate_projects_the_full_grid():
    fast, official = R.get_protocol("fast"), R.get_protocol("official")
    assert R.grid_estimate(official, 4, 10) > 4 * 3600            # hours even on one fast GPU
    assert R.grid_estimate(fast, 4, 10) < R.grid_estimate(official, 4, 10) / 50


# ------------------------------------------------------------------ the results store
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ["--dataset", "synthetic", "--noise", "symmetric", "--noise-rate", "0.2", "0.6",
         "--smooth-rates", "0", "-2", "--seeds", "0", "1", "--protocol", "fast",
         "--epochs", "1", "--warmup-epochs", "1", "--n-train", "64", "--n-test", "32"] + TINY
PER_CELL = 2                      # smooth rates per cell
GRID_ROWS = 2 * 2 * PER_CELL      # noise rates x seeds x smooth rates


def cli(out, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "nls_lessons.paper", *SMOKE, "--out", str(out), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


def stored_keys(out):
    frame = R.load_results(out)
    return [R.store._row_key(*row) for row in frame[R.KEY].itertuples(index=False)]


def test_the_old_command_and_module_still_work_and_point_to_the_new_ones(tmp_path):
    """`python -m nls_lessons.reproduce` (lesson 05's command before the package) says in one
    line where it went and runs `python -m nls_lessons.paper` with the same arguments; the old
    module gives the same names as the package."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    argv = [*SMOKE, "--dry-run", "--out", str(tmp_path / "o")]
    old, new = (subprocess.run([sys.executable, "-m", module, *argv], env=env, capture_output=True, text=True,
                               cwd=ROOT, timeout=300) for module in ("nls_lessons.reproduce", "nls_lessons.paper"))
    assert old.returncode == new.returncode == 0, old.stderr + new.stderr
    assert old.stdout == new.stdout and old.stdout.count("[todo]") == 4     # the same plan, from the same args
    pointer = [line for line in old.stderr.splitlines() if "nls_lessons.paper" in line]
    assert len(pointer) == 1 and "moved" in pointer[0] and "nls_lessons.reproduce" in pointer[0]
    assert "nls_lessons.paper" not in new.stderr
    assert R.build_parser().prog == "python -m nls_lessons.paper"
    from nls_lessons import reproduce

    assert all(getattr(reproduce, name) is getattr(R, name) for name in R.__all__)
    assert reproduce.run_grid is R.runner.run_grid and reproduce.paper_table2 is R.report.paper_table2


def test_kill_9_during_a_run_then_resume_loses_and_duplicates_nothing(tmp_path):
    out = tmp_path / "out"
    proc = cli(out)
    deadline = time.time() + 600                       # generous: a loaded 2-core machine is slow
    # rows written (not a writer's ".tmp-*.json", which a kill leaves unsaved)
    written = lambda: [p for p in (out / "rows").glob("*.json") if not p.name.startswith(".tmp-")]  # noqa: E731
    while time.time() < deadline and len(written()) < PER_CELL + 1:
        assert proc.poll() is None, "the run ended before it could be killed mid-grid"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)                  # mid-run: some cells saved, one in flight
    proc.wait()
    saved = len(stored_keys(out))
    assert PER_CELL < saved < GRID_ROWS
    dry = cli(out, "--dry-run")
    text, err = dry.communicate(timeout=120)
    assert dry.returncode == 0, err
    assert text.count("[done]") == saved // PER_CELL
    assert text.count("[todo]") == (GRID_ROWS - saved) // PER_CELL + (saved % PER_CELL > 0)
    again = cli(out)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    keys = stored_keys(out)
    assert len(keys) == GRID_ROWS == len(set(keys))
    csv = pd.read_csv(out / "results.csv")
    assert len(csv) == GRID_ROWS and not csv.duplicated(R.KEY).any()


def test_two_concurrent_writers_on_one_out_never_duplicate_rows(tmp_path):
    out = tmp_path / "out"
    procs = [cli(out), cli(out)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    keys = stored_keys(out)
    assert len(keys) == GRID_ROWS == len(set(keys))
    # a third run on the same --out trains nothing and duplicates nothing
    third = cli(out)
    text, err = third.communicate(timeout=120)
    assert third.returncode == 0, err
    assert len(pd.read_csv(out / "results.csv")) == GRID_ROWS


def test_a_truncated_or_garbled_store_never_breaks_a_later_run(tmp_path, capsys):
    out = tmp_path / "out"
    specs = [R.DataSpec("synthetic", "symmetric", 0.2, n_train=64, n_test=32)]
    protocol = R.get_protocol("fast", epochs=1, warmup_epochs=1, widths=(4, 8, 8, 8), batch_size=32)
    R.run_grid(specs, [0.0, -2.0], protocol, seeds=[0], out=out, device="cpu", progress=False)
    files = sorted((out / "rows").glob("*.json"))
    assert len(files) == 2
    files[0].write_text(files[0].read_text()[:25])                 # a row cut mid-way
    (out / "rows" / "junk.json").write_bytes(os.urandom(64))          # random bytes
    (out / "rows" / ".tmp-123-abc.json").write_text("{")             # a temporary file of a killed writer
    csv = out / "results.csv"
    csv.write_text(csv.read_text()[: len(csv.read_text()) // 2])      # the export cut mid-line
    with pytest.warns(UserWarning, match="rows") as caught:
        frame = R.load_results(out)
    assert len(frame) == 1
    message = str(caught[0].message)
    assert "2 unreadable" in message and ".tmp-" not in message      # a writer's temporary file is no row
    # the dry run plans the damaged cell's missing rate again (and says which files it skipped)
    with pytest.warns(UserWarning, match="junk.json"):
        code = R.main(["--dataset", "synthetic", "--noise", "symmetric", "--noise-rate", "0.2", "--smooth-rates", "0",
                       "-2", "--epochs", "1", "--warmup-epochs", "1", "--n-train", "64", "--n-test", "32", "--out",
                       str(out), "--dry-run"] + TINY)
    assert code == 0 and "1 rates" in capsys.readouterr().out
    with pytest.warns(UserWarning):
        res = R.run_grid(specs, [0.0, -2.0], protocol, seeds=[0], out=out, device="cpu", progress=False)
    assert len(res) == 2 and res["best_acc"].notna().all()
    assert len(pd.read_csv(csv)) == 2
    # an old-style results.csv with a half-written row (no rows/ folder) is read, not fatal
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "results.csv").write_text(csv.read_text() + "synthetic,symmetric,0.2,0.2")
    with pytest.warns(UserWarning, match="results.csv"):
        assert len(R.load_results(legacy)) == 2


def test_ctrl_c_says_how_many_rows_are_saved_and_how_to_resume(tmp_path, capsys, monkeypatch):
    real, calls = R.run_cell, []

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(R.runner, "run_cell", interrupted)
    out = tmp_path / "out"
    code = R.main(SMOKE + ["--out", str(out)])
    err = capsys.readouterr().err
    assert code == 130
    assert "Traceback" not in err and "interrupted" in err.lower()
    assert f"{PER_CELL} of {GRID_ROWS} rows" in err and "run the same command again" in err
    assert len(R.load_results(out)) == PER_CELL


def test_rows_are_json_files_named_by_their_key(tmp_path):
    specs = [R.DataSpec("synthetic", "symmetric", 0.2, n_train=64, n_test=32)]
    protocol = R.get_protocol("fast", epochs=1, warmup_epochs=1, widths=(4, 8, 8, 8), batch_size=32)
    R.run_grid(specs, [0.0], protocol, seeds=[0], out=tmp_path, device="cpu", progress=False)
    (f,) = (tmp_path / "rows").glob("*.json")
    row = json.loads(f.read_text())
    assert row["smooth_rate"] == 0.0 and row["protocol"] == "fast" and row["diverged_epoch"] is None
    frame = R.load_results(tmp_path)                      # never diverged: missing, as in train.sweep
    assert str(frame["diverged_epoch"].dtype) == "Int64" and frame["diverged_epoch"].isna().all()


def test_cifar_n_table_ships_only_values_with_a_primary_source():
    t = R.paper_cifar_n()
    assert list(t.columns) == ["dataset", "label_set", "method", "accuracy", "source"]
    secondary = ("memory", "llm", "[sec]", "wizwand", "paperswithcode", "issue", "unconfirmed")
    for source in t["source"]:
        assert isinstance(source, str) and source.strip()
        assert not any(word in source.lower() for word in secondary), source
    assert len(t) == 0        # today no primary source confirms a CIFAR-N accuracy of the paper


def test_lesson_05s_old_imports_give_the_moved_modules_themselves():
    """A working copy of lesson 05 made before the move imports ``cifar``, ``reproduce`` and
    ``nls_lessons.resnet``: those names still work and are the paper package's own objects (so a
    monkeypatch or an isinstance check through either name means the same thing)."""
    import nls_lessons.paper.cifar as moved_cifar
    import nls_lessons.paper.resnet as moved_resnet
    from nls_lessons import cifar, reproduce
    from nls_lessons.resnet import count_parameters, resnet34

    assert cifar is moved_cifar
    assert (count_parameters, resnet34) == (moved_resnet.count_parameters, moved_resnet.resnet34)
    assert reproduce.run_grid is R.run_grid


def _two_route_rows(dataset, noise_rate):
    rows = []
    for route, acc in (("official", 80.0), ("direct", 81.0)):
        rows.append(dict(dataset=dataset, noise="symmetric", noise_rate=noise_rate, smooth_rate=-2.0, seed=0,
                         best_acc=acc, final_acc=acc, diverged=False, protocol=route))
    return rows


def test_format_table_says_which_choices_are_the_courses():
    """Issue 23: the paper takes the better route "when learning with noisy labels" (ICLR §6.1), and the
    official code loads CIFAR-100 noisy labels from files it does not ship: the table says both."""
    rows = _two_route_rows("cifar10", 0.0) + _two_route_rows("cifar10", 0.6) + _two_route_rows("cifar100", 0.4)
    text = R.format_table(R.summarize(pd.DataFrame(rows)))
    blocks = dict(zip(["cifar10  symmetric 0", "cifar10  symmetric 0.6", "cifar100  symmetric 0.4"],
                      text.split("\ncifar")[1:]))
    assert len(blocks) == 3, text
    clean, noisy, c100 = blocks.values()
    assert "course's own choice" in clean and "course's own choice" not in noisy
    assert "not Table 2's labels" in c100 and "not Table 2's labels" not in noisy + clean


def test_dry_run_says_divergence_stops_a_model_and_whose_cifar100_labels(tmp_path, capsys):
    assert R.main(["--dataset", "cifar100", "--root", str(tmp_path), "--noise", "symmetric", "--noise-rate",
                   "0.4", "--protocol", "direct", "--seeds", "0", "--dry-run", "--out", str(tmp_path / "o")]) == 0
    plan = capsys.readouterr().out
    assert "official scripts train on through every epoch" in plan
    assert "official CIFAR-100 noisy labels are files it does not ship" in plan


@pytest.mark.parametrize("dataset,noise", [("cifar10", "symmetric"), ("cifar100", "symmetric"), ("cifar10", "pairflip")])
def test_table2_plot_title_fits_its_figure(dataset, noise):
    """The title ran past the figure's right edge ("(★ = best rate" cut off in lesson 05)."""
    ax = R.plot_table2(dataset, noise)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = ax.figure
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box, page = ax.title.get_window_extent(canvas.get_renderer()), fig.bbox
    assert box.x0 >= page.x0 - 0.5 and box.x1 <= page.x1 + 0.5, (box, page)
    assert "★" in ax.get_title()
