/**
 * Which MetaStore and BlobStore a gateway runs on. Embedded mode (the default)
 * keeps both in the data dir: LevelDB in meta/, blob files in blobs/. Scale-out
 * gateways share them instead: COFFER_META_URL selects PostgreSQL,
 * COFFER_DATA_S3_ENDPOINT an S3 cluster. The shared stores' modules are loaded
 * only when configured, so embedded start-up is unchanged.
 */
import { join } from 'node:path';
import type { Config } from '../config.js';
import { LevelMetaStore } from '../meta/levelMetaStore.js';
import type { MetaStore } from '../meta/MetaStore.js';
import type { BlobStore } from '../storage/BlobStore.js';
import type { FsBlobStoreOptions } from '../storage/fsBlobStore.js';
import { ErasureBlobStore } from '../storage/erasure/erasureBlobStore.js';
import { openBlobStore as openDriveStore } from '../storage/openBlobStore.js';
import type { Logger } from '../util/logger.js';
import { openingStore } from './dataDir.js';

export async function openMetaStore(config: Config, log: Logger): Promise<MetaStore> {
  if (!config.metaUrl) {
    const dir = join(config.dataDir, 'meta');
    return openingStore(dir, 'meta', () => LevelMetaStore.open(dir));
  }
  const { PgMetaStore } = await import('../meta/pg/pgMetaStore.js');
  const { reportingUnavailable } = await import('../meta/pg/pgUnavailable.js');
  // A database that is down answers 503 (clients retry), not 500.
  const store = reportingUnavailable(
    await PgMetaStore.open(config.metaUrl, {
      onConnectionError: (e) => log.warn('metadata database connection lost', { err: e.message }),
    }),
  );
  // Never the URL: it may carry a password.
  log.info('metadata store: PostgreSQL');
  return store;
}

export interface OpenedBlobStore {
  blobs: BlobStore;
  /**
   * True when other gateways write to the same store. The start-up garbage
   * sweep must then not run: a blob another gateway has written but not yet
   * committed metadata for looks exactly like an orphan.
   */
  shared: boolean;
}

/** `io`: read chunk and write buffer sizes, chosen by the caller from the stream format (the stores know nothing of it). */
export async function openBlobStore(
  config: Config,
  log: Logger,
  io: FsBlobStoreOptions = {},
): Promise<OpenedBlobStore> {
  if (!config.dataS3Endpoint) {
    // COFFER_DRIVES: one drive is the plain layout, two or more erasure-coded; none = <data>/blobs.
    const blobs = await openDriveStore(config.drives ?? [join(config.dataDir, 'blobs')], config.parity ?? 0, io);
    // Erasure-coded drives are locked while the server runs: `coffer heal`/`scrub` refuse then, and a running heal stops this start.
    if (blobs instanceof ErasureBlobStore) await blobs.lock('server');
    return { blobs, shared: false };
  }
  const { S3BlobStore } = await import('../storage/s3BlobStore.js');
  const blobs = await S3BlobStore.open({
    endpoint: config.dataS3Endpoint,
    bucket: config.dataS3Bucket ?? '',
    accessKeyId: config.dataS3AccessKey ?? '',
    secretAccessKey: config.dataS3SecretKey ?? '',
    region: config.dataS3Region ?? 'us-east-1',
    ...(io.readChunkBytes !== undefined ? { readChunkBytes: io.readChunkBytes } : {}),
  });
  // Host only: an endpoint URL could carry user info.
  log.info('data tier: S3', { host: new URL(config.dataS3Endpoint).host, bucket: config.dataS3Bucket });
  return { blobs, shared: true };
}
