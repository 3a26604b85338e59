from nls_lessons.exercises import Feedback, close, right, wrong


def test_feedback_truthiness_and_text():
    assert right("because") and not wrong("hint")
    assert repr(right("because")).startswith("✓ Correct") and "because" in repr(right("because"))
    assert repr(wrong("try κ")).startswith("✗ Not yet") and "try κ" in repr(wrong("try κ"))
    assert isinstance(right("x"), Feedback)


def test_close_rejects_non_numbers_and_nan():
    assert close(0.2001, 0.2, tol=1e-3)
    assert not close(0.3, 0.2, tol=1e-3)
    assert not close("abc", 0.2) and not close(float("nan"), 0.2) and not close(None, 0.2)
