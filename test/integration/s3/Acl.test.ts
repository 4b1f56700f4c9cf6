/**
 * ACLs and object ownership through @aws-sdk/client-s3, with two accounts:
 * the root account owns the buckets, a second IAM account is the grantee.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteBucketTaggingCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketTaggingCommand,
  GetObjectAclCommand,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketTaggingCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { bucketName, expectSdkError, useGateway, type GatewayUnderTest } from '../../helpers/s3Test.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

let t: GatewayUnderTest;
useGateway((g) => (t = g));

let other: S3Client;
let otherId: string;
beforeAll(async () => {
  const iam = t.gw.gateway.iam.service;
  const { account } = await iam.createAccount({ name: 'grantee' });
  const key = await iam.createS3AccessKey(account.id);
  otherId = account.id;
  other = t.gw.client({ credentials: key });
});

async function writerBucket(): Promise<string> {
  const b = bucketName('acl');
  await t.s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'ObjectWriter' }));
  return b;
}

describe('CreateBucket with ACLs', () => {
  it('a new bucket is BucketOwnerEnforced; a public ACL without x-amz-object-ownership is InvalidBucketAclWithObjectOwnership', async () => {
    const b = bucketName('acl');
    await expectSdkError(
      t.s3.send(new CreateBucketCommand({ Bucket: b, ACL: 'public-read' })),
      400,
      'InvalidBucketAclWithObjectOwnership',
    );
    await t.s3.send(new CreateBucketCommand({ Bucket: b }));
    const oc = await t.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    expect(oc.OwnershipControls?.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
    await expectSdkError(
      t.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })),
      400,
      'AccessControlListNotSupported',
    );
    await expectSdkError(
      t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'public-read' })),
      400,
      'AccessControlListNotSupported',
    );
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', ACL: 'bucket-owner-full-control' }));
  });

  it('with ObjectWriter, public-read is stored and GetBucketAcl shows it', async () => {
    const b = bucketName('acl');
    await t.s3.send(new CreateBucketCommand({ Bucket: b, ACL: 'public-read', ObjectOwnership: 'ObjectWriter' }));
    const acl = await t.s3.send(new GetBucketAclCommand({ Bucket: b }));
    expect(acl.Owner?.ID).toBe(t.gw.accountId);
    expect(acl.Grants?.map((g) => [g.Grantee?.Type, g.Grantee?.ID ?? g.Grantee?.URI, g.Permission])).toEqual([
      ['CanonicalUser', t.gw.accountId, 'FULL_CONTROL'],
      ['Group', ALL_USERS, 'READ'],
    ]);
  });
});

describe('bucket ACL grants to another account', () => {
  it('READ_ACP by id lets the grantee read the ACL, not write it; unknown ids are refused', async () => {
    const b = await writerBucket();
    await expectSdkError(other.send(new GetBucketAclCommand({ Bucket: b })), 403, 'AccessDenied');
    await t.s3.send(new PutBucketAclCommand({ Bucket: b, GrantReadACP: `id="${otherId}"` }));
    const acl = await other.send(new GetBucketAclCommand({ Bucket: b }));
    expect(acl.Grants?.map((g) => [g.Grantee?.ID, g.Grantee?.DisplayName, g.Permission])).toEqual([
      [otherId, 'grantee', 'READ_ACP'],
    ]);
    await expectSdkError(other.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })), 403, 'AccessDenied');
    // The owner keeps READ_ACP / WRITE_ACP although the ACL no longer names it.
    await t.s3.send(new GetBucketAclCommand({ Bucket: b }));
    await expectSdkError(
      t.s3.send(new PutBucketAclCommand({ Bucket: b, GrantRead: 'id="no-such-account"' })),
      400,
      'InvalidArgument',
    );
    await expectSdkError(
      t.s3.send(new PutBucketAclCommand({ Bucket: b, GrantRead: 'emailAddress="a@example.com"' })),
      400,
      'UnresolvableGrantByEmailAddress',
    );
    // Nothing of the refused requests was stored.
    expect((await t.s3.send(new GetBucketAclCommand({ Bucket: b }))).Grants).toHaveLength(1);
  });

  it('WRITE_ACP through an AccessControlPolicy body lets the grantee replace the ACL', async () => {
    const b = await writerBucket();
    const owner = { ID: t.gw.accountId };
    await t.s3.send(
      new PutBucketAclCommand({
        Bucket: b,
        AccessControlPolicy: {
          Owner: owner,
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: t.gw.accountId }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'CanonicalUser', ID: otherId }, Permission: 'WRITE_ACP' },
          ],
        },
      }),
    );
    await other.send(new PutBucketAclCommand({ Bucket: b, ACL: 'authenticated-read' }));
    const acl = await t.s3.send(new GetBucketAclCommand({ Bucket: b }));
    expect(acl.Grants?.map((g) => g.Grantee?.URI ?? g.Grantee?.ID)).toEqual([
      t.gw.accountId,
      'http://acs.amazonaws.com/groups/global/AuthenticatedUsers',
    ]);
    // A policy naming another owner cannot give the bucket away.
    await expectSdkError(
      t.s3.send(
        new PutBucketAclCommand({
          Bucket: b,
          AccessControlPolicy: {
            Owner: { ID: otherId },
            Grants: [{ Grantee: { Type: 'CanonicalUser', ID: otherId }, Permission: 'FULL_CONTROL' }],
          },
        }),
      ),
      403,
      'AccessDenied',
    );
    await expectSdkError(
      t.s3.send(
        new PutBucketAclCommand({
          Bucket: b,
          AccessControlPolicy: {
            Owner: owner,
            Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'no-such-account' }, Permission: 'READ' }],
          },
        }),
      ),
      400,
      'InvalidArgument',
    );
  });
});

describe('object ACLs', () => {
  it('x-amz-grant-read on PutObject is stored with the version and read back; PutObjectAcl replaces it', async () => {
    const b = await writerBucket();
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x', GrantRead: `id="${otherId}"` }));
    const acl = await t.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }));
    expect(acl.Owner?.ID).toBe(t.gw.accountId);
    expect(acl.Grants?.map((g) => [g.Grantee?.ID, g.Permission])).toEqual([[otherId, 'READ']]);
    // READ is not READ_ACP.
    await expectSdkError(other.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' })), 403, 'AccessDenied');
    await t.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', GrantReadACP: `id="${otherId}"` }));
    const seen = await other.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }));
    expect(seen.Grants?.map((g) => [g.Grantee?.ID, g.Permission])).toEqual([[otherId, 'READ_ACP']]);
    await t.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'private' }));
    expect((await t.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }))).Grants).toEqual([
      expect.objectContaining({ Permission: 'FULL_CONTROL', Grantee: expect.objectContaining({ ID: t.gw.accountId }) }),
    ]);
    await expectSdkError(
      t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k2', Body: 'x', GrantRead: 'id="no-such-account"' })),
      400,
      'InvalidArgument',
    );
    await expectSdkError(
      t.s3.send(
        new PutObjectCommand({ Bucket: b, Key: 'k3', Body: 'x', ACL: 'public-read', GrantRead: `id="${otherId}"` }),
      ),
      400,
      'InvalidRequest',
    );
  });

  it('CreateMultipartUpload grants reach the completed object; CopyObject does not copy the source ACL', async () => {
    const b = await writerBucket();
    const up = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', GrantRead: `id="${otherId}"` }),
    );
    const part = await t.s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'part' }),
    );
    await t.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    const mp = await t.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'mp' }));
    expect(mp.Grants?.map((g) => [g.Grantee?.ID, g.Permission])).toEqual([[otherId, 'READ']]);
    await t.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy', CopySource: `${b}/mp` }));
    const copy = await t.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'copy' }));
    expect(copy.Grants?.map((g) => [g.Grantee?.ID, g.Permission])).toEqual([[t.gw.accountId, 'FULL_CONTROL']]);
    await t.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy2', CopySource: `${b}/mp`, ACL: 'public-read' }));
    const pub = await t.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'copy2' }));
    expect(pub.Grants?.map((g) => g.Grantee?.URI).filter(Boolean)).toEqual([ALL_USERS]);
  });

  it('each version keeps its own ACL (?versionId)', async () => {
    const b = await writerBucket();
    const { PutBucketVersioningCommand } = await import('@aws-sdk/client-s3');
    await t.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: '1', ACL: 'public-read' }));
    await t.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: '2' }));
    const old = await t.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k', VersionId: v1.VersionId }));
    expect(old.Grants?.map((g) => g.Grantee?.URI).filter(Boolean)).toEqual([ALL_USERS]);
    const cur = await t.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }));
    expect(cur.Grants).toHaveLength(1);
  });
});

describe('ownership controls', () => {
  it('Put/Get/DeleteBucketOwnershipControls; enforcing with a public bucket ACL is refused', async () => {
    const b = await writerBucket();
    await t.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    await expectSdkError(
      t.s3.send(
        new PutBucketOwnershipControlsCommand({
          Bucket: b,
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        }),
      ),
      400,
      'InvalidBucketAclWithObjectOwnership',
    );
    await t.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }));
    await t.s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: b,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      }),
    );
    const oc = await t.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    expect(oc.OwnershipControls?.Rules).toEqual([{ ObjectOwnership: 'BucketOwnerPreferred' }]);
    await expectSdkError(other.send(new GetBucketOwnershipControlsCommand({ Bucket: b })), 403, 'AccessDenied');
    await t.s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }));
    await expectSdkError(
      t.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b })),
      404,
      'OwnershipControlsNotFoundError',
    );
  });
});

describe('bucket tagging', () => {
  it('Put/Get/DeleteBucketTagging, 50 tags at most', async () => {
    const b = await writerBucket();
    await expectSdkError(t.s3.send(new GetBucketTaggingCommand({ Bucket: b })), 404, 'NoSuchTagSet');
    const TagSet = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    await t.s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet } }));
    expect((await t.s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet).toEqual(TagSet);
    await expectSdkError(
      t.s3.send(
        new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [...TagSet, { Key: 'k50', Value: 'x' }] } }),
      ),
      400,
      'InvalidTag',
    );
    await expectSdkError(
      t.s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'x'.repeat(129), Value: '' }] } })),
      400,
      'InvalidTag',
    );
    await expectSdkError(
      t.s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'aws:system', Value: 'x' }] } })),
      400,
      'InvalidTag',
    );
    // The refused requests left the stored set as it was.
    expect((await t.s3.send(new GetBucketTaggingCommand({ Bucket: b }))).TagSet).toEqual(TagSet);
    await t.s3.send(new DeleteBucketTaggingCommand({ Bucket: b }));
    await expectSdkError(t.s3.send(new GetBucketTaggingCommand({ Bucket: b })), 404, 'NoSuchTagSet');
  });
});
