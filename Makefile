# nls-lessons: every target runs `python -m nls_lessons.setup TARGET` (nls_lessons/setup.py), the one
# implementation; Windows and anyone without make run the same command (README, "Start here").
# The first target creates .venv from requirements.lock; later ones reuse it (a stamp in .venv
# records the lock it was made from, so nothing reinstalls until the lock changes).
#   make env TORCH=cpu   PyTorch's CPU-only build (no CUDA packages; a machine without an NVIDIA GPU)
PYTHON ?= python3
SETUP  := $(PYTHON) -m nls_lessons.setup
export TORCH NLS_INSTALLER

.PHONY: env lab lecture reset test unit notebooks browser doctor book slides assignments hub bench lock check-lock clean-venv

env:
	$(SETUP) env

## lab: open your working copies (lessons/, made once from notebooks/) in JupyterLab (prints the URL)
lab:
	$(SETUP) lab

## lecture: the same lab, opened at your copy of the 50-minute lecture (lessons/instructor/)
lecture:
	$(SETUP) lecture

## reset: make LESSON=NN's working copy fresh again (the old one goes to lessons/.reset-backups/)
reset:
	@test -n "$(LESSON)" || { echo "usage: make reset LESSON=03   (a lesson number or name)"; exit 2; }
	$(SETUP) reset "$(LESSON)"

## test: the whole suite (unit tests, every notebook under nbval, browser tests; setup.TEST_COMMANDS:
## the browser tests run beside the unit tests + notebooks, which run under nice; setup.run_tests says why)
test:
	$(SETUP) test

unit notebooks browser:
	$(SETUP) $@

## doctor: the pre-class check (Python, disk, lock, torch + device, kernel, widgets, RISE, data, a fit)
doctor:
	$(SETUP) doctor

## book: the static offline book (build/book/index.html); re-executes only changed notebooks
book:
	$(SETUP) book

## slides: offline reveal.js decks (build/slides/), instructor copies with solutions (build/instructor/)
slides:
	$(SETUP) slides

## assignments: the nbgrader course for a class (build/classroom/, or COURSE_DIR=...), from the lessons
assignments:
	$(SETUP) assignments $(if $(COURSE_DIR),--course-dir "$(COURSE_DIR)") $(ASSIGNMENT_OPTIONS)

## hub: a try-out JupyterHub for a class on this machine (127.0.0.1, dummy log-in; prints the URL and
## the learners' password); its proxy comes from npm (build/node/, installed on the first run)
hub:
	$(SETUP) hub

## bench: benchmarks that print measured ratios (not pass/fail)
bench:
	$(SETUP) bench

## lock: regenerate requirements.lock from pyproject.toml (setup.EXTRAS); check-lock: resolve it everywhere
lock check-lock:
	$(SETUP) $@

clean-venv:
	rm -rf .venv
