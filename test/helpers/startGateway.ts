/**
 * Start a real Coffer gateway on an ephemeral port with a temporary data dir.
 * The same composition root as `npm start` (src/server/gateway.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { loadConfig, type Config } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';
import type { BlobFs } from '../../src/storage/blobFs.js';
import { createLogger, type Logger } from '../../src/util/logger.js';

export interface TestGateway {
  gateway: Gateway;
  s3Url: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  dataDir: string;
  defaultRootKeyCrn: string;
  /** URL of the KMS REST API (Key Protect v2 under /api/v2, POST /identity/token, /iam/v1). */
  kmsUrl: string;
  /** The root account owner's API key for the KMS API. */
  rootApiKey: string;
  /** An @aws-sdk/client-s3 client with default settings (checksums WHEN_SUPPORTED), path-style. */
  client(overrides?: Partial<S3ClientConfig>): S3Client;
  /** Create a customer root key in the embedded KMS owned by the root tenant; returns its CRN. */
  createRootKey(name?: string): Promise<string>;
  /** Stop the server (and delete the data dir unless keepData). */
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export async function startTestGateway(
  opts: {
    dataDir?: string;
    config?: Partial<Config>;
    /** The blob stores' file system (a FaultyFs to inject disk faults). */
    blobFs?: BlobFs;
    /** Where the server logs (default: a logger at COFFER_TEST_LOG, silent unless set). */
    log?: Logger;
  } = {},
): Promise<TestGateway> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'coffer-test-')));
  const config = loadConfig(
    {},
    {
      host: '127.0.0.1',
      s3Port: 0,
      kmsPort: 0,
      dataDir,
      rootUser: 'TESTROOTACCESSKEY',
      rootPassword: 'test-root-secret-key-0123456789',
      masterKey: Buffer.alloc(32, 7).toString('base64'),
      // Used only when a test clears masterKey; next to the data dir, never in the developer's home.
      masterKeyFile: `${dataDir}-master.key`,
      rootApiKey: 'test-root-apikey-0123456789abcdef',
      logLevel: (process.env.COFFER_TEST_LOG as Config['logLevel']) ?? 'silent',
      ...opts.config,
    },
  );
  const gateway = await startGateway(
    config,
    opts.log ?? createLogger(config.logLevel),
    opts.blobFs ? { blobFs: opts.blobFs } : {},
  );
  const clients: S3Client[] = [];
  return {
    gateway,
    s3Url: gateway.s3Url,
    region: config.region,
    accessKeyId: gateway.root.accessKeyId,
    secretAccessKey: gateway.root.secretAccessKey,
    accountId: gateway.root.accountId,
    dataDir,
    defaultRootKeyCrn: gateway.defaultRootKeyCrn,
    kmsUrl: gateway.kmsUrl,
    rootApiKey: gateway.iam.rootApiKey ?? '',
    client(overrides) {
      const c = new S3Client({
        endpoint: gateway.s3Url,
        region: config.region,
        forcePathStyle: true,
        credentials: { accessKeyId: gateway.root.accessKeyId, secretAccessKey: gateway.root.secretAccessKey },
        ...overrides,
      });
      clients.push(c);
      return c;
    },
    createRootKey: (name = 'test-root-key') => gateway.kms.createRootKey(gateway.root.accountId, name),
    async close(o) {
      for (const c of clients) c.destroy();
      await gateway.close();
      if (!o?.keepData && !opts.dataDir) {
        await rm(dataDir, { recursive: true, force: true });
        await rm(`${dataDir}-master.key`, { force: true });
      }
    },
  };
}
