"""The self-checks of lesson 06: right answers pass, wrong ones fail with a hint, None is safe."""
from exercise_contract import contract_tests
from nls_lessons import theory
from nls_lessons.exercises import lesson06 as ex

CASES = {
    ex.check_noisy_accuracy: (theory.noisy_accuracy(0.8, 0.6, 10), [0.32, 0.8, 0.44, 0.5, "x", True]),
    ex.check_ranking_limit: (0.75, [0.9, 0.5, 1 / 3, 1.0, "x"]),
    ex.check_corrected_accuracy: (theory.clean_accuracy_estimate(0.45, 0.5, 10), [0.9, 0.7875, 1.0125, 0.45, "x"]),
}

(test_right_answer_passes, test_wrong_answers_fail_with_a_hint_that_hides_the_answer,
 test_starter_none_is_not_yet_and_never_raises) = contract_tests(CASES)

from exercise_contract import notebook_shape_tests  # noqa: E402

(test_lesson06_exercises_have_prompt_starter_check_solution,
 test_lesson06_learner_version_and_live_slides_define_every_name_they_use) = notebook_shape_tests("06_your_own_data")
