"""nls_lessons.train: the stacked sweep equals one-model training, is paired, survives
divergence, caches by full configuration, runs on Dask, and rejects bad input."""
import contextlib
import math
import os
import stat
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from nls_lessons import data, losses, metrics, models, noise, train

SMALL = dict(epochs=3, device="cpu", progress=False)


@pytest.fixture(scope="module")
def digits():
    return data.digits(seed=0)


@pytest.fixture(scope="module")
def toy():
    return data.toy2d("blobs", n=300, seed=0)


@pytest.fixture(scope="module")
def grid(digits):
    """2 noise rates x 3 smooth rates x 2 seeds on digits, with history."""
    return train.sweep(digits, [0.4, 0.0, -2.0], [0.2, 0.6], [0, 7], return_history=True, **SMALL)


def test_result_frame(grid):
    results, history = grid
    assert list(results.columns) == list(train.RESULT_COLUMNS)
    assert len(results) == 12 and len(history) == 12 * 3
    assert results[["noise_rate", "smooth_rate", "seed"]].drop_duplicates().shape[0] == 12
    assert results.iloc[0][["noise_rate", "smooth_rate", "seed"]].tolist() == [0.2, 0.4, 0]   # grid order
    assert results["test_acc"].between(0, 1).all() and not results["diverged"].any()
    assert (results["best_test_acc"] >= results["test_acc"]).all() and results["best_epoch"].between(1, 3).all()
    last = history[history["epoch"] == 3].reset_index(drop=True)
    pd.testing.assert_series_equal(last["test_acc"], results["test_acc"])
    assert results.loc[results["noise_rate"] == 0.2, "test_acc"].mean() > 0.7


def test_sweep_equals_fit_and_the_plain_loop(digits, grid):
    """The stacked engine returns what training each model alone returns: `fit` (same
    engine, M = 1) and an independent nn.Linear + torch.optim.Adam loop."""
    _, history = grid
    for (eps, r, seed), rows in history.groupby(["noise_rate", "smooth_rate", "seed"]):
        one = train.fit(digits, r, eps, seed, epochs=3, device="cpu").history
        np.testing.assert_allclose(rows["train_loss"], one["train_loss"], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(rows["test_acc"], one["test_acc"], atol=1.5 / 540)
        np.testing.assert_allclose(rows["confidence"], one["confidence"], atol=1e-4)
        if seed == 7 and eps == 0.6:
            _, plain = train.reference_fit(digits, r, eps, seed, epochs=3)
            np.testing.assert_allclose(rows["train_loss"], plain["train_loss"], rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(rows["test_acc"], plain["test_acc"], atol=1.5 / 540)
            np.testing.assert_allclose(rows["confidence"], plain["confidence"], atol=1e-4)


@pytest.mark.parametrize("options", [
    dict(model="mlp", hidden=16, optimizer="sgd", lr=0.05, weight_decay=1e-3),
    dict(model="linear", warmup_epochs=2, gls_lr_scale=0.1),
])
def test_other_models_optimisers_and_the_warmup_protocol_match_the_plain_loop(toy, options):
    results, history = train.sweep(toy, [-1.0, 0.5], 0.3, [1, 2], return_history=True, **SMALL | dict(epochs=4),
                                   **options, max_models_per_chunk=3)
    for (r, seed), rows in history.groupby(["smooth_rate", "seed"]):
        _, plain = train.reference_fit(toy, r, 0.3, seed, epochs=4, **options)
        np.testing.assert_allclose(rows["train_loss"], plain["train_loss"], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(rows["test_acc"], plain["test_acc"], atol=1.5 / 90)


def test_cnn_on_mnist1d_matches_fit():
    m = data.mnist1d(n=200, seed=0)
    results = train.sweep(m, [0.0, -1.0], 0.2, 3, model="cnn", channels=4, **SMALL)
    for row in results.itertuples():
        one = train.fit(m, row.smooth_rate, 0.2, 3, model="cnn", channels=4, epochs=3, device="cpu")
        assert math.isclose(one.history["train_loss"].iloc[-1], row.train_loss, rel_tol=1e-4, abs_tol=1e-5)
        assert isinstance(one.model, torch.nn.Module) and one.model(m.x_test).shape == (40, 10)


def test_chunks_do_not_change_results(digits, grid):
    chunked = train.sweep(digits, [0.4, 0.0, -2.0], [0.2, 0.6], [0, 7], max_models_per_chunk=4, **SMALL)
    pd.testing.assert_frame_equal(chunked, grid[0], atol=1e-4, rtol=1e-4)
    assert len(train._chunks([0, 7], list(range(6)), 4)) == 4          # 2 seeds x 2 blocks of <= 4
    capacity = train.models_per_chunk(digits, train.TrainConfig(), "cpu", memory_budget=3 * 10**5)
    assert 1 <= capacity < 12
    budgeted = train.sweep(digits, [0.4, 0.0, -2.0], [0.2, 0.6], [0, 7], memory_budget=3 * 10**5, **SMALL)
    pd.testing.assert_frame_equal(budgeted, grid[0], atol=1e-4, rtol=1e-4)


def test_pairing(digits, grid):
    # every r at a given (eps, seed) sees the same noisy labels; seeds and rates differ
    a = train.noisy_labels(digits, "symmetric", 0.4, seed=3)
    assert torch.equal(a, train.noisy_labels(digits, "symmetric", 0.4, seed=3))
    assert not torch.equal(a, train.noisy_labels(digits, "symmetric", 0.4, seed=4))
    assert abs(noise.noise_rate_of(digits.y_train, a) - 0.4) < 0.05
    # during a CE warm-up the models of one (eps, seed) are identical whatever their r:
    # same labels, same initialisation, same batch order
    _, history = train.sweep(digits, [0.8, -4.0], 0.4, [0, 1], warmup_epochs=2, return_history=True, **SMALL)
    for seed, rows in history.groupby("seed"):
        by_r = {r: part.set_index("epoch") for r, part in rows.groupby("smooth_rate")}
        pd.testing.assert_frame_equal(by_r[0.8].loc[:2, ["train_loss", "test_acc"]],
                                      by_r[-4.0].loc[:2, ["train_loss", "test_acc"]])
        assert by_r[0.8].loc[3, "train_loss"] != by_r[-4.0].loc[3, "train_loss"]
    seeds = history[history["epoch"] == 1].groupby("seed")["train_loss"].first()
    assert seeds[0] != seeds[1]


DIVERGE = dict(model="mlp", hidden=8, lr=10.0, epochs=12, device="cpu", progress=False)


def test_divergence_is_stopped_flagged_and_reported(toy):
    with pytest.warns(train.DivergenceWarning, match=r"1 of 2 models diverged.*r=-8, seed=0") as record:
        results, history = train.sweep(toy, [0.4, -8.0], 0.2, 0, return_history=True, **DIVERGE)
    assert len([w for w in record if issubclass(w.category, train.DivergenceWarning)]) == 1
    bad, good = results.set_index("smooth_rate").loc[-8.0], results.set_index("smooth_rate").loc[0.4]
    assert bad["diverged"] and bad["diverged_epoch"] >= 1 and not good["diverged"]
    # no NaN reaches the accuracy columns: stopped models are evaluated on frozen, finite weights
    assert results[["test_acc", "best_test_acc", "confidence"]].notna().all().all()
    assert math.isnan(bad["train_loss"]) and not math.isnan(good["train_loss"])
    after = history[(history["smooth_rate"] == -8.0) & (history["epoch"] >= bad["diverged_epoch"])]
    assert after["train_loss"].isna().all() and after["test_acc"].nunique() == 1       # frozen
    # the other model went on as if alone
    alone = train.sweep(toy, 0.4, 0.2, 0, **DIVERGE)
    assert math.isclose(alone["train_loss"].iloc[0], good["train_loss"], rel_tol=1e-5)
    # a non-finite blow-up (SGD at an absurd rate) is caught the same way
    with pytest.warns(train.DivergenceWarning):
        blown = train.sweep(toy, [0.4, -8.0], 0.2, 0, **DIVERGE | dict(optimizer="sgd", lr=1e30, epochs=2))
    assert blown["diverged"].all() and blown[["test_acc", "confidence"]].notna().all().all()
    with pytest.warns(train.DivergenceWarning, match="diverged in epoch"):
        assert train.fit(toy, -8.0, 0.2, 0, **DIVERGE).diverged


def test_cache_hits_and_misses(digits, tmp_path, monkeypatch):
    args = (digits, [0.4, -1.0], 0.2, [0])
    first = train.sweep(*args, cache=tmp_path, **SMALL)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 3 and any(f.endswith(".json") for f in files)

    def no_training(*a, **k):
        raise AssertionError("a cache hit must not train")

    with monkeypatch.context() as patch:
        patch.setattr(train.chunks, "_train_chunk", no_training)
        hit, hit_history = train.sweep(*args, cache=tmp_path, return_history=True, **SMALL)
    pd.testing.assert_frame_equal(hit, first)
    assert len(hit_history) == 2 * 3
    changes = [dict(epochs=2), dict(lr=2e-2), dict(noise_kind="pairflip"), dict(weight_decay=1e-4),
               dict(warmup_epochs=1), dict(batch_size=64)]
    for change in changes:
        train.sweep(*args, cache=tmp_path, **SMALL | change)
    train.sweep(digits, [0.4, -1.0], 0.2, [1], cache=tmp_path, **SMALL)                  # grid
    train.sweep(data.digits(seed=1), [0.4, -1.0], 0.2, [0], cache=tmp_path, **SMALL)     # data
    assert len(list(tmp_path.glob("*.json"))) == 1 + len(changes) + 2


def test_dask_client_gives_the_local_results(digits, grid):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = train.sweep(digits, [0.4, 0.0, -2.0], [0.2, 0.6], [0, 7], client=client,
                             max_models_per_chunk=6, **SMALL)
    pd.testing.assert_frame_equal(remote, grid[0], atol=1e-4, rtol=1e-4)


def test_class_major_loss_and_metrics_agree_with_the_library():
    logits, labels = torch.randn(3, 20, 5), torch.randint(0, 5, (3, 20))
    rates = torch.tensor([0.5, 0.0, -3.0])
    torch.testing.assert_close(train.stacked_gls_loss(logits.transpose(1, 2), labels, rates),
                               losses.gls_loss(logits, labels, rates))
    y = labels[0]
    scores = train._evaluate(lambda xb: logits.transpose(1, 2), torch.zeros(20, 1), y)
    torch.testing.assert_close(scores["test_acc"].double(), metrics.accuracy(logits, y))
    torch.testing.assert_close(scores["confidence"].double(), metrics.confidence(logits).mean(dim=1))
    torch.testing.assert_close(scores["model_confidence"].double(), metrics.model_confidence(logits, y).mean(dim=1))


def test_bad_data_and_cuda_without_gpu(toy):
    with pytest.raises(ValueError, match="data must be an nls_lessons.data.Dataset"):
        train.sweep((toy.x_train, toy.y_train), 0.0, 0.2, 0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no usable CUDA"):
            train.sweep(toy, 0.0, 0.2, 0, device="cuda")


def test_progress_bar_runs(toy, capsys):
    train.sweep(toy, 0.0, 0.2, 0, epochs=2, device="auto", progress=True)
    assert "sweep: 1 models" in capsys.readouterr().err


# ---------------------------------------------------------------- divergence: one definition
def test_divergence_upwards_is_flagged_and_a_model_that_diverges_at_once_keeps_its_initial_weights(toy):
    """lr 1e30: the loss blows up (to ~1e30, finite) after the first step. The one definition
    (losses.diverging) flags it; the model is frozen at its initial weights, so every accuracy
    is the initial model's, best_epoch is 1, and nothing is NaN but the training loss."""
    with pytest.warns(train.DivergenceWarning, match="diverged in epoch 1"):
        run = train.fit(toy, 0.0, 0.2, 0, lr=1e30, epochs=3, device="cpu")
    assert run.diverged and run.diverged_epoch == 1
    initial = models.plain_model("linear", 2, toy.num_classes, 0)
    expected = float(metrics.accuracy(initial(toy.x_test), toy.y_test))
    assert run.history["test_acc"].tolist() == pytest.approx([expected] * 3, abs=1e-6)
    assert (run.test_acc, run.best_test_acc, run.best_epoch) == (pytest.approx(expected), pytest.approx(expected), 1)
    assert run.history["train_loss"].isna().all() and run.history["confidence"].notna().all()
    for p, q in zip(run.model.parameters(), initial.parameters()):
        assert torch.equal(p, q)
    with pytest.warns(train.DivergenceWarning, match=r"epoch 1\)"):
        rows = train.sweep(toy, [0.0, 0.5], 0.2, 0, lr=1e30, epochs=3, device="cpu", progress=False)
    assert rows["diverged"].all() and rows["diverged_epoch"].tolist() == [1, 1]
    assert (rows["best_epoch"] == 1).all() and rows[["test_acc", "best_test_acc"]].notna().all().all()


def test_the_divergence_rule_is_losses_diverging(toy, monkeypatch):
    """train has no rule of its own: replacing losses.diverging changes what is flagged."""
    calls = []

    def never(loss, rate):
        calls.append(loss.shape)
        return torch.zeros_like(loss, dtype=torch.bool)

    monkeypatch.setattr(train.stacked, "diverging", never)
    run = train.fit(toy, -8.0, 0.2, 0, **DIVERGE | dict(epochs=2))
    assert calls and not run.diverged and run.diverged_epoch is None


def test_diverged_epoch_is_missing_when_never(grid, toy):
    results, _ = grid
    assert str(results["diverged_epoch"].dtype) == "Int64" and results["diverged_epoch"].isna().all()
    assert train.fit(toy, 0.0, 0.2, 0, epochs=2, device="cpu").diverged_epoch is None
    with pytest.warns(train.DivergenceWarning):
        mixed = train.sweep(toy, [0.4, -8.0], 0.2, 0, **DIVERGE).set_index("smooth_rate")
    assert mixed.loc[0.4, "diverged_epoch"] is pd.NA and mixed.loc[-8.0, "diverged_epoch"] >= 1


@pytest.mark.parametrize("split, value", [("x_train", math.nan), ("x_test", math.inf)])
def test_non_finite_features_are_bad_data_not_divergence(toy, split, value):
    bad = data.Dataset(toy.x_train.clone(), toy.y_train, toy.x_test.clone(), toy.y_test, toy.num_classes, "bad toy")
    getattr(bad, split)[3, 1] = value            # in place: a Dataset may refuse to be built with it
    for call in (lambda: train.fit(bad, -1.0, 0.2, 0, epochs=1, device="cpu"),
                 lambda: train.sweep(bad, -1.0, 0.2, 0, epochs=1, device="cpu", progress=False)):
        with pytest.raises(ValueError, match=rf"data\.{split} of bad toy has NaN or infinite features in 1 of"):
            call()


# ---------------------------------------------------------------- the warm-up restart
WARM = dict(model="mlp", hidden=32, lr=0.03, epochs=8, warmup_epochs=6, device="cpu", progress=False)


@pytest.fixture(scope="module")
def warm_runs(digits):
    """Both restarts, with a GLS learning rate so small that the GLS epochs do not move the
    weights: epoch 7 shows where the GLS phase started."""
    return {restart: train.sweep(digits, -2.0, 0.4, [0, 1], gls_lr_scale=1e-9, warmup_restart=restart,
                                 return_history=True, **WARM)[1] for restart in train.WARMUP_RESTARTS}


def test_warmup_restart_best_starts_gls_from_the_best_warmup_epoch(warm_runs):
    for seed in (0, 1):
        cont, best = (warm_runs[k][warm_runs[k].seed == seed].set_index("epoch") for k in ("continue", "best"))
        warm_acc = cont.loc[1:6, "test_acc"]
        assert warm_acc.idxmax() < 6, "the setting must have its best warm-up epoch before the last"
        pd.testing.assert_frame_equal(cont.loc[1:6], best.loc[1:6])                  # same warm-up
        assert cont.loc[7, "test_acc"] == cont.loc[6, "test_acc"]                      # from the last epoch
        assert best.loc[7, "test_acc"] == warm_acc.max()                               # from the best one
        assert best.loc[7, "confidence"] == pytest.approx(best.loc[warm_acc.idxmax(), "confidence"], abs=1e-6)


def test_warmup_restart_best_matches_the_textbook_loop_with_a_fresh_optimiser(digits):
    """The plain loop loads the best warm-up state_dict and builds a new torch.optim.Adam."""
    options = WARM | dict(gls_lr_scale=0.1, warmup_restart="best")
    _, history = train.sweep(digits, [0.4, -2.0], 0.4, 1, return_history=True, **options)
    for r, rows in history.groupby("smooth_rate"):
        _, plain = train.reference_fit(digits, r, 0.4, 1, **{k: v for k, v in options.items() if k != "progress"})
        np.testing.assert_allclose(rows["train_loss"], plain["train_loss"], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(rows["test_acc"], plain["test_acc"], atol=1.5 / 540)
    # carrying the optimiser state over instead gives other numbers
    _, carried = train.reference_fit(digits, -2.0, 0.4, 1, **{k: v for k, v in options.items() if k != "progress"}
                                     | dict(warmup_restart="continue"))
    assert not np.allclose(carried["train_loss"].iloc[6:], plain["train_loss"].iloc[6:], rtol=1e-3)


# ---------------------------------------------------------------- the cache checks what it reads
CACHED = dict(epochs=2, device="cpu", progress=False)


@pytest.fixture()
def entry(toy, tmp_path):
    """A cache entry of a 2 x 2 grid with one diverged model, its paths and the fresh results."""
    args = (toy, [0.4, -8.0], 0.2, [0, 1])
    options = DIVERGE | dict(cache=tmp_path)
    with pytest.warns(train.DivergenceWarning):
        fresh = train.sweep(*args, return_history=True, **options)
    assert len(list(tmp_path.iterdir())) == 3
    return args, options, fresh, tmp_path


def _entry_files(directory):
    csvs = sorted(directory.glob("sweep-*.csv"))
    history = next(p for p in csvs if p.name.endswith("-history.csv"))
    results = next(p for p in csvs if not p.name.endswith("-history.csv"))
    return results, history, next(directory.glob("sweep-*.json"))


def test_a_cache_hit_gives_the_fresh_frames_exactly(entry, monkeypatch):
    args, options, (results, history), directory = entry
    assert results["diverged"].any() and results["diverged_epoch"].isna().any()
    monkeypatch.setattr(train.chunks, "_train_chunk", lambda *a, **k: pytest.fail("a cache hit must not train"))
    with warnings_as_errors():
        hit, hit_history = train.sweep(*args, return_history=True, **options)
    pd.testing.assert_frame_equal(hit, results, check_exact=True)
    pd.testing.assert_frame_equal(hit_history, history, check_exact=True)
    assert not list(directory.glob(".*.tmp"))


@contextlib.contextmanager
def warnings_as_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _corruptions(results_csv, history_csv, sidecar, other_entry):
    text = results_csv.read_text()
    lines = text.splitlines(keepends=True)
    return {
        "cut to 3 rows": (results_csv, "".join(lines[:3])),
        "cut mid-line": (results_csv, text[: len(text) - 25]),
        "another shape": (results_csv, "a,b\n1,2\n"),
        "empty results": (results_csv, ""),
        "random bytes": (results_csv, bytes(range(256)) * 3),
        "undecodable": (history_csv, "noise_kind\n\xe9\xff".encode("latin-1")),
        "empty history": (history_csv, ""),
        "sidecar garbage": (sidecar, "{not json"),
        "sidecar random bytes": (sidecar, b"\xff\xfe\x00garbage"),
        "other epochs under the same key": other_entry,
    }


@pytest.mark.parametrize("damage", ["cut to 3 rows", "cut mid-line", "another shape", "empty results",
                                    "random bytes", "undecodable", "empty history", "sidecar garbage",
                                    "sidecar random bytes", "other epochs under the same key",
                                    "missing history", "missing sidecar"])
def test_a_damaged_cache_entry_is_recomputed_with_a_warning_naming_the_file(entry, toy, damage):
    args, options, (results, history), directory = entry
    results_csv, history_csv, sidecar = _entry_files(directory)
    if damage.startswith("missing"):
        target = history_csv if damage == "missing history" else sidecar
        target.unlink()
    else:
        if damage == "other epochs under the same key":
            # a whole valid entry of a 2-epoch sweep, renamed to this sweep's key
            other_dir = directory / "other"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", train.DivergenceWarning)
                train.sweep(*args, return_history=True, **options | dict(epochs=5, cache=other_dir))
            for mine, theirs in zip((results_csv, history_csv, sidecar), _entry_files(other_dir)):
                mine.write_bytes(theirs.read_bytes())
            target = sidecar
        else:
            target, content = _corruptions(results_csv, history_csv, sidecar, None)[damage]
            (target.write_bytes if isinstance(content, bytes) else target.write_text)(content)
    with pytest.warns(train.SweepCacheWarning, match=f"sweep cache file {target}"), \
            pytest.warns(train.DivergenceWarning):
        again, again_history = train.sweep(*args, return_history=True, **options)
    pd.testing.assert_frame_equal(again, results, check_exact=True)
    pd.testing.assert_frame_equal(again_history, history, check_exact=True)
    with warnings_as_errors():            # the entry is whole again: a silent hit
        train.sweep(*args, **options)


def test_the_key_covers_the_training_code(digits, tmp_path, monkeypatch):
    """CODE_FINGERPRINT hashes the source of every module of the train package, and of models,
    losses, noise, checks, data and metrics; a different fingerprint is a different entry."""
    import hashlib
    import sys
    from pathlib import Path

    from nls_lessons import checks, data as data_module, losses as losses_module, noise as noise_module
    package = Path(train.__file__).parent
    loaded = {Path(m.__file__) for name, m in list(sys.modules.items()) if name.startswith("nls_lessons.train.")}
    assert loaded and loaded <= set(package.glob("*.py"))          # every loaded train module is hashed
    h = hashlib.sha256()
    for module in (checks, data_module, losses_module, metrics, models, noise_module):
        h.update(module.__name__.encode())
        h.update(Path(module.__file__).read_bytes())
    for path in sorted(package.glob("*.py")):
        h.update(f"nls_lessons.train.{path.stem}".encode())
        h.update(path.read_bytes())
    assert train.CODE_FINGERPRINT == h.hexdigest()
    args = (digits, [0.4], 0.2, [0])
    train.sweep(*args, cache=tmp_path, **CACHED)
    monkeypatch.setattr(train.cache, "CODE_FINGERPRINT", "edited")
    train.sweep(*args, cache=tmp_path, **CACHED)
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_threads_writing_one_key_never_collide(toy, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    run = lambda _: train.sweep(toy, [0.4, -1.0], 0.2, [0], cache=tmp_path, **CACHED)
    for _ in range(3):
        for old in tmp_path.iterdir():
            old.unlink()
        with ThreadPoolExecutor(6) as pool:
            outs = list(pool.map(run, range(6)))
        for out in outs[1:]:
            pd.testing.assert_frame_equal(out, outs[0], check_exact=True)
        assert len(list(tmp_path.iterdir())) == 3                 # no temporary file left over
    with warnings_as_errors():
        pd.testing.assert_frame_equal(run(0), outs[0], check_exact=True)


def test_cache_must_be_a_directory(toy, tmp_path):
    a_file = tmp_path / "results.csv"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="cache must be a directory.*results.csv.*existing file"):
        train.sweep(toy, 0.0, 0.2, 0, cache=a_file, **CACHED)
    with pytest.raises(ValueError, match="cache=.*cannot be created"):
        train.sweep(toy, 0.0, 0.2, 0, cache=a_file / "sub", **CACHED)


@pytest.mark.parametrize("umask, mode", [(0o002, 0o664), (0o077, 0o600)])
def test_cache_files_follow_the_users_umask(toy, tmp_path, umask, mode):
    """A group that shares a cache folder reads it (umask 002); a private user's stays private."""
    old = os.umask(umask)
    try:
        train.sweep(toy, [0.4], 0.2, [0], cache=tmp_path, **CACHED)
    finally:
        os.umask(old)
    files = list(tmp_path.iterdir())
    assert len(files) == 3
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == mode, f"{f.name}: {oct(f.stat().st_mode)}"
