#!/usr/bin/env bash
# CI's stand-in for `docker build` + `docker run` (no Docker engine on CI):
# the Dockerfile's two steps on the plain machine, in the same order, on a
# copy of the committed tree; then the pruned runtime folder (production
# dependencies only) runs the portal: migrations, web, worker, simulator.
# Passes when /api/health, /api/ready and /signin answer 200 from it.
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d /tmp/image-rehearsal.XXXXXX)"
chmod 755 "$work"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== image rehearsal: the committed tree in $work/src"
mkdir -p "$work/src"
git archive HEAD | tar -C "$work/src" -xf -
echo "== step 1: scripts/image/build.sh"
bash scripts/image/build.sh "$work/src" > "$work/build.log" 2>&1 || { tail -50 "$work/build.log"; exit 1; }
echo "== step 2: scripts/image/runtime.sh"
bash scripts/image/runtime.sh "$work/src" "$work/app" > "$work/runtime.log" 2>&1 || { tail -50 "$work/runtime.log"; exit 1; }
rm -rf "$work/src"
# (Not @playwright/test, typescript or prisma: other packages name them as optional peers, which npm installs.)
for dev in vitest s3rver oidc-provider @axe-core/playwright smtp-server; do
  if [ -e "$work/app/node_modules/$dev" ]; then echo "the runtime folder holds a development dependency: $dev"; exit 1; fi
done
echo "   runtime folder: $(du -sh "$work/app" | cut -f1)"

port=3890
echo "== the runtime folder runs the portal (port $port)"
(
  cd "$work/app"
  exec env NODE_ENV=production PORT=$port EMBEDDED_PG_PORT=54890 SIMULATOR_PORT=4890 DATA_DIR="$work/data" \
    node --import tsx scripts/start.ts
) > "$work/start.log" 2>&1 &
pid=$!
ready=""
for _ in $(seq 1 120); do
  if ! kill -0 "$pid" 2>/dev/null; then cat "$work/start.log"; echo "the portal exited"; exit 1; fi
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/api/ready"; then ready=1; break; fi
  sleep 1
done
[ -n "$ready" ] || { cat "$work/start.log"; curl -sS "http://127.0.0.1:$port/api/ready" || true; echo; echo "not ready within 120 s"; exit 1; }
for path in /api/health /api/ready /signin; do
  code=$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port$path")
  echo "   GET $path -> $code"
  [ "$code" = 200 ] || { cat "$work/start.log"; exit 1; }
done
echo "image rehearsal passed"
