"""The same numbers everywhere (issue 13, items 3 and 4): no global RNG state in model
initialisation or training, so threads, a threaded Dask client and Dask worker processes all
give the local numbers bit for bit, and many sweeps in a row on one Dask client all pass."""
import math
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
import torch
from torch import nn

from nls_lessons import data, models, train

TINY = dict(epochs=2, device="cpu", progress=False)


@pytest.fixture(scope="module")
def toy():
    return data.toy2d("blobs", n=200, seed=0)


def _old_style(model, d, k, seed, hidden=6, channels=3):
    """PyTorch's default initialisation under the global RNG seeded with ``seed`` (what the
    library did before it drew from explicit generators)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if model == "linear":
            return nn.Linear(d, k)
        if model == "mlp":
            return nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, k))
        l3 = models._cnn_lengths(d)[2]
        return nn.Sequential(nn.Unflatten(1, (1, d)), nn.Conv1d(1, channels, 5, padding=2), nn.ReLU(),
                             nn.Conv1d(channels, channels, 5, stride=2, padding=2), nn.ReLU(),
                             nn.Conv1d(channels, channels, 5, stride=2, padding=2), nn.ReLU(),
                             nn.Flatten(), nn.Linear(channels * l3, k))


@pytest.mark.parametrize("arch, features", [("linear", 7), ("mlp", 7), ("cnn", 12)])
def test_initialisation_is_pytorchs_default_distribution(arch, features):
    """Same shapes, same kaiming-uniform bounds, and in fact the same numbers as nn.Linear /
    nn.Conv1d drawn under torch.manual_seed(seed): the lessons keep their numbers."""
    for seed in (0, 3):
        new = models.plain_model(arch, features, 4, seed, hidden=6, channels=3)
        old = _old_style(arch, features, 4, seed)
        for (name, p), (old_name, q) in zip(new.named_parameters(), old.named_parameters(), strict=True):
            assert name == old_name and torch.equal(p, q), name


def test_no_global_rng_is_used(toy, monkeypatch):
    """Initialisation, batch order and noisy labels come from explicit generators: training
    works with the global seeding functions disabled, and leaves the global state alone."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the library must not seed torch's global RNG")

    expected = train.fit(toy, -1.0, 0.3, 4, **TINY).history
    before = torch.get_rng_state()
    with monkeypatch.context() as patch:
        for target in (torch, torch.random):
            patch.setattr(target, "manual_seed", forbidden)
            patch.setattr(target, "seed", forbidden)
        patch.setattr(torch.random, "fork_rng", forbidden)
        models.Stacked("mlp", 2, 3, seeds=[0, 1], groups=2, hidden=4)
        models.plain_model("cnn", 12, 3, 0, channels=2)
        again = train.fit(toy, -1.0, 0.3, 4, **TINY).history
    assert torch.equal(torch.get_rng_state(), before)
    pd.testing.assert_frame_equal(again, expected, check_exact=True)


def _state(net: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def test_models_built_in_threads_equal_the_sequential_ones():
    jobs = [(arch, seed) for arch in ("linear", "mlp", "cnn") for seed in range(8)] * 3
    build = lambda job: _state(models.plain_model(job[0], 16, 5, job[1], hidden=32, channels=4))
    sequential = [build(job) for job in jobs]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(build, jobs))
    differ = [job for job, a, b in zip(jobs, sequential, threaded)
              if not all(torch.equal(p, q) for p, q in zip(a, b, strict=True))]
    assert not differ, f"{len(differ)} of {len(jobs)} initialisations differ in threads: {differ[:5]}"


def test_fits_in_threads_equal_the_sequential_ones(toy):
    jobs = [(r, seed) for r in (0.4, -2.0) for seed in range(4)]
    run = lambda job: train.fit(toy, job[0], 0.3, job[1], model="mlp", hidden=8, **TINY).history
    sequential = [run(job) for job in jobs]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(run, jobs))
    for job, a, b in zip(jobs, sequential, threaded):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=f"fit{job}")


GRID = ([0.4, 0.0, -2.0], [0.2, 0.5], [0, 3])


@pytest.fixture(scope="module")
def local_grid(toy):
    return train.sweep(toy, *GRID, model="mlp", hidden=8, max_models_per_chunk=3, **TINY)


@pytest.fixture(scope="module", params=[pytest.param(False, id="threaded-client"),
                                        pytest.param(True, id="process-workers", marks=pytest.mark.slow)])
def client(request):
    """One LocalCluster per kind for the module: 2 workers x 2 threads, in this process
    (threads) or in 2 worker processes."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=request.param, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None,
                                  worker_dashboard_address=None) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.mark.timeout(300)
def test_dask_gives_the_local_numbers_bit_for_bit(toy, local_grid, client):
    for _ in range(2):   # 4 chunks run concurrently on the 2 x 2 worker threads
        remote = train.sweep(toy, *GRID, model="mlp", hidden=8, max_models_per_chunk=3, client=client, **TINY)
        pd.testing.assert_frame_equal(remote, local_grid, check_exact=True)


@pytest.mark.timeout(300)
def test_twenty_sweeps_in_a_row_on_one_client(toy, client, monkeypatch):
    """Each sweep scatters the same data. Before the fix the scatter was content-hashed, so a
    sweep reused the key of the previous sweep's data while the scheduler was still releasing
    it, and failed ("FutureCancelledError ... lost dependencies", about 1 sweep in 100 here):
    now every sweep's data has a key of its own."""
    keys, scatter = [], client.scatter

    def recording_scatter(*args, **kwargs):
        future = scatter(*args, **kwargs)
        keys.append(future.key)
        return future

    monkeypatch.setattr(client, "scatter", recording_scatter)
    tiny = dict(max_models_per_chunk=2, epochs=1, device="cpu", progress=False)
    expected = train.sweep(toy, [0.0, -1.0], 0.2, [0, 1], **tiny)
    for i in range(20):
        got = train.sweep(toy, [0.0, -1.0], 0.2, [0, 1], client=client, **tiny)
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=f"sweep {i + 1} of 20")
    assert not math.isnan(got["train_loss"].iloc[0])
    assert len(keys) >= 20 and len(set(keys)) == len(keys), "sweeps share a scattered data key"
