"""Grades per question: an nbgrader export plugin (issue 27), next to nbgrader's per-assignment CSV.

    nbgrader export                                                # grades.csv: one row per student and assignment
    nbgrader export --exporter nls_lessons.publish.grades.QuestionCsvExport --to questions.csv

``questions.csv`` has one row per student, assignment and graded cell (an exercise's tests, a
discussion answer): ``assignment, student_id, question, auto_score, manual_score, score,
max_score, needs_manual_grade``. A manual grade entered in formgrader (or through nbgrader's
``Gradebook`` API) is the ``manual_score`` and wins over the autograder's, as in nbgrader's own
totals. A student with no submission gets a row of zeros for every question.
"""
from __future__ import annotations

import csv

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin

COLUMNS = ("assignment", "student_id", "question", "auto_score", "manual_score", "score", "max_score",
           "needs_manual_grade")


def _number(value) -> str:
    return "" if value is None else f"{float(value):g}"


class QuestionCsvExport(ExportPlugin):
    """Write ``self.to`` (default ``questions.csv``): one row per student, assignment and question."""

    def export(self, gradebook) -> None:
        dest = self.to or "questions.csv"
        students = {str(s) for s in self.student}
        assignments = {str(a) for a in self.assignment}
        self.log.info("Exporting grades per question to %s", dest)
        with open(dest, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(COLUMNS)
            for assignment in gradebook.assignments:
                if assignments and assignment.name not in assignments:
                    continue
                cells = [(nb.name, cell) for nb in assignment.notebooks for cell in nb.grade_cells]
                for student in gradebook.students:
                    if students and student.id not in students:
                        continue
                    for notebook, cell in cells:
                        try:
                            grade = gradebook.find_grade(cell.name, notebook, assignment.name, student.id)
                        except MissingEntry:
                            out.writerow([assignment.name, student.id, cell.name, "", "", "0",
                                          _number(cell.max_score), "False"])
                            continue
                        out.writerow([assignment.name, student.id, cell.name, _number(grade.auto_score),
                                      _number(grade.manual_score), _number(grade.score),
                                      _number(grade.max_score), str(bool(grade.needs_manual_grade))])
