/**
 * The S3 side of Coffer, the same in both deployment modes: the metadata and
 * blob stores, the services, the S3 Koa app and its HTTP listener. What differs
 * between modes is handed in: the KeyProvider (LocalKeyProvider in process, or
 * RemoteKeyProvider over HTTP), the DEK cache, and the CredentialStore.
 *
 * When the provider delivers lifecycle events (embedded mode), a 'rotate'
 * rewraps the DEK of every bucket under that key at once (BucketService.rewrapAll);
 * otherwise the next unwrap after the DEK cache TTL rewraps lazily.
 *
 * Files in the data dir: meta/ (LevelDB), blobs/ (shard files), unless
 * COFFER_DRIVES puts the blobs on drives of their own or the stores are shared
 * ones (stores.ts: PostgreSQL metadata, an S3 data tier).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import type { CredentialStore } from '../auth/credentials.js';
import type { Config } from '../config.js';
import { DEFAULT_SEGMENT_LOG2, TAG_SIZE } from '../crypto/index.js';
import { formatBucketCrn, parseKeyCrn } from '../keys/crn.js';
import type { DekCache } from '../keys/dekCache.js';
import type { KeyEvent, KeyProvider } from '../keys/KeyProvider.js';
import type { MetaStore } from '../meta/MetaStore.js';
import { errorXml } from '../s3/middleware/errors.js';
import { S3Error } from '../s3/errors.js';
import { NO_ACCOUNTS, type AccountDirectory } from '../services/accessControl.js';
import { BucketService } from '../services/bucketService.js';
import { ListService } from '../services/listService.js';
import { sweepGarbage } from '../services/garbageSweep.js';
import { SharedGarbageCollector } from '../services/sharedGarbage.js';
import { hasGarbageQueue } from '../meta/garbageQueue.js';
import { MultipartService } from '../services/multipartService.js';
import { LifecycleWorker } from '../services/lifecycleWorker.js';
import { fileProgress } from './lifecycleProgress.js';
import { ObjectService, ObjectSseKeys } from '../services/objectService.js';
import type { BlobFs } from '../storage/blobFs.js';
import type { FsBlobStoreOptions } from '../storage/fsBlobStore.js';
import type { Logger } from '../util/logger.js';
import { BackgroundHealer } from '../storage/erasure/backgroundHealer.js';
import { ErasureBlobStore } from '../storage/erasure/erasureBlobStore.js';
import { FsBlobStore } from '../storage/fsBlobStore.js';
import type { BlobStore } from '../storage/BlobStore.js';
import { healthDocument } from './healthDetail.js';
import { createListener, listenerTls, listenerUrl } from './listenerTls.js';
import { createS3App } from './s3App.js';
import { guardDataDir, storesOf, type DataDirGuard } from './dataDir.js';
import { openBlobStore, openMetaStore } from './stores.js';

/**
 * Blob file I/O sized to the stream format (storage knows nothing of it): reads
 * of four default-size segments with their tags (a range read starts on a
 * segment boundary, so a reader mostly gets whole segments in one chunk and
 * need not copy them together), and writes that may queue four segments so the
 * file stream batches them (writev) instead of one thread-pool round trip per
 * segment. The default segment size, not config.segmentLog2: a 16 MiB segment
 * setting must not make every read 64 MiB.
 */
function blobIoSizes(): FsBlobStoreOptions {
  const segment = 2 ** DEFAULT_SEGMENT_LOG2;
  return { readChunkBytes: 4 * (segment + TAG_SIZE), writeBufferBytes: 4 * segment };
}

function blobStoreKind(blobs: BlobStore, shared: boolean): string {
  if (blobs instanceof ErasureBlobStore) return 'erasure';
  if (blobs instanceof FsBlobStore) return 'files';
  return shared ? 's3' : 'other';
}

/** Instance segment of the bucket CRNs registered on root keys. */
export const GATEWAY_INSTANCE = 'coffer-s3';

export interface S3ServerDeps {
  config: Config;
  log: Logger;
  keys: KeyProvider;
  dekCache: DekCache;
  credentials: CredentialStore;
  /** Lifecycle events of the KMS, when it delivers them (embedded mode). */
  keyEvents?: Pick<KeyProvider, 'onKeyEvent'>;
  /** The data dir as the caller checked it (embedded gateway); absent: checked here and marked ready once open. */
  dataDir?: DataDirGuard;
  /** Admin access keys, for GET /health?detail=1; default: the configured root user's. */
  isAdmin?: (accessKeyId: string) => boolean;
  /** The accounts ACL grants may name (embedded: IAM's); absent: none but the requester's own and the owners'. */
  accounts?: AccountDirectory;
  /** The file system of the on-disk blob stores (default node:fs; tests inject disk faults through it). */
  blobFs?: BlobFs;
}

export interface S3Server {
  url: string;
  server: Server;
  meta: MetaStore;
  buckets: BucketService;
  /** Resolves when every eager rewrap started so far has finished. */
  rewrapsSettled(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3Server(d: S3ServerDeps): Promise<S3Server> {
  const { config, log } = d;
  const opened: Array<() => Promise<unknown>> = [];
  const tls = listenerTls(config, false);
  try {
    const guard = d.dataDir ?? (await guardDataDir(config.dataDir, storesOf(config, { kms: false, s3: true })));
    const meta = await openMetaStore(config, log);
    opened.push(() => meta.close());
    const { blobs, shared } = await openBlobStore(config, log, {
      ...blobIoSizes(),
      ...(d.blobFs ? { fs: d.blobFs } : {}),
    });
    opened.push(async () => blobs.close?.());
    // A shared data tier is never swept at start-up: another gateway's write in flight would look like an orphan.
    if (!shared) {
      const swept = await sweepGarbage(meta, blobs);
      if (swept.orphans || swept.tempFiles) log.info('garbage sweep', { ...swept });
      if (swept.failed) log.warn('garbage sweep could not remove some files; the next start retries', { ...swept });
    }
    // Erasure-coded drives get the background healer (off the request path, rate-limited).
    let healer: BackgroundHealer | undefined;
    if (blobs instanceof ErasureBlobStore) {
      healer = new BackgroundHealer(blobs, {
        rateBytesPerSec: (config.healRateMiBps ?? 16) * 1024 * 1024,
        scrubIntervalMs: (config.scrubIntervalSeconds ?? 86_400) * 1000,
        log: log.child({ component: 'healer' }),
      });
      opened.push(() => healer!.stop());
    }
    const buckets = new BucketService({
      meta,
      keys: d.keys,
      dekCache: d.dekCache,
      region: config.region,
      bucketCrn: (owner, name) => formatBucketCrn({ account: owner, instance: GATEWAY_INSTANCE, bucket: name }),
      validateKeyCrn: (crn) => void parseKeyCrn(crn),
      log,
    });
    // A shared tier is collected by every gateway together, through the metadata database's queue.
    const garbage =
      shared && hasGarbageQueue(meta)
        ? new SharedGarbageCollector({
            meta,
            queue: meta.garbage,
            blobs,
            holder: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
            graceMs: (config.gcGraceSeconds ?? 600) * 1000,
            sweepEveryMs: (config.gcSweepSeconds ?? 3600) * 1000,
            tickMs: Math.min(30_000, Math.max(250, ((config.gcGraceSeconds ?? 600) * 1000) / 4)),
            log: log.child({ component: 'gc' }),
          })
        : undefined;
    if (garbage) opened.push(() => garbage.stop());
    const sse = new ObjectSseKeys({ keys: d.keys, dekCache: d.dekCache, buckets });
    const objects = new ObjectService({
      meta,
      blobs,
      buckets,
      segmentLog2: config.segmentLog2,
      log,
      sse,
      ...(garbage ? { deferDelete: garbage.deferDelete } : {}),
    });
    const multipart = new MultipartService({ meta, blobs, buckets, objects, segmentLog2: config.segmentLog2 });
    const lists = new ListService({ meta, buckets });
    // Lifecycle rules applied in the background (off with COFFER_LIFECYCLE_SCAN_SECONDS=0).
    const lifecycle =
      config.lifecycleScanSeconds > 0
        ? new LifecycleWorker({
            meta,
            objects,
            multipart,
            progress: fileProgress(config.dataDir, log),
            dayMs: config.lifecycleDaySeconds * 1000,
            intervalMs: config.lifecycleScanSeconds * 1000,
            ratePerSecond: config.lifecycleRate,
            log: log.child({ component: 'lifecycle' }),
          })
        : undefined;

    // Eager rewrap on rotation; tracked so close() waits for it before closing the stores.
    const rewraps = new Set<Promise<unknown>>();
    let stopping = false;
    d.keyEvents?.onKeyEvent?.((e: KeyEvent) => {
      if (e.type !== 'rotate' || stopping) return;
      const p = buckets
        .rewrapAll(e.keyCrn)
        .then((r) => {
          if (r.rewrapped || r.failed)
            log.info('rewrapped bucket DEKs after a key rotation', {
              keyCrn: e.keyCrn,
              keyVersion: e.keyVersion,
              ...r,
            });
        })
        .catch((err: unknown) => log.warn('eager rewrap failed', { keyCrn: e.keyCrn, err: (err as Error).message }))
        .finally(() => rewraps.delete(p));
      rewraps.add(p);
    });

    const app = createS3App({
      config,
      services: { buckets, objects, multipart, lists, accounts: d.accounts ?? NO_ACCOUNTS },
      credentials: d.credentials,
      log,
      isAdmin: d.isAdmin ?? ((id) => config.rootUser !== '' && id === config.rootUser),
      health: () => healthDocument({ blobStore: blobStoreKind(blobs, shared), healer }),
    });
    // No overall request timeout (a 5 GiB upload may take long), but a socket on
    // which nothing moves for idleTimeoutSeconds is closed: the request's body
    // stream then errors and the write leaves nothing behind.
    const handler = app.callback();
    const server = createListener(
      { maxHeaderSize: config.maxHeaderBytes, requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 },
      handler,
      tls,
    );
    // Expect: by default Node answers 100 Continue before the app has seen the
    // request, and 417 to any other expectation. Both go to the app instead: it
    // sends 100 Continue once the request is authenticated and its body wanted
    // (s3App), and refuses other expectations as S3 does. A response sent
    // without the 100 closes the connection (Node), so no unsent body is awaited.
    server.on('checkContinue', handler);
    server.on('checkExpectation', handler);
    server.setTimeout(config.idleTimeoutSeconds * 1000, (socket) => socket.destroy());
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Node answers bad requests with a bare status line; S3 clients want XML (s3cmd falls back to SigV2 on a 400 without a body).
      if (!socket.writable || (socket as unknown as { _httpMessage?: unknown })._httpMessage) return socket.destroy();
      const e =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? new S3Error('RequestHeaderSectionTooLarge')
          : new S3Error('InvalidRequest', 'The request could not be parsed.');
      const body = errorXml(e, '/', randomBytes(8).toString('hex').toUpperCase());
      socket.end(
        `HTTP/1.1 ${e.status === 500 ? 400 : e.status} Bad Request\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.s3Port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (!d.dataDir) await guard.ready();
    healer?.start();
    garbage?.start();
    lifecycle?.start();
    const url = listenerUrl(server, tls !== undefined);
    const settled = async () => {
      while (rewraps.size) await Promise.allSettled([...rewraps]);
    };
    let closed = false;
    return {
      url,
      server,
      meta,
      buckets,
      rewrapsSettled: settled,
      async close() {
        if (closed) return;
        closed = true;
        stopping = true;
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
        await lifecycle?.stop();
        await settled();
        await healer?.stop();
        await meta.close();
        await blobs.close?.();
      },
    };
  } catch (e) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw e;
  }
}
