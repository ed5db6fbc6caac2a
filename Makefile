# The project's front door: CI calls the same targets a person does.
#   make run     the main job: the twelve engines on a flash-crash market, report in reports/
#   make test    everything CI checks: lint, types, buf, codegen freshness, pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# Tools that other tools run by name (protoc plugins, formatters) come from the project's venv.
export PATH := $(BIN):$(PATH)
PROJECT_DIRS := codegen runtime engines cli bench

.PHONY: install chromium run codegen codegen-check lint format typecheck buf-lint schema-gate baseline \
        pytest golden test bench bench-websocket install-bench mutate clean

install: $(STAMP)

# A strict editable install: the `nautilus` namespace becomes a real tree of links to the
# project's files (build/__editable__.*), put on the venv's path by a plain .pth file, so mypy,
# pyright and editors resolve `nautilus.*` from any directory, as Python does. Files are linked
# one by one, so the install is redone when the list of package files changes (FILE_LIST is
# rewritten only then).
FILE_LIST := $(VENV)/.package-files
$(shell mkdir -p $(VENV) && find $(PROJECT_DIRS) generated/nautilus -type f -not -path '*/__pycache__/*' \
  2>/dev/null | LC_ALL=C sort > $(FILE_LIST).new && \
  { cmp -s $(FILE_LIST).new $(FILE_LIST) && rm $(FILE_LIST).new || mv $(FILE_LIST).new $(FILE_LIST); })

$(STAMP): pyproject.toml $(FILE_LIST)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' --config-settings editable_mode=strict
	@touch $(STAMP)

# The dashboard's browser test drives Debian's Chromium (never a downloaded one); installed once.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; }

# The twelve engines as processes on a private Redis, 30 s of a flash-crash market (README).
run: $(STAMP)
	$(BIN)/nautilus up --scenario flash-crash --duration 30 --report reports/flash-crash.json

codegen: $(STAMP)
	$(PY) -m nautilus.codegen --schemas schemas --out generated

# Fails when generated/ is not what `make codegen` would produce from schemas/.
codegen-check: $(STAMP)
	$(PY) -m nautilus.codegen --schemas schemas --out generated --check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# mypy finds the nautilus namespace where a user's script does: in the venv (see install).
typecheck: $(STAMP)
	$(BIN)/mypy $(foreach p,$(PROJECT_DIRS),-p nautilus.$(p)) -p nautilus.clients

# buf runs from the top-level workspace (buf.yaml: one module, schemas/).
buf-lint: $(STAMP)
	$(BIN)/buf lint
	$(BIN)/buf format -d --exit-code

# The schemas judged against the released baseline and against the merge-base with main (the
# previous commit on main itself), by `buf breaking` and by `nautilus schema compat` in FULL mode
# with routes (cli/schema_release.py).
schema-gate: $(STAMP)
	$(BIN)/nautilus schema gate

# Accept the current schemas as the released contract that future changes must stay compatible
# with. Refuses a breaking change unless FORCE="reason" (recorded in schemas/baseline-breaks.md).
baseline: $(STAMP)
	$(BIN)/nautilus schema baseline $(if $(FORCE),--force "$(FORCE)")

pytest: $(STAMP) chromium
	$(BIN)/pytest

# Rewrite the generator's golden files after an intended change; review the diff before committing.
golden: $(STAMP)
	UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/contract/test_golden.py

test: lint typecheck buf-lint schema-gate codegen-check pytest

# Mutation testing of the delivery contract's modules, one worker; scores per module
# (docs/testing.md). Slow (most of an hour), so not part of `make test`.
# The extra is installed the way `install` does (strict editable), so mypy still finds the namespace.
mutate: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,mutation]' --config-settings editable_mode=strict
	$(PY) tools/mutate.py $(MUTATE_ARGS)

# The benchmark suite: baselines and the bus, interleaved, on a private server (docs/performance.md).
# `make bench BENCH_ARGS="--quick --json out.json --plot latency.png"` for a one-minute run.
bench: $(STAMP)
	$(BIN)/nautilus bench $(BENCH_ARGS)

# Fan-out to many browsers: N WebSocket clients on one WebSocket engine process (docs/performance.md).
# `make bench-websocket BENCH_WEBSOCKET_ARGS="--clients 1000 --seconds 5"` for a short run.
bench-websocket: $(STAMP)
	$(PY) -m nautilus.bench.websocket_fanout $(BENCH_WEBSOCKET_ARGS)

# The benchmark's optional extras: the FastStream and NautilusTrader baselines and the profilers.
install-bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache $(STAMP)
