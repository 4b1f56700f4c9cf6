/**
 * Embedded mode (S3 and the KMS in one process): revoking a service-to-service
 * authorization drops the DEKs cached under it before the revoke is answered,
 * so the very next GET is refused, although the DEK cache TTL here is an hour.
 * For an authorization on a whole instance and on one key (IBM's
 * resourceType key).
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName, expectSdkError } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';
import { call, keyBody, tokenFor } from './kmsHttp.js';
import { createKpBucket } from './lifecycleKit.js';
import { getOutcome } from './processKit.js';

const READER = 'crn:v1:bluemix:public:iam::::serviceRole:Reader';

function policy(account: string, instanceId: string, keyId?: string): Record<string, unknown> {
  const resource = [
    { name: 'accountId', value: account },
    { name: 'serviceName', value: 'kms' },
    { name: 'serviceInstance', value: instanceId },
    ...(keyId
      ? [
          { name: 'resourceType', value: 'key' },
          { name: 'resource', value: keyId },
        ]
      : []),
  ];
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
    resources: [{ attributes: resource }],
  };
}

describe('embedded mode: a revoked authorization refuses the next GET (DEK cache TTL 1 h)', () => {
  let gw: TestGateway;
  let token: string;
  let account: string;
  let instance: string;
  let s3: S3Client;

  beforeAll(async () => {
    gw = await startTestGateway({ config: { dekCacheTtlSeconds: 3600 } });
    const root = await tokenFor(gw.kmsUrl, gw.rootApiKey);
    const acct = await call<{
      account: { id: string };
      apikey: string;
      s3: { accessKeyId: string; secretAccessKey: string };
    }>(gw.kmsUrl, root, 'POST', '/iam/v1/accounts', { body: { name: 'embedded revoke' } });
    expect(acct.status).toBe(201);
    account = acct.json.account.id;
    token = await tokenFor(gw.kmsUrl, acct.json.apikey);
    const inst = await call<{ id: string }>(gw.kmsUrl, token, 'POST', '/iam/v1/instances', { body: { name: 'own' } });
    instance = inst.json.id;
    s3 = new S3Client({ endpoint: gw.s3Url, region: gw.region, forcePathStyle: true, credentials: acct.json.s3 });
  });
  afterAll(async () => {
    s3?.destroy();
    await gw?.close();
  });

  async function keyAndBucket(): Promise<{ id: string; crn: string; bucket: string }> {
    const key = await call<{ resources: Array<{ id: string; crn: string }> }>(
      gw.kmsUrl,
      token,
      'POST',
      '/api/v2/keys',
      {
        body: keyBody({ name: 'embedded', extractable: false }),
        headers: { 'bluemix-instance': instance },
      },
    );
    expect(key.status).toBe(201);
    return { ...key.json.resources[0]!, bucket: bucketName('emb-revoke') };
  }

  async function grant(keyId?: string): Promise<string> {
    const p = await call<{ id: string }>(gw.kmsUrl, token, 'POST', '/v1/policies', {
      body: policy(account, instance, keyId),
    });
    expect(p.status).toBe(201);
    return p.json.id;
  }

  async function fill(k: { crn: string; bucket: string }): Promise<void> {
    await createKpBucket(s3, k.bucket, k.crn);
    await s3.send(new PutObjectCommand({ Bucket: k.bucket, Key: 'o', Body: 'embedded data' }));
    // Twice: the second GET is served by the cached DEK.
    expect(await getOutcome(s3, k.bucket)).toBe('200');
    expect(await getOutcome(s3, k.bucket)).toBe('200');
  }

  it('on a whole instance: the next GET is 403 AccessDenied', async () => {
    const k = await keyAndBucket();
    const id = await grant();
    await fill(k);
    expect((await call(gw.kmsUrl, token, 'DELETE', `/v1/policies/${id}`)).status).toBe(204);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: k.bucket, Key: 'o' })), 403, 'AccessDenied');
  });

  it('on one key (resourceType key): the next GET is 403 AccessDenied; a new grant serves it again', async () => {
    const k = await keyAndBucket();
    const id = await grant(k.id);
    await fill(k);
    expect((await call(gw.kmsUrl, token, 'DELETE', `/v1/policies/${id}`)).status).toBe(204);
    expect(await getOutcome(s3, k.bucket)).toBe('403 AccessDenied');
    await grant(k.id);
    expect(await getOutcome(s3, k.bucket)).toBe('200');
  });
});
