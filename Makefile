# Quick start: `make run` (main job on the embedded default data) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run plan test lint bench bench-load install clean-cache
RUN_DB := $${OXYROUTE_DATABASE_URL:-sqlite:///$(CURDIR)/.cache/run/oxyroute.sqlite3}

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The main job: network, travel times, the HCMC plan for 20 August 2021 (the registry is seeded on the
# first run, in .cache/run), then the API and the map on http://127.0.0.1:8000/ until Ctrl-C.
run: $(STAMP)
	mkdir -p .cache/run
	OXYROUTE_DATABASE_URL=$(RUN_DB) $(VENV)/bin/oxyroute run --region hcmc --date 2021-08-20 --out out --serve

# The same without serving.
plan: $(STAMP)
	mkdir -p .cache/run
	OXYROUTE_DATABASE_URL=$(RUN_DB) $(VENV)/bin/oxyroute run --region hcmc --date 2021-08-20 --out out

test: $(STAMP)
	$(PY) -m pytest

# The gates .ci/run applies before the tests (and .pre-commit-config.yaml before a commit).
SOURCES := api.py cli.py commands web coordination matcher routing data
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict $(SOURCES)

bench: $(STAMP)
	$(PY) benchmarks/bench_matrix.py
	$(PY) benchmarks/bench_allocation.py
	$(PY) benchmarks/bench_vrp.py

# The deadline-peak load test (RELIABILITY.md): a fresh seeded registry, the real server, 50 locust users
# for 2 min. Locust gets its own venv (.venv-locust, created by the benchmark on first use): it pins
# gevent, Flask and Werkzeug versions the project's venv must not get.
bench-load: $(STAMP)
	$(PY) benchmarks/bench_load.py

clean-cache:
	rm -rf .cache
