# Two commands a newcomer needs: `make demo` and `make test`. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test lint typecheck pytest synth cfn-lint bench clean deps

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps: $(BIN)/.installed node_modules/.installed

## demo: run the whole system locally (moto + the Allegro emulator) and print what happened (SHOP=shopify|prestashop)
demo: deps
	$(BIN)/allegro-sync demo $(if $(RECORD),--record $(RECORD),) $(if $(SHOP),--shop $(SHOP),)

## test: lint, type-check, unit/integration/infra tests, cdk synth and cfn-lint
test: deps lint typecheck pytest synth cfn-lint

# lint-imports: the layers and contracts declared under [tool.importlinter] in pyproject.toml.
lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck:
	$(BIN)/mypy

# Four workers on two cores: much of the suite waits on moto and the emulator over 127.0.0.1. A test file
# stays on one worker (its module fixtures are shared). pytest's exit code 5 (no test ran) fails the build.
pytest:
	$(BIN)/pytest -q -n 4 --dist loadfile

synth:
	rm -rf cdk.out
	cdk synth --quiet

cfn-lint:
	$(BIN)/cfn-lint --append-rules cfn_lint_serverless.rules -- cdk.out/*.template.json

bench: deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules cdk.out build .mypy_cache .ruff_cache
