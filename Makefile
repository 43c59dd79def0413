# pocketstack: `make run` starts the all-in-one cloud; `make test` runs the whole suite;
# `make fuzz` runs the API fuzzer long (see docs/developing.md, "Tests").
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-galera fuzz lint screenshots clean

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

# The body/query fuzzer with many examples per route and a fresh seed each run (the seed
# is in every failure's message: `make fuzz FUZZ_SEED=<seed>` replays it).  `make test`
# runs the same test bounded: derandomized, 12 examples per route, SQLite only.
FUZZ_EXAMPLES ?= 300
FUZZ_SEED ?= $(shell date +%s)
FUZZ_BACKENDS ?= sqlite
fuzz: $(TEST_STAMP)
	POCKETSTACK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) POCKETSTACK_FUZZ_SEED=$(FUZZ_SEED) \
	POCKETSTACK_FUZZ_BACKENDS=$(FUZZ_BACKENDS) POCKETSTACK_TEST_BACKENDS=$(FUZZ_BACKENDS) \
	POCKETSTACK_OPENAPI_EXAMPLES=$(FUZZ_EXAMPLES) \
	$(BIN)/pytest -p no:cacheprovider --timeout=0 tests/functional/test_fuzz_bodies.py \
	tests/functional/test_openapi_conformance.py $(PYTEST_ARGS)

# ruff (pyflakes, pycodestyle, import order, bugbear) and mypy; configuration in pyproject.toml.
lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy src/pocketstack

# The dashboard's browser tests, saving their screenshots where the README shows them
# (needs chromium; docs/dashboard.md).
screenshots: $(TEST_STAMP)
	POCKETSTACK_SCREENSHOTS=docs/screenshots $(BIN)/pytest -p no:cacheprovider tests/browser $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
