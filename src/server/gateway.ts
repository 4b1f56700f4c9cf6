/**
 * Composition root of a running Coffer in embedded mode: the KMS side
 * (kmsServer.ts: key store, IAM, audit, the KMS REST listener) and the S3 side
 * (s3Server.ts) in one process, the S3 side using the KMS through
 * LocalKeyProvider and receiving its lifecycle events (a disable drops cached
 * DEKs before the call returns; a rotate rewraps every bucket DEK under the key).
 * main.ts, `coffer server` and the test helpers all call startGateway, so tests
 * run exactly the production wiring. Split mode (remoteGateway.ts) runs the same
 * S3 side against a KMS in another process.
 */
import { IamAccountDirectory } from './iamAccountDirectory.js';
import type { Server } from 'node:http';
import type { Config } from '../config.js';
import type { Iam } from '../iam/openIam.js';
import type { RootIdentity } from '../iam/rootIdentity.js';
import type { AuditLog } from '../kms/audit.js';
import type { MetaStore } from '../meta/MetaStore.js';
import type { BlobFs } from '../storage/blobFs.js';
import type { BucketService } from '../services/bucketService.js';
import type { Logger } from '../util/logger.js';
import type { EmbeddedKms } from './embeddedKms.js';
import { LevelMetaStore } from '../meta/levelMetaStore.js';
import { guardDataDir, storesOf } from './dataDir.js';
import { startKmsServer } from './kmsServer.js';
import { startS3Server } from './s3Server.js';

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
  /** The master key file in use; absent when the key came from COFFER_MASTER_KEY. */
  masterKeyFile?: string;
  server: Server;
  meta: MetaStore;
  buckets: BucketService;
  /** Resolves when the eager rewraps started by rotations so far have finished. */
  rewrapsSettled(): Promise<void>;
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  /** The KMS clock (tests cross Key Protect's 30 s / 4 h / 30 d rules with a manual one). */
  kmsNow?: () => number;
  /** The blob stores' file system (tests inject disk faults through it; default node:fs). */
  blobFs?: BlobFs;
}

export async function startGateway(config: Config, log: Logger, opts: StartGatewayOptions = {}): Promise<Gateway> {
  // One check of the data dir for both sides: a fresh dir is fresh for all its stores at once.
  const dataDir = await guardDataDir(config.dataDir, storesOf(config, { kms: true, s3: true }));
  const kms = await startKmsServer(config, log, { dataDir, ...(opts.kmsNow ? { now: opts.kmsNow } : {}) });
  let s3;
  try {
    s3 = await startS3Server({
      config,
      log,
      keys: kms.kms.provider,
      dekCache: kms.kms.dekCache,
      credentials: kms.credentials,
      accounts: new IamAccountDirectory(kms.iam.service),
      keyEvents: kms.kms.local.provider,
      dataDir,
      isAdmin: (id) => id === kms.root.accessKeyId,
      ...(opts.blobFs ? { blobFs: opts.blobFs } : {}),
    });
  } catch (e) {
    await kms.close().catch(() => undefined);
    throw e;
  }
  // The metadata store goes into POST /admin/v1/backup with the KMS's (PostgreSQL is backed up with its own tools).
  if (s3.meta instanceof LevelMetaStore) {
    const meta = s3.meta;
    kms.backup.add('meta', () => meta.snapshot());
  }
  try {
    await dataDir.ready();
  } catch (e) {
    await s3.close().catch(() => undefined);
    await kms.close().catch(() => undefined);
    throw e;
  }
  let closed = false;
  return {
    config,
    s3Url: s3.url,
    root: kms.root,
    kms: kms.kms,
    kmsUrl: kms.url,
    iam: kms.iam,
    audit: kms.audit,
    defaultRootKeyCrn: kms.defaultRootKeyCrn,
    ...(kms.masterKeyFile !== undefined ? { masterKeyFile: kms.masterKeyFile } : {}),
    server: s3.server,
    meta: s3.meta,
    buckets: s3.buckets,
    rewrapsSettled: () => s3.rewrapsSettled(),
    async close() {
      if (closed) return;
      closed = true;
      await s3.close();
      await kms.close();
    },
  };
}
