#!/usr/bin/env bash
# The console's checks, run by `make test` after pytest: lint, strict types, unit tests, the
# build (with the first screen's gzip size) and the end-to-end tests in Debian's Chromium.
# Without npm or Chromium they skip, except under CI=true where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

missing=""
command -v npm >/dev/null 2>&1 || missing="npm (Node.js 20.19 or newer)"
[ -n "$missing" ] || [ -x "$CHROMIUM" ] || missing="Chromium at $CHROMIUM (apt-get install chromium)"
if [ -n "$missing" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "console checks need $missing" >&2
    exit 1
  fi
  echo "console checks skipped: $missing not found"
  exit 0
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1  # Playwright drives the system Chromium
npm ci --no-audit --no-fund --loglevel=error
npm run codegen --silent
npx eslint .
npx tsc --noEmit
npx vitest run
npm run build --silent
npx playwright test
