# syntax=docker/dockerfile:1
# MCP Gateway container image.
#   docker build -t mcp-gateway .
#   docker run --rm -p 3000:3000 -e MCP_GATEWAY_AUTH=dev-insecure -v mcp-gateway-data:/data mcp-gateway
# Checked offline by test/container-image.test.ts (stages, user, entrypoint against the tsc output).

# Both stages start from the same image, so better-sqlite3's native addon is compiled against the very glibc
# and Node ABI it runs with. Node 20 LTS: the project's engines floor is 20.19.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Compilers for better-sqlite3. It is built from source below instead of downloading a prebuilt binary, so the
# build needs only the npm registry and Debian's packages; the headers are the ones shipped with this Node.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
# Install scripts are skipped (dev tools such as wrangler's runtime need none to compile TypeScript); the one
# native addon the server needs is then built explicitly.
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 --build-from-source
# vite.config.ts: the web console's build (src/ui/ bundled into dist/ui/, served at /ui/), the second half of
# `npm run build`; React and Vite are build-time only, so the pruned runtime image carries just the bundle.
COPY tsconfig.json tsconfig.build.json vite.config.ts ./
COPY src ./src
# Read by the build only: the CLI's API types (type-only imports, nothing of it is emitted).
COPY generated ./generated
# Shipped with the server, and read by the build too (the edge entry imports the SQLite journal).
COPY migrations ./migrations
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to Node and reaps orphaned grandchildren of local MCP server processes (the
# process deployer), which Node itself never waits for. The gateway's user has a fixed numeric id, so
# Kubernetes can verify runAsNonRoot; /data holds the SQLite registry and the generated gateway secret (`secret`)
# by default, readable by that user only, and the home directory is where `npx`-started MCP servers keep their
# npm cache.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 mcp-gateway \
  && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/mcp-gateway \
    --shell /usr/sbin/nologin mcp-gateway \
  && mkdir -m 700 /data \
  && chown 10001:10001 /data
WORKDIR /app
# Application files stay owned by root: the gateway's user can read them but not change them.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The registry looks for migrations/ in the folders above dist/, so it sits beside dist/.
COPY --from=build /app/migrations ./migrations
ENV NODE_ENV=production \
  PORT=3000 \
  MCP_GATEWAY_HOST=0.0.0.0 \
  DATABASE_URL=/data/mcp-gateway.db
USER 10001:10001
EXPOSE 3000
# Node itself makes the request: slim images have no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
