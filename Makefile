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

.PHONY: lab lecture reset test unit notebooks browser book slides bench env clean-venv

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

## lecture: the same lab, opened at your copy of the 50-minute lecture (lessons/instructor/)
lecture: $(STAMP)
	$(BIN)/python -m nls_lessons.publish.lab --lecture

## reset: make LESSON=NN's working copy fresh again (the old one goes to lessons/.reset-backups/)
reset: $(STAMP)
	@test -n "$(LESSON)" || { echo "usage: make reset LESSON=03   (a lesson number or name)"; exit 2; }
	$(BIN)/python -m nls_lessons.publish.lab --reset "$(LESSON)"

## test: the whole suite (unit tests, every notebook under nbval, browser tests)
# Two pytest runs at once: the browser tests (one process: one JupyterLab, one chromium, one
# kernel at a time, often waiting on the page) at normal priority, and the unit tests + nbval on
# two workers under `nice` that only fill the CPU the browser run leaves idle, so the browser's
# time limits see the CPU they saw alone. The browser run's output goes to $(BROWSER_LOG) and is
# printed after the parallel suite's; the target fails when either run fails.
BROWSER_LOG := build/test-browser.log
test: $(STAMP)
	@mkdir -p $(dir $(BROWSER_LOG))
	@echo "==> browser tests in the background (log: $(BROWSER_LOG)); unit tests + notebooks at nice 10"
	@$(TEST_ENV) $(BIN)/python -m pytest tests -m browser > $(BROWSER_LOG) 2>&1 & browser=$$!; \
	$(TEST_ENV) nice -n 10 $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax tests notebooks -m "not browser"; \
	suite=$$?; wait $$browser; browser_rc=$$?; \
	echo "==> browser tests ($(BROWSER_LOG))"; cat $(BROWSER_LOG); \
	test $$suite = 0 && test $$browser_rc = 0

## unit: the quick inner loop: the unit tests only (no notebook under nbval, no browser)
unit: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadfile tests -m "not browser"

notebooks: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax notebooks

## browser: the browser tests alone (one process, never under -n: they share one lab and one chromium)
browser: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest tests -m browser

## book: the static offline book (build/book/index.html); re-executes only changed notebooks
book: $(STAMP)
	$(BIN)/python -m nls_lessons.publish.book

## slides: offline reveal.js decks (build/slides/), instructor copies with solutions (build/instructor/)
slides: $(STAMP)
	$(BIN)/python -m nls_lessons.publish.slides

## bench: benchmarks that print measured ratios (not pass/fail)
bench: $(STAMP)
	$(BIN)/python bench/sweep.py
	$(BIN)/python bench/widgets.py
	$(BIN)/python bench/gpu.py

clean-venv:
	rm -rf $(VENV)
