# Two commands do all the set-up on a fresh machine (Python 3.11 and make present):
#   make book   build the published book (full profile) into _build/html
#   make test   unit tests, every notebook under nbval (quick profile), a -W book build, the
#               student edition of that run checked for solutions, and a browser check of every
#               page of the -W build (headless Chromium)
# and one more for teachers:
#   make student   the student edition (no solutions) of the site and of every chapter notebook,
#                  in the quick profile (PROFILE=full for the full one), into _build/student/PROFILE
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB := $(BIN)/jupyter-book
# Each profile has its own build folder: Jupyter Book's execution cache does not see environment
# variables, so two profiles must never share one.
TEST_BUILD := _build/test
# The student edition: one folder per profile, so it never shares the main build's folders or
# execution cache, nor one profile's cache with the other's.
PROFILE ?= quick
STUDENT_BUILD := _build/student/$(PROFILE)

export PYTHONHASHSEED := 0
export TF_CPP_MIN_LOG_LEVEL := 3
# Every command here is a build of the book: a claim of the prose that the run does not support
# stops the chapter (vaebook.book.claim); in a reader's own run it prints a notice instead.
export VAEBOOK_STRICT := 1
# Jupyter Book exits 0 over a notebook that stopped at a failed cell: tools/build_book.py runs it and
# exits 1, naming the notebook and the cell, when any cell failed or any glued number is missing.
BUILD := $(BIN)/python tools/build_book.py
# The book's notebooks run two at a time (tools/build_book.py --jobs), each kernel on one core:
# on two cores, what keeps one core busy in a chapter (evaluation, plotting, a kernel's start)
# overlaps another chapter's work. The two longest chapters start first, and Chapter 6 last: it
# scores the models of Chapters 2-5, and finds them trained rather than training them itself on a
# core shared with another chapter. A model two chapters share is trained once (vaebook.zoo locks
# a cache entry while it is trained), whatever the order. JOBS=1: one at a time.
JOBS ?= 2
ORDER := 03_beta_vae 04_conv_vae 01_autoencoder 02_vae 05_gan 90_scaling_up 07_debugging
RUN := --jobs $(JOBS) $(foreach name,$(ORDER),--first notebooks/$(name).ipynb)

.PHONY: book test student student-profile student-notebooks student-check unit notebooks test-book browser-check venv clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	VAEBOOK_PROFILE=full $(BUILD) $(RUN) --log _build/book.log -- build . --builder html
	@echo "Book: $(CURDIR)/_build/html/index.html"

# The student edition and the browser check both read only what test-book left, and write apart:
# they run side by side, on the two cores that a Sphinx build and a browser leave half idle.
test: unit notebooks test-book
	@$(MAKE) --no-print-directory -j2 --output-sync=target student-check browser-check

# The unit tests run on every core (pytest-xdist): on CI's two cores they take about half the time.
unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -n auto tests -q

# nbval runs each notebook top to bottom in a fresh kernel, two notebooks at a time on one core
# each (pytest-xdist, a notebook's cells on one worker); --nbval-lax compares only the outputs
# of cells tagged nbval-check-output. Models go to a fresh cache, so every training path runs.
# tools/nbval_cache.py stores each notebook whose cells all passed, with the outputs of this run,
# in the test build's execution cache: the build below renders them instead of running every
# notebook a second time (a notebook with a failed cell is not stored, and the build runs it).
notebooks: $(STAMP)
	rm -rf $(TEST_BUILD)
	mkdir -p $(TEST_BUILD)
	VAEBOOK_PROFILE=quick VAEBOOK_CACHE_DIR=$(CURDIR)/$(TEST_BUILD)/zoo \
		TF_NUM_INTRAOP_THREADS=1 OMP_NUM_THREADS=1 \
		$(BIN)/python -m pytest --nbval-lax --nbval-cell-timeout=900 -p no:cacheprovider \
		-n $(JOBS) --dist loadfile \
		-p tools.nbval_cache --nbval-cache-dir $(TEST_BUILD)/_build/.jupyter_cache notebooks -q

# A from-scratch build with warnings as errors, into its own folder (the full build's cache is
# never touched). Its execution cache holds only what the notebooks step above has just run and
# passed, so a failing notebook cannot hide behind a cached page: run it after that step (as
# `make test` does), not on its own after changing code.
test-book: $(STAMP)
	rm -rf $(TEST_BUILD)/_build/html $(TEST_BUILD)/_build/.doctrees $(TEST_BUILD)/_build/jupyter_execute
	VAEBOOK_PROFILE=quick VAEBOOK_CACHE_DIR=$(CURDIR)/$(TEST_BUILD)/zoo \
		$(BUILD) -- build . --builder html --path-output $(TEST_BUILD) -W -n --keep-going
	@echo "Test build: $(CURDIR)/$(TEST_BUILD)/_build/html/index.html"

# The student edition (book/teachers.md): _config_student.yml merged into _config.yml switches the
# book's extension to student mode (solutions leave the pages, the search index and the downloaded
# notebooks; no Binder or Colab buttons, which would open the repository's notebooks). Every
# notebook runs (solutions included, so the numbers are the book's); the student notebooks, outputs
# kept, are also collected in $(STUDENT_BUILD)/notebooks. The check at the end fails if any line of
# any solution is in the site or the notebooks. Trained models are shared with `make book` through
# the model cache (~/.cache/vaebook; a model's key includes its profile).
student: student-profile $(STAMP)
	mkdir -p $(STUDENT_BUILD)
	$(BIN)/python tools/student_config.py $(STUDENT_BUILD)/_config.yml
	VAEBOOK_PROFILE=$(PROFILE) $(BUILD) $(RUN) -- build . --builder html --path-output $(STUDENT_BUILD) \
		--config $(STUDENT_BUILD)/_config.yml
	$(MAKE) --no-print-directory student-notebooks STUDENT_BUILD=$(STUDENT_BUILD)
	@echo "Student site ($(PROFILE) profile): $(CURDIR)/$(STUDENT_BUILD)/_build/html/index.html"
	@echo "Student notebooks: $(CURDIR)/$(STUDENT_BUILD)/notebooks"

# The student notebooks of a student build, collected, and the whole edition checked: no solution
# (its code, prose or output) in the site or the notebooks.
student-notebooks: $(STAMP)
	rm -rf $(STUDENT_BUILD)/notebooks
	mkdir -p $(STUDENT_BUILD)/notebooks
	cp $(STUDENT_BUILD)/_build/html/_sources/notebooks/*.ipynb $(STUDENT_BUILD)/notebooks/
	$(BIN)/python tools/check_student_build.py $(STUDENT_BUILD)/_build/html $(STUDENT_BUILD)/notebooks \
		--executed $(STUDENT_BUILD)/_build/jupyter_execute/notebooks

# make test's student edition: the quick notebooks that nbval has just run, rendered from the test
# build's execution cache (nothing runs again) in student mode, then checked as make student's is.
# CI fails the day `make student` would.
STUDENT_CHECK_BUILD := $(TEST_BUILD)/student
student-check: $(STAMP)
	rm -rf $(STUDENT_CHECK_BUILD)
	mkdir -p $(STUDENT_CHECK_BUILD)
	$(BIN)/python tools/student_config.py $(STUDENT_CHECK_BUILD)/_config.yml \
		--cache $(TEST_BUILD)/_build/.jupyter_cache
	VAEBOOK_PROFILE=quick VAEBOOK_CACHE_DIR=$(CURDIR)/$(TEST_BUILD)/zoo \
		$(BUILD) -- build . --builder html --path-output $(STUDENT_CHECK_BUILD) \
		--config $(STUDENT_CHECK_BUILD)/_config.yml
	$(MAKE) --no-print-directory student-notebooks STUDENT_BUILD=$(STUDENT_CHECK_BUILD)

student-profile:
	@case "$(PROFILE)" in quick|full) ;; \
		*) echo "PROFILE must be quick or full, not '$(PROFILE)'"; exit 2;; esac

clean:
	rm -rf _build

# Every page of the test build in headless Chromium (tools/browser_check.py): dead links and anchors,
# broken images, unrendered maths, raw MyST roles, errors in outputs, equations wider than the
# column, illegible figure text, explorers (vaebook.explorer) that do not react when used;
# screenshots at 1280 and 390 px in _build/screenshots. Chromium comes
# from apt where this runs as root, and the check is skipped, saying so, where it cannot.
browser-check: $(STAMP)
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq chromium >/dev/null 2>&1 || \
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } || true; \
	fi
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "browser check skipped: chromium is not installed and apt-get could not install it"; \
		else \
			echo "browser check skipped: chromium is not installed and cannot be installed here (not root)"; \
		fi; \
	else \
		$(BIN)/python tools/browser_check.py $(TEST_BUILD)/_build/html --screenshots _build/screenshots; \
	fi
