"""Lesson 00's self-check keeps the contract of every lesson's checks, and agrees with the library."""
from exercise_contract import contract_tests
from nls_lessons import losses
from nls_lessons.exercises import lesson00 as ex

CASES = {ex.check_true_class_target: (float(losses.gls_targets([2], 5, 0.5)[0, 2]), [0.5, 0.1, 1.0, 0.9])}

test_right_answer_passes, test_wrong_answers_fail_with_a_hint_that_hides_the_answer, \
    test_starter_none_is_not_yet_and_never_raises = contract_tests(CASES)


def test_the_check_text_is_not_in_the_lesson():
    """What the check says when answered (its reason, its hints) is not printed in the lesson's
    cells, where a learner would read it before answering."""
    from exercise_contract import notebook_cells

    source = "\n".join("".join(c["source"]) for c in notebook_cells("00_welcome"))
    for words in ("the true class keeps 1 − r", "That is the one-hot part only"):
        assert words not in source
