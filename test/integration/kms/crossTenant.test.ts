/**
 * Service-to-service authorization across tenants (key-protect.md 1.4, 5): a
 * second S3 tenant that knows the first tenant's root-key CRN can neither
 * create a bucket under it nor use it through the KMS API, and the 400 it gets
 * is word for word the one for a CRN that names no key. Once the owner grants
 * an authorization (instance-wide or for one key) it can; revoking it stops
 * the tenant again. The default root key stays usable by every tenant; a
 * tenant's own instance needs an authorization from its own account too.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName, expectSdkError, withHeaders } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';
import { call, keyBody, tokenFor } from './kmsHttp.js';
import { first, keyProtectClient, sdkFailure } from './kpSdk.js';

let gw: TestGateway;
let rootToken: string;
let instA: string;
let tenantB: { account: { id: string }; apikey: string; s3: { accessKeyId: string; secretAccessKey: string } };
let s3B: S3Client;
let tokenB: string;

function kpHeaders(crn: string): Record<string, string> {
  return { 'ibm-sse-kp-encryption-algorithm': 'AES256', 'ibm-sse-kp-customer-root-key-crn': crn };
}

async function createBucketError(client: S3Client, crn: string): Promise<S3ServiceException> {
  return expectSdkError(
    client.send(withHeaders(new CreateBucketCommand({ Bucket: bucketName('xt') }), kpHeaders(crn))),
    400,
    'InvalidArgument',
  );
}

async function authorize(target: { instanceId: string; keyId?: string }): Promise<string> {
  const res = await call<{ id: string }>(gw.kmsUrl, rootToken, 'POST', '/iam/v1/authorizations', {
    body: { sourceAccount: tenantB.account.id, target, role: 'Reader' },
  });
  expect(res.status).toBe(201);
  return res.json.id;
}

beforeAll(async () => {
  gw = await startTestGateway();
  rootToken = await tokenFor(gw.kmsUrl, gw.rootApiKey);
  instA = await gw.gateway.kms.ensureTenant(gw.accountId);
  const created = await call<typeof tenantB>(gw.kmsUrl, rootToken, 'POST', '/iam/v1/accounts', {
    body: { name: 'tenant-b' },
  });
  expect(created.status).toBe(201);
  tenantB = created.json;
  s3B = new S3Client({ endpoint: gw.s3Url, region: gw.region, forcePathStyle: true, credentials: tenantB.s3 });
  tokenB = await tokenFor(gw.kmsUrl, tenantB.apikey);
});
afterAll(async () => {
  s3B?.destroy();
  await gw?.close();
});

describe('cross-tenant use of a root key', () => {
  it('the new tenant signs S3 requests with its IAM access key; the root credentials still work', async () => {
    expect((await s3B.send(new ListBucketsCommand({}))).$metadata.httpStatusCode).toBe(200);
    expect((await gw.client().send(new ListBucketsCommand({}))).$metadata.httpStatusCode).toBe(200);
  });

  it('the default root key is usable by every tenant', async () => {
    const b = bucketName('xt-default');
    await s3B.send(new CreateBucketCommand({ Bucket: b }));
    await s3B.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'b' }));
    expect(await (await s3B.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).Body!.transformToString()).toBe('b');
  });

  it('without an authorization: CreateBucket 400 saying exactly what an unknown key gets; the KMS API says 401', async () => {
    const crnA = await gw.createRootKey('tenant-a-key');
    const unknown = crnA.replace(/:key:[^:]+$/, `:key:${randomUUID()}`);
    const denied = await createBucketError(s3B, crnA);
    const missing = await createBucketError(s3B, unknown);
    expect(denied.message.replace(crnA, '<crn>')).toBe(missing.message.replace(unknown, '<crn>'));
    expect(denied.message).toMatch(/could not be found/);
    expect(denied.message).not.toMatch(/authoriz|permission|access|exists/i);

    const keyId = crnA.split(':')[9]!;
    const kpB = keyProtectClient(gw.kmsUrl, tenantB.apikey);
    expect((await sdkFailure(kpB.wrapKey!({ bluemixInstance: instA, id: keyId }))).status).toBe(401);
    expect((await sdkFailure(kpB.getKeys!({ bluemixInstance: instA }))).status).toBe(401);
    // Nor may it grant itself access to tenant A's instance.
    const self = await call(gw.kmsUrl, tokenB, 'POST', '/iam/v1/authorizations', {
      body: { sourceAccount: tenantB.account.id, target: { instanceId: instA }, role: 'Reader' },
    });
    expect(self.status).toBe(403);
  });

  it('an instance authorization lets the tenant create and use buckets; revoking it stops new buckets and reads', async () => {
    const crnA = await gw.createRootKey('tenant-a-shared');
    const authz = await authorize({ instanceId: instA });
    const b = bucketName('xt-auth');
    await s3B.send(withHeaders(new CreateBucketCommand({ Bucket: b }), kpHeaders(crnA)));
    await s3B.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'shared' }));
    expect(await (await s3B.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).Body!.transformToString()).toBe(
      'shared',
    );

    expect((await call(gw.kmsUrl, rootToken, 'DELETE', `/iam/v1/authorizations/${authz}`)).status).toBe(204);
    await createBucketError(s3B, crnA);
    gw.gateway.kms.dekCache.clear();
    await expectSdkError(s3B.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 403);
  });

  it('a key authorization covers that key only', async () => {
    const granted = await gw.createRootKey('tenant-a-granted');
    const other = await gw.createRootKey('tenant-a-other');
    await authorize({ instanceId: instA, keyId: granted.split(':')[9]! });
    await s3B.send(withHeaders(new CreateBucketCommand({ Bucket: bucketName('xt-key') }), kpHeaders(granted)));
    await createBucketError(s3B, other);
  });

  it('the tenant can have its own KMS instance and keys', async () => {
    const inst = await call<{ id: string }>(gw.kmsUrl, tokenB, 'POST', '/iam/v1/instances', {
      body: { name: 'b-kms' },
    });
    expect(inst.status).toBe(201);
    const kpB = keyProtectClient(gw.kmsUrl, tenantB.apikey);
    const key = first<{ crn: string }>(
      await kpB.createKey!({ bluemixInstance: inst.json.id, body: keyBody({ name: 'b-root' }) }),
    );
    // As in IBM Cloud, its own COS needs the Reader authorization on its own instance too.
    await createBucketError(s3B, key.crn);
    const own = await call(gw.kmsUrl, tokenB, 'POST', '/iam/v1/authorizations', {
      body: { sourceAccount: tenantB.account.id, target: { instanceId: inst.json.id }, role: 'Reader' },
    });
    expect(own.status).toBe(201);
    await s3B.send(withHeaders(new CreateBucketCommand({ Bucket: bucketName('xt-own') }), kpHeaders(key.crn)));
    // ...which tenant A's root account may not use without an authorization from B.
    await createBucketError(gw.client(), key.crn);
  });
});
