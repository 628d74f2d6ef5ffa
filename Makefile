# The README's commands. CI calls `make test` through .ci/run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
SAMPLE_PROMPT ?= square each element of a buffer in place
SAMPLE_MODEL ?= data/models/default

.PHONY: run test install install-dev system-deps lint typecheck unit e2e-nvim e2e-emacs e2e-vscode vsix bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## The main job on the shipped defaults: validate the example shaders, then write WGSL for a prompt
## with the shipped model (SAMPLE_MODEL=dummy uses the templates instead).
run: install
	$(BIN)/tiny-agent-trainer validate examples/*.wgsl
	$(BIN)/tiny-agent-trainer generate --model "$(SAMPLE_MODEL)" --prompt "$(SAMPLE_PROMPT)"

system-deps:
	bash scripts/install-system-deps.sh
	bash tests/e2e/vscode/install-code-server.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

## Every test: lint, types, unit, language-server and end-to-end (real Neovim, real VS Code).
test: install-dev system-deps lint typecheck
	$(BIN)/pytest

e2e-nvim: install-dev system-deps
	$(BIN)/pytest tests/e2e/test_neovim.py

e2e-emacs: install-dev system-deps
	$(BIN)/pytest tests/e2e/test_emacs.py

e2e-vscode: install-dev system-deps
	$(BIN)/pytest tests/e2e/test_vscode.py

vsix:
	$(MAKE) -C vscode-extension vsix

bench: install
	$(BIN)/python benchmarks/validate_bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
