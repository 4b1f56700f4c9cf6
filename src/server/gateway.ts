/**
 * Composition root of a running Coffer: opens the stores, the KMS and the
 * services, and starts the S3 listener. main.ts and the test helpers both call
 * startGateway, so tests run exactly the production wiring.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { IamCredentialStore } from '../iam/iamCredentialStore.js';
import { IamKeyAuthorizer } from '../iam/iamKeyAuthorizer.js';
import { openIam, type Iam } from '../iam/openIam.js';
import { loadRootIdentity, type RootIdentity } from '../iam/rootIdentity.js';
import { InstanceStateStore } from '../kms/api/instanceState.js';
import { AuditLog } from '../kms/audit.js';
import { formatBucketCrn, parseKeyCrn } from '../kms/crn.js';
import type { KeyAuthorizer } from '../kms/authorizer.js';
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
import { createKmsApp, listenKms } from './kmsApp.js';
import { createS3App } from './s3App.js';

export interface Gateway {
  config: Config;
  s3Url: string;
  root: RootIdentity;
  kms: EmbeddedKms;
  /** URL of the KMS REST API (Key Protect v2, /identity/token, /iam/v1). */
  kmsUrl: string;
  iam: Iam;
  audit: AuditLog;
  defaultRootKeyCrn: string;
  server: Server;
  close(): Promise<void>;
}

export async function startGateway(config: Config, log: Logger): Promise<Gateway> {
  const master = await loadMasterKey({ configured: config.masterKey || undefined, dataDir: config.dataDir, warn: (m) => log.warn(m) });
  // What opened so far, closed in reverse if a later step fails (a held LevelDB lock would block the next start).
  const opened: Array<() => Promise<unknown>> = [];
  try {
    // The IAM authorizer is bound once IAM is open: the KMS opens first because its
    // key check value is what refuses a wrong master key before anything is written.
    let iamAuthorizer: KeyAuthorizer | undefined;
    const authorizer: KeyAuthorizer = { canUse: async (t, k, r) => (iamAuthorizer ? iamAuthorizer.canUse(t, k, r) : false) };
    const audit = await AuditLog.open(join(config.dataDir, 'kms-audit.log'), { onError: (e) => log.warn('kms audit append failed', { err: e.message }) });
    opened.push(() => audit.close());
    const kms = await openEmbeddedKms({ dir: join(config.dataDir, 'kms'), masterKey: master.key, region: config.region, dekCacheTtlMs: config.dekCacheTtlSeconds * 1000, log, authorizer, audit });
    opened.push(() => kms.close());
    const root = await loadRootIdentity(config.dataDir, master.key, config.rootUser, config.rootPassword);
    const iam = await openIam({ dir: join(config.dataDir, 'iam'), masterKey: master.key, rootAccountId: root.accountId, configuredRootApiKey: config.rootApiKey });
    opened.push(() => iam.close());
    // The default key is usable by every tenant.
    const boot = await kms.local.provider.bootstrap();
    iamAuthorizer = new IamKeyAuthorizer(iam.access, { defaultKey: () => ({ instanceId: boot.instanceId, keyId: boot.keyId }) });
    await kms.ensureTenant(root.accountId);
    const defaultRootKeyCrn = await kms.provider.defaultRootKeyCrn({ tenant: root.accountId });
    const instanceState = await InstanceStateStore.open(join(config.dataDir, 'kms-instance'));
    opened.push(() => instanceState.close());
    const kmsListener = await listenKms(
      createKmsApp({ service: kms.local.service, iam, authorizer, state: instanceState, audit, log, region: config.region }),
      config.host,
      config.kmsPort,
    );
    opened.push(() => kmsListener.close());
    kms.url = kmsListener.url;
    const meta = await LevelMetaStore.open(join(config.dataDir, 'meta'));
    opened.push(() => meta.close());
    const blobs = await FsBlobStore.open(join(config.dataDir, 'blobs'));
    opened.push(async () => (blobs as BlobStore).close?.());
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
    // IAM accounts' access keys, with the root credentials first so they keep working as before.
    const credentials = new IamCredentialStore(iam.service, [
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
      kmsUrl: kmsListener.url,
      iam,
      audit,
      defaultRootKeyCrn,
      server,
      async close() {
        if (closed) return;
        closed = true;
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        await kmsListener.close();
        await meta.close();
        await (blobs as BlobStore).close?.();
        await kms.close();
        await instanceState.close();
        await iam.close();
        await audit.close();
      },
    };
  } catch (e) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw e;
  }
}
