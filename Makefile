PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint format bench docs clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m compileall -q mldns
	touch $(STAMP)

setup: $(STAMP)

## Apply the example stack against an in-process emulator whose cloud lives in state/local-cloud.json.
demo: $(STAMP)
	$(BIN)/mldns apply --local --auto-approve examples/training_dns/stack.py
	$(BIN)/mldns plan --local examples/training_dns/stack.py
	$(BIN)/mldns output --stack training-dns

## Installs the Debian packages the tests need when missing and it can, else says the command.
test: $(STAMP)
	bash tools/system-packages.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mldns
	$(BIN)/python -m pytest -n 2 -q

## The suite but the drills and the browser test: the lane to run while working (CI runs `test`).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not drill and not browser and not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mldns

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Write docs/reference.md from the public classes' docstrings.
docs: $(STAMP)
	$(BIN)/python tools/reference.py

bench: $(STAMP)
	$(BIN)/python tests/benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info
