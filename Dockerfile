# surfacescan: the API server. Build: docker build -t surfacescan .
# Run:   docker run -p 8001:8001 surfacescan
#        docker run -p 8001:8001 -v $PWD/env.json:/data/env.json surfacescan serve --cloud-env /data/env.json
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
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
USER node
EXPOSE 8001
HEALTHCHECK --interval=10s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:8001/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["serve"]
