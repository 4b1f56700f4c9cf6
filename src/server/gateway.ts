/**
 * Composition root of a running Coffer: opens the stores, the KMS and the
 * services, and starts the S3 listener. main.ts and the test helpers both call
 * startGateway, so tests run exactly the production wiring.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { StaticCredentialStore } from '../auth/credentials.js';
import type { Config } from '../config.js';
import { loadRootIdentity, type RootIdentity } from '../iam/rootIdentity.js';
import { formatBucketCrn, parseKeyCrn } from '../kms/crn.js';
import { loadMasterKey } from '../kms/masterKey.js';
import { LevelMetaStore } from '../meta/levelMetaStore.js';
import { errorXml } from '../s3/middleware/errors.js';
import { S3Error } from '../s3/errors.js';
import { BucketService } from '../services/bucketService.js';
import { sweepGarbage } from '../services/garbageSweep.js';
import { MultipartService } from '../services/multipartService.js';
import { ObjectService } from '../services/objectService.js';
import type { BlobStore } from '../storage/BlobStore.js';
import { FsBlobStore } from '../storage/fsBlobStore.js';
import type { Logger } from '../util/logger.js';
import { openEmbeddedKms, type EmbeddedKms } from './embeddedKms.js';
import { createS3App } from './s3App.js';

export interface Gateway {
  config: Config;
  s3Url: string;
  root: RootIdentity;
  kms: EmbeddedKms;
  defaultRootKeyCrn: string;
  server: Server;
  close(): Promise<void>;
}

export async function startGateway(config: Config, log: Logger): Promise<Gateway> {
  const master = await loadMasterKey({ configured: config.masterKey || undefined, dataDir: config.dataDir, warn: (m) => log.warn(m) });
  const kms = await openEmbeddedKms({ dir: join(config.dataDir, 'kms'), masterKey: master.key, region: config.region, dekCacheTtlMs: config.dekCacheTtlSeconds * 1000, log });
  const root = await loadRootIdentity(config.dataDir, master.key, config.rootUser, config.rootPassword);
  await kms.ensureTenant(root.accountId);
  const defaultRootKeyCrn = await kms.provider.defaultRootKeyCrn({ tenant: root.accountId });
  const meta = await LevelMetaStore.open(join(config.dataDir, 'meta'));
  const blobs = await FsBlobStore.open(join(config.dataDir, 'blobs'));
  const swept = await sweepGarbage(meta, blobs);
  if (swept.orphans || swept.tempFiles) log.info('garbage sweep', { ...swept });
  const buckets = new BucketService({
    meta,
    keys: kms.provider,
    dekCache: kms.dekCache,
    region: config.region,
    bucketCrn: (owner, name) => formatBucketCrn({ account: owner, instance: kms.gatewayInstance, bucket: name }),
    validateKeyCrn: (crn) => void parseKeyCrn(crn),
    log,
  });
  const objects = new ObjectService({ meta, blobs, buckets, segmentLog2: config.segmentLog2, log });
  const multipart = new MultipartService({ meta, blobs, buckets, objects, segmentLog2: config.segmentLog2 });
  const credentials = new StaticCredentialStore([
    { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey, principal: { accountId: root.accountId, accessKeyId: root.accessKeyId, displayName: 'root' } },
  ]);
  const app = createS3App({ config, services: { buckets, objects, multipart, meta, blobs }, credentials, log });
  const server = createServer({ maxHeaderSize: config.maxHeaderBytes, requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 }, app.callback());
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Node answers bad requests with a bare status line; S3 clients want XML (s3cmd falls back to SigV2 on a 400 without a body).
    if (!socket.writable || (socket as unknown as { _httpMessage?: unknown })._httpMessage) return socket.destroy();
    const e = err.code === 'HPE_HEADER_OVERFLOW' ? new S3Error('RequestHeaderSectionTooLarge') : new S3Error('InvalidRequest', 'The request could not be parsed.');
    const body = errorXml(e, '/', randomBytes(8).toString('hex').toUpperCase());
    socket.end(`HTTP/1.1 ${e.status === 500 ? 400 : e.status} Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.s3Port, config.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const s3Url = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  let closed = false;
  return {
    config,
    s3Url,
    root,
    kms,
    defaultRootKeyCrn,
    server,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await meta.close();
      await (blobs as BlobStore).close?.();
      await kms.close();
    },
  };
}
