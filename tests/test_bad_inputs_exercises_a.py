"""Bad input to the self-checks of lessons 01-02 and the helpers they share (issue 13, item 10).

Two kinds of bad input, two tables:

* a lesson author's mistake in a check's own arguments (``expected``, ``tol``, the texts,
  ``mistakes``) raises ``TypeError``/``ValueError`` naming the argument (``tests/bad_input.py``);
* a learner's hostile *answer* (NaN, inf, True, text, several values, ...) never raises: the
  check returns "not yet" feedback whose text says what is wrong with the answer and what to give.
"""
import numpy as np
import pytest
import torch

from bad_input import Case, check_case
from nls_lessons.exercises import Feedback, check_number, close
from nls_lessons.exercises import lesson01, lesson02

TEXTS = dict(why="why", hint="hint")


def _number(**kwargs):
    """check_number on a valid answer with one argument replaced by ``kwargs``."""
    return check_number(0.5, **{"expected": 0.5, "tol": 1e-3, **TEXTS, **kwargs})


AUTHOR_CASES = [
    Case("expected-text", _number, kwargs=dict(expected="0.5"), exc=TypeError, words=("expected", "finite real number")),
    Case("expected-bool", _number, kwargs=dict(expected=True), exc=TypeError, words=("expected", "real number")),
    Case("expected-nan", _number, kwargs=dict(expected=float("nan")), words=("expected", "finite")),
    Case("expected-inf", _number, kwargs=dict(expected=float("inf")), words=("expected", "finite")),
    Case("tol-negative", _number, kwargs=dict(tol=-1e-3), words=("tol", ">= 0")),
    Case("tol-nan", _number, kwargs=dict(tol=float("nan")), words=("tol", "finite")),
    Case("tol-text", _number, kwargs=dict(tol="0.1"), exc=TypeError, words=("tol", "real number")),
    Case("why-empty", _number, kwargs=dict(why="  "), exc=TypeError, words=("why", "non-empty str")),
    Case("hint-none", _number, kwargs=dict(hint=None), exc=TypeError, words=("hint", "str")),
    Case("not_a_number-int", _number, kwargs=dict(not_a_number=3), exc=TypeError, words=("not_a_number", "str")),
    Case("mistakes-text", _number, kwargs=dict(mistakes="0.3"), exc=TypeError, words=("mistakes", "(target, hint)")),
    Case("mistake-no-hint", _number, kwargs=dict(mistakes=[(0.3,)]), exc=TypeError, words=("mistakes[0]", "(target, hint)")),
    Case("mistake-text-target", _number, kwargs=dict(mistakes=[(0.3, "a"), ("x", "b")]), exc=TypeError,
         words=("mistakes[1] target", "real number")),
    Case("mistake-empty-targets", _number, kwargs=dict(mistakes=[((), "a")]), words=("mistakes[0] target", "non-empty")),
    Case("mistake-negative-tol", _number, kwargs=dict(mistakes=[(0.3, "a", -1.0)]), words=("mistakes[0] tol", ">= 0")),
    Case("mistake-hint-not-text", _number, kwargs=dict(mistakes=[(0.3, 7)]), exc=TypeError, words=("mistakes[0] hint", "str")),
    Case("close-expected-none", close, args=(0.5, None), exc=TypeError, words=("expected", "real number")),
    Case("close-tol-negative", close, args=(0.5, 0.5), kwargs=dict(tol=-0.1), words=("tol", ">= 0")),
]


@pytest.mark.parametrize("case", [c.param() for c in AUTHOR_CASES])
def test_a_broken_check_argument_raises_naming_it(case):
    check_case(case)


def test_a_broken_check_fails_even_on_the_starter_answer():
    """The author's mistake shows on the first run of the notebook, not only on a right answer."""
    with pytest.raises(ValueError, match="tol"):
        check_number(None, 0.5, tol=-1, **TEXTS)


NUMERIC_CHECKS = {
    lesson01.check_symmetric_entry: "probability", lesson01.check_rate_sd: "standard deviation",
    lesson01.check_asymmetric_rate: "between 0 and 1", lesson02.check_true_class_target: "target vector",
    lesson02.check_kappa: "smooth rate", lesson02.check_total_shrinkage: "shrinkage factor",
    lesson02.check_loss_minimum: "probability",
}
CHECKS = [*NUMERIC_CHECKS, lesson01.check_most_confused_class]

# (id, hostile answer, words the feedback must contain)
HOSTILE = [
    ("nan", float("nan"), ("NaN",)),
    ("numpy-nan", np.float64("nan"), ("NaN",)),
    ("inf", float("inf"), ("infinity",)),
    ("minus-inf", -np.inf, ("infinity",)),
    ("true", True, ("yes/no",)),
    ("numpy-bool", np.bool_(False), ("yes/no",)),
    ("tensor-bool", torch.tensor(True), ("yes/no",)),
    ("text-nan", "nan", ("not a finite number",)),
    ("complex", 0.5 + 1j, ("complex",)),
    ("two-values", [0.1, 0.2], ("list of 2 values", "one number")),
    ("ragged", [[0.1], [0.2, 0.3]], ("several values",)),
    ("matrix", np.zeros((10, 10)), ("100 values", "shape (10, 10)")),
    ("empty-list", [], ("0 values",)),
    ("one-element-list", [0.5], ("holding one value", "drop the brackets")),
    ("one-element-tuple", (0.5,), ("tuple", "holding one value")),
    ("one-element-tensor", torch.tensor([0.5]), ("shape (1,)", "x.item()")),
    ("dict", {"answer": 0.5}, ("dict", "not a number")),
    ("function", print, ("not a number",)),
    ("huge-int", 10 ** 400, ("too large",)),
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("answer, words", [pytest.param(a, w, id=i) for i, a, w in HOSTILE])
def test_a_hostile_answer_gets_feedback_saying_what_is_wrong(check, answer, words):
    verdict = check(answer)
    assert isinstance(verdict, Feedback) and not verdict, verdict
    if check is lesson01.check_most_confused_class and isinstance(answer, str):
        words = ("not a CIFAR-10 class",)      # text is read as a class name there
    for word in words:
        assert word.lower() in verdict.message.lower(), (word, verdict.message)
    # ... and what to give instead: the check's own request (a class name for exercise 01/4)
    request = NUMERIC_CHECKS.get(check, "class name")
    assert request in verdict.message, verdict.message


@pytest.mark.parametrize("check", list(NUMERIC_CHECKS), ids=lambda c: c.__name__)
def test_text_that_is_not_a_number_is_named(check):
    verdict = check("zero point five")
    assert not verdict and "'zero point five'" in verdict.message and "not a number" in verdict.message


def test_a_scalar_of_any_kind_is_the_value():
    """A right answer is right as a float, an int, a numpy scalar, a 0-d array or tensor, or numeric text."""
    for answer in (0.5, np.float32(0.5), np.array(0.5), torch.tensor(0.5, dtype=torch.float64), "0.5", " 0.5 "):
        assert lesson02.check_kappa(answer), answer
    assert lesson01.check_asymmetric_rate(torch.tensor(0.15)) and lesson01.check_most_confused_class(np.array(9))


def test_class_answers_accept_index_text_and_name_the_bad_ones():
    assert lesson01.check_most_confused_class("9") and lesson01.check_most_confused_class(np.int64(9))
    assert "'lorry' is not a CIFAR-10 class" in lesson01.check_most_confused_class("lorry").message
    assert "12 is not a class index" in lesson01.check_most_confused_class(torch.tensor(12)).message
