# ganbook: `make book` builds the HTML book, `make test` runs every test. Both set up .venv.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# smoke | cpu | gpu; empty means "gpu if TensorFlow sees a GPU, else cpu".
PROFILE ?=
STAMP := $(VENV)/.installed

.PHONY: book test unit notebooks book-smoke browser-check lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	@touch $(STAMP)

# Each profile builds in its own folder (its own execution cache), and _build/html points
# at the latest build: a smoke build never shows outputs cached by a cpu build.
book: $(STAMP)
	@profile="$${GANBOOK_PROFILE:-$(PROFILE)}"; \
	profile="$${profile:-$$($(BIN)/python -m ganbook_utils profile)}"; \
	echo "Building the book with profile '$$profile' into _build/$$profile"; \
	GANBOOK_PROFILE=$$profile $(BIN)/jupyter-book build . --path-output _build/$$profile \
	  --warningiserror --nitpick --keep-going && \
	ln -sfn $$profile/_build/html _build/html && \
	echo "Open _build/html/index.html"

# Everything, on the smoke profile, in one pytest run: unit tests, every notebook under
# nbval (fresh kernel each), the smoke book build and the browser check of its pages.
test: $(STAMP)
	GANBOOK_PROFILE=smoke $(BIN)/python -m pytest tests book \
	  --nbval-lax --nbval-current-env -p no:randomly -ra

lint: $(STAMP)
	$(BIN)/ruff check ganbook_utils tests benchmarks

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The graded assignments (assignments/, otter-grader, the teach extra): for each, the student
# notebook + visible tests, <name>-student.zip and <name>-autograder.zip in _build/assignments/<name>/.
# otter runs the solutions to check they score full marks: smoke profile unless GANBOOK_PROFILE is set.
.PHONY: assignments
assignments: $(STAMP)
	@$(BIN)/python -c "import otter" 2>/dev/null || $(BIN)/python -m pip install --quiet -e ".[teach]"
	GANBOOK_PROFILE=$${GANBOOK_PROFILE:-smoke} $(BIN)/python assignments/build.py --out _build/assignments

clean:
	rm -rf _build
