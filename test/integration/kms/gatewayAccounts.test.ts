/**
 * RemoteAccountDirectory (a split-mode gateway's account lookup for S3 ACL
 * grants) against a real KMS listener: an IAM account is found with its name,
 * an unknown id is not, a non-gateway caller is refused, and an unreachable
 * KMS is an error, never "no such account".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { RemoteAccountDirectory } from '../../../src/iam/remoteAccountDirectory.js';
import { KmsError } from '../../../src/keys/errors.js';
import { ServiceClient } from '../../../src/keys/serviceClient.js';
import { startKmsServer, type KmsServer } from '../../../src/server/kmsServer.js';
import { createLogger } from '../../../src/util/logger.js';
import { GATEWAY_APIKEY, ROOT_APIKEY, ROOT_SECRET, ROOT_USER } from './lifecycleKit.js';

describe('RemoteAccountDirectory against the KMS', () => {
  let dir: string;
  let kms: KmsServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-remote-accounts-'));
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
        masterKey: Buffer.alloc(32, 5).toString('base64'),
        logLevel: 'silent',
      },
    );
    kms = await startKmsServer(config, createLogger('silent'));
  });
  afterAll(async () => {
    await kms?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const directory = (apiKey: string) =>
    new RemoteAccountDirectory(new ServiceClient({ url: kms.url, apiKey, retries: 1, retryBaseMs: 1 }));

  it('finds an IAM account with its name, and no account for an unknown or malformed id', async () => {
    const { account } = await kms.iam.service.createAccount({ name: 'acl grantee' });
    const d = directory(GATEWAY_APIKEY);
    expect(await d.account(account.id)).toEqual({ id: account.id, displayName: 'acl grantee' });
    expect(await d.account('no-such-account')).toBeUndefined();
    expect(await d.account('a/b')).toBeUndefined();
  });

  it('a caller that is not the gateway identity gets an error, not "no such account"', async () => {
    const err = await directory(ROOT_APIKEY)
      .account(kms.root.accountId)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsError);
  });

  it('an unreachable KMS is KMS_UNAVAILABLE', async () => {
    const d = new RemoteAccountDirectory(
      new ServiceClient({ url: 'http://127.0.0.1:9', apiKey: GATEWAY_APIKEY, retries: 0, retryBaseMs: 1 }),
    );
    const err = await d.account('someone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsError);
    expect((err as KmsError).reason).toBe('KMS_UNAVAILABLE');
  });
});
