# Quick start:  make demo   (installs into .venv, then runs the main job)
#               make test   (installs into .venv, then runs the test suite)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-fast bench clean-venv

# The pinned lock first (torch first of all, so its CPU build is used), then this package, editable:
# `alchemist` on the PATH of the venv, and `import alchemist` from anywhere.
$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (snorkel 0.10)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

install: $(VENV)/.installed

demo: install
	$(PY) main.py demo

# The whole suite (what CI runs), about 12 minutes on 2 cores after the install; test-fast leaves out the
# tests marked slow (real terminals, Dask clusters, a browser, a clone, a wheel build): about 6 minutes.
test: install
	$(VENV)/bin/pytest -q

test-fast: install
	$(VENV)/bin/pytest -q -m "not slow"

bench: install
	$(PY) bench/bench_apply.py --rows 100000 --programs 10
	$(PY) bench/bench_apply.py --rows 1000000 --programs 50
	$(PY) bench/bench_slow_program.py
	$(PY) bench/bench_label_models.py
	$(PY) bench/bench_end_to_end.py
	$(PY) bench/bench_dask.py
	$(PY) bench/bench_concurrency.py
	$(PY) bench/bench_clip.py
	$(PY) bench/bench_import.py

clean-venv:
	rm -rf $(VENV)
