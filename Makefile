# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup models lint bench eval clean readme

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "voicebox needs Python >= 3.11"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) models

models: $(STAMP)
	$(BIN)/voicebox models pull

run: setup
	@if $(BIN)/python -c 'import sys; from voicebox.audio_io.devices import list_devices; sys.exit(0 if any(d["default_input"] for d in list_devices()) else 1)' 2>/dev/null; then \
		$(BIN)/voicebox run; \
	else \
		echo "voicebox: this machine has no microphone (no input device found): running 'voicebox demo' instead."; \
		$(BIN)/voicebox demo; \
	fi

test: setup lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check voicebox skills tests
	$(BIN)/mypy

bench: setup
	$(BIN)/voicebox bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

readme: $(STAMP)
	$(BIN)/python tools/update_readme.py
