# syntax=docker/dockerfile:1
#
# One image per service, all built from the same workspace build:
#   docker build --target gateway    -t shallot-gateway .
#   docker build --target ingest     -t shallot-ingest .
#   docker build --target search     -t shallot-search .
#   docker build --target management -t shallot-management .
#   docker build --target job-runner -t shallot-job-runner .
#   docker build --target suite      -t shallot-suite .      (all in one process, SQLite + bundled redis-server)
# docker-compose.yml builds the five services and runs them behind the gateway.
#
# Every image keeps the workspace layout (/app/services/<name>/dist/main.js), holds only compiled JavaScript and
# production dependencies, runs as the unprivileged `node` user and listens on 0.0.0.0. Configuration comes only
# from the SHALLOT_* / REDIS_URL / ELASTICSEARCH_URL variables (packages/core/src/config.ts).

ARG NODE_IMAGE=node:24-bookworm-slim
ARG PNPM_VERSION=12.4.2

# ---------------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
ARG PNPM_VERSION
RUN npm i -g pnpm@${PNPM_VERSION} && npm cache clean --force
WORKDIR /app

# ---------------------------------------------------------------------------------------------------------------
# build: full install from the lockfile, compile, then prune to production dependencies and lay out /out.
FROM base AS build
# better-sqlite3 is a native addon: when no prebuilt binary matches, node-gyp builds it against the image's headers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV CI=true \
    npm_config_nodedir=/usr/local

# Dependencies first: `pnpm fetch` needs only the lockfile, downloads every package into the store and builds
# better-sqlite3 there, so this layer is reused until the lockfile changes. Then the sources.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN --mount=type=cache,id=shallot-pnpm-store,target=/pnpm/store \
    pnpm fetch --store-dir /pnpm/store
COPY . .
# --prefer-offline, not --offline: the cache mount may have been emptied since the fetch layer was cached.
RUN --mount=type=cache,id=shallot-pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --prefer-offline --store-dir /pnpm/store
RUN pnpm exec tsc -b

# Drop devDependencies (TypeScript, tap, biome, types…) from node_modules, then copy only what runs:
# manifests, dist/ and the node_modules links of every workspace package.
RUN --mount=type=cache,id=shallot-pnpm-store,target=/pnpm/store \
    pnpm prune --prod --store-dir /pnpm/store
RUN set -eu; \
    mkdir -p /out; \
    cp -a package.json node_modules /out/; \
    for dir in packages/* services/* suite; do \
      [ -f "$dir/package.json" ] || continue; \
      mkdir -p "/out/$dir"; \
      cp -a "$dir/package.json" "$dir/dist" "/out/$dir/"; \
      if [ -d "$dir/node_modules" ]; then cp -a "$dir/node_modules" "/out/$dir/"; fi; \
    done; \
    find /out -path '*/dist/*' \( -name '*.tsbuildinfo' -o -name '*.d.ts' -o -name '*.d.ts.map' \) -delete

# ---------------------------------------------------------------------------------------------------------------
# runtime: what every service image shares.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SHALLOT_HOST=0.0.0.0 \
    SHALLOT_DATA_DIR=/data
WORKDIR /app
# The data dir holds blobs (uploads, job files and logs) and, when SHALLOT_SECRET_KEY is unset, the signing key.
RUN mkdir -p /data && chown node:node /data
COPY --from=build --chown=root:root /out/ /app/
USER node
VOLUME ["/data"]
STOPSIGNAL SIGTERM
# Liveness: GET /health on the port this process listens on (each target sets SHALLOT_PORT).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.SHALLOT_PORT+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# ---------------------------------------------------------------------------------------------------------------
FROM runtime AS ingest
ENV SHALLOT_PORT=8081
EXPOSE 8081
CMD ["node", "services/ingest/dist/main.js"]

FROM runtime AS search
ENV SHALLOT_PORT=8082
EXPOSE 8082
CMD ["node", "services/search/dist/main.js"]

FROM runtime AS management
ENV SHALLOT_PORT=8083
EXPOSE 8083
CMD ["node", "services/management/dist/main.js"]

FROM runtime AS job-runner
ENV SHALLOT_PORT=8084
EXPOSE 8084
CMD ["node", "services/job-runner/dist/main.js"]

# The all-in-one deployment: every service in one process on SQLite under /data. Without REDIS_URL it starts the
# bundled redis-server under the data dir; set REDIS_URL to use an external Redis instead.
FROM runtime AS suite
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*
USER node
ENV SHALLOT_PORT=8080
EXPOSE 8080
CMD ["node", "suite/dist/main.js"]

# Last, so that a plain `docker build .` produces the gateway.
FROM runtime AS gateway
ENV SHALLOT_PORT=8080
EXPOSE 8080
CMD ["node", "services/gateway/dist/main.js"]
