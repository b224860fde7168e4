# access-bot: build with `docker build -t access-bot .`, run with
#   docker run --init -p 3000:3000 --env-file access-bot.env \
#     -v "$PWD/access-catalog.yaml:/app/access-catalog.yaml:ro" -v access-bot-data:/data access-bot
# and check a setup with the same environment: `docker run --rm --env-file access-bot.env ... access-bot access-bot check`.

# The base image (both stages) is pinned by digest, so a rebuild gets the same Node and Debian
# packages. Move the tag and the digest together, in both FROM lines and in .ci/node22 (NODE22,
# the Node the tests run on). The digest of node:22.23.3-bookworm-slim is the one published in
# waifu-devs/fuwa's Dockerfile (commit 77b8e7ab825aa90adcaa2a4fbb985d5b8c718bc6) and, for the
# same tag, in other public Dockerfiles; check with `docker buildx imagetools inspect <tag>`.

# ---- build: compile TypeScript and the better-sqlite3 addon, then drop dev dependencies ----
FROM node:22.23.3-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c AS build
# better-sqlite3 compiles from source when no prebuilt binary can be downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp takes the headers from the Node install instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /app

COPY package.json package-lock.json ./
# npm 10 (this image's) runs better-sqlite3's install script; npm 11 runs it only when allowed
# (package.json `allowScripts`). Either way the addon must load, or it is built here explicitly.
RUN npm ci --no-audit --no-fund \
 && (node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()" \
     || (cd node_modules/better-sqlite3 && npm run build-release)) \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"

# Only what tsconfig.build.json compiles: nothing else from the working tree (local .env files,
# keys) enters the build.
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && chmod 755 dist/src/cli.js

# ---- runtime: production dependencies, compiled code and migrations, as a non-root user ----
FROM node:22.23.3-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c
ENV NODE_ENV=production \
    DATABASE_PATH=/data/access-bot.db
WORKDIR /app

# Owned by root and read-only to the app: only /data is writable by it.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/migrations ./migrations

# `access-bot check` on the PATH (npm run check needs tsx, a dev dependency); /data for SQLite.
RUN ln -s /app/dist/src/cli.js /usr/local/bin/access-bot \
 && mkdir -p /data \
 && chown node:node /data
VOLUME /data

USER node
EXPOSE 3000
# No curl in the slim image: Node's own fetch asks /healthz (200 once migrated, listening and dispatching).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]

# The command `npm start` runs, without npm in between so SIGTERM reaches the bot directly.
CMD ["node", "dist/src/main.js"]
