"""Hostile input to lesson 05's results store and command line (issue 25, items 1, 2, 6).

A fake trainer (:func:`fake_run_cell`, the same row columns as ``runner.run_cell``, values a
function of the row's key) stands in for training, so every case costs milliseconds. Cases:

- one canonical key for a setting: the command line, ``run_grid`` and the store refuse two
  values that the store cannot tell apart, before anything trains;
- rows are validated when read (schema, values, checksum); an unusable row is trained again
  and a warning names its file; ``results.csv`` is rebuilt when it does not match the rows;
- a property-based crash-and-corruption test: every file the store writes is truncated,
  garbled, deleted or duplicated at random points, then the grid runs again.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bad_input import Case, check_case, check_cli_refuses
from nls_lessons import files
from nls_lessons import paper as R
from nls_lessons.paper import runner, store

PROTOCOL = R.get_protocol("fast", epochs=1, warmup_epochs=1, widths=(4, 8, 8, 8), batch_size=32)
SPECS = [R.DataSpec("synthetic", "symmetric", eps, n_train=64, n_test=32) for eps in (0.2, 0.4)]
RATES = [0.4, 0.0, -2.0]
GRID = len(SPECS) * len(RATES)


def expected_acc(noise_rate: float, rate: float, seed: int) -> float:
    return round(40.0 + 30.0 * noise_rate - 5.0 * rate + seed, 4)


def fake_run_cell(spec, smooth_rates, protocol, seed=0, *args, **kwargs):
    """``runner.run_cell``'s rows without training: accuracies are a function of the key."""
    fake_run_cell.calls.append((spec.noise_rate, tuple(float(r) for r in smooth_rates), seed))
    rows = []
    for r in smooth_rates:
        acc = expected_acc(spec.noise_rate, float(r), seed)
        rows.append(dict(dataset=spec.dataset, noise=spec.noise, noise_rate=spec.noise_rate,
                         realised_noise_rate=spec.noise_rate, protocol=protocol.name, model=protocol.model,
                         seed=int(seed), smooth_rate=float(r), best_acc=acc, best_epoch=1, final_acc=acc,
                         train_loss=0.5, diverged=False, diverged_epoch=None, warmup_best_acc=acc,
                         warmup_best_epoch=1, warmup_epochs=1, epochs=1, n_train=spec.n_train or 512,
                         n_test=spec.n_test or 256, precision=protocol.precision,
                         noise_method=protocol.noise_method, device="cpu", seconds=0.0,
                         config=protocol.config_id()))
    return rows


fake_run_cell.calls = []


@pytest.fixture
def fake(monkeypatch):
    fake_run_cell.calls = []
    monkeypatch.setattr(runner, "run_cell", fake_run_cell)
    return fake_run_cell


def grid(out, rates=RATES, specs=SPECS, seeds=(0,)):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return R.run_grid(specs, rates, PROTOCOL, seeds=seeds, out=out, device="cpu", progress=False)


def quiet_load(out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return R.load_results(out)


# ------------------------------------------------------------------ item 1: one key per setting
def key_collision(rates=None, specs=SPECS, seeds=(0,)):
    return lambda: R.run_grid(specs, rates or RATES, PROTOCOL, seeds=seeds, out=None, device="cpu", progress=False)


COLLISIONS = [
    Case("run_grid/smooth-rates-1e-7-apart", key_collision([0.1, 0.1000004]), exc=ValueError,
         words=("smooth_rates", "0.1", "6 decimals")),
    Case("run_grid/smooth-rates-float32", key_collision([0.1, float(np.float32(0.1))]), exc=ValueError,
         words=("smooth_rates", "6 decimals")),
    Case("run_grid/smooth-rates-equal", key_collision([0.0, -2.0, 0.0]), exc=ValueError,
         words=("smooth_rates", "0")),
    Case("run_grid/smooth-rates-minus-zero", key_collision([0.0, -0.0]), exc=ValueError, words=("smooth_rates",)),
    Case("run_grid/noise-rates-1e-7-apart",
         key_collision(specs=[R.DataSpec("synthetic", "symmetric", e, n_train=64) for e in (0.2, 0.2000001)]),
         exc=ValueError, words=("specs", "noise_rate", "6 decimals")),
    Case("run_grid/specs-equal",
         key_collision(specs=[R.DataSpec("synthetic", "symmetric", 0.2, n_train=64)] * 2), exc=ValueError,
         words=("specs", "same setting")),
    Case("run_grid/seeds-equal", key_collision(seeds=(0, 0)), exc=ValueError, words=("seeds", "0")),
    Case("run_grid/seeds-int-and-numpy", key_collision(seeds=(1, np.int64(1))), exc=ValueError, words=("seeds",)),
    Case("run_grid/seeds-a-string", key_collision(seeds="01"), exc=TypeError, words=("seeds", "sequence")),
    Case("run_grid/smooth-rates-a-string", key_collision(rates="0.1"), exc=TypeError,
         words=("smooth_rates", "sequence")),
    Case("run_grid/seeds-negative", key_collision(seeds=(-1,)), exc=ValueError, words=("seeds", ">= 0")),
    Case("run_grid/seeds-float", key_collision(seeds=(0.5,)), exc=ValueError, words=("seeds", "integer")),
    Case("run_grid/specs-not-dataspecs", key_collision(specs=[("synthetic", 0.2)]), exc=TypeError,
         words=("specs", "DataSpec")),
]


@pytest.mark.parametrize("case", [c.param() for c in COLLISIONS])
def test_two_values_with_one_key_are_refused_before_training(case, fake):
    check_case(case)
    assert fake.calls == []


SYN = ["--dataset", "synthetic", "--noise", "symmetric", "--device", "cpu", "--no-progress", "--epochs", "1",
       "--warmup-epochs", "1", "--widths", "4", "8", "8", "8", "--n-train", "64", "--n-test", "32"]

# (id, argv, words); each runs in-process, with and without --dry-run, and must exit 2 untrained
CLI_CASES = [
    ("smooth-rates-1e-7-apart", ["--noise-rate", "0.2", "--smooth-rates", "0.1", "0.1000004"],
     ("--smooth-rates", "6 decimals")),
    ("smooth-rates-minus-zero", ["--noise-rate", "0.2", "--smooth-rates", "0", "-0"], ("--smooth-rates", "repeat")),
    ("noise-rates-1e-7-apart", ["--noise-rate", "0.2", "0.2000001"], ("--noise-rate", "6 decimals")),
    ("precision-bf16-and-no-amp", ["--noise-rate", "0.2", "--precision", "bf16", "--no-amp"],
     ("--precision", "--no-amp")),
    ("out-empty", ["--noise-rate", "0.2", "--out", ""], ("--out", "folder")),
    ("out-blank", ["--noise-rate", "0.2", "--out", "   "], ("--out", "folder")),
    ("out-name-too-long", ["--noise-rate", "0.2", "--out", "OUT/" + "x" * 300], ("--out", "writable")),
    ("loop-and-max-stack", ["--noise-rate", "0.2", "--loop", "--max-stack", "2"], ("--loop", "--max-stack")),
    ("seeds-huge", ["--noise-rate", "0.2", "--seeds", str(2**40)], ("--seeds", "4294967295")),
]


@pytest.fixture
def no_training(monkeypatch):
    def fail(*a, **k):
        raise AssertionError("training started although an argument was bad")
    monkeypatch.setattr(runner, "run_cell", fail)
    monkeypatch.setattr(R.estimate, "measure_throughput", fail)


@pytest.mark.parametrize("dry", [True, False], ids=["dry-run", "run"])
@pytest.mark.parametrize("argv, words", [pytest.param(a, w, id=i) for i, a, w in CLI_CASES])
def test_bad_cli_setting_stops_before_training(argv, words, dry, tmp_path, capsys, no_training, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("OUT", str(tmp_path / "o")) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "o")]
    check_cli_refuses(R.main, SYN + argv + (["--dry-run"] if dry else []), words, tmp_path / "o", capsys)


def test_the_dry_run_reports_one_setting_as_done_only_when_its_own_row_is(tmp_path, fake, capsys):
    out = tmp_path / "o"
    assert R.main(SYN + ["--noise-rate", "0.2", "--smooth-rates", "0.1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert R.main(SYN + ["--noise-rate", "0.2", "--smooth-rates", "0.1", "0.2", "--out", str(out), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "1 rates" in text and "[todo]" in text


# ------------------------------------------------------------------ item 2: rows validated on reading
def one_row_file(out) -> Path:
    grid(out, rates=[0.0], specs=SPECS[:1])
    (f,) = (Path(out) / "rows").glob("*.json")
    return f


def rewrite(f: Path, **changes):
    row = json.loads(f.read_text())
    for k, v in changes.items():
        if v is DROP:
            row.pop(k, None)
        else:
            row[k] = v
    f.write_text(json.dumps(row))


DROP = object()
KEY_ONLY = object()

# (id, field changes to a stored row) -> the row is not usable: warned about (by file name), trained again
BAD_ROWS = [
    ("no-accuracies", dict(best_acc=DROP, final_acc=DROP)),
    ("key-only", KEY_ONLY),
    ("best-acc-nan-not-diverged", dict(best_acc=float("nan"))),
    ("best-acc-above-100", dict(best_acc=140.0)),
    ("best-acc-negative", dict(best_acc=-3.0)),
    ("best-acc-text", dict(best_acc="95.1")),
    ("best-acc-bool", dict(best_acc=True)),
    ("final-acc-inf", dict(final_acc=float("inf"))),
    ("final-acc-list", dict(final_acc=[90.0])),
    ("diverged-text", dict(diverged="no")),
    ("diverged-missing", dict(diverged=DROP)),
    ("best-epoch-zero", dict(best_epoch=0)),
    ("best-epoch-float", dict(best_epoch=1.5)),
    ("seed-negative", dict(seed=-1)),
    ("noise-rate-above-1", dict(noise_rate=1.5)),
    ("smooth-rate-above-1", dict(smooth_rate=3.0)),
    ("smooth-rate-nan", dict(smooth_rate=float("nan"))),
    ("unknown-column", dict(bset_acc=90.0)),
    ("checksum-wrong", dict(best_acc=41.0)),      # a changed digit: the checksum no longer matches
    ("checksum-not-text", dict(checksum=5)),
]


@pytest.mark.parametrize("changes", [pytest.param(c, id=i) for i, c in BAD_ROWS])
def test_an_unusable_row_is_named_and_trained_again(changes, tmp_path, fake):
    f = one_row_file(tmp_path)
    if changes is KEY_ONLY:
        row = json.loads(f.read_text())
        f.write_text(json.dumps({k: row[k] for k in R.KEY}))
    else:
        rewrite(f, **changes)
    with pytest.warns(UserWarning, match=f.name):
        assert len(R.load_results(tmp_path)) == 0
    fake.calls.clear()
    frame = grid(tmp_path, rates=[0.0], specs=SPECS[:1])
    assert fake.calls == [(0.2, (0.0,), 0)]
    assert frame["best_acc"].tolist() == [expected_acc(0.2, 0.0, 0)]
    assert len(quiet_load(tmp_path)) == 1


def test_a_row_copied_under_another_name_is_no_second_row(tmp_path, fake):
    f = one_row_file(tmp_path)
    shutil.copy(f, f.with_name("copy-of-a-row.json"))
    with pytest.warns(UserWarning, match="copy-of-a-row.json"):
        assert len(R.load_results(tmp_path)) == 1


@pytest.mark.parametrize("junk", [os.urandom(200), b"", b"a,b\n1,2\n", b"\xff\xfe" * 40],
                         ids=["random-bytes", "empty", "other-csv", "utf16-noise"])
def test_a_results_csv_that_does_not_match_the_rows_is_rebuilt(junk, tmp_path, fake):
    grid(tmp_path)
    good = (tmp_path / "results.csv").read_bytes()
    (tmp_path / "results.csv").write_bytes(junk)
    with pytest.warns(UserWarning, match="results.csv"):
        R.load_results(tmp_path)
    fake.calls.clear()
    grid(tmp_path)                                   # nothing to train: the export is rebuilt anyway
    assert fake.calls == []
    assert (tmp_path / "results.csv").read_bytes() == good


def test_the_cli_rebuilds_a_damaged_export_before_naming_it(tmp_path, fake, capsys):
    out = tmp_path / "o"
    argv = SYN + ["--noise-rate", "0.2", "--smooth-rates", "0", "--out", str(out)]
    assert R.main(argv) == 0
    (out / "results.csv").write_bytes(os.urandom(100))
    with pytest.warns(UserWarning, match="results.csv"):
        assert R.main(argv) == 0
    assert "results:" in capsys.readouterr().out
    assert len(pd.read_csv(out / "results.csv")) == 1


# ------------------------------------------------------------------ item 3: files follow the umask
def test_results_follow_the_users_umask(tmp_path, fake):
    old = os.umask(0o002)
    try:
        grid(tmp_path, rates=[0.0], specs=SPECS[:1])
        ckpt = tmp_path / "checkpoints" / "c.pt"
        ckpt.parent.mkdir()
        files.write_atomic(ckpt, b"x")
    finally:
        os.umask(old)
    written = [*(tmp_path / "rows").glob("*.json"), tmp_path / "results.csv", ckpt]
    for f in written:
        assert stat.S_IMODE(f.stat().st_mode) == 0o664, f"{f.name}: {oct(f.stat().st_mode)}"


# ------------------------------------------------------------------ crash and corruption
def written_files(out: Path) -> list[Path]:
    return sorted(p for p in [*(out / "rows").glob("*.json"), out / "results.csv"] if p.exists())


def damage(path: Path, op: str, where: float, junk: bytes) -> None:
    data = path.read_bytes() if path.exists() else b""
    at = int(where * len(data))
    if op == "truncate":
        path.write_bytes(data[:at])
    elif op == "garble":
        path.write_bytes(data[:at] + junk + data[at + len(junk):])
    elif op == "delete":
        path.unlink(missing_ok=True)
    elif op == "duplicate-in-place":
        path.write_bytes(data[:at] + data + data[at:])
    elif op == "duplicate-as-file":
        path.with_name(path.stem + f"-copy{at}" + path.suffix).write_bytes(data)


OPS = st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["truncate", "garble", "delete", "duplicate-in-place",
                                                             "duplicate-as-file"]),
                         st.floats(0, 1), st.binary(min_size=1, max_size=8)), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_a_damaged_store_loses_duplicates_and_invents_nothing(ops, tmp_path_factory, fake):
    out = tmp_path_factory.mktemp("store")
    grid(out)
    for index, op, where, junk in ops:
        files = written_files(out)
        damage(files[index % len(files)], op, where, junk)
    # what the store reports done is exactly right: no duplicate, no wrong value
    frame = quiet_load(out)
    keys = [store._row_key(*row) for row in frame[R.KEY].itertuples(index=False)]
    assert len(keys) == len(set(keys))
    for row in frame.itertuples(index=False):
        assert row.best_acc == expected_acc(row.noise_rate, row.smooth_rate, row.seed)
    done = {(k[2], k[8]) for k in keys}
    fake.calls.clear()
    final = grid(out)
    retrained = {(eps, r) for eps, rates, _ in fake.calls for r in rates}
    assert not done & retrained, "a row that was stored and valid was trained again"
    assert len(final) == GRID and len(done) + len(retrained) == GRID
    assert sorted(final["best_acc"]) == sorted(expected_acc(s.noise_rate, r, 0) for s in SPECS for r in RATES)
    csv = pd.read_csv(out / "results.csv")
    assert len(csv) == GRID and not csv.duplicated(R.KEY).any()
    assert len(quiet_load(out)) == GRID
