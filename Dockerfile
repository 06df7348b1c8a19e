# surfacescan: one image for every role. Build: docker build -t surfacescan .
# Run:   docker run -p 8001:8001 surfacescan                       (serve: API + job workers, SQLite)
#        docker run -p 8001:8001 -v $PWD/env.json:/data/env.json surfacescan serve --cloud-env /data/env.json
#        docker run surfacescan migrate | serve --role api | worker  (with SURFACESCAN_DATABASE_URL
#        and SURFACESCAN_REDIS_URL set; see docs/deploy.md and compose.yaml)
FROM node:22-bookworm-slim AS build
# Compilers for better-sqlite3, in case no prebuilt binary can be downloaded for this platform;
# they stay in this stage, the final image only gets the built module.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts are skipped (the package's own `prepare` needs the sources, copied below); the one
# native dependency is then built on its own.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3
COPY . .
RUN npm run build

FROM build AS prod-deps
RUN npm prune --omit=dev

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    SURFACESCAN_HOST=0.0.0.0 \
    SURFACESCAN_PORT=8001
COPY --from=prod-deps /app/package.json /app/package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/examples ./examples
# Bundled data (exposure policies, provider ranges). Note: a volume mounted on /app/data hides
# these files (a named volume keeps the copy of its first start), see docs/issues.md.
COPY --from=build --chown=node:node /app/data ./data
# The default database is sqlite:./data/surfacescan.db; mount a volume here to keep it.
RUN chown node:node /app/data
USER node
EXPOSE 8001
# Probes the HTTP server (serve); compose.yaml disables it for `worker` and `migrate`.
HEALTHCHECK --interval=10s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:8001/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
