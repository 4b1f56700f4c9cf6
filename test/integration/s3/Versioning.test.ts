/**
 * S3 versioning through @aws-sdk/client-s3 against a real gateway: the bucket
 * setting, version ids on every write, reads and deletes by version, delete
 * markers, the null version when suspended, ListObjectVersions and
 * DeleteObjects with versions, multipart and copy in versioned buckets.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import {
  bodyBytes,
  bucketName,
  countBlobs,
  expectBlobCount,
  expectSdkError,
  expectXmlError,
  useGateway,
} from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';

let gw: TestGateway;
let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ gw, s3, ep } = t));

async function bucket(prefix: string, status?: 'Enabled' | 'Suspended'): Promise<string> {
  const b = bucketName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  if (status) await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: status } }));
  return b;
}

const put = async (b: string, key: string, body: string) =>
  (await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: Buffer.from(body) }))).VersionId;

async function read(b: string, key: string, versionId?: string): Promise<string> {
  return (
    await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: key, VersionId: versionId })))
  ).toString();
}

describe('bucket versioning setting', () => {
  it('no Status until set; Enabled and Suspended round-trip; a bad Status is MalformedXML', async () => {
    const b = await bucket('vset');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBeUndefined();
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Enabled');
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status).toBe('Suspended');
    const bad = await signedRequest(ep, {
      method: 'PUT',
      path: `/${b}?versioning`,
      body: '<VersioningConfiguration><Status>Off</Status></VersioningConfiguration>',
    });
    expectXmlError(bad, 400, 'MalformedXML');
    const mfa = await signedRequest(ep, {
      method: 'PUT',
      path: `/${b}?versioning`,
      body: '<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>',
    });
    expectXmlError(mfa, 501, 'NotImplemented');
  });
});

describe('versions of an object', () => {
  it('a bucket never versioned sends no version id; ?versionId=null reads the object', async () => {
    const b = await bucket('vnone');
    expect(await put(b, 'k', 'one')).toBeUndefined();
    expect(await read(b, 'k', 'null')).toBe('one');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
    expect(head.VersionId).toBeUndefined();
  });

  it('Enabled: every PUT a version, each readable by id (GET and HEAD), the newest current', async () => {
    const b = await bucket('venabled', 'Enabled');
    const v1 = await put(b, 'k', 'one');
    const v2 = await put(b, 'k', 'two');
    expect(v1).toMatch(/^[0-9a-f]{32}$/);
    expect(v2).not.toBe(v1);
    expect(await read(b, 'k')).toBe('two');
    expect(await read(b, 'k', v1)).toBe('one');
    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
    expect([head.VersionId, head.ContentLength]).toEqual([v1, 3]);
    expect((await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).VersionId).toBe(v2);
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: '0'.repeat(32) })),
      404,
      'NoSuchVersion',
    );
    await expectSdkError(
      s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: 'bogus' })),
      400,
      'InvalidArgument',
    );
  });

  it('delete markers: GET is 404 with x-amz-delete-marker, by id 405; removing the marker restores the object', async () => {
    const b = await bucket('vmarker', 'Enabled');
    const v1 = await put(b, 'k', 'one');
    const blobs = await countBlobs(gw.dataDir);
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    expect(del.VersionId).toMatch(/^[0-9a-f]{32}$/);
    await expectBlobCount(gw.dataDir, blobs, 'a delete marker keeps the data');
    const cur = await signedRequest(ep, { method: 'GET', path: `/${b}/k` });
    expectXmlError(cur, 404, 'NoSuchKey');
    expect(cur.headers['x-amz-delete-marker']).toBe('true');
    expect(cur.headers['x-amz-version-id']).toBe(del.VersionId);
    const byId = await signedRequest(ep, { method: 'GET', path: `/${b}/k?versionId=${del.VersionId}` });
    expectXmlError(byId, 405, 'MethodNotAllowed');
    expect(byId.headers['x-amz-delete-marker']).toBe('true');
    expect((await s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount).toBe(0);
    expect(await read(b, 'k', v1)).toBe('one');
    const undo = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: del.VersionId }));
    expect([undo.DeleteMarker, undo.VersionId]).toEqual([true, del.VersionId]);
    expect(await read(b, 'k')).toBe('one');
  });

  it('deleting a version by id removes it and its blob for good; the previous one becomes current', async () => {
    const b = await bucket('vdelid', 'Enabled');
    const v1 = await put(b, 'k', 'one');
    const v2 = await put(b, 'k', 'two');
    const blobs = await countBlobs(gw.dataDir);
    const out = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 }));
    expect([out.VersionId, out.DeleteMarker]).toEqual([v2, undefined]);
    await expectBlobCount(gw.dataDir, blobs - 1, 'the version blob is deleted');
    expect(await read(b, 'k')).toBe('one');
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 })), 404, 'NoSuchVersion');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 404, 'NoSuchKey');
    // Empty again: the bucket can go.
    await s3.send(new DeleteBucketCommand({ Bucket: b }));
  });

  it('a bucket holding only noncurrent versions and markers is not empty', async () => {
    const b = await bucket('vnotempty', 'Enabled');
    await put(b, 'k', 'one');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    await expectSdkError(s3.send(new DeleteBucketCommand({ Bucket: b })), 409, 'BucketNotEmpty');
  });

  it('Suspended: writes are the null version, which replaces the null version; versions with ids stay', async () => {
    const b = await bucket('vsusp');
    await put(b, 'k', 'before');
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await put(b, 'k', 'v1');
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Suspended' } }));
    expect(await put(b, 'k', 'after')).toBe('null');
    expect(await read(b, 'k', 'null')).toBe('after');
    expect(await read(b, 'k', v1)).toBe('v1');
    const list = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(list.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      ['null', true],
      [v1, false],
    ]);
    const del = await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect([del.DeleteMarker, del.VersionId]).toEqual([true, 'null']);
  });
});

describe('ListObjectVersions', () => {
  it('versions newest first per key, delete markers apart, paged by key and version markers', async () => {
    const b = await bucket('vlist', 'Enabled');
    const a1 = await put(b, 'a', '1');
    const a2 = await put(b, 'a', '22');
    const dm = (await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'a' }))).VersionId;
    const c1 = await put(b, 'c', '333');
    const all = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(all.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size])).toEqual([
      ['a', a2, false, 2],
      ['a', a1, false, 1],
      ['c', c1, true, 3],
    ]);
    expect(all.DeleteMarkers?.map((d) => [d.Key, d.VersionId, d.IsLatest])).toEqual([['a', dm, true]]);
    expect(all.Versions?.[0].ETag).toMatch(/^"[0-9a-f]{32}"$/);
    const seen: string[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const p = await s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: 1, KeyMarker, VersionIdMarker }));
      seen.push(...[...(p.Versions ?? []), ...(p.DeleteMarkers ?? [])].map((v) => v.VersionId ?? ''));
      if (!p.IsTruncated) break;
      KeyMarker = p.NextKeyMarker;
      VersionIdMarker = p.NextVersionIdMarker;
    }
    expect(seen).toEqual([dm, a2, a1, c1]);
  });

  it('a bucket never versioned lists each object as its null version, as before', async () => {
    const b = await bucket('vlistplain');
    await put(b, 'x', 'x');
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    expect(out.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([['x', 'null', true]]);
  });
});

describe('DeleteObjects, multipart, copy and tagging with versions', () => {
  it('DeleteObjects makes markers without a VersionId and removes versions with one', async () => {
    const b = await bucket('vdelmany', 'Enabled');
    const v1 = await put(b, 'a', '1');
    await put(b, 'b', '2');
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'a', VersionId: v1 }, { Key: 'b' }] } }),
    );
    const byKey = Object.fromEntries((out.Deleted ?? []).map((d) => [d.Key, d]));
    expect(byKey.a).toMatchObject({ VersionId: v1 });
    expect(byKey.a.DeleteMarker).toBeUndefined();
    expect(byKey.b).toMatchObject({ DeleteMarker: true });
    expect(byKey.b.DeleteMarkerVersionId).toMatch(/^[0-9a-f]{32}$/);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'a' })), 404, 'NoSuchKey');
  });

  it('CompleteMultipartUpload and CopyObject make new versions; a copy of an old version restores it', async () => {
    const b = await bucket('vmpcopy', 'Enabled');
    const v1 = await put(b, 'k', 'first');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: b, Key: 'k', UploadId, PartNumber: 1, Body: Buffer.from('mp') }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: b,
        Key: 'k',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(done.VersionId).toMatch(/^[0-9a-f]{32}$/);
    expect(await read(b, 'k')).toBe('mp');
    const copy = await s3.send(new CopyObjectCommand({ Bucket: b, Key: 'k', CopySource: `${b}/k?versionId=${v1}` }));
    expect(copy.CopySourceVersionId).toBe(v1);
    expect(copy.VersionId).toMatch(/^[0-9a-f]{32}$/);
    expect(await read(b, 'k')).toBe('first');
    expect(await read(b, 'k', done.VersionId)).toBe('mp');
    const versions = (await s3.send(new ListObjectVersionsCommand({ Bucket: b }))).Versions ?? [];
    expect(versions).toHaveLength(3);
    // UploadPartCopy from an old version names it in x-amz-copy-source-version-id.
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'k2' }));
    const pc = await s3.send(
      new UploadPartCopyCommand({
        Bucket: b,
        Key: 'k2',
        UploadId: up.UploadId,
        PartNumber: 1,
        CopySource: `${b}/k?versionId=${done.VersionId}`,
      }),
    );
    expect(pc.CopySourceVersionId).toBe(done.VersionId);
  });

  it('tags belong to one version', async () => {
    const b = await bucket('vtags', 'Enabled');
    const v1 = await put(b, 'k', 'one');
    await put(b, 'k', 'two');
    const set = await s3.send(
      new PutObjectTaggingCommand({
        Bucket: b,
        Key: 'k',
        VersionId: v1,
        Tagging: { TagSet: [{ Key: 't', Value: '1' }] },
      }),
    );
    expect(set.VersionId).toBe(v1);
    const old = await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
    expect([old.VersionId, old.TagSet]).toEqual([v1, [{ Key: 't', Value: '1' }]]);
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k' }))).TagSet).toEqual([]);
  });
});
