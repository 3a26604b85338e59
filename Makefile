# nls-lessons: every target creates .venv from requirements.lock on first use and
# reuses it afterwards (the stamp below is newer than the lock, so nothing reinstalls).
SHELL   := /bin/bash
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.nls-lessons-installed
# One BLAS/OpenMP thread per process: the test suite runs two pytest workers on two
# cores, and every notebook kernel inherits this.
TEST_ENV := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONHASHSEED=0

.PHONY: lab reset test unit notebooks browser book slides assignments bench env clean-venv

env: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || { echo "==> creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing the pinned course environment (first run only; torch takes a few minutes)"
	$(BIN)/python -m pip install --disable-pip-version-check --no-input -q -r requirements.lock
	$(BIN)/python -m pip install --disable-pip-version-check --no-input -q --no-deps --no-build-isolation -e .
	@touch $@

## lab: open your working copies (lessons/, made once from notebooks/) in JupyterLab (prints the URL)
lab: $(STAMP)
	$(BIN)/python -m nls_lessons.publish.lab

## reset: make LESSON=NN's working copy fresh again (the old one goes to lessons/.reset-backups/)
reset: $(STAMP)
	@test -n "$(LESSON)" || { echo "usage: make reset LESSON=03   (a lesson number or name)"; exit 2; }
	$(BIN)/python -m nls_lessons.publish.lab --reset "$(LESSON)"

## test: the whole suite (unit tests, every notebook under nbval, browser tests)
test: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax tests notebooks -m "not browser"
	$(TEST_ENV) $(BIN)/python -m pytest tests -m browser

unit: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadfile tests -m "not browser"

notebooks: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax notebooks

browser: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest tests -m browser

## book: the static offline book (build/book/index.html); re-executes only changed notebooks
book: $(STAMP)
	$(BIN)/python -m nls_lessons.publish.book

## slides: offline reveal.js decks (build/slides/), instructor copies with solutions (build/instructor/)
slides: $(STAMP)
	$(BIN)/python -m nls_lessons.publish.slides

## assignments: the nbgrader course for a class (build/classroom/, or COURSE_DIR=...), from the lessons
assignments: $(STAMP)
	$(BIN)/python -m nls_lessons.publish.assignments $(if $(COURSE_DIR),--course-dir "$(COURSE_DIR)") $(ASSIGNMENT_OPTIONS)

## bench: benchmarks that print measured ratios (not pass/fail)
bench: $(STAMP)
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/widgets.py
	$(BIN)/python bench/gpu.py

clean-venv:
	rm -rf $(VENV)
