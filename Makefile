# Everything a fresh machine needs is set up by these targets: only Python 3.11+, pip and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= kypho-report

.PHONY: run serve test lint typecheck unit fixtures bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The main job on the bundled default data.
run: $(STAMP)
	$(BIN)/kypho analyze --out $(OUT)

## The study web application on a demo store (the bundled synthetic cohort, demo users).
serve: $(STAMP)
	$(BIN)/kypho serve --demo

## The whole test suite: ruff, mypy and pytest (PostgreSQL store tests included when a server can be started).
test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	bash scripts/test.sh

## Regenerate tests/reference fixtures from the live oracles (needs R and PSPP: apt-get install r-base-core pspp).
fixtures:
	bash tests/reference/oracles/regenerate.sh

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
