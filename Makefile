# Everything a fresh machine with Python 3.11+ needs: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "AccessPlane needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Create the virtualenv, migrate the embedded SQLite database and serve with GraphiQL.
serve: $(STAMP)
	$(BIN)/accessplane serve

# The real OpenID Provider of the OIDC tests (npm package oidc-provider, pinned by its lockfile);
# reinstalled when the lockfile changes. Without npm the OIDC tests skip (and fail under CI=true).
OIDC_PROVIDER := tests/oidc/provider
OIDC_PROVIDER_STAMP := $(OIDC_PROVIDER)/node_modules/.installed

## Run the whole suite (SQLite; PostgreSQL too when ACCESSPLANE_TEST_DATABASE_URL is set).
test: $(STAMP) $(OIDC_PROVIDER_STAMP)
	$(BIN)/pytest

$(OIDC_PROVIDER_STAMP): $(OIDC_PROVIDER)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the OIDC tests will be skipped (they fail under CI=true)"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
