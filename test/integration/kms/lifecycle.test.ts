/**
 * Key lifecycle governs the data (key-protect.md 1.5, 1.6, 2.7), measured with
 * S3 clients (@aws-sdk/client-s3 and IBM's ibm-cos-sdk) against an embedded
 * gateway whose KMS runs on a manual clock:
 *
 * - CreateBucket registers the bucket CRN on its root key; DeleteBucket removes it.
 * - disable: GET, PUT and HEAD of the bucket's data are 403 KMS.DisabledException
 *   within 1 s (the disable event drops cached DEKs at once); listing still
 *   works; enable brings access back.
 * - delete: 409 PROTECTED_RESOURCE_ERR while a bucket is registered; with force
 *   the data is crypto-shredded (403 KMS.KMSInvalidStateException), listing still
 *   works; restore within 30 days brings the data back; purge (KeyPurge, 4 h
 *   after delete) makes it permanent: the key is 404 for good.
 * - rotate: the gateway rewraps the DEK of every bucket under the key at once;
 *   stored wrapped DEKs and registrations show the new version; data stays readable.
 */
import { DeleteBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName } from '../../helpers/s3Test.js';
import { call, identityWithRole, reasonOf, tokenFor } from './kmsHttp.js';
import {
  access,
  createKpBucket,
  DAY,
  HOUR,
  s3Client,
  SEC,
  startClockedGateway,
  timeUntil,
  type ClockedGateway,
} from './lifecycleKit.js';

const DATA = 'the quick brown fox, encrypted under a customer root key';

describe('key lifecycle governs S3 data (embedded KMS)', () => {
  let c: ClockedGateway;

  beforeAll(async () => {
    c = await startClockedGateway();
  });
  afterAll(async () => c?.close());

  async function keyWithBucket(name: string): Promise<{ id: string; crn: string; bucket: string }> {
    const key = await c.kp.createRootKey(name);
    const bucket = bucketName(name);
    await createKpBucket(c.s3, bucket, key.crn);
    await c.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: DATA }));
    return { ...key, bucket };
  }

  const read = async (bucket: string) =>
    (await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' }))).Body!.transformToString();

  it('CreateBucket (both SDKs) registers the bucket CRN on the key; DeleteBucket removes the registration', async () => {
    const key = await c.kp.createRootKey('registrations');
    const viaAws = bucketName('reg-aws');
    const viaCos = bucketName('reg-cos');
    await createKpBucket(c.s3, viaAws, key.crn);
    await c.cos
      .createBucket({ Bucket: viaCos, IBMSSEKPEncryptionAlgorithm: 'AES256', IBMSSEKPCustomerRootKeyCrn: key.crn })
      .promise();
    const regs = await c.kp.registrations(key.id);
    expect(regs.map((r) => r.resourceCrn.split(':bucket:')[1]).sort()).toEqual([viaAws, viaCos].sort());
    for (const r of regs)
      expect(r.resourceCrn).toMatch(
        new RegExp(`^crn:v1:coffer:local:cloud-object-storage:global:a/${c.gw.root.accountId}:coffer-s3:bucket:`),
      );
    expect(new Set(regs.map((r) => r.keyVersion.id))).toEqual(new Set([key.id]));

    await c.s3.send(new DeleteBucketCommand({ Bucket: viaAws }));
    expect((await c.kp.registrations(key.id)).map((r) => r.resourceCrn.split(':bucket:')[1])).toEqual([viaCos]);
    await c.cos.deleteBucket({ Bucket: viaCos }).promise();
    expect(await c.kp.registrations(key.id)).toEqual([]);
    // Nothing protects the key any more: it deletes without force.
    expect((await c.kp.req('DELETE', `/keys/${key.id}`)).status).toBe(204);
  });

  it('disable: GET, PUT and HEAD are 403 KMS.DisabledException within 1 s, listing still works; enable brings access back', async () => {
    const { id, bucket } = await keyWithBucket('disable');
    expect(await read(bucket)).toBe(DATA); // the DEK is cached now
    expect((await c.kp.req('POST', `/keys/${id}/actions/disable`)).status).toBe(204);
    const denied = await timeUntil(
      () => access(c.s3, bucket),
      (a) => a.get !== '200',
      5000,
      20,
    );
    console.info(`[measure] embedded: disable -> S3 403 after ${denied.ms.toFixed(0)} ms`);
    expect(denied.ms).toBeLessThan(1000);
    expect(denied.result).toEqual({
      get: '403 KMS.DisabledException',
      put: '403 KMS.DisabledException',
      head: '403',
      list: '200',
    });
    const cosErr = (await c.cos
      .getObject({ Bucket: bucket, Key: 'o' })
      .promise()
      .catch((e: unknown) => e)) as { statusCode?: number; code?: string };
    expect([cosErr.statusCode, cosErr.code]).toEqual([403, 'KMS.DisabledException']);

    const early = await c.kp.req('POST', `/keys/${id}/actions/enable`);
    expect([early.status, reasonOf(early.json)]).toEqual([409, 'REQ_TOO_EARLY_ERR']);
    c.advance(31 * SEC);
    expect((await c.kp.req('POST', `/keys/${id}/actions/enable`)).status).toBe(204);
    const back = await timeUntil(
      () => access(c.s3, bucket),
      (a) => a.get === '200',
      5000,
      20,
    );
    console.info(`[measure] embedded: enable -> S3 200 after ${back.ms.toFixed(0)} ms`);
    expect(back.ms).toBeLessThan(1000);
    expect(back.result).toEqual({ get: '200', put: '200', head: '200', list: '200' });
    expect(await read(bucket)).toBe(DATA);
    expect((await c.cos.getObject({ Bucket: bucket, Key: 'o' }).promise()).Body?.toString()).toBe(DATA);
  });

  it('delete: refused with 409 PROTECTED_RESOURCE_ERR while the bucket is registered; force crypto-shreds (403, listing works); restore within 30 days brings the data back', async () => {
    const { id, bucket } = await keyWithBucket('shred');
    expect(await read(bucket)).toBe(DATA);
    const refused = await c.kp.req('DELETE', `/keys/${id}`);
    expect([refused.status, reasonOf(refused.json)]).toEqual([409, 'PROTECTED_RESOURCE_ERR']);
    expect(await read(bucket)).toBe(DATA);

    expect((await c.kp.req('DELETE', `/keys/${id}?force=true`)).status).toBe(204);
    const shredded = await timeUntil(
      () => access(c.s3, bucket),
      (a) => a.get !== '200',
      5000,
      20,
    );
    console.info(`[measure] embedded: force delete -> S3 403 after ${shredded.ms.toFixed(0)} ms`);
    expect(shredded.ms).toBeLessThan(1000);
    expect(shredded.result).toEqual({
      get: '403 KMS.KMSInvalidStateException',
      put: '403 KMS.KMSInvalidStateException',
      head: '403',
      list: '200',
    });
    const listed = await c.cos.listObjects({ Bucket: bucket }).promise();
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['o']);
    // The registration stays readable until purge (key-protect.md 1.6).
    expect((await c.kp.registrations(id)).length).toBe(1);

    c.advance(29 * DAY);
    expect(await access(c.s3, bucket)).toMatchObject({ get: '403 KMS.KMSInvalidStateException' });
    const restored = await c.kp.req('POST', `/keys/${id}/restore`);
    expect(restored.status).toBe(201);
    const back = await timeUntil(
      () => access(c.s3, bucket),
      (a) => a.get === '200',
      5000,
      20,
    );
    expect(back.result).toEqual({ get: '200', put: '200', head: '200', list: '200' });
    expect(await read(bucket)).toBe(DATA);
  });

  it('purge makes it permanent: 409 before 4 h and without KeyPurge, then the key is 404 on every call and the bucket unreadable for good', async () => {
    const { id, bucket } = await keyWithBucket('purge');
    const enc = (await c.gw.meta.getBucket(bucket))!.encryption;
    expect((await c.kp.req('DELETE', `/keys/${id}?force=true`)).status).toBe(204);
    const admin = await tokenFor(c.gw.kmsUrl, c.kp.apikey);
    const purger = await identityWithRole(c.gw.kmsUrl, admin, c.gw.root.accountId, 'user', 'lifecycle-purger', {
      instanceId: c.kp.instanceId,
      role: 'KeyPurge',
    });
    const purge = () =>
      fetch(`${c.gw.kmsUrl}/api/v2/keys/${id}/purge`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${purger.token}`, 'bluemix-instance': c.kp.instanceId },
      });
    expect((await c.kp.req('DELETE', `/keys/${id}/purge`)).status).toBe(401); // the owner lacks KeyPurge
    expect((await purge()).status).toBe(409);
    c.advance(4 * HOUR + SEC);
    expect((await purge()).status).toBe(200);

    for (let round = 0; round < 2; round++) {
      for (const [method, path] of [
        ['GET', `/keys/${id}/metadata`],
        ['GET', `/keys/${id}`],
        ['POST', `/keys/${id}/restore`],
        ['POST', `/keys/${id}/actions/unwrap`],
        ['DELETE', `/keys/${id}?force=true`],
      ] as const) {
        const r = await c.kp.req(
          method,
          path,
          path.endsWith('unwrap') ? { ciphertext: enc.wrappedDek, aad: enc.aad } : undefined,
        );
        expect(r.status, `${method} ${path}`).toBe(404);
      }
      expect(await access(c.s3, bucket)).toEqual({
        get: '403 AccessDenied',
        put: '403 AccessDenied',
        head: '403',
        list: '200',
      });
      c.advance(100 * DAY);
    }
  });

  it('rotate: every bucket DEK under the key is rewrapped at once; stored wrapped DEKs and registrations show the new version; old data stays readable', async () => {
    const key = await c.kp.createRootKey('rotate');
    const other = await c.kp.createRootKey('rotate-other');
    const buckets = [bucketName('rot-a'), bucketName('rot-b'), bucketName('rot-c')];
    for (const b of buckets) {
      await createKpBucket(c.s3, b, key.crn);
      await c.s3.send(new PutObjectCommand({ Bucket: b, Key: 'o', Body: `${DATA} ${b}` }));
    }
    const bystander = bucketName('rot-other');
    await createKpBucket(c.s3, bystander, other.crn);
    const before = new Map<string, { wrappedDek: string; keyVersion: string }>();
    for (const b of [...buckets, bystander]) before.set(b, { ...(await c.gw.meta.getBucket(b))!.encryption });
    for (const b of buckets) expect(before.get(b)!.keyVersion).toBe(key.id);

    expect((await c.kp.req('POST', `/keys/${key.id}/actions/rotate`)).status).toBe(204);
    await c.gw.rewrapsSettled();
    const newVersion = await c.kp.keyVersion(key.id);
    expect(newVersion).not.toBe(key.id);
    for (const b of buckets) {
      const enc = (await c.gw.meta.getBucket(b))!.encryption;
      expect(enc.keyVersion, b).toBe(newVersion);
      expect(enc.wrappedDek, b).not.toBe(before.get(b)!.wrappedDek);
    }
    expect((await c.gw.meta.getBucket(bystander))!.encryption).toMatchObject(before.get(bystander)!);
    const regs = await c.kp.registrations(key.id);
    expect(regs).toHaveLength(3);
    for (const r of regs) expect(r.keyVersion.id).toBe(newVersion);

    // Old data stays readable, through a fresh unwrap of the rewrapped DEK.
    c.gw.kms.dekCache.clear();
    for (const b of buckets) expect(await read(b)).toBe(`${DATA} ${b}`);
    await c.s3.send(new PutObjectCommand({ Bucket: buckets[0], Key: 'after-rotate', Body: 'new' }));
    expect(
      await (
        await c.s3.send(new GetObjectCommand({ Bucket: buckets[0], Key: 'after-rotate' }))
      ).Body!.transformToString(),
    ).toBe('new');
    expect((await c.cos.getObject({ Bucket: buckets[1]!, Key: 'o' }).promise()).Body?.toString()).toBe(
      `${DATA} ${buckets[1]}`,
    );
  });

  it("rotate: a bucket whose tenant lost its authorization is left as it was (its DEK is not the gateway's to rewrap); the others are rewrapped", async () => {
    const key = await c.kp.createRootKey('rotate-mixed');
    const mine = bucketName('rot-mine');
    await createKpBucket(c.s3, mine, key.crn);
    const admin = await tokenFor(c.gw.kmsUrl, c.kp.apikey);
    const acct = await call<{ account: { id: string }; s3: { accessKeyId: string; secretAccessKey: string } }>(
      c.gw.kmsUrl,
      admin,
      'POST',
      '/iam/v1/accounts',
      { body: { name: 'rotate tenant' } },
    );
    const grant = await call<{ id: string }>(c.gw.kmsUrl, admin, 'POST', '/iam/v1/authorizations', {
      body: {
        sourceAccount: acct.json.account.id,
        target: { instanceId: c.kp.instanceId, keyId: key.id },
        role: 'Reader',
      },
    });
    const tenantBucket = bucketName('rot-tenant');
    const tenant = s3Client(c.gw.s3Url, 'us-east-1', acct.json.s3);
    await createKpBucket(tenant, tenantBucket, key.crn);
    tenant.destroy();
    expect((await call(c.gw.kmsUrl, admin, 'DELETE', `/iam/v1/authorizations/${grant.json.id}`)).status).toBe(204);
    const tenantBefore = { ...(await c.gw.meta.getBucket(tenantBucket))!.encryption };

    expect((await c.kp.req('POST', `/keys/${key.id}/actions/rotate`)).status).toBe(204);
    await c.gw.rewrapsSettled();
    const v2 = await c.kp.keyVersion(key.id);
    expect((await c.gw.meta.getBucket(mine))!.encryption.keyVersion).toBe(v2);
    expect((await c.gw.meta.getBucket(tenantBucket))!.encryption).toMatchObject({
      keyVersion: tenantBefore.keyVersion,
      wrappedDek: tenantBefore.wrappedDek,
    });
  });
});
