# Two commands do all the set-up: `make check` (the main job) and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
REPORT ?= reports/latest

.PHONY: check test clean

$(BIN)/gradcheck: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,report]'
	@touch $@

## check the bundled specs/ gallery and write the report under reports/latest
check: $(BIN)/gradcheck
	$(BIN)/gradcheck check specs/ --report $(REPORT)

## lint and format check (ruff), then the test suite (unit tests, planted-bug corpus, CLI end to end, gallery specs)
test: $(BIN)/gradcheck
	$(BIN)/ruff check gradcheck tests bench specs
	$(BIN)/ruff format --check gradcheck tests bench specs
	$(BIN)/python -m pytest -q -n 2 --dist loadscope

clean:
	rm -rf $(VENV) $(REPORT) .hypothesis .pytest_cache
