"""What an executed lesson shows: no exercise's answer before its question (issue 24, item 1),
and tables and warnings fit for a projected slide (item 9).

The checks read one executed copy of each lesson: the one nbval has just run (``conftest.py`` at the
top of the repository adds them after each lesson's last cell, so one execution serves nbval and
them; issue 21). For every exercise of every lesson (a solution cell after its prompt, starter
and check cells, :mod:`exercise_contract`), the learner sees everything above the prompt, and the
prompt, before answering: prose, and the outputs of every code cell, as the lesson executes. The
check of the exercise itself (:mod:`nls_lessons.exercises`) says what counts as the answer:

- **numbers**: every number written or printed earlier (``0.0113``, ``−1.25``, ``28.2 %`` read as
  0.282 too; a whole percentage of prose, "about 50 %", is an approximation and stays a
  percentage) is handed to the check; one it accepts, within its own tolerance, is a leak;
- **words and choices** (a class name, "higher", a letter): the words the check accepts are
  found by asking it; a leak is a line of output whose *first* option is the answer (a table
  sorted by the very quantity asked about), or a sentence of prose on the exercise's subject
  (it shares a long word with the prompt) that names the answer and no other option.

Exercises whose task is to pick one entry of a table shown to the learner (the best rate of a
sweep) list every candidate on purpose; they are named in :data:`READ_OFF`, with the reason.
"""
from __future__ import annotations

import functools
import importlib
import re

from exercise_contract import NOTEBOOKS, notebook_cells

#: (lesson, check) pairs whose answer is one of the rows the learner reads off a table on purpose.
READ_OFF = {
    ("04_high_noise_regimes", "check_best_rate"): "the best mean rate of the sweep table the learner filters",
    ("05_paper_scale", "check_best_rate"): "one of Table 2's ten rates, which the exercise asks to rank",
}
_NUMBER = re.compile(r"(?<![\w.])[−-]?\d+(?:\.\d+)?(?:e[−-]?\d+)?(\s?%)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")
_CHECK_CALL = re.compile(r"(?:\bex\.)?(check_\w+)\(answer(.*)\)\s*$", re.S)


def _module(stem: str):
    return importlib.import_module(f"nls_lessons.exercises.lesson{stem[:2]}")


def exercises(stem: str) -> list[tuple[int, str, callable]]:
    """(index of the prompt cell, check name, ``answer -> Feedback``) for each exercise of ``stem``."""
    cells = notebook_cells(stem)
    found = []
    for i, cell in enumerate(cells):
        if "solution" in cell["metadata"].get("tags", []) and cell["cell_type"] == "code":
            m = _CHECK_CALL.search("".join(cells[i - 1]["source"]).strip())
            name, extra = m.group(1), m.group(2)
            check = getattr(_module(stem), name)
            if (stem, name) in READ_OFF:
                check = None                      # needs the lesson's own frame; not probed
            elif extra.strip(", "):                 # literal keyword arguments, e.g. noise_rate=0.4
                kwargs = eval(f"dict({extra.strip(', ')})", {})  # noqa: S307 (the lesson's own literals)
                check = functools.partial(check, **kwargs)
            found.append((i - 3, name, check))
    return found


def _output_texts(cell) -> list[str]:
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            texts.append(out.get("text", ""))
        for kind in ("text/plain", "text/markdown"):
            value = out.get("data", {}).get(kind)
            if value:
                texts.append("".join(value) if isinstance(value, list) else value)
    return ["".join(t) if isinstance(t, list) else t for t in texts]


def seen_before(nb, prompt: int) -> tuple[list[str], list[str]]:
    """(prose, outputs) a learner has seen once they read prompt cell ``prompt``: markdown of every
    cell up to and including it (not folded hints or solutions), outputs of every code cell above."""
    prose, outputs = [], []
    for cell in nb.cells[: prompt + 1]:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"solution", "hint"}:
            continue
        if cell.cell_type == "markdown":
            prose.append(cell.source)
        elif cell.cell_type == "code":
            outputs += _output_texts(cell)
    return prose, outputs


def _numbers(text: str, *, round_percents: bool = True) -> set[float]:
    """Every number in ``text``; a percentage also as a fraction (``28.2 %`` -> 0.282), a whole one
    (``about 50 %``) only when ``round_percents`` (outputs, where it is a printed value, not prose's
    approximation)."""
    values = set()
    for m in _NUMBER.finditer(text.replace(",", "")):
        number = m.group(0).replace("−", "-").replace("%", "").strip()
        v = float(number)
        values.add(v)
        if m.group(1) and (round_percents or "." in number):
            values.add(v / 100)
    return values


def _is_text_check(check) -> bool:
    """A check that takes a word (class name, "higher", a letter) rather than a number."""
    return bool(check("zzqx")) is False and "number" not in check("zzqx").message.lower()


def _options(check, words) -> tuple[set[str], set[str]]:
    """(accepted, rejected) words among ``words`` that the check treats as one of its options."""
    not_an_option = check("zzqx").message
    accepted, rejected = set(), set()
    for w in words:
        verdict = check(w)
        if verdict:
            accepted.add(w.lower())
        elif verdict.message != not_an_option and "not a" not in verdict.message[:40]:
            rejected.add(w.lower())
    return accepted, rejected


def leaks(stem: str, nb) -> list[str]:
    """Every answer of lesson ``stem``'s exercises that its executed copy ``nb`` (nbformat v4, the
    lesson's cells in order) shows before the exercise's prompt, as sentences for the report."""
    found = []
    for prompt, name, check in exercises(stem):
        if (stem, name) in READ_OFF:
            continue
        prose, outputs = seen_before(nb, prompt)
        where = f"{stem} {name} (prompt cell {prompt})"
        if not _is_text_check(check):
            for source, texts in (("prose", prose), ("an output", outputs)):
                hits = sorted({v for t in texts for v in _numbers(t, round_percents=texts is outputs) if check(v)})
                found += [f"{where}: {v:g} in {source}" for v in hits]
            continue
        prompt_words = {w.lower() for w in _WORD.findall(nb.cells[prompt].source) if len(w) >= 6}
        prompt_words -= set().union(*_options(check, prompt_words))     # the options it lists are no subject
        letters = lambda t: {m.group(1) or m.group(2) for m in re.finditer(r"\(([a-d])\)|\b([a-d])\)", t)}  # noqa: E731
        # a one-letter choice counts only as "(a)" or "a)", never as the article "a"
        words_of = lambda t: [w for w in _WORD.findall(t) if len(w) > 1] + sorted(letters(t))  # noqa: E731
        for text in outputs:
            for line in text.splitlines():
                accepted, rejected = _options(check, words_of(line))
                first = next((w.lower() for w in words_of(line) if w.lower() in accepted | rejected), None)
                if first in accepted:
                    found.append(f"{where}: the output line {line.strip()!r} starts with the answer {first!r}")
                    break
        for text in prose:
            for sentence in re.split(r"(?<=[.!?])\s+", text):
                accepted, rejected = _options(check, words_of(sentence))
                on_subject = prompt_words & {w.lower() for w in _WORD.findall(sentence)}
                if accepted and not rejected and on_subject:
                    found.append(f"{where}: the sentence {sentence.strip()[:120]!r} names only the answer")
    return found


# ------------------------------------------------------------ what the lessons print
#: A number with five or more decimals (not a power of ten: ``3.5e-15`` is written on purpose).
_LONG_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d{5,}(?![\d.]*e[-+]?\d)")


def printed_problems(nb) -> list[str]:
    """Outputs of an executed lesson that a projected slide should not show: a number with five or
    more decimals (a table ``.round`` left alone), a kernel's temporary file (``ipykernel_...``)."""
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            if "ipykernel_" in text:
                problems.append(f"cell {i}: a temporary kernel file: {text.strip()[:100]!r}")
            m = _LONG_NUMBER.search(text)
            if m:
                problems.append(f"cell {i}: the number {m.group(0)} in {text.strip()[:80]!r}")
    return problems


def has_exercises(notebook) -> bool:
    """A lesson with exercises (a cell tagged ``solution``): its executed copy is checked."""
    return '"solution"' in open(notebook, encoding="utf-8").read()


LESSONS = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if has_exercises(p))
