/**
 * Key events pushed to split-mode gateways, end to end: one `coffer kms`
 * process and three `coffer server --kms-url` processes (the built CLI). The
 * DEK cache TTL is 60 s, so a refusal well inside it can only come from the
 * push channel (GET /iam/v1/key-events): a cached DEK would otherwise serve the
 * data until it expires. Each gateway has its own data dir, so each holds its
 * own bucket under the same root key (three registrations on the key).
 *
 * Disable, delete (with registrations) and a revoked service-to-service
 * authorization each stop GETs at every gateway; enable, restore and a new
 * authorization bring the data back. Key Protect's 30 s rule (no enable or
 * restore within 30 s of the last action) is waited out for real: the KMS
 * answers 409 REQ_TOO_EARLY_ERR until then.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName } from '../../helpers/s3Test.js';
import { call, keyBody, reasonOf, tokenFor } from './kmsHttp.js';
import { createKpBucket, Kp, ROOT_APIKEY, s3Client, timeUntil } from './lifecycleKit.js';
import {
  assertBuilt,
  banner,
  getOutcome,
  startGatewayProc,
  startKmsProc,
  stopProc,
  untilEach,
  type Proc,
} from './processKit.js';

const TTL_S = 60;
const GATEWAYS = 3;
const READER = 'crn:v1:bluemix:public:iam::::serviceRole:Reader';

/**
 * IBM's body for "the tenant's Cloud Object Storage may read keys of this KP
 * instance" (without an instance: of every KMS instance of the account).
 */
function readerPolicy(account: string, instanceId?: string): Record<string, unknown> {
  return {
    type: 'authorization',
    subjects: [
      {
        attributes: [
          { name: 'accountId', value: account },
          { name: 'serviceName', value: 'cloud-object-storage' },
          { name: 'serviceInstance', value: 'coffer-s3' },
        ],
      },
    ],
    roles: [{ role_id: READER }],
    resources: [
      {
        attributes: [
          { name: 'accountId', value: account },
          { name: 'serviceName', value: 'kms' },
          ...(instanceId !== undefined ? [{ name: 'serviceInstance', value: instanceId }] : []),
        ],
      },
    ],
  };
}

describe(`key events pushed to ${GATEWAYS} split-mode gateway processes (DEK cache TTL ${TTL_S} s)`, () => {
  let dir: string;
  let kms: Proc | undefined;
  const gateways: Proc[] = [];
  let kmsUrl: string;
  let rootS3: S3Client[] = [];
  let kp: Kp;
  /** Per scenario: the key and its bucket at each gateway. */
  const keys: Record<string, { id: string; crn: string; buckets: string[] }> = {};
  let createdAt = 0;
  let tenant: { account: string; token: string; instance: string; s3: S3Client[]; policy: string; crn: string };
  let tenantBuckets: string[] = [];
  let s3Urls: string[] = [];
  const clients: S3Client[] = [];

  /** A tenant with its own instance and a key in it, reading it under an IBM-style authorization (instance or account-wide). */
  async function newTenant(name: string, accountWide: boolean): Promise<typeof tenant> {
    const rootToken = await tokenFor(kmsUrl, ROOT_APIKEY);
    const acct = await call<{
      account: { id: string };
      apikey: string;
      s3: { accessKeyId: string; secretAccessKey: string };
    }>(kmsUrl, rootToken, 'POST', '/iam/v1/accounts', { body: { name } });
    expect(acct.status).toBe(201);
    const token = await tokenFor(kmsUrl, acct.json.apikey);
    const inst = await call<{ id: string }>(kmsUrl, token, 'POST', '/iam/v1/instances', { body: { name: 'own' } });
    expect(inst.status).toBe(201);
    const policy = await call<{ id: string }>(kmsUrl, token, 'POST', '/v1/policies', {
      body: readerPolicy(acct.json.account.id, accountWide ? undefined : inst.json.id),
    });
    expect(policy.status).toBe(201);
    const key = await call<{ resources: Array<{ crn: string }> }>(kmsUrl, token, 'POST', '/api/v2/keys', {
      body: keyBody({ name: 'tenant-key', extractable: false }),
      headers: { 'bluemix-instance': inst.json.id },
    });
    expect(key.status).toBe(201);
    const s3 = s3Urls.map((u) => s3Client(u, 'us-east-1', acct.json.s3));
    clients.push(...s3);
    return {
      account: acct.json.account.id,
      token,
      instance: inst.json.id,
      s3,
      policy: policy.json.id,
      crn: key.json.resources[0]!.crn,
    };
  }

  /** A bucket with one object under `crn` at every gateway, read once there (the DEK is cached). */
  async function bucketsAtEvery(s3s: S3Client[], crn: string, prefix: string): Promise<string[]> {
    const buckets = [];
    for (const s3 of s3s) {
      const b = bucketName(prefix);
      await createKpBucket(s3, b, crn);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: `${prefix} data` }));
      buckets.push(b);
    }
    expect(await Promise.all(readAll(s3s, buckets).map((r) => r()))).toEqual(s3s.map(() => '200'));
    return buckets;
  }

  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), 'coffer-events-'));
    const k = await startKmsProc(join(dir, 'kms'));
    kms = k.proc;
    kmsUrl = k.url;
    const started = await Promise.all(
      Array.from({ length: GATEWAYS }, (_, i) => startGatewayProc(join(dir, `gateway-${i}`), kmsUrl, TTL_S)),
    );
    for (const g of started) gateways.push(g.proc);
    s3Urls = started.map((g) => g.s3Url);
    rootS3 = started.map((g) => s3Client(g.s3Url));
    kp = new Kp(kmsUrl, ROOT_APIKEY, await banner(kms, /Root KMS instance:\s+(\S+)/, 'coffer kms'));

    tenant = await newTenant('events tenant', false);
  }, 120_000);

  afterAll(async () => {
    for (const c of [...rootS3, ...clients]) c.destroy();
    // Every process shuts down cleanly on SIGTERM.
    const codes = await Promise.all(gateways.map((g) => stopProc(g)));
    expect(codes).toEqual(gateways.map(() => 0));
    expect(await stopProc(kms)).toBe(0);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const readAll = (s3s: S3Client[], buckets: string[]) => s3s.map((s3, i) => () => getOutcome(s3, buckets[i]!));

  /** Waits until every gateway's GET satisfies `done`; logs and returns the slowest. */
  async function atEvery(what: string, s3s: S3Client[], buckets: string[], done: (o: string) => boolean) {
    // Well before the TTL: past it, an expired DEK would explain a refusal too.
    const each = await untilEach(readAll(s3s, buckets), done, (TTL_S - 15) * 1000);
    const slowest = Math.max(...each.map((e) => e.ms));
    console.info(
      `[measure] ${what}: every gateway after ${slowest.toFixed(0)} ms (${each.map((e) => e.ms.toFixed(0)).join(', ')} ms; DEK cache TTL ${TTL_S} s)`,
    );
    return { each, slowest };
  }

  it('an object written at each gateway under the same root key is readable there; the key has one registration per gateway', async () => {
    createdAt = performance.now();
    for (const name of ['disable', 'delete']) {
      const key = await kp.createRootKey(`events-${name}`);
      const buckets = [];
      for (const s3 of rootS3) {
        const b = bucketName(`ev-${name}`);
        await createKpBucket(s3, b, key.crn);
        await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: `${name} data` }));
        buckets.push(b);
      }
      keys[name] = { ...key, buckets };
      expect(await Promise.all(readAll(rootS3, buckets).map((r) => r()))).toEqual(rootS3.map(() => '200'));
      expect((await kp.registrations(key.id)).length).toBe(GATEWAYS);
    }
  });

  it('disable -> every gateway refuses GET with KMS.DisabledException well inside the DEK cache TTL', async () => {
    const k = keys.disable!;
    expect((await kp.req('POST', `/keys/${k.id}/actions/disable`)).status).toBe(204);
    const { each } = await atEvery('disable -> GET refused', rootS3, k.buckets, (o) => o !== '200');
    expect(each.map((e) => e.outcome)).toEqual(rootS3.map(() => '403 KMS.DisabledException'));
    // Cached at creation: only the push can explain a refusal before the DEKs expire.
    expect(performance.now() - createdAt).toBeLessThan(TTL_S * 1000);
  });

  it('delete with registrations: 409 PROTECTED_RESOURCE_ERR, force -> every gateway refuses GET inside the TTL', async () => {
    const k = keys.delete!;
    const refused = await kp.req('DELETE', `/keys/${k.id}`);
    expect([refused.status, reasonOf(refused.json)]).toEqual([409, 'PROTECTED_RESOURCE_ERR']);
    expect((await kp.req('DELETE', `/keys/${k.id}?force=true`)).status).toBe(204);
    const { each } = await atEvery('force delete -> GET refused', rootS3, k.buckets, (o) => o !== '200');
    expect(each.map((e) => e.outcome)).toEqual(rootS3.map(() => '403 KMS.KMSInvalidStateException'));
    expect(performance.now() - createdAt).toBeLessThan(TTL_S * 1000);
  });

  it('a revoked authorization (DELETE /v1/policies/{id}) -> every gateway refuses the tenant at once; a new one restores access', async () => {
    const t0 = performance.now();
    tenantBuckets = [];
    for (const s3 of tenant.s3) {
      const b = bucketName('ev-authz');
      await createKpBucket(s3, b, tenant.crn);
      await s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: 'tenant data' }));
      tenantBuckets.push(b);
    }
    expect(await Promise.all(readAll(tenant.s3, tenantBuckets).map((r) => r()))).toEqual(tenant.s3.map(() => '200'));
    expect((await call(kmsUrl, tenant.token, 'DELETE', `/v1/policies/${tenant.policy}`)).status).toBe(204);
    const { each } = await atEvery('revoke -> GET refused', tenant.s3, tenantBuckets, (o) => o !== '200');
    expect(each.map((e) => e.outcome)).toEqual(tenant.s3.map(() => '403 AccessDenied'));
    expect(performance.now() - t0).toBeLessThan(TTL_S * 1000);

    const again = await call<{ id: string }>(kmsUrl, tenant.token, 'POST', '/v1/policies', {
      body: readerPolicy(tenant.account, tenant.instance),
    });
    expect(again.status).toBe(201);
    tenant.policy = again.json.id;
    await atEvery('authorization granted -> GET served', tenant.s3, tenantBuckets, (o) => o === '200');
  });

  it('a revoked account-wide authorization (no serviceInstance) -> every gateway refuses that tenant at once', async () => {
    const t0 = performance.now();
    const wide = await newTenant('account-wide tenant', true);
    const buckets = await bucketsAtEvery(wide.s3, wide.crn, 'ev-wide');
    expect((await call(kmsUrl, wide.token, 'DELETE', `/v1/policies/${wide.policy}`)).status).toBe(204);
    const { each } = await atEvery('account-wide revoke -> GET refused', wide.s3, buckets, (o) => o !== '200');
    expect(each.map((e) => e.outcome)).toEqual(wide.s3.map(() => '403 AccessDenied'));
    expect(performance.now() - t0).toBeLessThan(TTL_S * 1000);
  });

  it("enable and restore, once Key Protect's 30 s rule allows them -> every gateway serves the data again", async () => {
    const retry = async (method: string, path: string) =>
      (
        await timeUntil(
          async () => {
            const r = await kp.req(method, path);
            // Until 30 s after the last action: 409 REQ_TOO_EARLY_ERR; anything else ends the wait.
            return r.status === 409 && reasonOf(r.json) === 'REQ_TOO_EARLY_ERR' ? 0 : r.status;
          },
          (s) => s !== 0,
          40_000,
          500,
        )
      ).result;
    expect(await retry('POST', `/keys/${keys.disable!.id}/actions/enable`)).toBe(204);
    await atEvery('enable -> GET served', rootS3, keys.disable!.buckets, (o) => o === '200');
    expect(await retry('POST', `/keys/${keys.delete!.id}/restore`)).toBe(201);
    await atEvery('restore -> GET served', rootS3, keys.delete!.buckets, (o) => o === '200');
  }, 90_000);
});
