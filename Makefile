# The README's commands. `make demo` and `make test` each set everything up first.
# Versions come from constraints.txt (the set CI tested); `make lock` refreshes it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --constraint constraints.txt
# uv installs the same pinned versions as pip, downloading in parallel: from empty caches on 2 cores the extras took
# 93 s with pip and 7.5 s with uv (measured 2026-12-07, before compiling). torch stays with pip, which takes its CPU
# build from this machine's disk (uv would download a CUDA build of several GB). --compile-bytecode writes the .pyc
# files at install, as pip does: where PYTHONDONTWRITEBYTECODE is set (this machine, CI) nothing else writes them,
# and every process — each notebook kernel, each CLI example — compiled pandas, scipy, transformers... again (the
# fresh-clone make test took 26.9 min so, against 18–20 min with pip).
UV_VERSION := 0.13.8
UV := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --constraint constraints.txt
DEMO_STAMP := $(VENV)/.demo-stamp
DEV_STAMP := $(VENV)/.dev-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-demo demo test test-fast lint docs bench bench-setup mutation nightly lock clean browser-deps postgres-deps ui-bundle

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

# What the demo needs: the package and its core dependencies (llama.cpp comes as a prebuilt wheel: no compiler).
$(DEMO_STAMP): pyproject.toml constraints.txt | $(BIN)/uv
	@echo "Installing Prompt Workbench (core: the local model, runs, scores)..."
	$(UV) -e .
	touch $(DEMO_STAMP)

# What the tests and notebooks need on top: every extra. torch's CPU build first, so nothing pulls a CUDA one.
$(DEV_STAMP): $(DEMO_STAMP)
	@echo "Installing the extras for tests and notebooks (torch CPU, JupyterLab, Chroma, Playwright...)..."
	$(PIP) "torch==2.13.0"
	$(UV) -e ".[dev]"
	$(BIN)/python -m ipykernel install --prefix $(abspath $(VENV)) --name workbench --display-name "Python (workbench)" >/dev/null
	touch $(DEV_STAMP)

install-demo: $(DEMO_STAMP)
install: $(DEV_STAMP)

# The main job: a library prompt over a bundled dataset on the embedded local model, with a results summary.
# --fail-under and --gate hold it to what it was measured to do (BENCHMARKS.md, benchmarks/bench_local.py).
demo: $(DEMO_STAMP)
	$(BIN)/workbench run sentiment_cloze_en --model local --no-cache --store .workbench/demo.db --fail-under 0.85 --gate cloze_en
	$(BIN)/workbench run sentiment_cloze_zh --model local --no-cache --store .workbench/demo.db --quiet --fail-under 0.85 --gate cloze_zh

lint: $(DEV_STAMP)
	$(BIN)/ruff check workbench tests benchmarks
	$(BIN)/ruff format --check workbench tests benchmarks

# The documentation site (docs/, mkdocs.yml) into .site/: strict, so a broken link, reference or generated page
# fails (the template, CLI and Python references are generated from the code at build time). A few seconds.
docs: $(DEV_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The real-browser test drives Debian's Chromium (Playwright cannot download browsers here), with a CJK font so
# Chinese renders in its screenshots.
browser-deps:
	@test -x /usr/bin/chromium && fc-list 2>/dev/null | grep -qi "noto.*cjk" || { \
	  echo "Installing Debian's chromium and fonts-noto-cjk for the browser test..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# The store tests run on a real PostgreSQL server that the test session starts itself (127.0.0.1, a free port):
# Debian's postgresql package provides initdb/pg_ctl. No cluster is created or started by the install.
postgres-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "Installing Debian's postgresql for the store tests..."; \
	  mkdir -p /etc/postgresql-common && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# Two pytest-xdist workers; every test that loads llama.cpp runs in one group on one of them, and the other worker
# runs the rest at idle CPU priority, in sessions of the lowest weight (workbench/testing/one_llama_worker.py): ggml's
# spinning threads ran 4.4x slower beside kernel-like processes at normal priority (benchmarks/bench_priority.py). llama.cpp keeps its default threads
# (one per core): long answers change with the thread count and the gates' figures were measured at it.
# A skip is a failure here (WORKBENCH_STRICT): everything a test needs is installed above. Heavier variants of the
# same checks are marked `nightly` and run in `make nightly`.
# PYTEST_ARGS adds to make test's pytest (benchmarks/bench_setup.py asks for a JUnit report of every test's seconds).
PYTEST_CI := WORKBENCH_STRICT=1 WORKBENCH_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest -n 2 --dist loadgroup

test: $(DEV_STAMP) lint docs browser-deps postgres-deps
	$(PYTEST_CI) -m "not nightly" $(PYTEST_ARGS)

test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not local_model and not notebooks and not browser and not nightly"

bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_runner.py --latency 0.2 --rows 640 --rounds 5
	$(BIN)/python benchmarks/bench_cluster.py
	$(BIN)/python benchmarks/bench_local.py
	$(BIN)/python benchmarks/bench_rag.py
	$(BIN)/python benchmarks/bench_chat_format.py
	$(BIN)/python benchmarks/bench_finetune.py

# Mutation testing of the modules whose numbers users trust, each against its own fast tests (not part of make test:
# minutes to an hour from empty caches on 2 shared cores, see BENCHMARKS.md; mutmut's cache then re-tests only what
# changed).
mutation: $(DEV_STAMP)
	nice -n 19 $(BIN)/python benchmarks/bench_mutation.py

# The two commands timed in a fresh clone with an empty pip cache and home (README's set-up and notebook times).
bench-setup:
	python3 benchmarks/bench_setup.py --test --nightly

# The full matrix: the heavier variants of the tests, then every notebook in every variant of the `full` profile.
nightly: $(DEV_STAMP) browser-deps postgres-deps
	$(PYTEST_CI) -m nightly
	$(BIN)/workbench nightly --profile full --out .nightly

# Refresh constraints.txt: resolve the newest versions in a scratch venv, then run `make test` against them.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet "torch==2.13.0"
	.lock-venv/bin/python -m pip install --quiet -e ".[dev]"
	(echo '# Versions make test passed with (pip constraints). Refresh: make lock, then make clean test.'; .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e') > constraints.txt
	rm -rf .lock-venv
	@echo "constraints.txt refreshed; run 'make clean test' before committing it."

# Rebuild the editor widget's bundled front-end (only needed after changing workbench/ui/js/src).
ui-bundle:
	cd workbench/ui/js && npm ci && node build.mjs

clean:
	rm -rf $(VENV) .workbench .nightly .pytest_cache
