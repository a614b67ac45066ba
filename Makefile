# HealthDash developer tasks.
#
# The virtualenv is installed from requirements.lock (exact pins exported from poetry.lock,
# main dependencies + the `dev` extra), so a fresh machine gets the locked versions.
# After changing dependencies in pyproject.toml, regenerate both lock files:
#   poetry lock
#   poetry export -f requirements.txt --without-hashes --extras dev -o requirements.lock
# (Poetry reads per-release metadata from the index's JSON API; where an index mirror serves
# only the simple API, `poetry lock` reports "Package X (version) not found".)
# On such a machine run `python3 tools/relock.py` instead: it installs the pinned Poetry into
# a throwaway venv under /tmp, lets it read release data from the simple JSON pages and the
# wheels themselves, then runs the two commands above and `poetry check --lock`. Existing pins
# are kept (no --regenerate). `python3 tools/relock.py --check` only verifies. Then
# `$(BIN)/pip install -r requirements.lock`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed.stamp

# Services used by the tests; override from the environment.
TEST_PG_ADMIN ?= postgresql://postgres@127.0.0.1:5432/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
CHROMIUM ?= /usr/bin/chromium
export TEST_PG_ADMIN TEST_REDIS_URL CHROMIUM

.PHONY: venv run test lint bench clean distclean

venv: $(STAMP)

# Reinstalls only when the lock file or the project metadata change.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q -e . --no-deps
	touch $(STAMP)

run: venv
	$(BIN)/healthdash init-db
	$(BIN)/healthdash seed-demo
	$(BIN)/healthdash run

test: venv
	$(BIN)/python -m playwright --version
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python -m bench.series

# Removes build and tool caches; keeps .venv and var/ (your data). `distclean` also drops .venv.
clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis bench/out
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
