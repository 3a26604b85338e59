"""nls_lessons.train: the stacked sweep equals one-model training, is paired, survives
divergence, caches by full configuration, runs on Dask, and rejects bad input."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from nls_lessons import data, losses, metrics, noise, train

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
        patch.setattr(train, "_train_chunk", no_training)
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
