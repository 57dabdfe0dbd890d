# The two commands: `make demo` (set up and run every stream against the sandbox) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint format bench bench-offers-1m chaos chaos-replay e2e clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(STAMP_TEST): $(STAMP_RUN)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

demo: $(STAMP_RUN)
	$(BIN)/bcmirakl demo

test: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

lint: $(STAMP_TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP_TEST)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP_TEST)
	mkdir -p benchmarks/results
	$(BIN)/python -m benchmarks.offer_sync --offers 100000 --changed 0.05 --json benchmarks/results/offer_sync.json
	$(BIN)/python -m benchmarks.order_routing --orders 2000 --json benchmarks/results/order_routing.json
	$(BIN)/python -m benchmarks.reconciliation --lines 10000000 --json benchmarks/results/reconciliation.json
	$(BIN)/python -m benchmarks.latency --offers 20000 --stock-outs 200 --minutes 10 --json benchmarks/results/latency.json

# The offer sync at a million offers (full cycle, then a 1 % delta): not in `make bench`, about 10x its offer run.
bench-offers-1m: $(STAMP_TEST)
	mkdir -p benchmarks/results
	$(BIN)/python -m benchmarks.offer_sync --offers 1000000 --changed 0.01 --json benchmarks/results/offer_sync_1m.json

# Seeded fault schedules over every stream, invariants after clean runs (tests/chaos/); not part of `make test`.
SEED ?= 1
SCHEDULES ?= 1000
WORKERS ?= 2
chaos: $(STAMP_TEST)
	mkdir -p benchmarks/results
	$(BIN)/python -m tests.chaos --seed $(SEED) --schedules $(SCHEDULES) --workers $(WORKERS) --json benchmarks/results/chaos.json

# One schedule again, printing what each run did: `make chaos-replay SEED=42`.
chaos-replay: $(STAMP_TEST)
	$(BIN)/python -m tests.chaos --seed $(SEED) --schedules 1 --workers 1 --verbose

# A Prefect server on the local PostgreSQL, bootstrap, deploy, a worker, runs against the sandbox, then the UI in
# headless Chromium (see deployments/e2e.py). Debian's chromium and chromium-driver are installed when missing.
e2e: $(STAMP_TEST)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }
	$(BIN)/python -m deployments.e2e

clean:
	rm -rf $(VENV) .bcmirakl
