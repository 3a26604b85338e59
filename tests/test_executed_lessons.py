"""The checks of an executed lesson (:mod:`lesson_outputs`) see what they guard against.

The checks themselves run on every lesson right after nbval has executed it, as two items of the
lesson's notebook (``notebooks/NN_*.ipynb::what the learner sees: ...``, added by the
repository's ``conftest.py``): one execution of each lesson serves nbval and them (issue 21).
"""
from __future__ import annotations

import nbformat
from exercise_contract import NOTEBOOKS
from lesson_outputs import exercises, leaks, printed_problems


def test_printed_problems_sees_what_it_guards_against():
    cell = {"outputs": [{"output_type": "stream", "name": "stderr",
                         "text": "/tmp/ipykernel_31716/3280028320.py:4: DivergenceWarning: ..."},
                        {"output_type": "execute_result", "data": {"text/plain": "CE  0/6  60.216048  85.0"}}]}
    ok = {"outputs": [{"output_type": "stream", "name": "stdout", "text": "largest difference: 3.552713678800501e-15"}]}
    nb = type("NB", (), {"cells": [cell, ok]})()
    assert len(printed_problems(nb)) == 2


def test_leaks_sees_an_answer_printed_or_listed_first_before_its_question():
    stem = "01_label_noise"
    nb = nbformat.read(str(NOTEBOOKS / f"{stem}.ipynb"), as_version=4)   # the lesson's cells, no outputs
    assert leaks(stem, nb) == []
    prompts = {name: prompt for prompt, name, _ in exercises(stem)}
    shown = lambda i: nb.cells[i].cell_type == "code" and not {"solution", "hint"} & set(nb.cells[i].metadata.get("tags", []))  # noqa: E731
    above = lambda name: max(i for i in range(prompts[name]) if shown(i))  # noqa: E731   (a code cell the learner sees)
    nb.cells[above("check_symmetric_entry")].outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text="T[2, 5] = 0.0333\n")]                          # 0.3 / 9, the answer
    nb.cells[above("check_most_confused_class")].outputs = [nbformat.v4.new_output(
        "execute_result", data={"text/plain": "truck   0.41\nbird    0.12"}, execution_count=1)]
    found = leaks(stem, nb)
    assert any("check_symmetric_entry" in f and "0.0333 in an output" in f for f in found), found
    assert any("check_most_confused_class" in f and "'truck'" in f for f in found), found
