"""The classroom course: an nbgrader course directory generated from the lessons (``make assignments``).

    python -m nls_lessons.publish.assignments                          # build/classroom/, lessons 01-06
    python -m nls_lessons.publish.assignments --course-dir ~/course --lessons 01 02 --sheet
    python -m nls_lessons.publish.assignments submit --course-dir ~/course \\
        --student alice --lesson 01 alice_01.ipynb                     # a submission received by hand

What it writes (issue 27), and never anything else in the course directory (the gradebook,
``release/``, ``submitted/``, ``autograded/`` and ``feedback/`` belong to nbgrader):

- ``nbgrader_config.py``: the course id, the starter stubs, the per-cell timeout, and the
  course's two preprocessors (:mod:`nls_lessons.publish.autograde`) in nbgrader's autograde chain;
- ``source/NN_topic/NN_topic.ipynb`` for each lesson: the instructor's version of the assignment
  (:func:`nls_lessons.publish.assignment_cells.assignment_notebook`), regenerated from
  ``notebooks/NN_topic.py`` every time, so a changed solution or check reaches the assignment.

``--sheet`` writes the exercises only (with the cells they need): homework that grades in seconds.
Then the lecturer runs nbgrader itself (README, "Using the course in a class"):
``nbgrader generate_assignment``, ``release_assignment`` (JupyterHub) or hands out ``release/``,
``collect``, ``autograde``, ``generate_feedback``, ``export``.

``submit`` puts one learner's notebook where ``nbgrader autograde`` looks
(``submitted/STUDENT/NN_topic/NN_topic.ipynb``), after checking that the student id is a plain
name and the file is a notebook with cells; on a JupyterHub, ``nbgrader collect`` does this.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
INSTRUCTOR = NOTEBOOKS / "instructor"
DEFAULT_COURSE_DIR = REPO / "build" / "classroom"
COURSE_ID = "nls-lessons"
GRADED_LESSONS = ("01", "02", "03", "04", "05", "06")
DEFAULT_TIMEOUT = 60
LESSON_TIMEOUT = 900
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

CONFIG = '''\
# The nbgrader configuration of the nls-lessons classroom course. Written by `make assignments`
# (nls_lessons/publish/assignments.py): regenerate it rather than editing it; the points are set in
# nls_lessons/publish/points.py.
import os

from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.preprocessors import ClearHiddenTests, Execute, GetGrades, OverwriteCells

from nls_lessons.publish.autograde import CellTimeout, RestoreCells, VerifyOutsideKernel

c = get_config()  # noqa: F821 (nbgrader provides it)
HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = {course_id!r}
# A released answer cell keeps the lesson's starter `answer = None`, so the notebook runs.
c.ClearSolutions.code_stub = {{"python": "# YOUR ANSWER: replace None above with your answer"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Per-cell timeout (seconds): an endless loop in a student's cell is interrupted after {timeout} s and
# the rest of the notebook still runs; the lesson's own read-only cells may take {lesson_timeout} s.
c.Execute.timeout = {lesson_timeout}
c.Execute.timeout_func = CellTimeout(student={timeout}, lesson={lesson_timeout})
c.Execute.interrupt_on_timeout = True
c.Execute.raise_on_iopub_timeout = False
# Restore deleted or renamed cells before nbgrader restores locked sources; re-check every
# answer outside the student's kernel right after execution (nls_lessons/publish/autograde.py).
_sanitize = list(Autograde.class_traits()["sanitize_preprocessors"].default())
_sanitize.insert(_sanitize.index(OverwriteCells), RestoreCells)
c.Autograde.sanitize_preprocessors = _sanitize
_autograde = list(Autograde.class_traits()["autograde_preprocessors"].default())
_autograde.insert(_autograde.index(Execute) + 1, VerifyOutsideKernel)
c.Autograde.autograde_preprocessors = _autograde
c.RestoreCells.release_directory = os.path.join(HERE, "release")
# Feedback pages show the tests' verdicts (hints), never the hidden tests' code.
_feedback = list(GenerateFeedback.class_traits()["preprocessors"].default())
_feedback.insert(_feedback.index(GetGrades) + 1, ClearHiddenTests)
c.GenerateFeedback.preprocessors = _feedback
# On a JupyterHub: the exchange directory every student and the lecturer can reach.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
'''


def lessons() -> dict[str, str]:
    """``{"01": "01_label_noise", ...}``: the graded lessons in ``notebooks/``."""
    found = {p.stem[:2]: p.stem for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))}
    return {k: v for k, v in found.items() if k in GRADED_LESSONS}


def lesson_stem(name) -> str:
    """The lesson ``name`` names (``"1"``, ``"01"``, ``"01_label_noise"``, ``"label_noise"``)
    as its stem, else ``ValueError`` listing the lessons there are."""
    known = lessons()
    text = str(name).strip()
    if text.isdigit():
        text = f"{int(text):02d}"
    for number, stem in known.items():
        if text in (number, stem, stem[3:], f"{stem}.py", f"{stem}.ipynb"):
            return stem
    raise ValueError(f"lesson: unknown lesson {name!r}; the graded lessons are " + ", ".join(known.values()))


def check_course_dir(path) -> Path:
    """``path`` as a course directory to write: a folder or nothing yet, never a file."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"--course-dir: {str(path)!r} is a file, not a folder; give a folder "
                         "(it is created when missing)")
    return path


def check_student_id(student) -> str:
    """A student id nbgrader can use as a folder name: letters, digits and ``_ . @ -`` (nbgrader refuses ``+`` and ``*``), no
    path separators, at most 64 characters; else ``ValueError`` naming ``--student``."""
    if not isinstance(student, str) or not STUDENT_ID.match(student):
        raise ValueError(f"--student: {student!r} is not a plain student id (letters, digits and "
                         "_ . @ -, starting with a letter or digit, no '/' or '\\\\', at most 64 characters)")
    return student


def build_course(course_dir=DEFAULT_COURSE_DIR, selected=None, *, sheet: bool = False,
                 timeout: int = DEFAULT_TIMEOUT) -> list[Path]:
    """Write ``nbgrader_config.py`` and the source notebook of each lesson in ``selected``
    (default: 01-06) into ``course_dir``; returns the notebooks written."""
    import jupytext
    import nbformat

    from .assignment_cells import assignment_notebook

    course_dir = check_course_dir(course_dir)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 3600:
        raise ValueError(f"--timeout must be a whole number of seconds in [1, 3600], got {timeout!r}")
    stems = [lesson_stem(n) for n in (selected or lessons())]
    course_dir.mkdir(parents=True, exist_ok=True)
    (course_dir / "nbgrader_config.py").write_text(CONFIG.format(course_id=COURSE_ID, timeout=timeout, lesson_timeout=LESSON_TIMEOUT))
    written = []
    for stem in stems:
        nb = assignment_notebook(jupytext.read(str(NOTEBOOKS / f"{stem}.py")), stem,
                                 INSTRUCTOR / f"{stem}.md", sheet=sheet)
        out = course_dir / "source" / stem / f"{stem}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(out))
        written.append(out)
    return written


def submit(course_dir, student, lesson, notebook) -> Path:
    """Copy ``notebook`` (a learner's file) to ``submitted/STUDENT/NN_topic/NN_topic.ipynb``
    after checking every argument (``ValueError`` naming the one that is wrong)."""
    import nbformat

    course_dir = check_course_dir(course_dir)
    student = check_student_id(student)
    stem = lesson_stem(lesson)
    path = Path(notebook)
    if not path.is_file():
        raise ValueError(f"notebook: no file at {str(path)!r}")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise ValueError(f"notebook: {str(path)!r} is empty (0 bytes of notebook); ask for the saved .ipynb")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as err:
        raise ValueError(f"notebook: {str(path)!r} is not a Jupyter notebook ({type(err).__name__}: "
                         f"{str(err).splitlines()[0][:120]})") from None
    if not nb.cells:
        raise ValueError(f"notebook: {str(path)!r} is an empty notebook (no cells)")
    out = course_dir / "submitted" / student / stem / f"{stem}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out))
    return out


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["submit"]:
        parser = argparse.ArgumentParser(prog="python -m nls_lessons.publish.assignments submit",
                                         description="Put one learner's notebook where nbgrader autograde looks.")
        parser.add_argument("--course-dir", default=str(DEFAULT_COURSE_DIR))
        parser.add_argument("--student", required=True)
        parser.add_argument("--lesson", required=True)
        parser.add_argument("notebook")
        args = parser.parse_args(argv[1:])
        try:
            out = submit(args.course_dir, args.student, args.lesson, args.notebook)
        except ValueError as err:
            parser.error(str(err))
        print(f"submitted: {out}")
        return 0
    parser = argparse.ArgumentParser(prog="python -m nls_lessons.publish.assignments",
                                     description="Write the nbgrader course directory from the lessons.")
    parser.add_argument("--course-dir", default=str(DEFAULT_COURSE_DIR),
                        help="the nbgrader course folder (default build/classroom/)")
    parser.add_argument("--lessons", nargs="+", default=None, help="lessons to write (default 01-06)")
    parser.add_argument("--sheet", action="store_true", help="the exercises only, with the cells they need")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds a student's cell may run when autograding (default 60)")
    args = parser.parse_args(argv)
    try:
        written = build_course(args.course_dir, args.lessons, sheet=args.sheet, timeout=args.timeout)
    except ValueError as err:
        parser.error(str(err))
    for path in written:
        print(f"wrote {path}")
    print(f"next: cd {args.course_dir} && nbgrader generate_assignment {written[0].parent.name} --force")
    return 0


if __name__ == "__main__":
    sys.exit(main())
