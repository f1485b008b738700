#!/usr/bin/env bash
# Step 2 of the container image (Dockerfile, stage "build"), and of CI's
# rehearsal: copy what the running portal needs from a built checkout ($1)
# into $2, and install production dependencies only there. The web process
# (scripts/web.ts), the worker (scripts/worker.ts) and the migrations
# (scripts/migrate.ts) run from $2 with `node --import tsx`.
set -euo pipefail
src="$(cd "$1" && pwd)"
dest="$2"
mkdir -p "$dest"
cd "$src"
# The build (without its cache), the server code the scripts import, the
# migrations, the generated Prisma client (inside server/), and the manifests.
cp -Rp package.json package-lock.json tsconfig.json next.config.mjs server scripts prisma "$dest"/
mkdir -p "$dest/.next"
tar --exclude=./cache -C .next -cf - . | tar -C "$dest/.next" -xf -
cd "$dest"
npm ci --omit=dev --no-audit --no-fund
npm cache clean --force >/dev/null 2>&1 || true
