# The README's commands. `make demo` and `make test` each set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# llama-cpp-python is built from source once (~6.5 min on 2 cores); pip caches the wheel afterwards.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test test-fast lint bench nightly clean browser-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "Installing Prompt Workbench and its dependencies (first time: ~8 minutes, llama.cpp compiles)..."
	$(BIN)/python -m pip install --quiet "torch==2.13.0"  # the CPU build first, so nothing pulls a CUDA one
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --prefix $(abspath $(VENV)) --name workbench --display-name "Python (workbench)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/workbench run sentiment_cloze_en --dataset datasets/sentiment_en.csv --model local --no-cache --store .workbench/demo.db
	$(BIN)/workbench run sentiment_cloze_zh --dataset datasets/sentiment_zh.csv --model local --no-cache --store .workbench/demo.db --quiet

lint: install
	$(BIN)/ruff check workbench tests benchmarks

# The real-browser test drives Debian's Chromium (Playwright cannot download browsers here).
browser-deps:
	@test -x /usr/bin/chromium || { echo "Installing Debian's chromium for the browser test..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install lint browser-deps
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not local_model and not notebooks and not browser"

bench: install
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_runner.py --latency 0.2 --rows 960
	$(BIN)/python benchmarks/bench_rag.py

nightly: install
	$(BIN)/workbench nightly --profile ci --out .nightly

clean:
	rm -rf $(VENV) .workbench .nightly .pytest_cache
