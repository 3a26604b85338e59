"""The course speaks to learners and lecturers, never about how it was made (issue 24, item 11).

Every text a learner or a lecturer reads (the lessons, the 50-minute lecture, the instructor
notes, the READMEs) is scanned for project-internal words: the project's issue numbers
("issue 15.7"), its bookkeeping ("closing note", "item 3 of"), and the people and tools that
build it (helpers, sessions, worktrees, branches, the brief). A citation of an upstream
repository's issue keeps its "#" (``GitHub issue #3 of the official repository``) and passes.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

#: (pattern, why it is internal). Case-insensitive.
INTERNAL = [
    (r"\bissues?\s+\d+", "the project's issue number (an upstream issue is cited as 'issue #N of <repository>')"),
    (r"\bitems?\s+\d+(\.\d+)?\s+(of|in)\s+(the\s+)?(issue|brief|task)", "an item of the project's issue"),
    (r"\bclosing\s+note", "the project's issue bookkeeping"),
    (r"\b(see|per|in|from)\s+the\s+(issue|brief|ticket)\b", "a pointer to the project's issue"),
    (r"\bhelpers?\b(?!\s+(library|functions?|module))", "the people who build the course"),
    (r"\b(this|that|another|earlier|previous|next|a|the)\s+session\b", "a build session"),
    (r"\bworktrees?\b|\bh\d+/\w+|\bHELPERS\.md\b", "the project's working branches"),
    (r"\bthe\s+brief\b|\bthe\s+lead\s+(engineer|merges?)\b", "the project's hand-offs"),
    (r"\b(TODO|FIXME|XXX)\b", "an unfinished note"),
]


def course_texts() -> list[Path]:
    """Every file a learner or lecturer reads: lesson sources, instructor material, READMEs."""
    files = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))
    files += sorted(p for p in (REPO / "notebooks" / "instructor").iterdir() if p.suffix in (".md", ".py"))
    files += [REPO / "README.md", *sorted((REPO / "data").glob("*/README.md"))]
    return files


def internal_words(text: str) -> list[tuple[int, str, str]]:
    """(line number, the words found, why they are internal) for every hit in ``text``."""
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, why in INTERNAL:
            for m in re.finditer(pattern, line, flags=re.I):
                hits.append((number, m.group(0), why))
    return hits


def test_the_scan_sees_what_it_guards_against():
    caught = ["**Grid edge (issue 15.7).**", "(see the closing note of the issue):", "as item 3 of the issue asks",
              "another helper owns this", "measured in an earlier session", "TODO: rerun"]
    for text in caught:
        assert internal_words(text), text
    passed = ["GitHub issue #3 of the official repository", "its small helper library `nls_lessons`",
              "the lead of the true class over a wrong one", "a 50-minute teaching session plan"]
    for text in passed:
        assert internal_words(text) == [], text


@pytest.mark.parametrize("path", course_texts(), ids=lambda p: str(p.relative_to(REPO)))
def test_course_texts_use_no_project_internal_words(path):
    hits = internal_words(path.read_text(encoding="utf-8"))
    assert hits == [], "\n".join(f"{path.name}:{n}: {words!r}: {why}" for n, words, why in hits)
