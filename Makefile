# Every target sets itself up: a virtual environment in .venv with mlws installed (editable).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup train test test-fast test-unit lint bench check docs clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	# constraints.txt: this machine's torch (the CPU build on its disk); the package itself takes a range
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## The main job: train the newest example experiment on this machine.
train: setup
	$(BIN)/mlws train +experiment=model_12

## The whole test suite, slow tests included (what CI runs): two pytest-xdist workers, each test module
## on one worker (its module-scoped fixtures made once). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
test: setup
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15

## The fast lane (< 60 s): the unit and integration tiers, without the tests marked slow or needing a system
## (see the markers in pyproject.toml). tests/e2e drives the real CLI and services: `make test` runs it.
SYSTEMS := ray or serve or jupyter or postgres or sky or chromium or tmux
test-fast: setup
	$(BIN)/python -m pytest -q tests/unit tests/integration -m "not (slow or $(SYSTEMS))" --durations=10

## The unit tier alone: pure logic, no subprocess or server.
test-unit: setup
	$(BIN)/python -m pytest -q tests/unit

## Lint, format and types (seconds; pyproject.toml configures each). `ruff check --fix` and `ruff format`
## fix most of what the first two report.
LINTED := mlws tests bench hydra_plugins
lint: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

## Every experiment composes and validates.
check: setup
	$(BIN)/mlws check

## The documentation site: docs/ → site/, --strict (a broken link or a missing API reference fails).
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -c constraints.txt -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: setup
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_monitoring.py
	$(BIN)/python bench/bench_media_paired.py
	$(BIN)/python bench/bench_registry.py
	$(BIN)/python bench/bench_cloud_plan.py
	$(BIN)/python bench/bench_node_setup.py
	$(BIN)/python bench/bench_review.py
	$(BIN)/python bench/bench_notebook.py
	$(BIN)/python bench/bench_compute_ray.py
	$(BIN)/python bench/bench_serve.py
	$(BIN)/python bench/bench_serve_start.py
	$(BIN)/python bench/bench_sweeps.py
	$(BIN)/python bench/bench_packaged.py
	$(BIN)/python bench/bench_fingerprint.py

clean:
	rm -rf $(VENV) .mlws runs *.egg-info
