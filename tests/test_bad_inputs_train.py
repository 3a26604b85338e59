"""Bad input to the training core (issue 13, item 10): fit, sweep, check_grid, models_per_chunk,
the models and TrainConfig. Every case raises before any training, with a message that names
the argument and says what is allowed."""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from bad_input import Case, check_case
from nls_lessons import data, models, train
from nls_lessons.train import TrainConfig, check_grid, fit, sweep

TOY = data.toy2d("blobs", n=60, seed=0)
QUICK = dict(epochs=1, device="cpu")
A_FILE = Path(__file__)                          # an existing regular file


def fit_(**change):
    args = dict(data=TOY, smooth_rate=0.0, noise_rate=0.2, seed=0, **QUICK) | change
    return lambda: fit(**args)


def sweep_(**change):
    args = dict(data=TOY, smooth_rates=[0.0], noise_rates=[0.2], seeds=[0], progress=False, **QUICK) | change
    return lambda: sweep(**args)


CASES = [
    # fit: one model, one number per argument
    Case("fit-list-of-rates", fit_(smooth_rate=[0.1, 0.2]), words=("smooth_rate", "one number", "sweep")),
    Case("fit-tensor-of-rates", fit_(smooth_rate=torch.tensor([0.1, 0.2])), words=("smooth_rate", "one number")),
    Case("fit-rate-string", fit_(smooth_rate="0.1"), exc=TypeError, words=("smooth_rate", "number")),
    Case("fit-rate-bool", fit_(smooth_rate=True), exc=TypeError, words=("smooth_rate", "number")),
    Case("fit-rate-above-1", fit_(smooth_rate=1.5), words=("smooth_rate", "<= 1")),
    Case("fit-rate-nan", fit_(smooth_rate=math.nan), words=("smooth_rate", "finite")),
    Case("fit-rate-inf", fit_(smooth_rate=-math.inf), words=("smooth_rate", "finite")),
    Case("fit-noise-rate-1", fit_(noise_rate=1.0), words=("noise_rate", "[0, 1)")),
    Case("fit-noise-rate-string", fit_(noise_rate="0.2"), exc=TypeError, words=("noise_rate", "[0, 1)")),
    Case("fit-noise-rate-list", fit_(noise_rate=[0.1, 0.2]), words=("noise_rate", "one number")),
    Case("fit-noise-rate-np-bool", fit_(noise_rate=np.bool_(False)), exc=TypeError, words=("noise_rate",)),
    Case("fit-seed-float", fit_(seed=1.7), words=("seed", "integer")),
    Case("fit-seed-negative", fit_(seed=-1), words=("seed", ">= 0")),
    Case("fit-seed-list", fit_(seed=[0, 1]), words=("seed", "one number")),
    Case("fit-data-tuple", fit_(data=(TOY.x_train, TOY.y_train)), words=("data", "Dataset")),
    Case("fit-lr-inf", fit_(lr=math.inf), words=("lr", "finite", "> 0")),
    Case("fit-lr-bool", fit_(lr=True), words=("lr", "finite number")),
    Case("fit-lr-string", fit_(lr="1e-2"), words=("lr", "finite number")),
    Case("fit-epochs-0", fit_(epochs=0), words=("epochs", ">= 1")),
    Case("fit-warmup-restart-unknown", fit_(warmup_restart="restart"), words=("warmup_restart", "continue", "best")),
    Case("fit-warmup-restart-best-without-warmup", fit_(warmup_restart="best"), words=("warmup_restart",
                                                                                       "warmup_epochs >= 1")),
    Case("fit-progress-string", fit_(progress="yes"), exc=TypeError, words=("progress", "True or False")),
    Case("fit-warn-none", fit_(warn=None), exc=TypeError, words=("warn", "True or False")),
    Case("fit-device", fit_(device="tpu"), words=("device", "cpu")),
    # sweep
    Case("sweep-memory-budget-inf", sweep_(memory_budget=math.inf), words=("memory_budget", "finite", "> 0")),
    Case("sweep-memory-budget-nan", sweep_(memory_budget=math.nan), words=("memory_budget", "finite")),
    Case("sweep-memory-budget-negative", sweep_(memory_budget=-5), words=("memory_budget", "> 0")),
    Case("sweep-memory-budget-string", sweep_(memory_budget="1GB"), exc=TypeError, words=("memory_budget", "bytes")),
    Case("sweep-client-string", sweep_(client="x"), exc=TypeError, words=("client", "dask.distributed.Client")),
    Case("sweep-cache-is-a-file", sweep_(cache=A_FILE), words=("cache", "directory", "existing file")),
    Case("sweep-cache-number", sweep_(cache=3), exc=TypeError, words=("cache", "directory")),
    Case("sweep-nan-nan", sweep_(smooth_rates=[math.nan, math.nan]), words=("smooth_rates", "finite")),
    Case("sweep-repeat", sweep_(smooth_rates=[0.1, 0.1]), words=("smooth_rates", "must not repeat")),
    Case("sweep-rates-string", sweep_(smooth_rates="0.1"), exc=TypeError, words=("smooth_rates", "number")),
    Case("sweep-rates-string-item", sweep_(smooth_rates=["0.1"]), exc=TypeError, words=("smooth_rates", "number")),
    Case("sweep-rates-empty", sweep_(smooth_rates=[]), words=("smooth_rates", "must not be empty")),
    Case("sweep-rates-above-1", sweep_(smooth_rates=[0.0, 2.0]), words=("smooth_rates", "<= 1")),
    Case("sweep-noise-negative", sweep_(noise_rates=[-0.1]), words=("noise_rates", "[0, 1)")),
    Case("sweep-noise-nan-nan", sweep_(noise_rates=[math.nan, math.nan]), words=("noise_rates", "[0, 1)")),
    Case("sweep-noise-empty", sweep_(noise_rates=()), words=("noise_rates", "must not be empty")),
    Case("sweep-seed-float", sweep_(seeds=[0.5]), words=("seeds", "integers")),
    Case("sweep-seed-bool", sweep_(seeds=[True]), words=("seeds", "integers")),
    Case("sweep-seed-string", sweep_(seeds=["1"]), words=("seeds", "integers")),
    Case("sweep-seed-repeat", sweep_(seeds=[3, 3]), words=("seeds", "must not repeat")),
    Case("sweep-chunk-0", sweep_(max_models_per_chunk=0), words=("max_models_per_chunk", ">= 1")),
    Case("sweep-return-history-string", sweep_(return_history="no"), exc=TypeError,
         words=("return_history", "True or False")),
    Case("sweep-noise-kind", sweep_(noise_kind="human"), words=("noise_kind", "symmetric")),
    Case("sweep-optimizer", sweep_(optimizer="lbfgs"), words=("optimizer", "adam")),
    Case("sweep-model", sweep_(model="resnet"), words=("model", "linear")),
    Case("sweep-warmup-too-long", sweep_(warmup_epochs=1), words=("warmup_epochs", "[0, epochs)")),
    Case("sweep-batch-size-float", sweep_(batch_size=12.5), words=("batch_size", "integer")),
    Case("sweep-data-images", sweep_(data=data.Dataset(torch.zeros(4, 2, 2), torch.zeros(4, dtype=torch.long),
                                                       torch.zeros(2, 2, 2), torch.zeros(2, dtype=torch.long), 2,
                                                       "images")), words=("flat features", "(N, D)")),
    # check_grid and models_per_chunk
    Case("grid-none", lambda: check_grid(None, 0.2, 0), exc=TypeError, words=("smooth_rates", "sequence")),
    Case("grid-noise-nan", lambda: check_grid(0.1, [math.nan], 0), words=("noise_rates", "[0, 1)")),
    Case("grid-seed-numpy-float", lambda: check_grid(0.1, 0.2, [np.float64(2.0)]), words=("seeds", "integers")),
    Case("grid-rate-np-bool", lambda: check_grid([np.bool_(True)], 0.2, 0), exc=TypeError,
         words=("smooth_rates", "number")),
    Case("chunk-budget-inf", lambda: train.models_per_chunk(TOY, TrainConfig(), "cpu", memory_budget=math.inf),
         words=("memory_budget", "finite")),
    # models
    Case("plain-architecture", lambda: models.plain_model("resnet", 4, 3, 0), words=("model", "linear", "mlp")),
    Case("plain-in-features-0", lambda: models.plain_model("linear", 0, 3, 0), words=("in_features", ">= 1")),
    Case("plain-one-class", lambda: models.plain_model("linear", 4, 1, 0), words=("num_classes", ">= 2")),
    Case("plain-seed-negative", lambda: models.plain_model("linear", 4, 3, -1), words=("seed", ">= 0")),
    Case("plain-seed-float", lambda: models.plain_model("linear", 4, 3, 1.5), words=("seed", "integer")),
    Case("plain-hidden-0", lambda: models.plain_model("mlp", 4, 3, 0, hidden=0), words=("hidden", ">= 1")),
    Case("plain-channels-float", lambda: models.plain_model("cnn", 8, 3, 0, channels=2.5),
         words=("channels", "integer")),
    Case("stacked-no-seeds", lambda: models.Stacked("linear", 4, 3, seeds=[], groups=1),
         words=("seeds", "non-empty")),
    Case("stacked-seeds-number", lambda: models.Stacked("linear", 4, 3, seeds=5, groups=1),
         words=("seeds", "sequence")),
    Case("stacked-seed-negative", lambda: models.Stacked("linear", 4, 3, seeds=[0, -2], groups=1),
         words=("seeds", ">= 0")),
    Case("stacked-groups-0", lambda: models.Stacked("linear", 4, 3, seeds=[0], groups=0), words=("groups", ">= 1")),
    Case("stacked-input-shape", lambda: models.Stacked("linear", 4, 3, seeds=[0, 1], groups=1)(torch.zeros(3, 5, 4)),
         words=("x must have shape", "(S=2, B, D=4)")),
    # TrainConfig
    Case("config-gls-lr-scale-0", lambda: TrainConfig(gls_lr_scale=0), words=("gls_lr_scale", "> 0")),
    Case("config-weight-decay-negative", lambda: TrainConfig(weight_decay=-1e-4), words=("weight_decay", ">= 0")),
    Case("config-batch-size-0", lambda: TrainConfig(batch_size=0), words=("batch_size", ">= 1")),
    Case("config-hidden-bool", lambda: TrainConfig(hidden=True), words=("hidden", "integer")),
    Case("config-warmup-restart-none", lambda: TrainConfig(warmup_restart=None), words=("warmup_restart", "best")),
    Case("config-noise-kind-list", lambda: TrainConfig(noise_kind=["symmetric"]), words=("noise_kind", "pairflip")),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input(case):
    check_case(case)


def test_there_are_enough_cases_and_they_are_distinct():
    ids = [c.id for c in CASES]
    assert len(ids) >= 35 and len(set(ids)) == len(ids)


def test_zero_d_tensors_and_numpy_numbers_count_as_numbers():
    """A 0-d tensor (or numpy scalar) is one number: the same model as the Python number."""
    plain = fit(TOY, -1.0, 0.2, 3, **QUICK).history
    tensors = fit(TOY, torch.tensor(-1.0), np.float64(0.2), torch.tensor(3), lr=torch.tensor(1e-2), **QUICK).history
    pd.testing.assert_frame_equal(tensors, plain)
    grid = sweep(TOY, torch.tensor(-1.0), np.array(0.2), np.int64(3), progress=False, **QUICK)
    assert grid[["smooth_rate", "noise_rate", "seed"]].iloc[0].tolist() == [-1.0, 0.2, 3]
    assert check_grid(torch.tensor([0.5, -1.0]), np.array([0.0, 0.2]), torch.arange(2)) == \
        ([0.5, -1.0], [0.0, 0.2], [0, 1])
