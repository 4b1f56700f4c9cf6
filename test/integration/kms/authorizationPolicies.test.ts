/**
 * IBM's authorization model end to end (key-protect.md 1.4, 5): a tenant's
 * gateway side (its Cloud Object Storage instance) needs a service-to-service
 * authorization even for the keys of its own account's KMS instance; an
 * IBM IAM Policy Management body (`POST /v1/policies`, type authorization)
 * creates one; deleting the policy refuses new buckets with the 400 COS gives
 * and, the DEK cache being off here, the existing bucket's data at once. Key
 * ring scope; IBM's error shape; the same-account opt-out.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName, expectSdkError, withHeaders } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';
import { call, keyBody, tokenFor } from './kmsHttp.js';

interface Tenant {
  account: { id: string };
  apikey: string;
  s3: { accessKeyId: string; secretAccessKey: string };
}
interface Attr {
  name: string;
  value: string;
}
interface Policy {
  id: string;
  type: string;
  subjects: Array<{ attributes: Attr[] }>;
  roles: Array<{ role_id: string }>;
  resources: Array<{ attributes: Attr[] }>;
  href: string;
  created_by_id: string;
}
interface IbmError {
  trace: string;
  errors: Array<{ code: string; message: string }>;
  status_code: number;
}

const READER = 'crn:v1:bluemix:public:iam::::serviceRole:Reader';

function kpHeaders(crn: string): Record<string, string> {
  return { 'ibm-sse-kp-encryption-algorithm': 'AES256', 'ibm-sse-kp-customer-root-key-crn': crn };
}

/** The body IBM documents for "COS may read keys of this KP instance" (optionally a key ring or a key). */
function ibmPolicy(
  sourceAccount: string,
  targetAccount: string,
  instanceId: string,
  resource?: { resourceType: 'key' | 'keyRing'; resource: string },
): Record<string, unknown> {
  const resourceAttrs: Attr[] = [
    { name: 'accountId', value: targetAccount },
    { name: 'serviceName', value: 'kms' },
    { name: 'serviceInstance', value: instanceId },
  ];
  if (resource)
    resourceAttrs.push(
      { name: 'resourceType', value: resource.resourceType },
      { name: 'resource', value: resource.resource },
    );
  return {
    type: 'authorization',
    subjects: [
      {
        attributes: [
          { name: 'accountId', value: sourceAccount },
          { name: 'serviceName', value: 'cloud-object-storage' },
          { name: 'serviceInstance', value: 'coffer-s3' },
        ],
      },
    ],
    roles: [{ role_id: READER }],
    resources: [{ attributes: resourceAttrs }],
  };
}

async function newTenant(gw: TestGateway, rootToken: string, name: string): Promise<Tenant & { token: string }> {
  const created = await call<Tenant>(gw.kmsUrl, rootToken, 'POST', '/iam/v1/accounts', { body: { name } });
  expect(created.status).toBe(201);
  return { ...created.json, token: await tokenFor(gw.kmsUrl, created.json.apikey) };
}

async function ownInstance(gw: TestGateway, token: string): Promise<string> {
  const inst = await call<{ id: string }>(gw.kmsUrl, token, 'POST', '/iam/v1/instances', { body: { name: 'own' } });
  expect(inst.status).toBe(201);
  return inst.json.id;
}

async function rootKey(gw: TestGateway, token: string, instanceId: string, ring?: string): Promise<string> {
  const res = await call<{ resources: Array<{ crn: string }> }>(gw.kmsUrl, token, 'POST', '/api/v2/keys', {
    body: keyBody({ name: `k-${randomUUID().slice(0, 8)}`, extractable: false }),
    headers: { 'bluemix-instance': instanceId, ...(ring ? { 'x-kms-key-ring': ring } : {}) },
  });
  expect(res.status).toBe(201);
  return res.json.resources[0]!.crn;
}

function s3For(gw: TestGateway, t: Tenant): S3Client {
  return new S3Client({ endpoint: gw.s3Url, region: gw.region, forcePathStyle: true, credentials: t.s3 });
}

async function createKpBucket(s3: S3Client, crn: string): Promise<string> {
  const b = bucketName('authz');
  await s3.send(withHeaders(new CreateBucketCommand({ Bucket: b }), kpHeaders(crn)));
  return b;
}

/** COS's answer for a key it may not use: 400, worded exactly as for a key that does not exist. */
async function expectKeyNotFound(s3: S3Client, crn: string): Promise<void> {
  const denied = await expectSdkError(
    s3.send(withHeaders(new CreateBucketCommand({ Bucket: bucketName('authz-no') }), kpHeaders(crn))),
    400,
    'InvalidArgument',
  );
  const unknown = crn.replace(/:key:[^:]+$/, `:key:${randomUUID()}`);
  const missing = await expectSdkError(
    s3.send(withHeaders(new CreateBucketCommand({ Bucket: bucketName('authz-no') }), kpHeaders(unknown))),
    400,
    'InvalidArgument',
  );
  expect(denied.message).toMatch(/could not be found/);
  expect(denied.message.replace(crn, '<crn>')).toBe(missing.message.replace(unknown, '<crn>'));
}

describe('service-to-service authorizations (IBM model), required inside one account', () => {
  let gw: TestGateway;
  let rootToken: string;
  let b: Tenant & { token: string };
  let s3B: S3Client;
  let instB: string;

  beforeAll(async () => {
    // No DEK cache: a revoked authorization stops data access at the next request.
    gw = await startTestGateway({ config: { dekCacheTtlSeconds: 0 } });
    rootToken = await tokenFor(gw.kmsUrl, gw.rootApiKey);
    b = await newTenant(gw, rootToken, 'tenant-b');
    s3B = s3For(gw, b);
    instB = await ownInstance(gw, b.token);
  });
  afterAll(async () => {
    s3B?.destroy();
    await gw?.close();
  });

  it('the root account got its own-instance Reader authorization at first start, so its keys work as before', async () => {
    const list = await call<{ policies: Policy[] }>(
      gw.kmsUrl,
      rootToken,
      'GET',
      `/v1/policies?account_id=${gw.accountId}`,
    );
    expect(list.status).toBe(200);
    const rootInstance = await gw.gateway.kms.ensureTenant(gw.accountId);
    const own = list.json.policies.find((p) =>
      p.resources[0]!.attributes.some((a) => a.name === 'serviceInstance' && a.value === rootInstance),
    );
    expect(own?.subjects[0]!.attributes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'accountId', value: gw.accountId }),
        expect.objectContaining({ name: 'serviceName', value: 'cloud-object-storage' }),
      ]),
    );
    expect(own?.roles).toEqual([expect.objectContaining({ role_id: READER })]);
    const bucket = await createKpBucket(gw.client(), await gw.createRootKey('root-own'));
    await gw.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'root' }));
  });

  it('a tenant may not use the keys of its own new instance without an authorization', async () => {
    await expectKeyNotFound(s3B, await rootKey(gw, b.token, instB));
  });

  it('an IBM-style POST /v1/policies authorizes; bucket creation works; DELETE refuses new buckets and the data', async () => {
    const crn = await rootKey(gw, b.token, instB);
    const created = await call<Policy>(gw.kmsUrl, b.token, 'POST', '/v1/policies', {
      body: ibmPolicy(b.account.id, b.account.id, instB),
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ type: 'authorization', roles: [{ role_id: READER }] });
    expect(created.json.resources[0]!.attributes).toEqual([
      expect.objectContaining({ name: 'accountId', value: b.account.id }),
      expect.objectContaining({ name: 'serviceName', value: 'kms' }),
      expect.objectContaining({ name: 'serviceInstance', value: instB }),
    ]);
    expect(created.json.href).toBe(`${gw.kmsUrl}/v1/policies/${created.json.id}`);
    const got = await call<Policy>(gw.kmsUrl, b.token, 'GET', `/v1/policies/${created.json.id}`);
    expect(got.json).toEqual(created.json);
    // Coffer's own endpoint shows the same record.
    const mine = await call<{ authorizations: Array<{ id: string; source: { serviceInstance?: string } }> }>(
      gw.kmsUrl,
      b.token,
      'GET',
      '/iam/v1/authorizations',
    );
    expect(mine.json.authorizations.find((a) => a.id === created.json.id)?.source.serviceInstance).toBe('coffer-s3');

    const bucket = await createKpBucket(s3B, crn);
    await s3B.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'tenant data' }));
    const read = async () =>
      (await s3B.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body!.transformToString();
    expect(await read()).toBe('tenant data');

    expect((await call(gw.kmsUrl, b.token, 'DELETE', `/v1/policies/${created.json.id}`)).status).toBe(204);
    await expectKeyNotFound(s3B, crn);
    await expectSdkError(s3B.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })), 403, 'AccessDenied');
    const gone = await call<IbmError>(gw.kmsUrl, b.token, 'GET', `/v1/policies/${created.json.id}`);
    expect(gone.status).toBe(404);
    expect(gone.json).toMatchObject({ status_code: 404, errors: [{ code: 'policy_not_found' }] });
    expect(gone.json.trace).toBe(gone.headers.get('transaction-id'));
  });

  it('a key ring authorization covers the keys in that ring only', async () => {
    expect(
      (await call(gw.kmsUrl, b.token, 'POST', '/api/v2/key_rings/ring-a', { headers: { 'bluemix-instance': instB } }))
        .status,
    ).toBe(201);
    const inRing = await rootKey(gw, b.token, instB, 'ring-a');
    const outside = await rootKey(gw, b.token, instB);
    const created = await call<Policy>(gw.kmsUrl, b.token, 'POST', '/v1/policies', {
      body: ibmPolicy(b.account.id, b.account.id, instB, { resourceType: 'keyRing', resource: 'ring-a' }),
    });
    expect(created.status).toBe(201);
    expect(created.json.resources[0]!.attributes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'resourceType', value: 'keyRing' }),
        expect.objectContaining({ name: 'resource', value: 'ring-a' }),
      ]),
    );
    await createKpBucket(s3B, inRing);
    await expectKeyNotFound(s3B, outside);
    expect((await call(gw.kmsUrl, b.token, 'DELETE', `/v1/policies/${created.json.id}`)).status).toBe(204);
    await expectKeyNotFound(s3B, inRing);
  });

  it("errors in IBM's shape: no token 401, another account's instance 403, bad body 400, duplicate 409", async () => {
    const rootInstance = await gw.gateway.kms.ensureTenant(gw.accountId);
    const codeOf = (r: { status: number; json: IbmError }) => [r.status, r.json.status_code, r.json.errors[0]!.code];
    const noToken = await call<IbmError>(gw.kmsUrl, 'not-a-token', 'POST', '/v1/policies', {
      body: ibmPolicy(b.account.id, b.account.id, instB),
    });
    expect(codeOf(noToken)).toEqual([401, 401, 'invalid_token']);
    const grabbing = await call<IbmError>(gw.kmsUrl, b.token, 'POST', '/v1/policies', {
      body: ibmPolicy(b.account.id, gw.accountId, rootInstance),
    });
    expect(codeOf(grabbing)).toEqual([403, 403, 'insufficent_permissions']);
    const wrongAccount = await call<IbmError>(gw.kmsUrl, b.token, 'POST', '/v1/policies', {
      body: ibmPolicy(b.account.id, gw.accountId, instB),
    });
    expect(codeOf(wrongAccount)).toEqual([400, 400, 'invalid_body']);
    const access = await call<IbmError>(gw.kmsUrl, b.token, 'POST', '/v1/policies', {
      body: { ...ibmPolicy(b.account.id, b.account.id, instB), type: 'access' },
    });
    expect(codeOf(access)).toEqual([400, 400, 'invalid_body']);
    expect(access.json.errors[0]!.message).toMatch(/authorization/);
    const first = await call<Policy>(gw.kmsUrl, b.token, 'POST', '/v1/policies', {
      body: ibmPolicy(b.account.id, b.account.id, instB, { resourceType: 'key', resource: 'some-key' }),
    });
    expect(first.status).toBe(201);
    const again = await call<IbmError>(gw.kmsUrl, b.token, 'POST', '/v1/policies', {
      body: ibmPolicy(b.account.id, b.account.id, instB, { resourceType: 'key', resource: 'some-key' }),
    });
    expect(codeOf(again)).toEqual([409, 409, 'policy_conflict_error']);
    // The root account's administrator sees it; an unrelated tenant does not.
    const c = await newTenant(gw, rootToken, 'tenant-c');
    expect((await call(gw.kmsUrl, rootToken, 'GET', `/v1/policies/${first.json.id}`)).status).toBe(200);
    expect((await call(gw.kmsUrl, c.token, 'GET', `/v1/policies/${first.json.id}`)).status).toBe(404);
    expect((await call<{ policies: Policy[] }>(gw.kmsUrl, c.token, 'GET', '/v1/policies')).json.policies).toEqual([]);
  });
});

describe('COFFER_KMS_IMPLICIT_SAME_ACCOUNT_AUTHORIZATION=true (single-tenant opt-out)', () => {
  let gw: TestGateway;
  afterAll(async () => gw?.close());

  it("an account uses its own instance's keys without an authorization; another account's still need one", async () => {
    gw = await startTestGateway({ config: { implicitSameAccountAuthorization: true } });
    const rootToken = await tokenFor(gw.kmsUrl, gw.rootApiKey);
    const b = await newTenant(gw, rootToken, 'tenant-b');
    const s3B = s3For(gw, b);
    try {
      const instB = await ownInstance(gw, b.token);
      const crn = await rootKey(gw, b.token, instB);
      const bucket = await createKpBucket(s3B, crn);
      await s3B.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
      await expectKeyNotFound(gw.client(), crn);
    } finally {
      s3B.destroy();
    }
  });
});
