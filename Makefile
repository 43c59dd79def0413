# pocketstack: `make run` starts the all-in-one cloud; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-galera lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/pocketstack up $(ARGS)

test: $(TEST_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# The Galera race suite alone (a three-node cluster; needs galera-4 and rsync). `make test`
# runs it too; run this before every release and after touching concurrency code.
test-galera: $(TEST_STAMP)
	$(BIN)/pytest -v tests/integration/test_galera_races.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
