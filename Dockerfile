# Coffer: S3-compatible encrypted object store with an embedded Key Protect compatible KMS.
# Build:  docker build -t coffer .
# Run:    docker run -p 9000:9000 -p 9001:9001 -v coffer-data:/data -v coffer-key:/keys coffer
# The master key sits in its own volume, apart from the data it decrypts.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY config ./config
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    COFFER_HOST=0.0.0.0 \
    COFFER_S3_PORT=9000 \
    COFFER_KMS_PORT=9001 \
    COFFER_DATA_DIR=/data \
    COFFER_MASTER_KEY_FILE=/keys/master.key
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
RUN mkdir -p /data /keys && chown node:node /data /keys && chmod 0700 /data /keys
USER node
VOLUME ["/data", "/keys"]
EXPOSE 9000 9001
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:9000/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
