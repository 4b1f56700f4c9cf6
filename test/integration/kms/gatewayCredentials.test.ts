/**
 * RemoteCredentialStore (a split-mode gateway's S3 credentials) against a real
 * KMS listener: the root credentials and IAM access keys are found, answers are
 * cached for the TTL (a deleted access key stops working once it passes),
 * unknown ids are cached briefly, and an unreachable KMS is an error, never
 * "no such key".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { RemoteCredentialStore } from '../../../src/iam/remoteCredentialStore.js';
import { ServiceClient } from '../../../src/keys/serviceClient.js';
import { KmsError } from '../../../src/keys/errors.js';
import { startKmsServer, type KmsServer } from '../../../src/server/kmsServer.js';
import { createLogger } from '../../../src/util/logger.js';
import { GATEWAY_APIKEY, ROOT_APIKEY, ROOT_SECRET, ROOT_USER } from './lifecycleKit.js';

describe('RemoteCredentialStore against the KMS', () => {
  let dir: string;
  let kms: KmsServer;
  let now = 1_000_000;
  let store: RemoteCredentialStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-remote-creds-'));
    const config = loadConfig(
      {},
      {
        host: '127.0.0.1',
        s3Port: 0,
        kmsPort: 0,
        dataDir: dir,
        rootUser: ROOT_USER,
        rootPassword: ROOT_SECRET,
        rootApiKey: ROOT_APIKEY,
        gatewayApiKey: GATEWAY_APIKEY,
        masterKey: Buffer.alloc(32, 4).toString('base64'),
        logLevel: 'silent',
      },
    );
    kms = await startKmsServer(config, createLogger('silent'));
    store = new RemoteCredentialStore(
      new ServiceClient({ url: kms.url, apiKey: GATEWAY_APIKEY, retries: 1, retryBaseMs: 1 }),
      { ttlMs: 10_000, negativeTtlMs: 2_000, now: () => now },
    );
  });
  afterAll(async () => {
    await kms?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the root credentials and an account access key, with the principal the embedded gateway would use', async () => {
    expect(await store.lookup(ROOT_USER)).toEqual({
      secretAccessKey: ROOT_SECRET,
      principal: { accountId: kms.root.accountId, accessKeyId: ROOT_USER, displayName: 'root' },
    });
    const { account } = await kms.iam.service.createAccount({ name: 'creds tenant' });
    const key = await kms.iam.service.createS3AccessKey(account.id);
    expect(await store.lookup(key.accessKeyId)).toEqual({
      secretAccessKey: key.secretAccessKey,
      principal: { accountId: account.id, accessKeyId: key.accessKeyId, displayName: 'owner' },
    });
    expect(await kms.credentials.lookup(key.accessKeyId)).toEqual(await store.lookup(key.accessKeyId));
  });

  it('a deleted access key keeps working until the TTL passes, then is unknown; unknown ids are remembered briefly', async () => {
    const { account } = await kms.iam.service.createAccount({ name: 'revoked tenant' });
    const key = await kms.iam.service.createS3AccessKey(account.id);
    expect(await store.lookup(key.accessKeyId)).toBeDefined();
    await kms.iam.service.deleteS3AccessKey(key.accessKeyId);
    now += 9_000;
    expect(await store.lookup(key.accessKeyId)).toBeDefined();
    now += 1_001;
    expect(await store.lookup(key.accessKeyId)).toBeUndefined();

    expect(await store.lookup('CFNOTYETCREATED')).toBeUndefined();
    expect(await store.lookup('bad id with spaces')).toBeUndefined();
  });

  it('an unreachable KMS is a 503 KMS_UNAVAILABLE error once the cache has nothing, not an unknown key', async () => {
    const down = new RemoteCredentialStore(
      new ServiceClient({ url: 'http://127.0.0.1:9', apiKey: GATEWAY_APIKEY, retries: 1, retryBaseMs: 1 }),
    );
    const e = await down.lookup(ROOT_USER).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(KmsError);
    expect(e).toMatchObject({ status: 503, reason: 'KMS_UNAVAILABLE' });
  });
});
