#!/usr/bin/env bash
# npm test: the whole suite — types, unit + integration (Vitest, real Postgres,
# real simulator over HTTP), then the browser tests (Playwright, Chromium)
# against a fresh production build. Ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
export NEXT_TELEMETRY_DISABLED=1
reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
node scripts/prisma-generate.mjs
echo "== typecheck"
npx tsc --noEmit
echo "== unit and integration tests"
npx vitest run --reporter=default --reporter=json --outputFile.json="$reports/vitest.json"
echo "== production build"
npx next build
echo "== browser tests"
PLAYWRIGHT_JSON_OUTPUT_NAME="$reports/playwright.json" npx playwright test --reporter=list,json
node scripts/lib/test-summary.mjs "$reports/vitest.json" "$reports/playwright.json" "$(( $(date +%s) - started ))"
