# Lodestar. `make run` opens the dashboard, `make test` runs every test,
# `make lint` checks the code with ruff (configured in pyproject.toml).
# The first target of either sets up .venv from the pinned requirements.txt
# (again only when requirements.txt changes).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements
PORT := $(or $(STREAMLIT_SERVER_PORT),8501)
PYTEST_ARGS ?= -n auto --dist loadfile
BENCH ?= bench/bench.py

.PHONY: help venv run test lint demo bench team

help:
	@echo "make run    set up .venv, open the dashboard (port \$$STREAMLIT_SERVER_PORT or 8501)"
	@echo "make test   set up .venv, run all tests (unit, AppTest, browser) on DuckDB and PostgreSQL"
	@echo "make lint   set up .venv, check the code with ruff (pyproject.toml holds its rules)"
	@echo "make demo   write the demo company's files to data/demo/ and load them into the database"
	@echo "make bench  run the import and scorecard benchmark"
	@echo "make team   PostgreSQL, REPLICAS dashboards (default 2) and HAProxy on port \$$STREAMLIT_SERVER_PORT or 8501"

venv: $(STAMP)

# The stamp is newer than requirements.txt once its pins are installed.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Lodestar needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $(STAMP)

# The app loads the demo company itself when the database is empty.
# Streamlit reads STREAMLIT_SERVER_ADDRESS (and other STREAMLIT_*) from the environment.
run: venv
	$(PY) -m streamlit run app.py --server.port $(PORT)

# Tests that store data run twice, on DuckDB and on a PostgreSQL cluster each
# test process starts by itself when Debian's postgresql is installed (else those
# cases are skipped; LODESTAR_TEST_POSTGRES_URL names a server to use instead).
test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

demo: venv
	$(PY) data/generate_demo.py
	$(PY) -m kpi_logic demo

bench: venv
	$(PY) $(BENCH)

# A team's setup on one machine (deploy/team.py): PostgreSQL in data/team/,
# REPLICAS dashboards and HAProxy with sticky sessions on $(PORT), reached from
# this machine only unless TEAM_ADDRESS=0.0.0.0. Ctrl-C stops them all.
REPLICAS ?= 2
TEAM_ADDRESS ?= 127.0.0.1
team: venv
	$(PY) -m deploy.team --replicas $(REPLICAS) --port $(PORT) --address $(TEAM_ADDRESS)
