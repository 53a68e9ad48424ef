# Two commands on a fresh machine: `make serve` (the API on the bundled demo)
# and `make test` (everything the suite needs, then the suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test install install-test browser audit ops assets wrk bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e .
	$(BIN)/python -m graph.assets

install-test: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -m graph.assets

# Debian's Chromium for the browser test (the test tool's own browser
# download cannot work offline). Needs root, as on CI.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

serve: install
	$(BIN)/newsgraph serve

# The GraphQL-over-HTTP audit (tests/test_http_audit.py): Debian's Node.js
# when there is none, then the graphql-http release pinned in tests/audit.
audit:
	@command -v node >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	cd tests/audit && npm ci --no-audit --no-fund --silent

# HAProxy and wrk, Debian's, for the operations tests (tests/test_replicas.py,
# tests/test_operations.py). Needs root, as on CI.
ops:
	@{ command -v haproxy && command -v wrk; } >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy wrk >/dev/null; }

# Two phases: the suite on both cores, then the tests that count failed
# requests under load (marked serial), with the machine to themselves.
test: install-test browser audit ops
	$(BIN)/python -m pytest -n 2 -q -m 'not serial'
	$(BIN)/python -m pytest -q -m serial

# Debian's wrk drives the benchmark; without it (no root, no network) the
# benchmark falls back to its slower Python driver and says so.
wrk:
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || true

bench: install-test wrk
	$(BIN)/python -m bench run

clean:
	rm -rf $(VENV) graph/static/graphiql .pytest_cache
