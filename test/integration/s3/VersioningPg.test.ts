/**
 * Versioning on a gateway whose metadata is in a real PostgreSQL (the history
 * table of migration 2): versions, delete markers hiding keys from a delimiter
 * listing, ListObjectVersions paging, removal by id and promotion.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, expectSdkError } from '../../helpers/s3Test.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

let pgServer: TestPostgres;
let gw: TestGateway;
let s3: S3Client;

beforeAll(async () => {
  pgServer = await startPostgres();
  gw = await startTestGateway({ config: { metaUrl: await pgServer.createDatabase() } });
  s3 = gw.client();
}, 120_000);
afterAll(async () => {
  s3?.destroy();
  await gw?.close();
  await pgServer?.stop();
});

const put = async (b: string, k: string, body: string) =>
  (await s3.send(new PutObjectCommand({ Bucket: b, Key: k, Body: Buffer.from(body) }))).VersionId!;
const read = async (b: string, k: string, v?: string) =>
  (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: b, Key: k, VersionId: v })))).toString();

describe('versioning on PostgreSQL metadata', () => {
  it('versions, markers, listings and removal by id', async () => {
    const b = 'pg-versions';
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const a1 = await put(b, 'dir/a', 'a1');
    const a2 = await put(b, 'dir/a', 'a2');
    const b1 = await put(b, 'dir/b', 'b1');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'dir/a' }));
    // The marker on dir/a must not hide dir/b's common prefix.
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: b, Delimiter: '/' }));
    expect(plain.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['dir/']);
    expect(
      (await s3.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'dir/' }))).Contents?.map((c) => c.Key),
    ).toEqual(['dir/b']);
    const seen: string[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const p = await s3.send(new ListObjectVersionsCommand({ Bucket: b, MaxKeys: 2, KeyMarker, VersionIdMarker }));
      seen.push(
        ...(p.DeleteMarkers ?? []).map((d) => `${d.Key}:marker`),
        ...(p.Versions ?? []).map((v) => `${v.Key}:${v.VersionId}`),
      );
      if (!p.IsTruncated) break;
      KeyMarker = p.NextKeyMarker;
      VersionIdMarker = p.NextVersionIdMarker;
    }
    expect(seen.sort()).toEqual([`dir/a:${a1}`, `dir/a:${a2}`, 'dir/a:marker', `dir/b:${b1}`].sort());
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: b, Key: 'dir/a' })), 404, 'NoSuchKey');
    expect(await read(b, 'dir/a', a1)).toBe('a1');
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'dir/b', VersionId: b1 }));
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'dir/a', VersionId: a2 }));
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'dir/a' }));
    expect(after.Versions?.map((v) => v.VersionId)).toEqual([a1]);
  });
});
