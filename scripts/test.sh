#!/usr/bin/env bash
# npm test: the whole suite — types, unit + integration (Vitest, real Postgres,
# real simulator over HTTP), then the browser tests (Playwright, Chromium)
# against a fresh production build.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
export NEXT_TELEMETRY_DISABLED=1
node scripts/prisma-generate.mjs
echo "== typecheck"
npx tsc --noEmit
echo "== unit and integration tests"
npx vitest run
echo "== production build"
npx next build
echo "== browser tests"
npx playwright test
echo "npm test: every suite passed in $(( $(date +%s) - started )) s"
