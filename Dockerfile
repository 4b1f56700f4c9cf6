# Coffer: S3-compatible encrypted object store with an embedded Key Protect compatible KMS.
# Build:  docker build -t coffer .
# Run:    docker run -p 9000:9000 -v coffer-data:/data -v coffer-key:/keys coffer
# The master key sits in its own volume, apart from the data it decrypts.
#
# The KMS/IAM listener (9001) carries API keys and bearer tokens, so it binds
# loopback inside the container by default and is not published. To reach it
# from outside, give it TLS (coffer tls init writes a local CA and certificates):
#   docker run -p 9000:9000 -p 9001:9001 -v coffer-data:/data -v coffer-key:/keys \
#     -e COFFER_KMS_HOST=0.0.0.0 -e COFFER_TLS_CERT=/data/tls/server.crt \
#     -e COFFER_TLS_KEY=/data/tls/server.key coffer
# (a KMS listener beyond loopback without TLS refuses to start unless
# COFFER_KMS_INSECURE_HTTP=true).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# A C++ toolchain for pkcs11js (the optional HSM binding, a native addon built at install).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY config ./config
COPY src ./src
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# libuv's thread pool runs every file call and fsync (and LevelDB's reads and
# synced writes); its default of 4 threads makes small durable PUTs queue behind
# each other's fsyncs. It must be set before node starts: the ESM loader uses it.
ENV NODE_ENV=production \
    UV_THREADPOOL_SIZE=16 \
    COFFER_HOST=0.0.0.0 \
    COFFER_KMS_HOST=127.0.0.1 \
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
EXPOSE 9000
# With TLS on, the health check speaks HTTPS to itself (the certificate need not name 127.0.0.1 for it).
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "const t=!!process.env.COFFER_TLS_CERT;require(t?'https':'http').get({host:'127.0.0.1',port:9000,path:'/health',rejectUnauthorized:false},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
