/**
 * The protocol breadth the real clients touch in passing, and the quirks they
 * depend on, checked through the AWS SDK v3 (as clients see the answers) and
 * raw requests (where the exact wire form matters): versioning, ACLs, bucket
 * encryption (including moving a bucket to another root key), the NoSuch...
 * answers, object tagging, partNumber reads, SSE response headers,
 * ListObjectVersions, repeated CreateBucket, DeleteObject of a missing key,
 * LastModified formats.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  GetBucketAclCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketAclCommand,
  PutBucketEncryptionCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointOf, objectPath, signedRequest, type RawEndpoint } from '../helpers/rawS3.js';
import { bodyBytes, captureHeaders, expectSdkError } from '../helpers/s3Test.js';
import { SeededData } from '../helpers/seeded.js';
import { startTestGateway, type TestGateway } from '../helpers/startGateway.js';

const MiB = 1024 * 1024;
const RFC1123 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

/** Parts of a key CRN: crn:v1:<cname>:<ctype>:kms:<region>:a/<account>:<instance>:key:<id>. */
function keyParts(crn: string): { instanceId: string; keyId: string } {
  const p = crn.split(':');
  return { instanceId: p[7], keyId: p[9] };
}

describe('protocol breadth and quirks the clients rely on', () => {
  let gw: TestGateway;
  let s3: S3Client;
  let ep: RawEndpoint;
  const bucket = 'protocol-bucket';
  const small = Buffer.from('protocol test object\n'.repeat(10));

  beforeAll(async () => {
    gw = await startTestGateway();
    s3 = gw.client();
    ep = endpointOf(gw);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj.txt', Body: small }));
  });

  afterAll(async () => {
    await gw?.close();
  });

  it('CreateBucket on a bucket we already own answers 200, as AWS us-east-1 does', async () => {
    const again = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    expect(again.$metadata.httpStatusCode).toBe(200);
    const raw = await signedRequest(ep, { method: 'PUT', path: `/${bucket}` });
    expect(raw.status).toBe(200);
  });

  it('DeleteObject of a missing key is 204', async () => {
    const out = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never/existed' }));
    expect(out.$metadata.httpStatusCode).toBe(204);
  });

  it('LastModified: ISO 8601 with milliseconds in listings, RFC 1123 in headers', async () => {
    for (const query of ['list-type=2', '', 'versions']) {
      const res = await signedRequest(ep, { method: 'GET', path: `/${bucket}${query ? '?' + query : ''}` });
      expect(res.status).toBe(200);
      const stamps = [...res.text().matchAll(/<LastModified>([^<]*)<\/LastModified>/g)].map((m) => m[1]);
      expect(stamps.length, `LastModified in ?${query}`).toBeGreaterThan(0);
      for (const s of stamps) expect(s).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    const head = await signedRequest(ep, { method: 'HEAD', path: objectPath(bucket, 'obj.txt') });
    expect(String(head.headers['last-modified'])).toMatch(RFC1123);
  });

  it('GetBucketVersioning: not enabled (no Status)', async () => {
    const v = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    expect(v.Status).toBeUndefined();
    expect(v.MFADelete).toBeUndefined();
  });

  it('ListObjectVersions: a non-versioned listing (every object is its "null" version, latest)', async () => {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect(out.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size])).toEqual([
      ['obj.txt', 'null', true, small.length],
    ]);
    expect(out.DeleteMarkers ?? []).toEqual([]);
  });

  it('Get/PutBucketAcl and Get/PutObjectAcl: private, the owner has FULL_CONTROL; private canned ACLs are accepted', async () => {
    for (const acl of [
      await s3.send(new GetBucketAclCommand({ Bucket: bucket })),
      await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'obj.txt' })),
    ]) {
      expect(acl.Owner?.ID).toBe(gw.accountId);
      expect(acl.Grants).toEqual([
        {
          Grantee: { Type: 'CanonicalUser', ID: gw.accountId, DisplayName: acl.Owner?.DisplayName },
          Permission: 'FULL_CONTROL',
        },
      ]);
    }
    expect((await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }))).$metadata.httpStatusCode).toBe(
      200,
    );
    for (const ACL of ['private', 'bucket-owner-full-control'] as const) {
      expect(
        (await s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'obj.txt', ACL }))).$metadata.httpStatusCode,
      ).toBe(200);
    }
    // Setting the policy the server returned (what s3cmd does after a copy) is accepted too.
    const current = await s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'obj.txt' }));
    await s3.send(
      new PutObjectAclCommand({
        Bucket: bucket,
        Key: 'obj.txt',
        AccessControlPolicy: { Owner: current.Owner, Grants: current.Grants },
      }),
    );
    // A new bucket is BucketOwnerEnforced (AWS's default): ACLs are disabled, a wider one is refused, never dropped.
    await expectSdkError(
      s3.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'obj.txt', ACL: 'public-read' })),
      400,
      'AccessControlListNotSupported',
    );
  });

  it('GetBucketPolicy / GetBucketCors / GetBucketLifecycleConfiguration / GetBucketTagging answer the NoSuch... errors', async () => {
    await expectSdkError(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })), 404, 'NoSuchBucketPolicy');
    await expectSdkError(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), 404, 'NoSuchCORSConfiguration');
    await expectSdkError(
      s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
      404,
      'NoSuchLifecycleConfiguration',
    );
    await expectSdkError(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), 404, 'NoSuchTagSet');
  });

  it('Get/Put/DeleteObjectTagging', async () => {
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj.txt' }))).TagSet).toEqual([]);
    const TagSet = [
      { Key: 'project', Value: 'coffer' },
      { Key: 'with space', Value: 'ü+%' },
    ];
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'obj.txt', Tagging: { TagSet } }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj.txt' }))).TagSet).toEqual(TagSet);
    const head = captureHeaders(new HeadObjectCommand({ Bucket: bucket, Key: 'obj.txt' }));
    await s3.send(head.cmd);
    expect(head.headers()['x-amz-tagging-count']).toBe('2');
    expect(
      (await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'obj.txt' }))).$metadata.httpStatusCode,
    ).toBe(204);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj.txt' }))).TagSet).toEqual([]);
    // Tagging never touches the data.
    expect(
      (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'obj.txt' })))).equals(small),
    ).toBe(true);
  });

  it('HeadObject / GetObject with partNumber read one part of a multipart object', async () => {
    const data = new SeededData('protocol-parts', 11 * MiB);
    const sizes = [5 * MiB, 5 * MiB, 1 * MiB];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'parts.bin' }));
    const Parts = [];
    let off = 0;
    for (let i = 0; i < sizes.length; i++) {
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'parts.bin',
          UploadId,
          PartNumber: i + 1,
          Body: data.bytes(off, off + sizes[i]),
        }),
      );
      Parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32 });
      off += sizes[i];
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'parts.bin', UploadId, MultipartUpload: { Parts } }),
    );
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'parts.bin', PartNumber: 2 }));
    expect(h.ContentLength).toBe(5 * MiB);
    expect(h.PartsCount).toBe(3);
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'parts.bin', PartNumber: 3 }));
    expect(g.$metadata.httpStatusCode).toBe(206);
    expect(g.ContentRange).toBe(`bytes ${10 * MiB}-${11 * MiB - 1}/${11 * MiB}`);
    expect((await bodyBytes(g)).equals(data.bytes(10 * MiB, 11 * MiB))).toBe(true);
    await expectSdkError(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'parts.bin', PartNumber: 4 })), 416);
  });

  it('bucket encryption, AWS style: SSE-KMS with a root key CRN moves the bucket (DEK rewrapped), AES256 and DeleteBucketEncryption return it to the provider key', async () => {
    const b = 'protocol-keys';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'before.txt', Body: small }));
    const def = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
    expect(def.ServerSideEncryptionConfiguration?.Rules?.[0].ApplyServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'AES256',
    });
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'plain.txt', Body: small }));
    expect(put.ServerSideEncryption).toBe('AES256');

    const keyA = await gw.createRootKey('protocol-key-a');
    const keyB = await gw.createRootKey('protocol-key-b');
    const kms = gw.gateway.kms.local.service;
    const registered = async (crn: string) => {
      const { instanceId, keyId } = keyParts(crn);
      return (await kms.listRegistrations(instanceId, keyId)).registrations
        .map((r) => r.resourceCrn)
        .filter((c) => c.endsWith(`:bucket:${b}`));
    };

    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyA } }],
        },
      }),
    );
    const a = await s3.send(new GetBucketEncryptionCommand({ Bucket: b }));
    expect(a.ServerSideEncryptionConfiguration?.Rules?.[0].ApplyServerSideEncryptionByDefault).toEqual({
      SSEAlgorithm: 'aws:kms',
      KMSMasterKeyID: keyA,
    });
    const hb = captureHeaders(new HeadBucketCommand({ Bucket: b }));
    await s3.send(hb.cmd);
    expect(hb.headers()['ibm-sse-kp-enabled']).toBe('true');
    expect(hb.headers()['ibm-sse-kp-customer-root-key-crn']).toBe(keyA);
    expect(await registered(keyA)).toHaveLength(1);
    const putA = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'under-a.txt', Body: small }));
    expect([putA.ServerSideEncryption, putA.SSEKMSKeyId]).toEqual(['aws:kms', keyA]);
    const headBefore = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'before.txt' }));
    expect([headBefore.ServerSideEncryption, headBefore.SSEKMSKeyId]).toEqual(['aws:kms', keyA]);

    // A -> B, then disable A: everything still reads, so the bucket no longer depends on A.
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyB },
              BucketKeyEnabled: true,
            },
          ],
        },
      }),
    );
    expect(await registered(keyA)).toHaveLength(0);
    expect(await registered(keyB)).toHaveLength(1);
    await kms.disable(keyParts(keyA).instanceId, keyParts(keyA).keyId);
    for (const k of ['before.txt', 'plain.txt', 'under-a.txt']) {
      const g = await s3.send(new GetObjectCommand({ Bucket: b, Key: k }));
      expect(g.SSEKMSKeyId).toBe(keyB);
      expect((await bodyBytes(g)).equals(small), k).toBe(true);
    }

    // Refusals leave the bucket where it was.
    const unknown = keyB.replace(/key:[0-9a-f-]+$/, 'key:00000000-0000-4000-8000-000000000000');
    await expectSdkError(
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: unknown } }],
          },
        }),
      ),
      400,
      'InvalidArgument',
    );
    await expectSdkError(
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'not-a-crn' } }],
          },
        }),
      ),
      400,
      'InvalidArgument',
    );
    await expectSdkError(
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: keyB } }],
          },
        }),
      ),
      400,
      'InvalidArgument',
    );
    await expectSdkError(
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket: b,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyA } }],
          },
        }),
      ),
      400,
      'InvalidArgument',
    );
    expect(
      (await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules?.[0]
        .ApplyServerSideEncryptionByDefault?.KMSMasterKeyID,
    ).toBe(keyB);

    // AES256: back to the provider-managed key.
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      }),
    );
    expect(
      (await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules?.[0]
        .ApplyServerSideEncryptionByDefault,
    ).toEqual({ SSEAlgorithm: 'AES256' });
    expect(await registered(keyB)).toHaveLength(0);
    expect((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'under-a.txt' }))).ServerSideEncryption).toBe(
      'AES256',
    );

    // DeleteBucketEncryption (from a customer key) resets to AES256 with the provider key.
    const keyC = await gw.createRootKey('protocol-key-c');
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyC } }],
        },
      }),
    );
    const del = await s3.send(new DeleteBucketEncryptionCommand({ Bucket: b }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect(
      (await s3.send(new GetBucketEncryptionCommand({ Bucket: b }))).ServerSideEncryptionConfiguration?.Rules?.[0]
        .ApplyServerSideEncryptionByDefault,
    ).toEqual({ SSEAlgorithm: 'AES256' });
    const hb2 = captureHeaders(new HeadBucketCommand({ Bucket: b }));
    await s3.send(hb2.cmd);
    expect(hb2.headers()['ibm-sse-kp-enabled']).toBeUndefined();
    for (const k of ['before.txt', 'plain.txt', 'under-a.txt']) {
      expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: k })))).equals(small), k).toBe(true);
    }
    expect(await registered(keyC)).toHaveLength(0);

    // Back on B, the bucket depends on B: disabling it stops reads.
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: b,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyB } }],
        },
      }),
    );
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: 'before.txt' })))).equals(small)).toBe(
      true,
    );
    await kms.disable(keyParts(keyB).instanceId, keyParts(keyB).keyId);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'before.txt' })), 403);
  });
});
