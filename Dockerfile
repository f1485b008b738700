# syntax=docker/dockerfile:1
# The portal as a container image: one image for the web process (default
# command), the worker (`node --import tsx scripts/worker.ts`) and the
# migrations (`node --import tsx scripts/migrate.ts`). See docs/deploy.md.
# Docker cannot run on the project's CI machines: CI runs the same two scripts
# on the plain machine instead (scripts/image/rehearse.sh).

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN bash scripts/image/build.sh && bash scripts/image/runtime.sh /src /out

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    LOG_FORMAT=json \
    NEXT_TELEMETRY_DISABLED=1 \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /out /app
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM starts a graceful stop (no new connections or jobs, work in flight
# finishes within SHUTDOWN_GRACE_SECONDS, default 20): give the container more
# than that before SIGKILL (`docker run --stop-timeout 30`; compose.yaml sets
# stop_grace_period). Node runs as PID 1 and handles the signal itself.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "scripts/web.ts"]
