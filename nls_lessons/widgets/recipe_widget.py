"""Lesson 06's recipe explorer: hidden noise on digits → estimate ε̂ → predict r → validate.

Owns the lesson's data sets (:func:`recipe_transition`, including the human-like T from
CIFAR-10N's label files), :func:`recipe_compute` (the whole recipe, end to end),
:class:`RecipeExplorer`, its static frames (:func:`recipe_frames`) and :func:`recipe_explorer`.
"""
from __future__ import annotations

import functools

import numpy as np

from nls_lessons import noise as _noise
from nls_lessons import plots
from nls_lessons.widgets import frames as _frames
from nls_lessons.widgets.base import Explorer, progress_clock, static_mode
from nls_lessons.widgets.controls import _float_slider, _minus, _r


#: The noise kinds of lesson 06's untrusted data sets: two named models and a human-like one.
RECIPE_KINDS = ("symmetric", "pairflip", "human")
#: The candidate smooth rates lesson 06 validates (the theory's prediction is added to them).
RECIPE_RATES = (0.6, 0.4, 0.2, 0.1, 0.0, -0.2, -0.5, -1.0, -2.0, -4.0, -8.0)
RECIPE_TRAIN = {"model": "linear", "epochs": 30}
#: How :func:`recipe_compute` chooses among the cross-validated rates (see
#: :func:`nls_lessons.train.one_se_choice`; lesson 06 shows the held-out evidence for it).
RECIPE_RULE = "best"
#: The data sets :func:`recipe_compute` runs on (10 classes each).
RECIPE_DATASETS = ("digits", "mnist1d")


@functools.lru_cache(maxsize=1)
def _human_transition() -> np.ndarray:
    from nls_lessons.data import load_cifar_n

    clean, noisy = load_cifar_n("cifar10", "worst")
    return _noise.empirical_transition(clean, noisy, 10)


def recipe_transition(kind: str, noise_rate: float) -> np.ndarray:
    """The (10, 10) T of lesson 06's data sets. "human": the CIFAR-10N ``worst`` annotators'
    realised T (computed from the shipped label files) mixed with the identity so that its
    average off-diagonal mass is ``noise_rate`` (at about 0.40 it is the human T itself)."""
    if kind not in RECIPE_KINDS:
        raise ValueError(f"kind must be one of {RECIPE_KINDS}, got {kind!r}")
    if kind != "human":
        return _noise.transition_matrix(kind, 10, noise_rate)
    eps = _noise.check_noise_rate(noise_rate)
    human = _human_transition()
    human_rate = 1.0 - float(np.mean(np.diag(human)))
    if eps > human_rate:
        raise ValueError(f"noise_rate for the human kind must lie in [0, {human_rate:.2f}] (the CIFAR-10N "
                         f"worst annotators' own rate), got {eps}")
    w = eps / human_rate
    return (1 - w) * np.eye(10) + w * human


def recipe_compute(kind: str = "symmetric", noise_rate: float = 0.6, *, seed: int = 0, folds: int = 5,
                   smooth_rates=RECIPE_RATES, clean_optimal_rate: float = 0.0, prior_rate: float | None = None,
                   split: int = 0, dataset: str = "digits", rule: str = RECIPE_RULE, **fit_kwargs) -> dict:
    """Lesson 06's recipe on digits whose training labels carry hidden noise, end to end.

    1. Noisy training labels: ``noise.inject`` with :func:`recipe_transition` (seed derived from
       ``seed``) on ``data.digits(split)`` (``dataset="mnist1d"``: ``data.mnist1d(2000, split)``,
       the held-out evaluation's second data set); the clean test set is kept for judging only.
    2. Estimate: cross-fitted probabilities (:func:`train.out_of_sample_probs`), then cleanlab's
       confident joint (:func:`noise.estimate_noise_rate`).
    3. Predict: r_theory = (r* - kappa_hat) / (1 - kappa_hat) from the estimated rate (symmetric
       reading; kappa_hat capped below 1).
    4. Validate: :func:`train.select_smooth_rate`, k-fold (``folds``), over ``smooth_rates`` plus
       0, 0.1 and r_theory; ``rule`` "best" (the best k-fold noisy accuracy, exact ties toward
       ``prior_rate``) or "one_se_theory" (within one paired SE of the best, the rate closest to
       ``prior_rate``); ``prior_rate`` defaults to r_theory.
       The estimate is then refitted with the chosen rate and its stopping epoch (a better
       out-of-fold model: ``refit_rate``).
    5. Train: every candidate rate on *all* training data for its validated number of epochs
       (one stacked sweep); the clean test accuracies ``acc`` are those of these final models.

    Returns a dict: kind, noise_rate, seed, split, T_true, T_realised, T_estimated (10, 10),
    realised_rate, estimated_rate (step 2), refit_rate (step 4), oof_accuracy and refit_accuracy
    (those out-of-fold models' clean accuracy on the training images: judging only), r_theory, prior_rate,
    chosen_rate, table (select_smooth_rate's), by_rate (per rate: val_acc, val_se, gap_se,
    within_one_se, val_epoch, fold_test_acc (the fold models'), test_acc (clean test accuracy of
    the final model of step 5)), oracle_rate (the best test_acc: needs the clean labels, for
    judging only), ``acc``: test_acc of the chosen,
    oracle, CE (r = 0), LS (r = 0.1) and theory rates, and ``paper_oracle`` (best rate *and* best
    epoch on the clean test set of the final models, the official code's reporting).
    """
    import dataclasses

    from nls_lessons import data, theory, train

    kw = {**RECIPE_TRAIN, **fit_kwargs}
    if dataset not in RECIPE_DATASETS:
        raise ValueError(f"dataset must be one of {RECIPE_DATASETS}, got {dataset!r}")
    digits = data.digits(split) if dataset == "digits" else data.mnist1d(2000, split)
    T = recipe_transition(kind, noise_rate)
    noisy = _noise.inject(digits.y_train, T, train.derive_seed(seed, "recipe", kind, noise_rate))
    untrusted = dataclasses.replace(digits, y_train=noisy, name=f"{digits.name}|{kind} {noise_rate:g}")
    probs = train.out_of_sample_probs(untrusted, folds=folds, seed=seed, **kw)
    eps_hat = _noise.estimate_noise_rate(noisy, probs)
    if eps_hat >= 9 / 10:
        from nls_lessons import output

        output.warn(f"the estimated noise rate {eps_hat:.3f} is >= (K - 1)/K = 0.9: there, accuracy on noisy "
                    f"labels ranks models backwards (theory.noisy_accuracy, kappa >= 1), so the rate chosen on "
                    f"noisy validation labels says nothing; treat chosen_rate as meaningless")
    cap = 0.98 * 9 / 10
    r_theory = round(float(theory.optimal_smooth_rate(min(eps_hat, cap), 10, clean_optimal_rate)), 2)
    prior = r_theory if prior_rate is None else float(prior_rate)
    rates = sorted({float(r) for r in smooth_rates} | {0.0, 0.1, r_theory}, reverse=True)
    if rule not in ("best", "one_se_theory"):
        raise ValueError(f"rule must be 'best' or 'one_se_theory', got {rule!r}")
    chosen, table = train.select_smooth_rate(untrusted, rates, folds=folds, seeds=(seed,), prior_rate=prior,
                                             rule="best" if rule == "best" else "one_se", **kw)
    by_rate = table.groupby("smooth_rate").agg(
        val_acc=("val_acc", "mean"), val_se=("val_se", "first"), gap_se=("gap_se", "first"),
        within_one_se=("within_one_se", "first"), val_epoch=("val_epoch", "first"),
        fold_test_acc=("test_acc", "mean"))
    epochs = {r: int(e) for r, e in by_rate["val_epoch"].items()}
    refit = train.out_of_sample_probs(untrusted, folds=folds, seed=seed, smooth_rate=chosen,
                                      **{**kw, "epochs": epochs[chosen]})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", train.DivergenceWarning)
        _, hist = train.sweep(untrusted, rates, [0.0], [seed], progress=False, return_history=True,
                              **{**kw, "epochs": max(epochs.values())})
    hist = hist.set_index(["smooth_rate", "epoch"])["test_acc"]
    by_rate["test_acc"] = [float(hist.loc[(r, epochs[r])]) for r in by_rate.index]      # the final models
    oracle = float(by_rate["test_acc"].idxmax())
    acc = {name: float(by_rate.loc[r, "test_acc"]) for name, r in
           (("chosen", chosen), ("oracle", oracle), ("CE", 0.0), ("LS 0.1", 0.1), ("theory", r_theory))}
    return {
        "kind": kind, "noise_rate": float(noise_rate), "seed": seed, "split": split,
        "T_true": T, "T_realised": _noise.empirical_transition(digits.y_train, noisy, 10),
        "T_estimated": _noise.estimate_transition(noisy, probs),
        "realised_rate": float((noisy != digits.y_train).float().mean()), "estimated_rate": eps_hat,
        "refit_rate": _noise.estimate_noise_rate(noisy, refit), "r_theory": r_theory, "prior_rate": prior,
        # the out-of-fold models' clean accuracy on the training images: the a of the estimate's bias
        "oof_accuracy": float(np.mean(probs.argmax(axis=1) == digits.y_train.numpy())),
        "refit_accuracy": float(np.mean(refit.argmax(axis=1) == digits.y_train.numpy())),
        "chosen_rate": chosen, "oracle_rate": oracle, "table": table, "by_rate": by_rate, "acc": acc,
        "paper_oracle": float(hist.max()),
    }


class RecipeExplorer(Explorer):
    """Lesson 06: pick a hidden noise kind and strength; the whole recipe reruns (a few seconds)."""

    name = "recipe"
    dpi = 72

    def __init__(self, kind="pairflip", noise_rate=0.3, *, seed=0, debounce=0.3):
        import ipywidgets as W

        recipe_transition(kind, noise_rate)                      # names a bad kind or rate now
        if not 0.0 <= noise_rate <= 0.8:
            raise ValueError(f"noise_rate must lie in [0, 0.8] (the slider's range), got {noise_rate!r}")
        self.seed = _noise.check_seed(seed)
        self.progress = W.FloatProgress(value=1.0, min=0.0, max=1.0, description="idle",
                                        style={"description_width": "initial"}, layout=W.Layout(width="320px"))
        controls = {
            "kind": W.Dropdown(options=list(RECIPE_KINDS), value=kind, description="hidden noise",
                               style={"description_width": "initial"}),
            "noise_rate": _float_slider("noise rate ε", noise_rate, 0.0, 0.8, 0.05, continuous=False),
        }
        super().__init__(controls, title="Your own data: estimate → predict → validate",
                         debounce=debounce, extra=[self.progress])

    def compute(self, kind, noise_rate):
        if kind == "human":
            noise_rate = min(noise_rate, 0.4)
        return recipe_compute(kind, noise_rate, seed=self.seed)

    def plot(self, result):
        return plots.recipe_panel(result)

    _clock = None

    def _started(self, params):      # seconds so far, the bar against the last move's time
        if self._clock is not None:
            self._clock.stop()
        self._clock = progress_clock(self.progress, "running the recipe (cross-fit, estimate, validate) …",
                                     self.last_seconds)

    def _finished(self, ok):
        if self._clock is not None:
            self._clock.stop()
            self._clock = None
        self.progress.value = 1.0
        self.progress.bar_style = "success" if ok else "danger"
        self.progress.description = "done" if ok else "failed"

    def describe(self, r):
        return _minus(f"<b>{r['kind']} ε = {_r(r['noise_rate'])}</b>: estimated ε̂ = {r['estimated_rate']:.2f} "
                      f"(realised {r['realised_rate']:.2f}); theory r = {_r(r['r_theory'])}; chosen r = "
                      f"{_r(r['chosen_rate'])} ({100 * r['acc']['chosen']:.1f} % clean test) vs oracle r = "
                      f"{_r(r['oracle_rate'])} ({100 * r['acc']['oracle']:.1f} %)")


#: The hidden-noise settings lesson 06's static (book/slides) frames are precomputed for.
RECIPE_STATIC = {"kind": list(RECIPE_KINDS), "noise_rate": [0.2, 0.4]}


def recipe_frames(*, dpi: float = 64, seed: int = 0, **values) -> str:
    """Lesson 06's explorer as precomputed frames (HTML, see :mod:`nls_lessons.widgets.frames`)."""
    params = {k: list(values.pop(k, v)) for k, v in RECIPE_STATIC.items()}
    if values:
        raise TypeError(f"recipe_frames got unexpected arguments {sorted(values)}; allowed: {sorted(RECIPE_STATIC)}")
    frames, alts = {}, {}
    for i, kind in enumerate(params["kind"]):
        for j, eps in enumerate(params["noise_rate"]):
            res = recipe_compute(kind, eps, seed=seed)
            fig = plots.recipe_panel(res)
            frames[(i, j)] = plots.to_png(fig, dpi=dpi)
            plots.close(fig)
            alts[f"{i},{j}"] = _minus(
                f"Hidden and estimated 10-by-10 transition matrices for {kind} noise at ε = {_r(eps)} "
                f"(estimated {res['estimated_rate']:.2f}), and noisy-validation and clean-test accuracy "
                f"against r: chosen r = {_r(res['chosen_rate'])}, oracle r = {_r(res['oracle_rate'])}.")
    return _frames.frames_html(frames, params, alt=alts, labels={"kind": "hidden noise", "noise_rate": "noise rate ε"},
                               initial={"kind": 0, "noise_rate": len(params["noise_rate"]) - 1},
                               title=f"precomputed: seed {seed}")


def recipe_explorer(kind: str = "pairflip", noise_rate: float = 0.3, *, seed: int = 0):
    """Lesson 06: the recipe explorer (or its static frames when ``NLS_STATIC=1``)."""
    if static_mode():
        from IPython.display import HTML

        return HTML(recipe_frames(seed=seed))
    return RecipeExplorer(kind, noise_rate, seed=seed)
