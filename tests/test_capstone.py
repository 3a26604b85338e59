"""Lesson 06's library: estimating noise from noisy labels, cross-fitting, choosing r on noisy
validation, and the accuracy identities behind it. Data sets and seeds differ from the lesson's."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from bad_input import Case, check_case
from nls_lessons import data, noise, theory, train, widgets


# --------------------------------------------------------------- estimate_transition / noise rate
def _known_probs(clean, num_classes, confidence=0.9):
    """Probabilities of a model that knows the clean class (not the noisy label)."""
    p = np.full((len(clean), num_classes), (1 - confidence) / (num_classes - 1))
    p[np.arange(len(clean)), clean] = confidence
    return p


def test_estimate_recovers_the_realised_transition_when_the_model_knows_the_clean_class():
    rng = np.random.default_rng(11)
    clean = rng.integers(0, 4, size=4000)
    T = noise.transition_matrix("symmetric", 4, 0.3)
    noisy = noise.inject(clean, T, seed=12)
    T_hat = noise.estimate_transition(noisy, _known_probs(clean, 4))
    assert T_hat.shape == (4, 4)
    np.testing.assert_allclose(T_hat.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(T_hat, noise.empirical_transition(clean, noisy, 4), atol=0.03)
    assert abs(noise.estimate_noise_rate(noisy, _known_probs(clean, 4))
               - noise.noise_rate_of(clean, noisy)) < 0.02


def test_estimate_finds_pairflip_structure():
    rng = np.random.default_rng(5)
    clean = rng.integers(0, 10, size=6000)
    noisy = noise.inject(clean, noise.transition_matrix("pairflip", 10, 0.25), seed=6)
    T_hat = noise.estimate_transition(noisy, _known_probs(clean, 10, 0.8))
    partner = noise.pair_partner(10)
    off = T_hat.copy()
    np.fill_diagonal(off, 0)
    assert (off.argmax(axis=1) == partner).all()


def test_estimate_accepts_torch_inputs_and_is_in_sample_blind():
    clean = torch.arange(200) % 5
    probs = torch.as_tensor(_known_probs(clean.numpy(), 5))
    assert noise.estimate_noise_rate(clean, probs) == pytest.approx(0.0, abs=1e-9)


ESTIMATE_CASES = [
    Case("probs-shape", noise.estimate_transition, (np.zeros(10, dtype=int), np.full((9, 3), 1 / 3)),
         words=("pred_probs", "(N, K)")),
    Case("probs-not-rows", noise.estimate_transition, (np.arange(3), np.ones((3, 3))),
         words=("pred_probs", "sum to 1")),
    Case("probs-nan", noise.estimate_noise_rate, (np.arange(3), np.full((3, 3), np.nan)),
         words=("pred_probs", "finite")),
    Case("probs-negative", noise.estimate_noise_rate, (np.arange(2), np.array([[1.5, -0.5], [0.5, 0.5]])),
         words=("pred_probs", ">= 0")),
    Case("probs-int", noise.estimate_transition, (np.arange(2), np.eye(2, dtype=int)),
         words=("pred_probs", "floating")),
    Case("labels-range", noise.estimate_transition, (np.array([0, 1, 5]), np.full((3, 3), 1 / 3)),
         words=("labels", "[0, 3)")),
    Case("labels-float", noise.estimate_noise_rate, (np.array([0.0, 1.0, 2.0]), np.full((3, 3), 1 / 3)),
         words=("labels", "integer")),
    Case("labels-empty", noise.estimate_noise_rate, (np.array([], dtype=int), np.zeros((0, 3))),
         words=("labels", "empty")),
    Case("class-missing", noise.estimate_transition, (np.array([0, 0, 1]), np.full((3, 3), 1 / 3)),
         words=("every class", "[2]")),
]


@pytest.mark.parametrize("case", [c.param() for c in ESTIMATE_CASES])
def test_estimate_bad_inputs(case):
    check_case(case)


# --------------------------------------------------------------- out_of_sample_probs
@pytest.fixture(scope="module")
def blobs():
    """4 blobs, not the lesson's digits; 30 % symmetric noise on the training labels."""
    clean = data.toy2d("blobs", n=400, seed=9, num_classes=4, noise=0.05)
    noisy = noise.inject(clean.y_train, noise.transition_matrix("symmetric", 4, 0.3), seed=21)
    return clean, dataclasses.replace(clean, y_train=noisy, name="blobs|noisy")


def test_out_of_sample_probs_rows_and_determinism(blobs):
    _, mine = blobs
    p1 = train.out_of_sample_probs(mine, folds=3, seed=4, model="linear", epochs=10)
    p2 = train.out_of_sample_probs(mine, folds=3, seed=4, model="linear", epochs=10)
    assert p1.shape == (len(mine.y_train), 4) and p1.dtype == np.float64
    np.testing.assert_allclose(p1.sum(axis=1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(p1, p2)
    assert not np.array_equal(p1, train.out_of_sample_probs(mine, folds=3, seed=5, model="linear", epochs=10))


def test_out_of_sample_probs_do_not_memorise_flipped_labels(blobs):
    clean, mine = blobs
    flipped = (mine.y_train != clean.y_train).numpy()
    probs = train.out_of_sample_probs(mine, folds=4, seed=1, model="mlp", epochs=40)
    given = probs[np.arange(len(probs)), mine.y_train.numpy()]
    assert given[flipped].mean() < given[~flipped].mean() - 0.2
    # and the estimate from them lands near the realised rate
    realised = noise.noise_rate_of(clean.y_train, mine.y_train)
    assert abs(noise.estimate_noise_rate(mine.y_train, probs) - realised) < 0.12


def test_out_of_sample_probs_bad_inputs(blobs):
    _, mine = blobs
    for case in [
        Case("folds-one", train.out_of_sample_probs, (mine,), {"folds": 1}, words=("folds", ">= 2")),
        Case("folds-float", train.out_of_sample_probs, (mine,), {"folds": 2.5}, words=("folds", "integer")),
        Case("folds-too-many", train.out_of_sample_probs, (mine,), {"folds": 10_000}, words=("folds", "class")),
        Case("seed", train.out_of_sample_probs, (mine,), {"seed": -1}, words=("seed", ">= 0")),
        Case("data", train.out_of_sample_probs, ("digits",), words=("data", "Dataset")),
        Case("noise-kwarg", train.out_of_sample_probs, (mine,), {"noise_rate": 0.2}, exc=TypeError,
             words=("noise_rate", "as given")),
    ]:
        check_case(case)


# --------------------------------------------------------------- select_smooth_rate
def test_select_smooth_rate_chooses_by_noisy_validation_only(blobs):
    _, mine = blobs
    rates = [0.4, 0.0, -1.0]
    chosen, table = train.select_smooth_rate(mine, rates, seeds=(3, 4), model="linear", epochs=12)
    assert list(table.columns) == list(train.SELECTION_COLUMNS)
    assert len(table) == len(rates) * 2 and set(table.seed) == {3, 4}
    means = table.groupby("smooth_rate").val_acc.mean()
    eligible = table.groupby("smooth_rate").within_one_se.first()
    assert eligible[means.idxmax()] and eligible[chosen]
    # one-SE rule toward the default prior 0: no eligible rate lies closer to 0 than the chosen one
    assert all(abs(chosen) <= abs(r) for r in eligible.index[eligible])
    assert table.val_epoch.between(1, 12).all()
    assert (table.oracle_test_acc >= table.test_acc - 1e-12).all()
    # the test labels never choose: scrambling them changes test columns, not the choice
    scrambled = dataclasses.replace(mine, y_test=mine.y_test.flip(0))
    chosen2, table2 = train.select_smooth_rate(scrambled, rates, seeds=(3, 4), model="linear", epochs=12)
    assert chosen2 == chosen
    np.testing.assert_array_equal(table2.val_acc, table.val_acc)
    np.testing.assert_array_equal(table2.val_epoch, table.val_epoch)


def test_select_smooth_rate_k_fold_validates_every_label_once(blobs):
    """k-fold: a rate's val_acc is the accuracy, on *all* training labels, of the fold models that
    did not see them: the cross-fitted predictions of out_of_sample_probs (same folds, same models)."""
    _, mine = blobs
    _, table = train.select_smooth_rate(mine, [0.2, -1.0], folds=4, seeds=(5,), model="linear", epochs=10)
    for row in table.itertuples():
        probs = train.out_of_sample_probs(mine, folds=4, seed=5, smooth_rate=row.smooth_rate, model="linear",
                                          epochs=int(row.val_epoch))
        labels = mine.y_train.numpy()
        assert row.val_acc == pytest.approx(float(np.mean(probs.argmax(axis=1) == labels)), abs=1e-9)
        hits = (probs.argmax(axis=1) == labels).astype(float)
        assert row.val_se == pytest.approx(hits.std(ddof=1) / np.sqrt(len(hits)), rel=1e-6)


def test_select_smooth_rate_single_split_still_available(blobs):
    _, mine = blobs
    n_val = int(np.ceil(0.25 * len(mine.y_train)))
    chosen, table = train.select_smooth_rate(mine, [0.0, -1.0], validation_fraction=0.25, seeds=(1,),
                                             model="linear", epochs=6)
    assert chosen in (0.0, -1.0)
    # a single split's SE is the one of n_val labels, larger than k-fold's over all labels
    _, kfold = train.select_smooth_rate(mine, [0.0, -1.0], seeds=(1,), model="linear", epochs=6)
    p = table.val_acc.iloc[0]
    assert table.val_se.iloc[0] == pytest.approx(np.sqrt(p * (1 - p) / (n_val - 1)), rel=0.05)
    assert (table.val_se > kfold.val_se).all()


def test_one_se_rule_prefers_the_prior_within_one_paired_standard_error():
    rng = np.random.default_rng(0)
    n = 2000
    base = (rng.random(n) < 0.6).astype(float)
    close = base.copy()                            # disagrees on 75 labels, 5 fewer hits: 0.25 points below
    close[rng.choice(np.flatnonzero(base == 1), 40, replace=False)] = 0.0
    close[rng.choice(np.flatnonzero(base == 0), 35, replace=False)] = 1.0
    far = base.copy()
    far[rng.choice(np.flatnonzero(base == 1), 200, replace=False)] = 0.0      # 10 points below
    correct = np.stack([base, close, far])
    values = [-2.0, 0.0, 0.4]
    index, se, gap_se = train.one_se_choice(correct, values, prior=0.0)
    assert index == 1                              # within one paired SE of the best: the prior's side
    assert gap_se[0] == 0 and 0 < gap_se[1] < 0.01 and se[1] == pytest.approx(close.std(ddof=1) / np.sqrt(n))
    assert train.one_se_choice(correct, values, prior=0.0, rule="best")[0] == 0
    assert train.one_se_choice(correct, values, prior=0.4)[0] == 1            # 0.4 is far below: not eligible
    assert train.one_se_choice(correct, values, prior=-3.0)[0] == 0


def test_select_smooth_rate_bad_inputs(blobs):
    _, mine = blobs
    for case in [
        Case("empty", train.select_smooth_rate, (mine, []), words=("smooth_rates", "empty")),
        Case("nan", train.select_smooth_rate, (mine, [0.1, float("nan")]), words=("smooth_rates",)),
        Case("too-large", train.select_smooth_rate, (mine, [1.5]), words=("smooth_rates", "<= 1")),
        Case("fraction-0", train.select_smooth_rate, (mine, [0.0]), {"validation_fraction": 0.0},
             words=("validation_fraction", "(0, 1)")),
        Case("fraction-1", train.select_smooth_rate, (mine, [0.0]), {"validation_fraction": 1},
             words=("validation_fraction", "(0, 1)")),
        Case("fraction-tiny", train.select_smooth_rate, (mine, [0.0]), {"validation_fraction": 1e-4},
             words=("validation_fraction", "every class")),
        Case("seeds", train.select_smooth_rate, (mine, [0.0]), {"seeds": (-1,)}, words=("seeds", ">= 0")),
        Case("kwarg", train.select_smooth_rate, (mine, [0.0]), {"noise_kind": "pairflip"}, exc=TypeError,
             words=("noise_kind",)),
        Case("both", train.select_smooth_rate, (mine, [0.0]), {"folds": 3, "validation_fraction": 0.2},
             words=("folds", "validation_fraction", "not both")),
        Case("folds", train.select_smooth_rate, (mine, [0.0]), {"folds": 1}, words=("folds", ">= 2")),
        Case("rule", train.select_smooth_rate, (mine, [0.0]), {"rule": "two_se"}, words=("rule", "one_se")),
        Case("prior", train.select_smooth_rate, (mine, [0.0]), {"prior_rate": float("nan")}, words=("prior_rate",)),
    ]:
        check_case(case)


# --------------------------------------------------------------- theory: accuracy on noisy labels
def test_noisy_accuracy_matches_simulation_and_inverts():
    rng = np.random.default_rng(3)
    k, eps, acc = 5, 0.4, 0.7
    clean = rng.integers(0, k, 200_000)
    pred = np.where(rng.random(clean.size) < acc, clean, (clean + rng.integers(1, k, clean.size)) % k)
    noisy = noise.inject(clean, noise.transition_matrix("symmetric", k, eps), seed=4)
    measured = float(np.mean(pred == noisy))
    assert measured == pytest.approx(theory.noisy_accuracy(acc, eps, k), abs=0.005)
    assert theory.clean_accuracy_estimate(theory.noisy_accuracy(acc, eps, k), eps, k) == pytest.approx(acc)
    accs = np.linspace(0, 1, 11)
    assert np.all(np.diff(theory.noisy_accuracy(accs, 0.89, 10)) > 0)      # increasing while eps < 0.9


@pytest.mark.parametrize("case", [c.param() for c in [
    Case("acc-high", theory.noisy_accuracy, (1.2, 0.2, 10), words=("clean_accuracy", "[0, 1]")),
    Case("eps-limit", theory.noisy_accuracy, (0.5, 0.9, 10), words=("noise_rate", "(K-1)/K")),
    Case("noisy-acc", theory.clean_accuracy_estimate, (-0.1, 0.2, 10), words=("noisy_accuracy", "[0, 1]")),
    Case("K", theory.clean_accuracy_estimate, (0.5, 0.2, 1), words=("num_classes",)),
]])
def test_accuracy_identities_bad_inputs(case):
    check_case(case)


# --------------------------------------------------------------- the recipe (lesson 06's compute)
def test_recipe_transition_kinds():
    for kind in widgets.RECIPE_KINDS:
        T = widgets.recipe_transition(kind, 0.3)
        np.testing.assert_allclose(T.sum(axis=1), 1.0)
        assert 1 - np.diag(T).mean() == pytest.approx(0.3)
    with pytest.raises(ValueError, match="kind"):
        widgets.recipe_transition("instance", 0.3)
    with pytest.raises(ValueError, match="human"):
        widgets.recipe_transition("human", 0.7)


def test_recipe_compute_end_to_end_on_an_unused_seed():
    r = widgets.recipe_compute("symmetric", 0.5, seed=7, smooth_rates=(0.2, 0.0, -2.0), folds=3, epochs=10)
    assert {"T_true", "T_estimated", "estimated_rate", "chosen_rate", "oracle_rate", "acc", "table"} <= set(r)
    assert r["T_estimated"].shape == (10, 10)
    assert r["chosen_rate"] in set(r["table"].smooth_rate)
    assert 0.35 < r["estimated_rate"] < 0.75
    assert r["acc"]["oracle"] >= r["acc"]["chosen"]
    assert {"val_se", "gap_se", "within_one_se", "val_epoch", "test_acc"} <= set(r["by_rate"].columns)
    assert r["by_rate"].loc[r["chosen_rate"], "within_one_se"]
    # the reported accuracy is the recipe's last step: the chosen rate retrained on *all* the noisy
    # training labels for its validated number of epochs (not a fold model, not a test-set epoch)
    digits = data.digits(0)
    noisy = noise.inject(digits.y_train, widgets.recipe_transition("symmetric", 0.5),
                         train.derive_seed(7, "recipe", "symmetric", 0.5))
    epochs = int(r["by_rate"].loc[r["chosen_rate"], "val_epoch"])
    final = train.fit(dataclasses.replace(digits, y_train=noisy), r["chosen_rate"], 0.0, 7, epochs=epochs,
                      model="linear")
    assert final.history.test_acc.iloc[-1] == pytest.approx(r["acc"]["chosen"], abs=1e-6)
    assert 0 < r["refit_accuracy"] and r["refit_rate"] < r["estimated_rate"] + 0.05


@pytest.mark.parametrize("case", [c.param() for c in [
    Case("explorer-kind", widgets.RecipeExplorer, ("instance", 0.3), words=("kind", "symmetric")),
    Case("explorer-rate", widgets.RecipeExplorer, ("symmetric", 0.95), words=("noise_rate",)),
    Case("explorer-human", widgets.RecipeExplorer, ("human", 0.6), words=("noise_rate", "human")),
    Case("explorer-seed", widgets.RecipeExplorer, ("symmetric", 0.3), {"seed": -2}, words=("seed",)),
    Case("frames-arg", widgets.recipe_frames, (), {"smooth_rate": [0.1]}, exc=TypeError, words=("smooth_rate", "kind")),
]])
def test_recipe_explorer_bad_inputs(case):
    check_case(case)


# --------------------------------------------------------------- the estimate's bias (lesson 06)
def _model_of_accuracy(clean, k, a, seed, confidence=0.9):
    """Probabilities of a model right with probability a (else a uniformly wrong class), not knowing the labels."""
    rng = np.random.default_rng(seed)
    pred = np.where(rng.random(len(clean)) < a, clean, (clean + rng.integers(1, k, len(clean))) % k)
    return _known_probs(pred, k, confidence)


@pytest.mark.parametrize("eps,a", [(0.6, 0.7), (0.3, 0.85)])
def test_estimate_bias_follows_the_formula_and_the_correction_removes_it(eps, a):
    k = 10
    clean = np.random.default_rng(1).integers(0, k, 20_000)
    noisy = noise.inject(clean, noise.transition_matrix("symmetric", k, eps), seed=2)
    probs = _model_of_accuracy(clean, k, a, seed=3)
    realised = noise.noise_rate_of(clean, noisy)
    kappa = k * realised / (k - 1)
    raw = noise.estimate_noise_rate(noisy, probs)
    assert raw - realised == pytest.approx((1 - kappa) * (1 - a), abs=0.02)      # the derived bias
    assert raw - realised > 0.04
    corrected = noise.estimate_noise_rate(noisy, probs, model_accuracy=a)
    assert abs(corrected - realised) < 0.02


@pytest.mark.parametrize("bad", [0.05, 1.2, True, "0.8", float("nan")])
def test_estimate_model_accuracy_bad_inputs(bad):
    with pytest.raises(ValueError, match=r"model_accuracy.*\(1/K, 1\]"):
        noise.estimate_noise_rate(np.arange(4) % 4, np.full((4, 4), 0.25), model_accuracy=bad)
