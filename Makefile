# Two commands matter: `make serve` and `make test`. Both build their own virtual
# environment first, so a fresh clone needs nothing but Python 3.11+.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

export NO_MKDOCS_2_WARNING := 1
export MPLBACKEND := Agg
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install serve build test budget bench-conv test-site check lint format bench bench-tensor bench-deps mutate evidence test-graphs torch vendor pyodide pyodide-if-missing clean

help:
	@echo "make serve   serve the guide at http://$(HOST):$(PORT) with live reload"
	@echo "make test    lint, the engines, every code block of every page, the notebooks (< 4 min)"
	@echo "make budget  the prose budget of every tutorial page (make test runs it)"
	@echo "make test-site  build the site strictly and visit every page in Chromium"
	@echo "make check   both (what CI runs)"
	@echo "make build   build the site into site/"
	@echo "make pyodide fetch Python for the browser (the Run buttons), once, into .cache/"
	@echo "make bench   benchmark the engines (scalar vs micrograd, tensor vs numpy/PyTorch)"
	@echo "make bench-tensor  only the tensor one (BENCH_TENSOR_ARGS=\"--quick --json F\")"
	@echo "make mutate  break each derivative rule in turn and check the guide's code blocks notice"
	@echo "make evidence  rerun the checks the evidence page reports (tools/results/verification.json)"
	@echo "make test-graphs  20,000 random graphs per engine against PyTorch"
	@echo "make torch   add PyTorch 2.13.0 (CPU) for the cross-check tests"
	@echo "make format  format the code with ruff"

# The environment is rebuilt when pyproject.toml changes, or when the venv's
# interpreter no longer runs (a moved or deleted Python).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "backprop needs Python 3.11 or newer, found " + sys.version.split()[0])'
	@if ! $(BIN)/python -c '' 2>/dev/null; then rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --quiet -e ".[dev]"
	@touch $@

install: $(STAMP)

serve: $(STAMP) pyodide-if-missing
	BACKPROP_SITE_URL=http://$(HOST):$(PORT)/ $(BIN)/mkdocs serve --dev-addr $(HOST):$(PORT) --livereload

build: $(STAMP) pyodide-if-missing
	$(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Two processes (the machines have two cores); tests that share the built site stay in one.
PYTEST_ARGS ?= -n 2 --dist loadgroup
THREADS := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

# One BLAS/OpenMP thread per test process: two processes on two cores, each spawning two
# BLAS threads, made matrix products tens of times slower on a busy machine.
test: lint budget
	$(THREADS) $(BIN)/python -m pytest $(PYTEST_ARGS) -m "not site"

# The prose budget of every tutorial page, counted outside code (tools/prose_budget.py):
# a main path of at most about 2,000 words, a whole page of at most about 3,000.
budget: $(STAMP)
	$(BIN)/python tools/prose_budget.py

# The site built with mkdocs --strict, checked for foreign hosts, and every page visited in
# Chromium (formulas typeset, figures drawn, no console errors, no requests elsewhere).
test-site: $(STAMP) pyodide-if-missing
	$(THREADS) $(BIN)/python -m pytest -m site

# Everything CI runs.
check: test test-site

# PyTorch is pinned: 2.13.0 is the CPU wheel on this machine's disk; any other
# version would download gigabytes of CUDA libraries.
torch: $(STAMP)
	$(BIN)/python -m pip install --quiet --quiet -e ".[torch]"

# The drift detector: every derivative rule broken in turn, against the docs' code
# blocks; writes the report the evidence page renders.
mutate: $(STAMP)
	$(BIN)/python tools/mutate.py --json tools/results/mutation.json $(MUTATE_ARGS)

# The verification report the evidence page shows: the coverage, random-graph, bad-input,
# numerics, scale and semantics tests in one run (needs `make torch`); written only if all pass.
evidence: $(STAMP)
	$(THREADS) $(BIN)/python tools/evidence.py $(EVIDENCE_ARGS)

# The long hunt: 20,000 random graphs per engine instead of make test's 1,000.
test-graphs: $(STAMP)
	$(THREADS) BACKPROP_GRAPH_EXAMPLES=20000 $(BIN)/python -m pytest -n 2 tests/test_random_graphs.py

# Each run rewrites the committed results that "Why a naive engine is slow" renders.
bench: bench-deps
	$(BIN)/python bench/bench.py --json bench/results/scalar.json
	$(BIN)/python bench/bench_tensor.py $(BENCH_TENSOR_ARGS)
	$(BIN)/python bench/bench_conv.py --threads 1 --json bench/results/conv.json

# conv2d forward and backward against hand-written numpy im2col and PyTorch.
bench-conv: bench-deps
	$(BIN)/python bench/bench_conv.py --threads 1 --json bench/results/conv.json

bench-tensor: bench-deps
	$(BIN)/python bench/bench_tensor.py $(BENCH_TENSOR_ARGS)

bench-deps: torch
	$(BIN)/python -m pip install --quiet --quiet -r bench/requirements.txt

# Refresh the self-hosted KaTeX and Mermaid with `npm pack`, and rebuild the Run
# blocks' code editor (needs npm): CodeMirror 6 at the exact versions of
# tools/codemirror/package-lock.json (npm ci), bundled by the pinned esbuild into one
# minified ES module, with the licences of every package it holds.
KATEX_VERSION   ?= 0.19.1
MERMAID_VERSION ?= 11.17.2
CODEMIRROR_SRC  := tools/codemirror
CODEMIRROR_OUT  := docs/assets/vendor/codemirror
vendor:
	rm -rf .cache/vendor && mkdir -p .cache/vendor
	cd .cache/vendor && npm pack --silent katex@$(KATEX_VERSION) mermaid@$(MERMAID_VERSION) \
	  && mkdir katex mermaid \
	  && tar xzf katex-$(KATEX_VERSION).tgz -C katex --strip-components=1 \
	  && tar xzf mermaid-$(MERMAID_VERSION).tgz -C mermaid --strip-components=1
	rm -rf docs/assets/vendor/katex docs/assets/vendor/mermaid
	mkdir -p docs/assets/vendor/katex/contrib docs/assets/vendor/katex/fonts docs/assets/vendor/mermaid
	cp .cache/vendor/katex/dist/katex.min.js .cache/vendor/katex/dist/katex.min.css .cache/vendor/katex/LICENSE docs/assets/vendor/katex/
	cp .cache/vendor/katex/dist/contrib/auto-render.min.js docs/assets/vendor/katex/contrib/
	cp .cache/vendor/katex/dist/fonts/*.woff2 docs/assets/vendor/katex/fonts/
	cp .cache/vendor/mermaid/dist/mermaid.min.js .cache/vendor/mermaid/LICENSE docs/assets/vendor/mermaid/
	mkdir -p .cache/vendor/codemirror
	cp $(CODEMIRROR_SRC)/package.json $(CODEMIRROR_SRC)/package-lock.json $(CODEMIRROR_SRC)/editor.js \
	  $(CODEMIRROR_SRC)/licenses.mjs .cache/vendor/codemirror/
	cd .cache/vendor/codemirror && npm ci --silent --no-audit --no-fund \
	  && npx --no-install esbuild editor.js --bundle --minify --format=esm --target=es2020 \
	     --legal-comments=none --outfile=codemirror.min.js --metafile=meta.json
	rm -rf $(CODEMIRROR_OUT) && mkdir -p $(CODEMIRROR_OUT)
	cp .cache/vendor/codemirror/codemirror.min.js $(CODEMIRROR_OUT)/
	cd .cache/vendor/codemirror && node licenses.mjs meta.json > LICENSE
	cp .cache/vendor/codemirror/LICENSE $(CODEMIRROR_OUT)/

# Python in the browser (the Run buttons): Pyodide fetched with `npm pack`, checked against
# the sha512 pinned in the script, into .cache/pyodide/. serve and build fetch it when it
# is missing, and build without it (the Run buttons then say to run `make pyodide`).
pyodide:
	$(PYTHON) tools/fetch_pyodide.py

pyodide-if-missing:
	@$(PYTHON) tools/fetch_pyodide.py --soft

clean:
	rm -rf site .cache .pytest_cache .ruff_cache .hypothesis
