/**
 * Split mode over a shared KMS store: two `coffer kms` processes (the built CLI)
 * on one throwaway PostgreSQL and master key, and a split-mode gateway that
 * talks to the first. A root key made through the second KMS protects the
 * gateway's bucket, and a disable made through the second reaches the gateway
 * over the first one's event stream (the feed is the database's, so its
 * sequence numbers are the same whichever KMS a gateway follows).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  access,
  createKpBucket,
  GATEWAY_APIKEY,
  Kp,
  ROOT_APIKEY,
  ROOT_SECRET,
  ROOT_USER,
  s3Client,
  timeUntil,
} from './lifecycleKit.js';
import { banner, CLI, startCli, stopCli, type CliProcess } from '../../helpers/cliProcess.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';

describe('two KMS processes on one shared store, a split-mode gateway on one of them', () => {
  let dir: string;
  let pgServer: TestPostgres;
  const procs: CliProcess[] = [];
  const kmsUrls: string[] = [];
  const instances: string[] = [];
  let s3: S3Client;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
    dir = await mkdtemp(join(tmpdir(), 'coffer-kms2-'));
    pgServer = await startPostgres();
    const url = await pgServer.createDatabase();
    const shared = {
      COFFER_KMS_PORT: '0',
      COFFER_KMS_STORE_URL: url,
      COFFER_MASTER_KEY: randomBytes(32).toString('base64'),
      COFFER_ROOT_USER: ROOT_USER,
      COFFER_ROOT_PASSWORD: ROOT_SECRET,
      COFFER_ROOT_APIKEY: ROOT_APIKEY,
      COFFER_GATEWAY_APIKEY: GATEWAY_APIKEY,
    };
    for (const n of [1, 2]) procs.push(startCli(['kms'], { ...shared, COFFER_DATA_DIR: join(dir, `kms${n}`) }));
    for (const [i, p] of procs.entries()) {
      kmsUrls.push(await banner(p, /KMS API:\s+(http:\/\/127\.0\.0\.1:\d+)/, `kms ${i + 1}`));
      instances.push(await banner(p, /Root KMS instance:\s+(\S+)/, `kms ${i + 1}`));
    }
    const gw = startCli(['server', '--kms-url', kmsUrls[0]!], {
      COFFER_S3_PORT: '0',
      COFFER_DATA_DIR: join(dir, 'gw'),
      COFFER_GATEWAY_APIKEY: GATEWAY_APIKEY,
      COFFER_DEK_CACHE_TTL_SECONDS: '30',
    });
    procs.push(gw);
    s3 = s3Client(await banner(gw, /S3 endpoint:\s+(http:\/\/127\.0\.0\.1:\d+)/, 'gateway'));
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    const codes = [];
    for (const p of procs.reverse()) codes.push(await stopCli(p));
    await pgServer?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
    expect(codes).toEqual([0, 0, 0]);
  });

  it('a key made through KMS 2 protects the bucket; its disable through KMS 2 reaches the gateway on KMS 1', async () => {
    // One KMS: the same root instance through both.
    expect(instances[0]).toBe(instances[1]);
    const kp2 = new Kp(kmsUrls[1]!, ROOT_APIKEY, instances[1]!);
    const key = await kp2.createRootKey('via-kms-2');
    await createKpBucket(s3, 'split-shared', key.crn);
    await s3.send(new PutObjectCommand({ Bucket: 'split-shared', Key: 'o', Body: 'x' }));
    expect((await access(s3, 'split-shared')).get).toBe('200');
    expect((await kp2.req('POST', `/keys/${key.id}/actions/disable`)).status).toBe(204);
    const refused = await timeUntil(
      () => access(s3, 'split-shared'),
      (a) => a.get !== '200',
      20_000,
      50,
    );
    expect(refused.result.get).toMatch(/^403 /);
  });
});
