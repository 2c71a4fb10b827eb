# The reader's commands: `make book` and `make test` (see README.md).
PYTHON ?= python3
# the oldest Python the book supports (pyproject.toml: requires-python = ">=3.11")
MIN_PYTHON := 3.11
PY_OK := import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB     := $(BIN)/jupyter-book
NOTEBOOKS := $(sort $(wildcard chapters/*.ipynb))
# the notebooks as shell words, each single-quoted (a file name cannot inject a command)
NOTEBOOKS_Q := $(foreach nb,$(NOTEBOOKS),'$(subst ','\'',$(nb))')
# One BLAS thread per process: the experiments are batches of small (64 x 64) LAPACK calls,
# which OpenBLAS threading slows down by an order of magnitude on a busy 2-core machine;
# dsmlib parallelises over the batch itself where it pays.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: setup book test unit nbval nbval-perturbed check-notebooks build-strict browser lab lab-test bench execute clean train train-agnews train-mhc clean-venv latest FORCE

setup: $(STAMP)

# A .venv left by an older Python (or broken) is re-created: "stale" if it exists but its
# python does not run or is older than $(MIN_PYTHON).
VENV_STALE := $(shell if [ -e $(STAMP) ] || [ -e $(BIN)/python ]; then \
	$(BIN)/python -c '$(PY_OK)' >/dev/null 2>&1 || echo stale; fi)

$(STAMP): requirements.txt pyproject.toml $(if $(VENV_STALE),FORCE)
	@if [ -n "$(VENV_STALE)" ]; then \
	  echo "$(VENV) was made with a Python older than $(MIN_PYTHON) (or is broken): re-creating it"; \
	  rm -rf $(VENV); fi
	@if [ ! -x $(BIN)/python ]; then \
	  if ! command -v "$(PYTHON)" >/dev/null 2>&1; then \
	    echo "error: '$(PYTHON)' not found. The book needs Python >= $(MIN_PYTHON): install it and run e.g. 'make PYTHON=python3.12 setup'" >&2; \
	    exit 1; fi; \
	  if ! "$(PYTHON)" -c '$(PY_OK)'; then \
	    echo "error: the book needs Python >= $(MIN_PYTHON), but '$(PYTHON)' is $$("$(PYTHON)" -V 2>&1)." >&2; \
	    echo "       Run the set-up with a newer one, e.g. 'make PYTHON=python3.12 setup'." >&2; \
	    exit 1; fi; \
	  "$(PYTHON)" -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (dsm book .venv)" >/dev/null
	@touch $(STAMP)

## book: build the HTML book into _build/html (uses the notebooks' stored outputs; fails first
## if a notebook holds a stored error output, see check-notebooks)
book: setup check-notebooks
	$(JB) build . --keep-going
	@echo "Book built: file://$(CURDIR)/_build/html/index.html"

## test: unit tests, every notebook under strict nbval, a warnings-as-errors build, the browser
## tests of the HTML book and of a chapter in JupyterLab
test: setup unit nbval build-strict browser lab-test

unit: setup
	$(BIN)/python -m pytest tests -q -p no:cacheprovider

nbval: setup
	$(BIN)/python -m pytest --nbval --nbval-current-env chapters intro.ipynb -q -p no:cacheprovider --durations=5

## check-notebooks: fail if a notebook holds a stored error output (or a traceback on stderr);
## the book is built from stored outputs, where jupyter-book would render it and exit 0
check-notebooks: setup
	$(BIN)/python scripts/check_notebooks.py

## nbval-perturbed: the perturbed-numerics lane. Strict nbval of every notebook with a cold
## result cache (a fresh temporary DSMLIB_CACHE_DIR, removed afterwards), the numpy fallback
## instead of the numba kernels, two BLAS/OpenMP/dsmlib threads and, on x86-64, another CPU's
## code paths (OpenBLAS's Sandybridge kernels: AVX without FMA; numpy's SIMD dispatch capped at
## AVX2): the stored outputs must not depend on the code path, the summation order, the CPU or a
## warm cache (CI runs it after `make test`).
OTHER_CPU_ENV := $(if $(filter x86_64 amd64,$(shell uname -m)),OPENBLAS_CORETYPE=Sandybridge NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR")
PERTURBED_ENV := DSMLIB_KERNELS=0 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 DSMLIB_THREADS=2 $(OTHER_CPU_ENV)
nbval-perturbed: setup
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/dsmlib-perturbed.XXXXXX") || exit 1; \
	trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	echo "perturbed lane: $(PERTURBED_ENV) DSMLIB_CACHE_DIR=$$tmp (cold)"; \
	env -u DSMLIB_NO_CACHE $(PERTURBED_ENV) DSMLIB_CACHE_DIR="$$tmp" \
	  $(BIN)/python -m pytest --nbval --nbval-current-env chapters intro.ipynb -q -p no:cacheprovider --durations=5

build-strict: setup check-notebooks
	rm -rf _build/html _build/.doctrees
	$(JB) build . -W -n --keep-going
	@echo "Book built: file://$(CURDIR)/_build/html/index.html"

browser: setup
	$(BIN)/python scripts/browser_test.py _build/html

## lab: JupyterLab on the chapters with the .venv kernel and widgets
lab: setup
	$(BIN)/jupyter lab chapters

## lab-test: the README's "run one chapter" path in headless Chromium: chapter 2 in JupyterLab
## renders its MyST (maths, cross-references, folded solutions) and its live explorer redraws
## after a slider change (scripts/lab_test.py; skipped loudly without Chromium, fails in CI)
lab-test: setup
	$(BIN)/python scripts/lab_test.py

## bench: HT Exp. 1 sweep (Sinkhorn + sigma_2), dsmlib vs POT, ott-jax, numpy (and torch if
## installed): CPU-s and wall, median of 3, alternated; writes benchmarks/bench_sinkhorn.json
## (chapter 2). The comparison packages go into a separate .venv-bench, with the book's pins
## for what both share, so the book's own requirements stay lean.
BENCH := .venv-bench
BENCH_PKGS := POT==0.9.7.post1 ott-jax==0.6.0 jax==0.10.2 jaxlib==0.10.2
$(BENCH)/.installed: requirements.txt pyproject.toml
	@if [ ! -x $(BENCH)/bin/python ]; then $(BIN)/python -m venv $(BENCH); fi
	$(BENCH)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH)/bin/python -m pip install --quiet $$(grep -iE '^(numpy|scipy|matplotlib|ipywidgets|numba)==' requirements.txt) $(BENCH_PKGS)
	$(BENCH)/bin/python -m pip install --quiet --no-deps -e .
	@touch $@
bench: setup $(BENCH)/.installed
	$(BENCH)/bin/python benchmarks/bench_sinkhorn.py

## execute: re-run every notebook and store its outputs (after editing a chapter)
execute: setup
	$(BIN)/python scripts/execute_notebooks.py $(NOTEBOOKS_Q) intro.ipynb

## latest: the newest-dependencies lane. A fresh .venv-latest on the newest Python found
## (>= 3.11), `-e .` with the newest releases its declared ranges allow plus the test tools
## unpinned; prints the resolved versions, then the unit tests and strict nbval on every notebook.
LATEST := .venv-latest
LATEST_PYTHONS ?= python3.14 python3.13 python3.12 python3.11 python3
# not declared by dsmlib but needed by the tests and notebooks (POT: chapter 2's comparison;
# myst-nb: the notebooks' glue; mlxtend, scikit-learn: chapter 6's image data. JAX is only
# for training chapter 6's models, not for evaluating them: not installed here.)
LATEST_TOOLS := pytest nbval hypothesis ipykernel nbformat nbclient myst-nb POT mlxtend scikit-learn ml_dtypes
latest:
	@py=""; for c in $(LATEST_PYTHONS); do \
	  if command -v "$$c" >/dev/null 2>&1 && "$$c" -c '$(PY_OK)' 2>/dev/null; then py="$$c"; break; fi; done; \
	if [ -z "$$py" ]; then echo "error: no Python >= $(MIN_PYTHON) found (tried: $(LATEST_PYTHONS))" >&2; exit 1; fi; \
	echo "latest lane: $$py ($$("$$py" -V 2>&1))"; \
	rm -rf $(LATEST) && "$$py" -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e . $(LATEST_TOOLS)
	@echo "latest lane resolved:"; $(LATEST)/bin/python -V
	@$(LATEST)/bin/python -m pip list --format=freeze | grep -iE '^(numpy|scipy|matplotlib|ipywidgets|ipykernel|pytest|nbval|hypothesis|nbformat|nbclient|myst-nb|pot|mlxtend|scikit-learn)==' | sed 's/^/  /'
	$(LATEST)/bin/python -m pytest tests -q -p no:cacheprovider
	$(LATEST)/bin/python -m pytest --nbval --nbval-current-env chapters intro.ipynb -q -p no:cacheprovider --durations=5

## train: train chapter 6's ensemble (JAX; seeds $(ENSEMBLE_SEEDS) of MNIST and digits, Softmax and
## Sinkhorn) into dsmlib/trained/weights, one single-threaded process pinned to each of two cores,
## balanced (~70 CPU-min each per 6 seeds); models already stored with matching sha256 are skipped.
## Each model is one independent command (python -m dsmlib.trained.train ...), for any scheduler.
## Then RC-DS's registered second reading: the same seeds of Softmax in Sinkformers' MNIST setting
## (--setting sinkformers: 1 layer, 1 head, attention only; ~12 CPU-s each).
ENSEMBLE_SEEDS ?= 0 1 2 3 4 5 6 7
TRAIN := $(BIN)/python -m dsmlib.trained.train --skip-existing
train: setup
	( set -e; for s in $(ENSEMBLE_SEEDS); do $(TRAIN) --dataset mnist --normalisation sinkhorn --seed $$s --core 0; done ) & p0=$$!; \
	( set -e; for s in $(ENSEMBLE_SEEDS); do for m in "digits sinkhorn" "mnist softmax" "digits softmax"; do \
	    set -- $$m; $(TRAIN) --dataset $$1 --normalisation $$2 --seed $$s --core 1; done; done ) & p1=$$!; \
	wait $$p0 && wait $$p1
	set -e; for s in $(ENSEMBLE_SEEDS); do $(TRAIN) --setting sinkformers --normalisation softmax --seed $$s --core 0; done

## train-mhc: the trained mHC check (BK-MHCTRAIN, dsmlib/trained/MHC_PREREGISTRATION.md): seeds
## $(MHC_SEEDS) of the arms identity, mhc and mhc_lite on digits into dsmlib/trained/mhc_weights,
## seed-major, alternating between one single-threaded process pinned to each of two cores
## (about 2-3 CPU-min per model); models already stored with matching sha256 are skipped.
MHC_SEEDS ?= 0 1 2 3 4
TRAIN_MHC := $(BIN)/python -m dsmlib.trained.mhc_train --skip-existing --dataset digits
train-mhc: setup
	( set -e; i=0; for s in $(MHC_SEEDS); do for a in mhc mhc_lite identity; do \
	    if [ $$((i % 2)) -eq 0 ]; then $(TRAIN_MHC) --arm $$a --seed $$s --core 0; fi; i=$$((i + 1)); done; done ) & p0=$$!; \
	( set -e; i=0; for s in $(MHC_SEEDS); do for a in mhc mhc_lite identity; do \
	    if [ $$((i % 2)) -eq 1 ]; then $(TRAIN_MHC) --arm $$a --seed $$s --core 1; fi; i=$$((i + 1)); done; done ) & p1=$$!; \
	wait $$p0 && wait $$p1

## train-agnews: RC-F2 for readers who have AG's News (AGNEWS_DIR holds train.csv and test.csv):
## Softmax and Sinkhorn for each seed of $(AGNEWS_SEEDS), one single-threaded process pinned to each
## of two cores, into $(AGNEWS_OUT) (never dsmlib/trained/weights); stored models are skipped;
## then the path analysis and the two-arm test.
AGNEWS_DIR ?=
AGNEWS_SEEDS ?= 0 1
AGNEWS_OUT ?= agnews_weights
TRAIN_AGNEWS = $(BIN)/python -m dsmlib.trained.text_train --skip-existing --data "$(AGNEWS_DIR)" --out "$(AGNEWS_OUT)"
train-agnews: setup
	@test -n "$(AGNEWS_DIR)" || { echo "usage: make train-agnews AGNEWS_DIR=/path/to/ag_news_csv [AGNEWS_SEEDS=\"0 1\"]" >&2; exit 2; }
	( set -e; for s in $(AGNEWS_SEEDS); do $(TRAIN_AGNEWS) --normalisation softmax --seed $$s --core 0; done ) & p0=$$!; \
	( set -e; for s in $(AGNEWS_SEEDS); do $(TRAIN_AGNEWS) --normalisation sinkhorn --seed $$s --core 1; done ) & p1=$$!; \
	wait $$p0 && wait $$p1
	$(BIN)/python -m dsmlib.trained.agnews_analysis --weights "$(AGNEWS_OUT)" --json "$(AGNEWS_OUT)/analysis.json"

clean:
	rm -rf _build .cache .pytest_cache .hypothesis

## clean-venv: remove the virtual environments (start over: then `make setup`)
clean-venv:
	rm -rf $(VENV) $(LATEST) $(BENCH)

FORCE:
