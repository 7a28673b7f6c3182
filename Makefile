# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup models lint bench eval clean readme portaudio

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "voicebox needs Python >= 3.11"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) portaudio models

# The microphone and speaker need Debian's libportaudio2. It is installed here where that needs no password (root, or
# sudo without one); otherwise the exact command is printed, and only the tests that use real sound devices skip.
portaudio:
	@$(PYTHON) -c 'import ctypes.util, sys; sys.exit(ctypes.util.find_library("portaudio") is None)' || { \
		if command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
			echo "voicebox: installing libportaudio2 (microphone and speaker support)"; \
			s=""; [ "$$(id -u)" = 0 ] || s="sudo -n"; \
			$$s apt-get install -y -q --no-install-recommends libportaudio2 >/dev/null 2>&1 || \
				{ $$s apt-get update -q >/dev/null 2>&1 && $$s apt-get install -y -q --no-install-recommends libportaudio2 >/dev/null; } || \
				echo "voicebox: could not install libportaudio2; run: sudo apt-get install libportaudio2"; \
		else \
			echo "voicebox: the PortAudio library is missing: microphone and speaker will not work until you run"; \
			echo "  sudo apt-get install libportaudio2"; \
			echo "(everything else works; the tests that need real sound devices are skipped)"; \
		fi; \
	}

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
