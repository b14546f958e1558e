# Two commands for a newcomer: `make demo` and `make test`.
# Both create (or reuse) .venv and install the project into it first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.raymlops-installed

.PHONY: setup demo test test-unit test-cluster test-multinode bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server) \
		|| echo "warning: could not install redis-server; the Redis online-store tests need it"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: setup
	$(BIN)/raymlops demo

# Unit tests and doctests need no Ray; cluster and multi-node tests each get one Ray per
# pytest process. tests/run.sh runs them in three lanes side by side (it says which).
test: setup
	tests/run.sh $(BIN)/python

test-unit: setup
	$(BIN)/python -m pytest -q tests/unit raymlops

test-cluster: setup
	$(BIN)/python -m pytest -q tests/cluster

test-multinode: setup
	$(BIN)/python -m pytest -q tests/multinode

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .raymlops .pytest_cache .hypothesis *.egg-info
