# The reader's commands: `make book` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB     := $(BIN)/jupyter-book
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))
# One BLAS thread per process: the experiments are batches of small (64 x 64) LAPACK calls,
# which OpenBLAS threading slows down by an order of magnitude on a busy 2-core machine;
# dsmlib parallelises over the batch itself where it pays.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup book test unit nbval build-strict browser lab bench execute clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (dsm book .venv)" >/dev/null
	@touch $(STAMP)

## book: build the HTML book into _build/html (uses the notebooks' stored outputs)
book: setup
	$(JB) build . --keep-going
	@echo "Book built: file://$(CURDIR)/_build/html/index.html"

## test: unit tests, every notebook under strict nbval, a warnings-as-errors build, the browser test
test: setup unit nbval build-strict browser

unit: setup
	$(BIN)/python -m pytest tests -q -p no:cacheprovider

nbval: setup
	$(BIN)/python -m pytest --nbval --nbval-current-env chapters intro.ipynb -q -p no:cacheprovider --durations=5

build-strict: setup
	rm -rf _build/html _build/.doctrees
	$(JB) build . -W -n --keep-going
	@echo "Book built: file://$(CURDIR)/_build/html/index.html"

browser: setup
	$(BIN)/python scripts/browser_test.py _build/html

## lab: JupyterLab on the chapters with the .venv kernel and widgets
lab: setup
	$(BIN)/jupyter lab chapters

## bench: HT Exp. 1 sweep, dsmlib vs POT vs a per-trial loop (chapter 2)
bench: setup
	$(BIN)/python benchmarks/bench_sinkhorn.py

## execute: re-run every notebook and store its outputs (after editing a chapter)
execute: setup
	$(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS) intro.ipynb

clean:
	rm -rf _build .cache .pytest_cache .hypothesis
