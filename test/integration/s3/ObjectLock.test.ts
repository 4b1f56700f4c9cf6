/**
 * S3 Object Lock through @aws-sdk/client-s3 against a real embedded gateway:
 * the bucket configuration, default retention on new versions, deletes
 * refused and allowed, the governance bypass, legal hold, compliance
 * extend-only, and the root key that cannot be deleted (not even with force)
 * while a lock-enabled bucket is registered on it.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketName, expectSdkError, withHeaders } from '../../helpers/s3Test.js';
import { reasonOf } from '../kms/kmsHttp.js';
import { startClockedGateway, type ClockedGateway } from '../kms/lifecycleKit.js';

const DAY = 86_400_000;
let c: ClockedGateway;
let s3: S3Client;

beforeAll(async () => {
  c = await startClockedGateway();
  s3 = c.s3;
});
afterAll(async () => c?.close());

async function lockedBucket(prefix: string, crn?: string): Promise<string> {
  const b = bucketName(prefix);
  const cmd = new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true });
  await s3.send(
    crn
      ? withHeaders(cmd, { 'ibm-sse-kp-encryption-algorithm': 'AES256', 'ibm-sse-kp-customer-root-key-crn': crn })
      : cmd,
  );
  return b;
}

const put = async (b: string, key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
  (await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: 'data', ...extra }))).VersionId!;

describe('Object Lock configuration', () => {
  it('a lock-enabled bucket is versioned for good; the configuration round-trips; defaults are validated', async () => {
    const b = await lockedBucket('olcfg');
    const cfg = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: b }));
    expect(cfg.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
    await expectSdkError(
      s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } })),
      409,
      'InvalidBucketState',
    );
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: b,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 3 } },
        },
      }),
    );
    const got = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: b }));
    expect(got.ObjectLockConfiguration?.Rule?.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 3 });
    await expectSdkError(
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: b,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 0 } },
          },
        }),
      ),
      400,
      'InvalidArgument',
    );
  });

  it('a bucket without lock: 404 ObjectLockConfigurationNotFoundError; enabling needs versioning (409), then works', async () => {
    const b = bucketName('olplain');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await expectSdkError(
      s3.send(new GetObjectLockConfigurationCommand({ Bucket: b })),
      404,
      'ObjectLockConfigurationNotFoundError',
    );
    const enable = () =>
      s3.send(
        new PutObjectLockConfigurationCommand({ Bucket: b, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } }),
      );
    await expectSdkError(enable(), 409, 'InvalidBucketState');
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })),
      400,
      'InvalidRequest',
    );
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    await enable();
    expect(
      (await s3.send(new GetObjectLockConfigurationCommand({ Bucket: b }))).ObjectLockConfiguration?.ObjectLockEnabled,
    ).toBe('Enabled');
  });
});

describe('retention and deletes', () => {
  it('default retention applies to new versions; a version delete is 403, a plain delete adds a marker; bypass works for GOVERNANCE', async () => {
    const b = await lockedBucket('olgov');
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: b,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
        },
      }),
    );
    const before = Date.now();
    const v = await put(b, 'k');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    expect(head.ObjectLockMode).toBe('GOVERNANCE');
    const until = head.ObjectLockRetainUntilDate!.getTime();
    expect(until).toBeGreaterThanOrEqual(before + DAY - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + DAY + 1000);
    const r = await s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v }));
    expect(r.Retention?.Mode).toBe('GOVERNANCE');

    await expectSdkError(s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v })), 403, 'AccessDenied');
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect(marker.DeleteMarker).toBe(true);
    // Shortening without the bypass is refused, with it allowed.
    const shorter = { Mode: 'GOVERNANCE' as const, RetainUntilDate: new Date(Date.now() + 60_000) };
    await expectSdkError(
      s3.send(new PutObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v, Retention: shorter })),
      403,
      'AccessDenied',
    );
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket: b,
        Key: 'k',
        VersionId: v,
        Retention: shorter,
        BypassGovernanceRetention: true,
      }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v, BypassGovernanceRetention: true }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: marker.VersionId }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it('COMPLIANCE: never deleted, even with the bypass; retain-until can only be extended; expiry frees the version', async () => {
    const b = await lockedBucket('olcomp');
    const soon = new Date(Date.now() + 2500);
    const v = await put(b, 'k', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: soon });
    await expectSdkError(
      s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v, BypassGovernanceRetention: true })),
      403,
      'AccessDenied',
    );
    for (const Retention of [
      { Mode: 'COMPLIANCE' as const, RetainUntilDate: new Date(soon.getTime() - 1000) },
      { Mode: 'GOVERNANCE' as const, RetainUntilDate: new Date(soon.getTime() + DAY) },
    ])
      await expectSdkError(
        s3.send(
          new PutObjectRetentionCommand({
            Bucket: b,
            Key: 'k',
            VersionId: v,
            Retention,
            BypassGovernanceRetention: true,
          }),
        ),
        403,
        'AccessDenied',
      );
    const later = new Date(soon.getTime() + 1000);
    await s3.send(
      new PutObjectRetentionCommand({
        Bucket: b,
        Key: 'k',
        VersionId: v,
        Retention: { Mode: 'COMPLIANCE', RetainUntilDate: later },
      }),
    );
    const r = await s3.send(new GetObjectRetentionCommand({ Bucket: b, Key: 'k', VersionId: v }));
    expect(r.Retention?.RetainUntilDate?.getTime()).toBe(later.getTime());
    await new Promise((res) => setTimeout(res, later.getTime() - Date.now() + 200));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v }));
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it('a retain-until date in the past, or a mode without a date, is 400', async () => {
    const b = await lockedBucket('olbad');
    await expectSdkError(
      s3.send(
        new PutObjectCommand({
          Bucket: b,
          Key: 'k',
          Body: 'x',
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: new Date(Date.now() - 1000),
        }),
      ),
      400,
      'InvalidArgument',
    );
    await expectSdkError(
      s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ObjectLockMode: 'GOVERNANCE' })),
      400,
      'InvalidArgument',
    );
  });
});

describe('every write path gets the lock', () => {
  it('a multipart upload and a copy get the default retention; a copy does not take its source lock', async () => {
    const b = await lockedBucket('olpaths');
    const v0 = await put(b, 'src', { ObjectLockLegalHoldStatus: 'ON' });
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: b,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
        },
      }),
    );
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'x' }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    await expectSdkError(
      s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'mp', VersionId: done.VersionId })),
      403,
      'AccessDenied',
    );
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src?versionId=${v0}` }),
    );
    const h = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'dst', VersionId: copied.VersionId }));
    expect([h.ObjectLockMode, h.ObjectLockLegalHoldStatus]).toEqual(['COMPLIANCE', undefined]);
  });
});

describe('legal hold', () => {
  it('ON blocks deleting that version whatever its retention; OFF releases it', async () => {
    const b = await lockedBucket('olhold');
    const v = await put(b, 'k');
    await expectSdkError(
      s3.send(new GetObjectLegalHoldCommand({ Bucket: b, Key: 'k' })),
      404,
      'NoSuchObjectLockConfiguration',
    );
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: b, Key: 'k', VersionId: v, LegalHold: { Status: 'ON' } }));
    expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: b, Key: 'k' }))).LegalHold?.Status).toBe('ON');
    expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).ObjectLockLegalHoldStatus).toBe('ON');
    await expectSdkError(
      s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v, BypassGovernanceRetention: true })),
      403,
      'AccessDenied',
    );
    const batch = await s3.send(
      new DeleteObjectsCommand({
        Bucket: b,
        Delete: { Objects: [{ Key: 'k', VersionId: v }] },
        BypassGovernanceRetention: true,
      }),
    );
    expect(batch.Errors?.map((e) => [e.Key, e.VersionId, e.Code])).toEqual([['k', v, 'AccessDenied']]);
    await s3.send(new PutObjectLegalHoldCommand({ Bucket: b, Key: 'k', VersionId: v, LegalHold: { Status: 'OFF' } }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v }));
  });
});

describe('the root key of a lock-enabled bucket', () => {
  it('is registered with preventKeyDeletion and cannot be deleted, not even with force, while the bucket exists', async () => {
    const key = await c.kp.createRootKey('objectlock');
    const b = await lockedBucket('olkey', key.crn);
    const regs = await c.kp.req<{ resources: Array<{ resourceCrn: string; preventKeyDeletion: boolean }> }>(
      'GET',
      `/keys/${key.id}/registrations`,
    );
    expect(regs.json.resources.map((r) => r.preventKeyDeletion)).toEqual([true]);
    const refused = await c.kp.req('DELETE', `/keys/${key.id}?force=true`);
    expect([refused.status, reasonOf(refused.json)]).toEqual([409, 'PREV_KEY_DEL_ERR']);
    // Once the bucket is gone (it holds no version), so is the registration, and the key deletes.
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
    expect(await c.kp.registrations(key.id)).toEqual([]);
    expect((await c.kp.req('DELETE', `/keys/${key.id}`)).status).toBe(204);
  });

  it('keeps preventKeyDeletion when the bucket moves to another root key (PutBucketEncryption)', async () => {
    const k1 = await c.kp.createRootKey('objectlock-from');
    const k2 = await c.kp.createRootKey('objectlock-to');
    const b = await lockedBucket('olmove', k1.crn);
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: k2.crn } }],
        },
      }),
    );
    expect(await c.kp.registrations(k1.id)).toEqual([]);
    const regs = await c.kp.req<{ resources: Array<{ preventKeyDeletion: boolean }> }>(
      'GET',
      `/keys/${k2.id}/registrations`,
    );
    expect(regs.json.resources.map((r) => r.preventKeyDeletion)).toEqual([true]);
    const refused = await c.kp.req('DELETE', `/keys/${k2.id}?force=true`);
    expect([refused.status, reasonOf(refused.json)]).toEqual([409, 'PREV_KEY_DEL_ERR']);
  });
});
