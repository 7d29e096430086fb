# Everything a fresh machine with Python 3.11+ needs: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint format bench clean console console-check fuzz

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "AccessPlane needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Create the virtualenv, build the console, migrate the embedded SQLite database and serve.
serve: $(STAMP) console
	$(BIN)/accessplane serve

# The console (console/, docs/console.md): rebuilt into the Python package when its sources or
# lockfile change. Without npm the API is served all the same, without the console.
CONSOLE_DIST := src/accessplane/console_dist
CONSOLE_STAMP := $(CONSOLE_DIST)/.built
CONSOLE_INSTALLED := console/node_modules/.installed
CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) \
	$(wildcard console/*.html console/*.ts console/*.js console/package.json) schema.graphql

console:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(CONSOLE_STAMP); \
	else \
		echo "npm not found: serving the API without the console."; \
		echo "Install Node.js 20.19+ (with npm) and run make serve again to get the console at /."; \
	fi

$(CONSOLE_INSTALLED): console/package-lock.json
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix console --no-audit --no-fund --loglevel=error
	touch $@

$(CONSOLE_STAMP): $(CONSOLE_INSTALLED) $(CONSOLE_SOURCES)
	npm run build --prefix console --silent
	touch $@

# The real OpenID Provider of the OIDC tests (npm package oidc-provider, pinned by its lockfile);
# reinstalled when the lockfile changes. Without npm the OIDC tests skip (and fail under CI=true).
OIDC_PROVIDER := tests/oidc/provider
OIDC_PROVIDER_STAMP := $(OIDC_PROVIDER)/node_modules/.installed

## Run the whole suite (SQLite; PostgreSQL too when ACCESSPLANE_TEST_DATABASE_URL is set).
test: $(STAMP) $(OIDC_PROVIDER_STAMP)
	$(BIN)/pytest
	$(MAKE) --no-print-directory console-check

## The console's lint, types, unit tests, build and end-to-end tests (skipped without npm or
## Chromium, except under CI=true).
console-check: $(STAMP)
	console/scripts/check.sh

$(OIDC_PROVIDER_STAMP): $(OIDC_PROVIDER)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the OIDC tests will be skipped (they fail under CI=true)"; \
	fi

## The property-based sweep of every GraphQL operation, with many more (randomized) examples
## than the suite's bounded run (SQLite; PostgreSQL too when ACCESSPLANE_TEST_DATABASE_URL is set).
fuzz: $(STAMP)
	ACCESSPLANE_SWEEP_PROFILE=long $(BIN)/pytest tests/api/test_sweep.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
