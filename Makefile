# Two commands: `make demo` trains the main job, `make test` runs the test suite.
# Both create .venv on first use and install the package with its extras.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Use the shared offline datasets when they sit beside the checkout and the user did not choose a root.
ifeq ($(TINYGRAD_CNN_DATA),)
ifneq ($(wildcard ../shared/data),)
export TINYGRAD_CNN_DATA := $(abspath ../shared/data)
endif
endif

.PHONY: demo test install clean bench docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m tinygrad_cnn demo

# One BLAS/OpenMP thread: on a shared 2-core machine spin-waiting BLAS threads slow everything down 10-100x.
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench.py

# The documentation site (mkdocs.yml) into site/: runs every tutorial notebook; strict: a broken link fails.
docs: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

clean:
	rm -rf $(VENV) build site *.egg-info
