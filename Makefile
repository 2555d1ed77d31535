# The two commands: `make demo` (the main job) and `make test`. Both set up everything they need:
# a pinned uv in .tools/ (unless uv is already on PATH), then the locked virtual environment in .venv/.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
RUN := $(UV) run --frozen
CUSTOMERS ?= 5000

.PHONY: demo test lint typecheck unit setup benchmarks clean

demo: .venv/.synced
	$(RUN) huaxiang demo --customers $(CUSTOMERS) --out demo-workspace

test: lint typecheck unit

lint: .venv/.synced
	$(RUN) ruff check src tests benchmarks
	$(RUN) ruff format --check src tests benchmarks
	$(RUN) lint-imports

typecheck: .venv/.synced
	$(RUN) mypy

unit: .venv/.synced
	$(RUN) pytest -n 2 --dist loadfile -q

benchmarks: .venv/.synced
	$(RUN) python -m benchmarks

setup: .venv/.synced

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode  # installed modules import from .pyc, not source
	touch $@

clean:
	rm -rf .venv .tools demo-workspace
