# The two commands: `make run` opens the studio, `make test` runs every test.
# Both create .venv when it is missing and install the project into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.studio-installed
# torch: the CPU wheel 2.13.0 unless a torch is already installed (GPU users install theirs first).
TORCH_PIN ?= torch==2.13.0

.PHONY: run test lint bench screenshots clean-venv

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "$(TORCH_PIN)"
	$(PY) -m pip install -e ".[dev]"
	@# tinysoundfont declares PyAudio (needs portaudio headers) but only uses it for its own player; we don't.
	$(PY) -m pip install --no-deps "tinysoundfont>=0.3.6"
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m studio

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check studio tests benchmarks
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/../resources/make_screenshots.py

clean-venv:
	rm -rf $(VENV)
