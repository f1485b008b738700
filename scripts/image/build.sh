#!/usr/bin/env bash
# Step 1 of the container image (Dockerfile, stage "build"), and of CI's
# plain-machine rehearsal of it (scripts/image/rehearse.sh): install every
# dependency, generate the Prisma client, make the production build.
set -euo pipefail
cd "${1:-.}"
export NEXT_TELEMETRY_DISABLED=1
npm ci --no-audit --no-fund
node scripts/prisma-generate.mjs
npx next build
