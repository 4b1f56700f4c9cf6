/**
 * A gateway on the shared stores of a scale-out deployment: metadata in a real
 * PostgreSQL, blobs in a real S3 backend (s3rver). Objects go in and out through
 * the AWS SDK (single PUT, multipart, ranged GET, delimiter listing, delete),
 * the gateway's own data dir holds no object data, and the backend's drive,
 * grepped file by file, never holds the plaintext marker the objects carry.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, filesUnder } from '../../helpers/s3Test.js';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { BACKEND_ACCESS_KEY, BACKEND_SECRET_KEY, startS3Backend, type TestS3Backend } from '../../helpers/s3rver.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const MARKER = `COFFER-PLAINTEXT-MARKER-${randomBytes(8).toString('hex')}`;
const MiB = 1024 * 1024;

let pgServer: TestPostgres;
let backend: TestS3Backend;
let gw: TestGateway;
let s3: S3Client;
let metaUrl: string;

function repeated(size: number): Buffer {
  const unit = Buffer.from(MARKER + '|');
  const out = Buffer.alloc(size);
  for (let off = 0; off < size; off += unit.length) unit.copy(out, off, 0, Math.min(unit.length, size - off));
  return out;
}

async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await filesUnder(dir)) if ((await readFile(f)).includes(needle)) hits.push(f);
  return hits;
}

beforeAll(async () => {
  [pgServer, backend] = await Promise.all([startPostgres(), startS3Backend()]);
  metaUrl = await pgServer.createDatabase();
  const o = backend.options();
  gw = await startTestGateway({
    config: {
      metaUrl,
      dataS3Endpoint: o.endpoint,
      dataS3Bucket: o.bucket,
      dataS3AccessKey: o.accessKeyId,
      dataS3SecretKey: o.secretAccessKey,
      gcGraceSeconds: 1,
    },
  });
  s3 = gw.client();
}, 120_000);

afterAll(async () => {
  await gw?.close();
  if (gw) await rm(gw.dataDir, { recursive: true, force: true });
  await backend?.stop();
  await pgServer?.stop();
});

describe('gateway on PostgreSQL + S3 data tier', () => {
  const bucket = 'shared-stores';
  const small = Buffer.from(`small object containing ${MARKER} once`);
  const big = repeated(12 * MiB + 11);
  const part1 = repeated(5 * MiB);
  const part2 = Buffer.from(`last part ${MARKER}`);

  it('objects round-trip through the SDK: PUT, multipart, ranged GET, delimiter listing', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'dir/small.txt', Body: small, Metadata: { note: MARKER } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: big }));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'dir/sub/multi.bin' }));
    const etags = [];
    for (const [i, body] of [part1, part2].entries()) {
      const r = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: 'dir/sub/multi.bin',
          UploadId: up.UploadId,
          PartNumber: i + 1,
          Body: body,
        }),
      );
      etags.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'dir/sub/multi.bin',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: etags },
      }),
    );

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/small.txt' }));
    expect((await bodyBytes(got)).equals(small)).toBe(true);
    expect(got.Metadata).toEqual({ note: MARKER });
    expect((await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' })))).equals(big)).toBe(
      true,
    );
    const range = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', Range: 'bytes=6291450-6291549' }),
    );
    expect((await bodyBytes(range)).equals(big.subarray(6291450, 6291550))).toBe(true);
    const multi = await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/sub/multi.bin' })));
    expect(multi.equals(Buffer.concat([part1, part2]))).toBe(true);

    const top = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: '/' }));
    expect(top.Contents?.map((c) => c.Key)).toEqual(['big.bin']);
    expect(top.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['dir/']);
    const dir = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dir/', Delimiter: '/' }));
    expect(dir.Contents?.map((c) => c.Key)).toEqual(['dir/small.txt']);
    expect(dir.CommonPrefixes?.map((c) => c.Prefix)).toEqual(['dir/sub/']);
  });

  it('the blobs are in the backend and the gateway data dir holds none', async () => {
    const backendFiles = await filesUnder(backend.directory);
    let bytes = 0;
    for (const f of backendFiles) bytes += (await readFile(f)).length;
    // At least the ciphertext of every body written (it is slightly larger than the plaintext).
    expect(bytes).toBeGreaterThan(small.length + big.length + part1.length + part2.length);
    expect(await filesUnder(join(gw.dataDir, 'blobs'))).toEqual([]);
    expect(await filesUnder(join(gw.dataDir, 'meta'))).toEqual([]);
  });

  it('the backend never sees the plaintext marker (and the search does find one that is there)', async () => {
    expect(await filesContaining(backend.directory, MARKER)).toEqual([]);
    // Control: the same search finds a marker written to the backend directly, so the empty answer above means something.
    const raw = new S3Client({
      endpoint: backend.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: BACKEND_ACCESS_KEY, secretAccessKey: BACKEND_SECRET_KEY },
    });
    try {
      await raw.send(
        new PutObjectCommand({ Bucket: backend.options().bucket, Key: 'control/plain.txt', Body: `control ${MARKER}` }),
      );
      expect((await filesContaining(backend.directory, MARKER)).length).toBe(1);
      await raw.send(new DeleteObjectCommand({ Bucket: backend.options().bucket, Key: 'control/plain.txt' }));
    } finally {
      raw.destroy();
    }
  });

  it('a delete frees the blob in the backend, and a restarted gateway finds everything in PostgreSQL', async () => {
    const before = (await filesUnder(backend.directory)).length;
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    // On a shared tier the blob is queued and deleted after the grace (1 s here); poll, bounded.
    const deadline = Date.now() + 20_000;
    while ((await filesUnder(backend.directory)).length >= before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect((await filesUnder(backend.directory)).length).toBeLessThan(before);
    // Same data dir (the embedded KMS keeps its keys there), same PostgreSQL and backend.
    const dataDir = gw.dataDir;
    await gw.close({ keepData: true });
    const o = backend.options();
    gw = await startTestGateway({
      dataDir,
      config: {
        metaUrl,
        dataS3Endpoint: o.endpoint,
        dataS3Bucket: o.bucket,
        dataS3AccessKey: o.accessKeyId,
        dataS3SecretKey: o.secretAccessKey,
        gcGraceSeconds: 1,
      },
    });
    s3 = gw.client();
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['dir/small.txt', 'dir/sub/multi.bin']);
    expect(
      (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/small.txt' })))).equals(small),
    ).toBe(true);
  });

  it('a data tier or database that is down answers 503 ServiceUnavailable, not 500', async () => {
    const once = gw.client({ maxAttempts: 1 });
    await backend.stop();
    const noData = await once
      .send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/small.txt' }))
      .catch((e: unknown) => e);
    expect(noData).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    await pgServer.stop();
    const noMeta = await once.send(new ListObjectsV2Command({ Bucket: bucket })).catch((e: unknown) => e);
    expect(noMeta).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
  });
});
