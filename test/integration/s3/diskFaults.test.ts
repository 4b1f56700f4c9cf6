/**
 * Disk faults through the S3 API: an in-process gateway whose blob drive is a
 * fault-injection file system, driven by @aws-sdk/client-s3. A PUT on a full
 * drive answers 507 InsufficientStorage, on a read-only or failing one 503;
 * either way no record and no blob or temp file remains, the old version of
 * the key still reads back, other requests and buckets keep working, and the
 * server log names the errno and the drive, never the machine path.
 */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/util/logger.js';
import { FaultyFs } from '../../helpers/faultyFs.js';
import {
  bodyBytes,
  countBlobs,
  createBucket,
  expectBlobCount,
  expectSdkError,
  filesUnder,
  tmpFiles,
} from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const fs = new FaultyFs();
const logLines: string[] = [];
let gw: TestGateway;
let s3: S3Client;

beforeAll(async () => {
  const log = createLogger('warn', {}, (line) => void logLines.push(line));
  gw = await startTestGateway({ blobFs: fs, log });
  // One attempt: the SDK retries 503 (not 507), and a retry would only repeat the fault.
  s3 = gw.client({ maxAttempts: 1 });
});
afterAll(async () => {
  await gw?.close();
});
afterEach(() => {
  fs.clear();
});

const put = (Bucket: string, Key: string, Body: Buffer) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
const get = async (Bucket: string, Key: string) => bodyBytes(await s3.send(new GetObjectCommand({ Bucket, Key })));
/** The blob drive's files: the fault applies to them only (paths under <dataDir>/blobs). */
const BLOBS = /\/blobs\//;

describe('PUT on a failing blob drive', () => {
  const cases = [
    ['ENOSPC', 507, 'InsufficientStorage'],
    ['EDQUOT', 507, 'InsufficientStorage'],
    ['EROFS', 503, 'ServiceUnavailable'],
    ['EIO', 503, 'ServiceUnavailable'],
  ] as const;
  for (const [code, status, s3Code] of cases) {
    it(`${code} part-way through the body: ${status} ${s3Code}, nothing kept, the old version intact`, async () => {
      const a = await createBucket(s3, 'df');
      const b = await createBucket(s3, 'df-other');
      const old = randomBytes(50_000);
      await put(a, 'k', old);
      await put(b, 'x', Buffer.from('other bucket'));
      const blobs = await countBlobs(gw.dataDir);
      logLines.length = 0;

      fs.inject({ op: 'write', path: BLOBS, code, afterBytes: 100_000 });
      const err = await expectSdkError(put(a, 'k', randomBytes(600_000)), status, s3Code);
      expect(err.message).not.toMatch(/blobs|\/tmp|E[A-Z]{3,}/);
      expect(fs.raised.length).toBeGreaterThan(0);

      // While the drive still fails: reads and listings of every bucket work.
      expect((await get(a, 'k')).equals(old)).toBe(true);
      expect((await get(b, 'x')).toString()).toBe('other bucket');
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: a }));
      expect(listed.Contents?.map((c) => [c.Key, c.Size])).toEqual([['k', old.length]]);

      await expectBlobCount(gw.dataDir, blobs, 'blob files after the failed PUT');
      expect(await tmpFiles(gw.dataDir)).toEqual([]);
      const logged = logLines.join('\n');
      expect(logged).toContain(code);
      expect(logged).toContain('drive \\"blobs\\"');
      expect(logged).not.toContain(gw.dataDir);

      fs.clear();
      const fresh = randomBytes(70_000);
      await put(b, 'after', fresh);
      expect((await get(b, 'after')).equals(fresh)).toBe(true);
    });
  }

  it('a fault on the first call (open of the temp file, fsync, rename) is a clean error too', async () => {
    const a = await createBucket(s3, 'df-calls');
    for (const op of ['open', 'fsync', 'rename', 'mkdir'] as const) {
      const blobs = await countBlobs(gw.dataDir);
      fs.inject({ op, path: BLOBS, code: 'ENOSPC', ...(op === 'open' ? { flags: 'w' } : {}) });
      // A fresh bucket-less key each time; mkdir only fails where a shard directory is new, so
      // it may not be hit: then the PUT simply succeeds.
      const res = await put(a, `k-${op}`, randomBytes(20_000)).then(
        () => 'ok',
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
      );
      const hit = fs.raised.length > 0;
      fs.clear();
      fs.raised.length = 0;
      if (op !== 'mkdir' || hit) {
        expect(res, op).toBe(507);
        await expectBlobCount(gw.dataDir, blobs, `blob files after a failed ${op}`);
      }
      expect(await tmpFiles(gw.dataDir)).toEqual([]);
    }
  });
});

describe('UploadPart on a failing drive', () => {
  it('fails with 507 and leaves the upload usable: the part is retried and the upload completes', async () => {
    const a = await createBucket(s3, 'df-mp');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: a, Key: 'big' }));
    const p1 = randomBytes(5 * 1024 * 1024);
    const p2 = randomBytes(300_000);
    const up = (PartNumber: number, Body: Buffer) =>
      s3.send(new UploadPartCommand({ Bucket: a, Key: 'big', UploadId, PartNumber, Body }));
    const e1 = (await up(1, p1)).ETag;
    const blobs = await countBlobs(gw.dataDir);
    fs.inject({ op: 'write', path: BLOBS, code: 'ENOSPC', afterBytes: 64 * 1024 });
    await expectSdkError(up(2, p2), 507, 'InsufficientStorage');
    fs.clear();
    await expectBlobCount(gw.dataDir, blobs, 'blob files after the failed part');
    const e2 = (await up(2, p2)).ETag;
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: a,
        Key: 'big',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1 },
            { PartNumber: 2, ETag: e2 },
          ],
        },
      }),
    );
    expect((await get(a, 'big')).equals(Buffer.concat([p1, p2]))).toBe(true);
  });
});

describe('metadata disk full', () => {
  it('a commit LevelDB fails is 507, and the blob the PUT wrote is removed', async () => {
    const a = await createBucket(s3, 'df-meta');
    const old = randomBytes(10_000);
    await put(a, 'k', old);
    const blobs = await countBlobs(gw.dataDir);
    // LevelDB's file I/O is native, out of the BlobFs seam's reach: fail the batch call the
    // way classic-level does on a full disk.
    const db = (gw.gateway.meta as unknown as { db: { batch: (...a: unknown[]) => Promise<void> } }).db;
    const real = db.batch.bind(db);
    db.batch = () =>
      Promise.reject(
        Object.assign(new Error(`IO error: ${gw.dataDir}/meta/000005.log: No space left on device`), {
          code: 'LEVEL_IO_ERROR',
        }),
      );
    logLines.length = 0;
    try {
      await expectSdkError(put(a, 'k', randomBytes(200_000)), 507, 'InsufficientStorage');
    } finally {
      db.batch = real;
    }
    await expectBlobCount(gw.dataDir, blobs, 'blob files after the failed commit');
    expect(logLines.join('\n')).toMatch(/write on metadata failed: ENOSPC/);
    expect(logLines.join('\n')).not.toContain(gw.dataDir);
    expect((await get(a, 'k')).equals(old)).toBe(true);
  });
});

describe('erasure-coded drives (2+2) with failing writes', () => {
  const efs = new FaultyFs();
  let egw: TestGateway;
  let es3: S3Client;
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'coffer-df-ec-'));
    const drives = [0, 1, 2, 3].map((i) => join(root, `disk${i}`));
    egw = await startTestGateway({ config: { drives, parity: 2 }, blobFs: efs });
    es3 = egw.client({ maxAttempts: 1 });
  });
  afterAll(async () => {
    await egw?.close();
    await rm(root, { recursive: true, force: true });
  });
  afterEach(() => efs.clear());

  it('one full drive: the PUT succeeds on the quorum; two: 507 and no shard or temp file anywhere', async () => {
    const b = await createBucket(es3, 'df-ec');
    const one = randomBytes(300_000);
    efs.inject({ op: 'write', path: /\/disk1\//, code: 'ENOSPC', afterBytes: 50_000 });
    await es3.send(new PutObjectCommand({ Bucket: b, Key: 'one', Body: one }));
    expect(efs.raised.length).toBeGreaterThan(0);
    efs.clear();
    expect((await bodyBytes(await es3.send(new GetObjectCommand({ Bucket: b, Key: 'one' })))).equals(one)).toBe(true);
    // The drive that refused holds nothing of it: its shard is for the heal to write.
    const shardsOf = async (d: number) => (await filesUnder(join(root, `disk${d}`))).length;
    const before = await Promise.all([0, 1, 2, 3].map(shardsOf));
    expect(before[1]).toBe(before[0] - 1);

    efs.inject({ op: 'write', path: /\/disk[13]\//, code: 'ENOSPC', afterBytes: 50_000 });
    await expectSdkError(
      es3.send(new PutObjectCommand({ Bucket: b, Key: 'two', Body: randomBytes(300_000) })),
      507,
      'InsufficientStorage',
    );
    efs.clear();
    expect(await Promise.all([0, 1, 2, 3].map(shardsOf))).toEqual(before);
  });
});
