# flashback as a container image: `docker build -t flashback .`
# Usage and the Kubernetes manifests that run it: docs/docker.md, deploy/kubernetes/.

# Build stage: better-sqlite3 compiles a native addon on install when no
# prebuilt binary fits, so the toolchain node-gyp needs is here and only here.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The manifests first: the dependency layer is rebuilt only when they change.
# npm ci runs the install scripts of better-sqlite3 and esbuild (package.json
# "allowScripts" names them for npm versions that ask).
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: the same Debian release as the build stage, so the compiled
# better-sqlite3 addon finds the glibc it was linked against.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY scenarios ./scenarios
# The node image's unprivileged user (uid 1000). Recordings and run.json
# files live on a mounted volume (/data by convention), not in the image;
# /data is the user's own so a run without a volume can still write its
# default reports/ there.
RUN mkdir /data && chown node:node /data
USER node
WORKDIR /data
ENTRYPOINT ["node", "/app/bin/flashback.js"]
CMD ["--help"]
