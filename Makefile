# ganbook: `make book` builds the HTML book, `make test` runs every test. Both set up .venv.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# smoke | cpu | gpu; empty means "gpu if TensorFlow sees a GPU, else cpu".
PROFILE ?=
STAMP := $(VENV)/.installed
# Extras of the package that `make` installs into .venv (teach: otter-grader, for the assignment tests).
EXTRAS ?= book,test,teach
# Chapters executed at once before `make book` builds (tools/execute_book.py). 1 by default:
# chapters that time themselves (throughput, wall time) should not share the CPU on the page.
JOBS ?= 1
# pytest-xdist workers of `make test`: the book build on one, the unit tests on the others
# (tests/conftest.py's scheduler keeps the book's tests, and the assignments', each on one worker).
TEST_WORKERS ?= 2

.PHONY: book test notebooks lint bench clean

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

# Each profile builds in its own folder (its own execution cache), and _build/html points
# at the latest build: a smoke build never shows outputs cached by a cpu build.
book: $(STAMP)
	@profile="$${GANBOOK_PROFILE:-$(PROFILE)}"; \
	profile="$${profile:-$$($(BIN)/python -m ganbook_utils profile)}"; \
	echo "Building the book with profile '$$profile' into _build/$$profile"; \
	if [ "$(JOBS)" -gt 1 ]; then GANBOOK_PROFILE=$$profile $(BIN)/python tools/execute_book.py \
	  --build-dir _build/$$profile --jobs $(JOBS) || exit 1; fi; \
	GANBOOK_PROFILE=$$profile $(BIN)/jupyter-book build . --path-output _build/$$profile \
	  --warningiserror --nitpick --keep-going && \
	ln -sfn $$profile/_build/html _build/html && \
	echo "Open _build/html/index.html"

# Everything, on the smoke profile, in one pytest run: unit tests, then the smoke book build,
# which executes each chapter once (a fresh kernel each, two at a time; a test per chapter fails
# naming the cell that raised), then the browser check of its pages. TEST_WORKERS=0: no xdist.
# One chapter alone: GANBOOK_PROFILE=smoke .venv/bin/pytest --nbval-lax --nbval-current-env book/05-dcgan.ipynb
test: $(STAMP)
	GANBOOK_PROFILE=smoke $(BIN)/python -m pytest tests -p no:randomly -ra \
	  $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS))

# Every chapter under nbval, each in a fresh kernel, without building the book.
notebooks: $(STAMP)
	GANBOOK_PROFILE=smoke $(BIN)/python -m pytest book --nbval-lax --nbval-current-env -p no:randomly

lint: $(STAMP)
	$(BIN)/ruff check ganbook_utils tests benchmarks tools

# Every benchmarks/bench_*.py (each prints BENCH_ROW lines, benchmarks/rows.py), then one table:
# benchmarks/results.md, copied into the README. BENCH_MINUTES: training budget of bench_quality.
BENCH_MINUTES ?= 10
bench: $(STAMP)
	@mkdir -p _build/bench && rm -f _build/bench/*.log
	@for b in benchmarks/bench_*.py; do echo "== $$b"; \
	  GANBOOK_BENCH_MINUTES=$(BENCH_MINUTES) $(BIN)/python $$b 2>&1 \
	  | tee _build/bench/$$(basename $$b .py).log; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; done
	$(BIN)/python tools/bench_table.py _build/bench/*.log --readme README.md

# The graded assignments (assignments/, otter-grader, the teach extra): for each, the student
# notebook + visible tests, <name>-student.zip and <name>-autograder.zip in _build/assignments/<name>/.
# otter runs the solutions to check they score full marks: smoke profile unless GANBOOK_PROFILE is set.
.PHONY: assignments
assignments: $(STAMP)
	@$(BIN)/python -c "import otter" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[teach]"
	GANBOOK_PROFILE=$${GANBOOK_PROFILE:-smoke} $(BIN)/python assignments/build.py --out _build/assignments

clean:
	rm -rf _build
