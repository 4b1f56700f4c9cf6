/**
 * Start-up with COFFER_KMS_STORE_URL (in process, the same composition root as
 * `coffer server`): a data dir whose KMS state is in LevelDB is not silently
 * given a new, empty KMS in the database (refused, naming the way to keep it
 * local); `local` keeps it; and a second gateway on the same database serves
 * the first one's root keys and root credentials.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../../helpers/startGateway.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

describe('an embedded gateway with a shared KMS store', () => {
  it('refuses a data dir that holds a LevelDB key store when the database has none; `local` keeps it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'coffer-kmsstart-'));
    try {
      const first = await startTestGateway({ dataDir });
      const crn = await first.createRootKey('kept');
      await first.close({ keepData: true });
      const metaUrl = await server.createDatabase();
      await expect(startTestGateway({ dataDir, config: { metaUrl, kmsStoreUrl: metaUrl } })).rejects.toThrow(
        /COFFER_KMS_STORE_URL=local/,
      );
      // Keeping the KMS local (what `COFFER_KMS_STORE_URL=local` gives): the key is still there.
      const again = await startTestGateway({ dataDir, config: { metaUrl, kmsStoreUrl: 'local' } });
      try {
        expect(again.gateway.config.kmsStoreUrl).toBeUndefined();
        await expect(
          again.gateway.kms.local.service.getKey(crn.split(':')[7]!, crn.split(':')[9]!),
        ).resolves.toBeTruthy();
      } finally {
        await again.close({ keepData: true });
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await rm(`${dataDir}-master.key`, { force: true });
    }
  });

  // Blobs stay in each gateway's data dir here (no shared data tier): each writes and reads its own.
  it('a second gateway on the same database serves the first one’s root key and root credentials', async () => {
    const url = await server.createDatabase();
    const a = await startTestGateway({ config: { metaUrl: url, kmsStoreUrl: url } });
    const b = await startTestGateway({ config: { metaUrl: url, kmsStoreUrl: url } });
    try {
      expect(b.accountId).toBe(a.accountId);
      expect(b.defaultRootKeyCrn).toBe(a.defaultRootKeyCrn);
      const crn = await a.createRootKey('from-a');
      const s3b = b.client();
      await s3b.send(new CreateBucketCommand({ Bucket: 'shared-kms' }));
      await s3b.send(
        new PutObjectCommand({
          Bucket: 'shared-kms',
          Key: 'k',
          Body: 'hello',
          SSEKMSKeyId: crn,
          ServerSideEncryption: 'aws:kms',
        }),
      );
      const got = await s3b.send(new GetObjectCommand({ Bucket: 'shared-kms', Key: 'k' }));
      expect(await got.Body!.transformToString()).toBe('hello');
      expect(got.SSEKMSKeyId).toBe(crn);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
