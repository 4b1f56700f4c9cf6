/**
 * Split mode: `coffer kms` in one process, `coffer server --kms-url` in another
 * (the built CLI, ephemeral ports, temporary data dirs), S3 spoken to the
 * server, the key lifecycle driven through the KMS API. The gateway
 * authenticates as the KMS's gateway identity, acts for each tenant with
 * x-coffer-tenant, and looks S3 credentials up at the KMS (which owns IAM).
 * Without pushed events, a disable or delete reaches S3 within the DEK cache
 * TTL (2 s here).
 *
 * The second half runs the same two composition roots in this process with a
 * manual KMS clock, for the effects that need Key Protect's 30 s / 4 h rules to
 * pass (enable, restore, purge), lazy rewrap after a rotation, and a KMS outage.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { startKmsServer, type KmsServer } from '../../../src/server/kmsServer.js';
import { startRemoteGateway, type RemoteGateway } from '../../../src/server/remoteGateway.js';
import { createLogger } from '../../../src/util/logger.js';
import { bucketName, expectSdkError } from '../../helpers/s3Test.js';
import { call, identityWithRole, reasonOf, tokenFor } from './kmsHttp.js';
import {
  access,
  cosClient,
  createKpBucket,
  DAY,
  GATEWAY_APIKEY,
  HOUR,
  Kp,
  ROOT_APIKEY,
  ROOT_SECRET,
  ROOT_USER,
  s3Client,
  SEC,
  timeUntil,
} from './lifecycleKit.js';

const CLI = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const TTL_S = 2;
const DATA = 'split-mode data';

interface Proc {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [CLI, ...args], {
    // The master key file next to the data dir, in the test's temp dir: never the developer's home.
    env: {
      PATH: process.env.PATH ?? '',
      ...(env.COFFER_DATA_DIR ? { COFFER_MASTER_KEY_FILE: `${env.COFFER_DATA_DIR}-master.key` } : {}),
      COFFER_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function banner(p: Proc, pattern: RegExp, what: string, ms = 20_000): Promise<string> {
  const t0 = Date.now();
  for (;;) {
    const m = pattern.exec(p.out());
    if (m?.[1]) return m[1];
    if (p.child.exitCode !== null || Date.now() - t0 > ms)
      throw new Error(`${what} did not start: ${p.err() || p.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(p: Proc | undefined): Promise<number | null | undefined> {
  if (!p) return undefined;
  if (p.child.exitCode === null) p.child.kill('SIGTERM');
  const code = await Promise.race([p.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
  if (code === 'hung') {
    p.child.kill('SIGKILL');
    return p.exited;
  }
  return code;
}

describe('split mode: coffer kms + coffer server --kms-url as separate processes', () => {
  let dir: string;
  let kms: Proc | undefined;
  let server: Proc | undefined;
  let kmsUrl: string;
  let s3Url: string;
  let s3: S3Client;
  let kp: Kp;
  let rootAccount: string;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does it first)`);
    dir = await mkdtemp(join(tmpdir(), 'coffer-split-'));
    kms = start(['kms'], {
      COFFER_DATA_DIR: join(dir, 'kms'),
      COFFER_KMS_PORT: '0',
      COFFER_ROOT_USER: ROOT_USER,
      COFFER_ROOT_PASSWORD: ROOT_SECRET,
      COFFER_ROOT_APIKEY: ROOT_APIKEY,
      COFFER_GATEWAY_APIKEY: GATEWAY_APIKEY,
    });
    kmsUrl = await banner(kms, /KMS API:\s+(http:\/\/127\.0\.0\.1:\d+)/, 'coffer kms');
    rootAccount = await banner(kms, /Root account:\s+(\S+)/, 'coffer kms');
    server = start(['server', '--kms-url', kmsUrl], {
      COFFER_DATA_DIR: join(dir, 'gateway'),
      COFFER_S3_PORT: '0',
      COFFER_GATEWAY_APIKEY: GATEWAY_APIKEY,
      COFFER_DEK_CACHE_TTL_SECONDS: String(TTL_S),
    });
    s3Url = await banner(server, /S3 endpoint:\s+(http:\/\/127\.0\.0\.1:\d+)/, 'coffer server --kms-url');
    s3 = s3Client(s3Url);
    const token = await tokenFor(kmsUrl, ROOT_APIKEY);
    const { json } = await call<{ instances: Array<{ id: string; account: string }> }>(
      kmsUrl,
      token,
      'GET',
      '/iam/v1/instances',
    );
    kp = new Kp(kmsUrl, ROOT_APIKEY, json.instances.find((i) => i.account === rootAccount)!.id);
  });

  afterAll(async () => {
    s3?.destroy();
    // Both shut down cleanly on SIGTERM.
    expect(await stop(server)).toBe(0);
    expect(await stop(kms)).toBe(0);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function keyWithBucket(name: string): Promise<{ id: string; crn: string; bucket: string }> {
    const key = await kp.createRootKey(name);
    const bucket = bucketName(name);
    await createKpBucket(s3, bucket, key.crn);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: DATA }));
    return { ...key, bucket };
  }

  it('the banners: the KMS prints no secret it was given; the gateway names the KMS and the default root key', () => {
    expect(kms!.out()).not.toContain(ROOT_SECRET);
    expect(kms!.out()).not.toContain(GATEWAY_APIKEY);
    expect(kms!.out()).not.toContain(ROOT_APIKEY);
    const def = /Default root key:\s+(\S+)/.exec(kms!.out())?.[1];
    expect(def).toMatch(/^crn:v1:coffer:local:kms:/);
    expect(server!.out()).toContain(`KMS:                ${kmsUrl}`);
    expect(server!.out()).toContain(`Default root key:   ${def}`);
  });

  it('root S3 credentials held by the KMS work at the gateway; CreateBucket registers the bucket through the API, audited as the gateway acting for the tenant', async () => {
    const { id, bucket } = await keyWithBucket('split-reg');
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' }))).Body!.transformToString()).toBe(
      DATA,
    );
    const regs = await kp.registrations(id);
    expect(regs.map((r) => r.resourceCrn)).toEqual([
      `crn:v1:coffer:local:cloud-object-storage:global:a/${rootAccount}:coffer-s3:bucket:${bucket}`,
    ]);
    const token = await tokenFor(kmsUrl, ROOT_APIKEY);
    const audit = await call<{
      entries: Array<{ identity: string; tenant?: string; action: string; key?: string; outcome: string }>;
    }>(kmsUrl, token, 'GET', `/iam/v1/audit?key=${id}`);
    const byGateway = audit.json.entries.filter((e) => e.tenant === rootAccount);
    expect(byGateway.map((e) => e.action)).toEqual(
      expect.arrayContaining(['wrap', 'createRegistration', 'getKeyMetadata']),
    );
    for (const e of byGateway) expect(e.identity).toMatch(/^iam:svc-/);
    // A bucket without key headers uses the KMS's default root key.
    const plain = bucketName('split-default');
    await s3.send(new CreateBucketCommand({ Bucket: plain }));
    const head = await cosClient(s3Url).headBucket({ Bucket: plain }).promise();
    expect(head.IBMSSEKPCustomerRootKeyCrn).toBeUndefined();
  });

  it("another account's S3 access key, created at the KMS, works at the gateway and sees only its own buckets; unknown keys are InvalidAccessKeyId", async () => {
    const token = await tokenFor(kmsUrl, ROOT_APIKEY);
    const acct = await call<{ account: { id: string }; s3: { accessKeyId: string; secretAccessKey: string } }>(
      kmsUrl,
      token,
      'POST',
      '/iam/v1/accounts',
      { body: { name: 'split tenant' } },
    );
    expect(acct.status).toBe(201);
    const tenant = s3Client(s3Url, 'us-east-1', acct.json.s3);
    const mine = bucketName('split-tenant');
    await tenant.send(new CreateBucketCommand({ Bucket: mine }));
    await tenant.send(new PutObjectCommand({ Bucket: mine, Key: 'o', Body: 'tenant data' }));
    expect(await (await tenant.send(new GetObjectCommand({ Bucket: mine, Key: 'o' }))).Body!.transformToString()).toBe(
      'tenant data',
    );
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: mine, Key: 'o' })), 403, 'AccessDenied');
    // The tenant has no authorization on the root account's keys: same answer as a key that does not exist.
    const rootKey = await kp.createRootKey('not-for-the-tenant');
    const denied = await cosClient(s3Url, acct.json.s3)
      .createBucket({
        Bucket: bucketName('split-denied'),
        IBMSSEKPEncryptionAlgorithm: 'AES256',
        IBMSSEKPCustomerRootKeyCrn: rootKey.crn,
      })
      .promise()
      .then(
        () => ({}) as { statusCode?: number; code?: string },
        (e: unknown) => e as { statusCode?: number; code?: string },
      );
    expect([denied.statusCode, denied.code]).toEqual([400, 'InvalidArgument']);
    const bogus = s3Client(s3Url, 'us-east-1', {
      accessKeyId: 'CFNOSUCHACCESSKEY000',
      secretAccessKey: 'x'.repeat(40),
    });
    await expectSdkError(bogus.send(new GetObjectCommand({ Bucket: mine, Key: 'o' })), 403, 'InvalidAccessKeyId');
    tenant.destroy();
    bogus.destroy();
  });

  it(`disable -> GET, PUT and HEAD 403 KMS.DisabledException within the DEK cache TTL (${TTL_S} s); listing still works`, async () => {
    const { id, bucket } = await keyWithBucket('split-disable');
    expect(await access(s3, bucket)).toEqual({ get: '200', put: '200', head: '200', list: '200' });
    expect((await kp.req('POST', `/keys/${id}/actions/disable`)).status).toBe(204);
    const denied = await timeUntil(
      () => access(s3, bucket),
      (a) => a.get !== '200' && a.put !== '200' && a.head !== '200',
      TTL_S * 1000 + 3000,
      50,
    );
    console.info(`[measure] split: disable -> S3 403 after ${denied.ms.toFixed(0)} ms (DEK cache TTL ${TTL_S} s)`);
    expect(denied.ms).toBeLessThan(TTL_S * 1000 + 1000);
    expect(denied.result).toEqual({
      get: '403 KMS.DisabledException',
      put: '403 KMS.DisabledException',
      head: '403',
      list: '200',
    });
  });

  it(`delete: 409 PROTECTED_RESOURCE_ERR while registered; force -> 403 within the TTL, listing still works`, async () => {
    const { id, bucket } = await keyWithBucket('split-shred');
    const refused = await kp.req('DELETE', `/keys/${id}`);
    expect([refused.status, reasonOf(refused.json)]).toEqual([409, 'PROTECTED_RESOURCE_ERR']);
    expect((await kp.req('DELETE', `/keys/${id}?force=true`)).status).toBe(204);
    const shredded = await timeUntil(
      () => access(s3, bucket),
      (a) => a.get !== '200' && a.put !== '200',
      TTL_S * 1000 + 3000,
      50,
    );
    console.info(`[measure] split: force delete -> S3 403 after ${shredded.ms.toFixed(0)} ms`);
    expect(shredded.ms).toBeLessThan(TTL_S * 1000 + 1000);
    expect(shredded.result).toEqual({
      get: '403 KMS.KMSInvalidStateException',
      put: '403 KMS.KMSInvalidStateException',
      head: '403',
      list: '200',
    });
  });

  it('a gateway started with a wrong gateway API key refuses to start, naming the setting', async () => {
    const bad = start(['server', '--kms-url', kmsUrl], {
      COFFER_DATA_DIR: join(dir, 'bad-gateway'),
      COFFER_S3_PORT: '0',
      COFFER_GATEWAY_APIKEY: 'wrong-gateway-apikey-000000',
    });
    expect(await bad.exited).toBe(1);
    expect(bad.err()).toMatch(/refused COFFER_GATEWAY_APIKEY/);
    expect(bad.err()).not.toContain('wrong-gateway-apikey-000000');
    const none = start(['server', '--kms-url', kmsUrl], {
      COFFER_DATA_DIR: join(dir, 'no-key-gateway'),
      COFFER_S3_PORT: '0',
    });
    expect(await none.exited).toBe(2);
    expect(none.err()).toContain('COFFER_GATEWAY_APIKEY');
  });
});

describe('split mode in process, with a manual KMS clock', () => {
  const TTL = 1;
  let dir: string;
  let kms: KmsServer;
  let gw: RemoteGateway;
  let s3: S3Client;
  let kp: Kp;
  let t = Date.now();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-split-clock-'));
    const base = {
      host: '127.0.0.1',
      s3Port: 0,
      kmsPort: 0,
      logLevel: 'silent' as const,
      dekCacheTtlSeconds: TTL,
      gatewayApiKey: GATEWAY_APIKEY,
    };
    const kmsConfig = loadConfig(
      {},
      {
        ...base,
        dataDir: join(dir, 'kms'),
        rootUser: ROOT_USER,
        rootPassword: ROOT_SECRET,
        rootApiKey: ROOT_APIKEY,
        masterKey: Buffer.alloc(32, 3).toString('base64'),
      },
    );
    kms = await startKmsServer(kmsConfig, createLogger('silent'), { now: () => t });
    gw = await startRemoteGateway(
      loadConfig({}, { ...base, dataDir: join(dir, 'gateway'), kmsUrl: kms.url }),
      createLogger('silent'),
    );
    s3 = s3Client(gw.s3Url);
    kp = new Kp(kms.url, ROOT_APIKEY, await kms.kms.ensureTenant(kms.root.accountId));
  });
  afterAll(async () => {
    s3?.destroy();
    await gw?.close();
    await kms?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function keyWithBucket(name: string): Promise<{ id: string; crn: string; bucket: string }> {
    const key = await kp.createRootKey(name);
    const bucket = bucketName(name);
    await createKpBucket(s3, bucket, key.crn);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: DATA }));
    return { ...key, bucket };
  }
  const within = (done: (a: Awaited<ReturnType<typeof access>>) => boolean, bucket: string) =>
    timeUntil(() => access(s3, bucket), done, TTL * 1000 + 3000, 50);

  it('disable -> 403 within the TTL; enable (30 s later) -> access returns within the TTL', async () => {
    const { id, bucket } = await keyWithBucket('clock-disable');
    expect((await kp.req('POST', `/keys/${id}/actions/disable`)).status).toBe(204);
    expect((await within((a) => a.get !== '200', bucket)).result.get).toBe('403 KMS.DisabledException');
    t += 31 * SEC;
    expect((await kp.req('POST', `/keys/${id}/actions/enable`)).status).toBe(204);
    const back = await within((a) => a.get === '200', bucket);
    expect(back.ms).toBeLessThan(TTL * 1000 + 1000);
    expect(back.result).toEqual({ get: '200', put: '200', head: '200', list: '200' });
  });

  it('force delete -> crypto-shredded; restore within 30 days -> readable; purge -> 404 at the KMS and 403 at S3 for good', async () => {
    const { id, bucket } = await keyWithBucket('clock-shred');
    expect((await kp.req('DELETE', `/keys/${id}?force=true`)).status).toBe(204);
    expect((await within((a) => a.get !== '200', bucket)).result).toMatchObject({
      get: '403 KMS.KMSInvalidStateException',
      list: '200',
    });
    t += 20 * DAY;
    expect((await kp.req('POST', `/keys/${id}/restore`)).status).toBe(201);
    expect((await within((a) => a.get === '200', bucket)).result).toEqual({
      get: '200',
      put: '200',
      head: '200',
      list: '200',
    });

    t += 31 * SEC;
    expect((await kp.req('DELETE', `/keys/${id}?force=true`)).status).toBe(204);
    t += 4 * HOUR + SEC;
    const admin = await tokenFor(kms.url, ROOT_APIKEY);
    const purger = await identityWithRole(kms.url, admin, kms.root.accountId, 'user', 'split-purger', {
      instanceId: kp.instanceId,
      role: 'KeyPurge',
    });
    const purged = await fetch(`${kms.url}/api/v2/keys/${id}/purge`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${purger.token}`, 'bluemix-instance': kp.instanceId },
    });
    expect(purged.status).toBe(200);
    expect((await kp.req('GET', `/keys/${id}/metadata`)).status).toBe(404);
    expect(
      (await within((a) => a.get !== '200' && a.get !== '403 KMS.KMSInvalidStateException', bucket)).result,
    ).toEqual({ get: '403 AccessDenied', put: '403 AccessDenied', head: '403', list: '200' });
    t += 100 * DAY;
    expect((await kp.req('GET', `/keys/${id}/metadata`)).status).toBe(404);
  });

  it('rotate: the next unwrap after the TTL rewraps lazily and the bucket record keeps the new version', async () => {
    const { id, bucket } = await keyWithBucket('clock-rotate');
    const before = (await gw.meta.getBucket(bucket))!.encryption;
    expect((await kp.req('POST', `/keys/${id}/actions/rotate`)).status).toBe(204);
    const v2 = await kp.keyVersion(id);
    const rewrapped = await timeUntil(
      async () => {
        await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' })).then((o) => o.Body!.transformToString());
        return (await gw.meta.getBucket(bucket))!.encryption;
      },
      (e) => e.keyVersion === v2,
      TTL * 1000 + 3000,
      100,
    );
    expect(rewrapped.result.wrappedDek).not.toBe(before.wrappedDek);
    gw.dekCache.clear();
    expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' }))).Body!.transformToString()).toBe(
      DATA,
    );
  });

  it('S3 credential lookups are for gateway identities only; the answer is not cacheable', async () => {
    const lookup = (token?: string, id = ROOT_USER) =>
      fetch(`${kms.url}/iam/v1/s3-credentials/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    expect((await lookup()).status).toBe(401);
    expect((await lookup(await tokenFor(kms.url, ROOT_APIKEY))).status).toBe(403);
    const gwToken = await tokenFor(kms.url, GATEWAY_APIKEY);
    const ok = await lookup(gwToken);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await ok.json()).toEqual({
      accessKeyId: ROOT_USER,
      secretAccessKey: ROOT_SECRET,
      principal: { accountId: kms.root.accountId, accessKeyId: ROOT_USER, displayName: 'root' },
    });
    expect((await lookup(gwToken, 'CFNOSUCHKEY')).status).toBe(404);
  });

  it('a KMS outage: cached DEKs serve until the TTL, then S3 answers 503 ServiceUnavailable (never data, never "no such key")', async () => {
    const { bucket } = await keyWithBucket('clock-outage');
    expect((await access(s3, bucket)).get).toBe('200');
    await kms.close();
    const down = await within((a) => a.get !== '200', bucket);
    expect(down.result.get).toBe('503 ServiceUnavailable');
    expect(down.ms).toBeLessThan(TTL * 1000 + 2500);
  });
});
