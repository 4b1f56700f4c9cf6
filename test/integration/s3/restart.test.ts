/**
 * Restart: buckets (plain and Key Protect), objects (single-part, streamed,
 * multipart, with metadata) and a pending multipart upload survive a close and
 * a new gateway on the same data dir. A start with a different master key must
 * fail with a clear error and never serve garbage; the right key still works
 * afterwards.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5OfStream, multipartEtag, SeededData } from '../../helpers/seeded.js';
import { blobFiles, bodyBytes, captureHeaders, tmpFiles, withHeaders } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const MiB = 1024 * 1024;
const OTHER_MASTER_KEY = Buffer.alloc(32, 9).toString('base64');

let dataDir: string;
let gw: TestGateway | undefined;
let crn = '';
let pendingUploadId = '';
const small = Buffer.from('small object before restart');
const streamed = new SeededData('restart-streamed', 2 * MiB + 5);
const mp1 = new SeededData('restart-mp-1', 5 * MiB);
const mp2 = new SeededData('restart-mp-2', 1000);
const pendingPart = new SeededData('restart-pending', 5 * MiB);

async function startOnDir(): Promise<{ gw: TestGateway; s3: S3Client }> {
  const g = await startTestGateway({ dataDir });
  return { gw: g, s3: g.client() };
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'coffer-restart-'));
  const { gw: g, s3 } = await startOnDir();
  gw = g;
  await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
  crn = await g.createRootKey('restart-key');
  await s3.send(
    withHeaders(new CreateBucketCommand({ Bucket: 'kp-bucket' }), {
      'ibm-sse-kp-encryption-algorithm': 'AES256',
      'ibm-sse-kp-customer-root-key-crn': crn,
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: 'plain',
      Key: 'small',
      Body: small,
      ContentType: 'text/plain',
      Metadata: { mtime: '1700000000' },
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: 'kp-bucket',
      Key: 'streamed',
      Body: streamed.stream(),
      ContentLength: streamed.size,
    }),
  );
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'kp-bucket', Key: 'multi' }));
  const e1 = await s3.send(
    new UploadPartCommand({
      Bucket: 'kp-bucket',
      Key: 'multi',
      UploadId: up.UploadId,
      PartNumber: 1,
      Body: mp1.bytes(),
    }),
  );
  const e2 = await s3.send(
    new UploadPartCommand({
      Bucket: 'kp-bucket',
      Key: 'multi',
      UploadId: up.UploadId,
      PartNumber: 2,
      Body: mp2.bytes(),
    }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'kp-bucket',
      Key: 'multi',
      UploadId: up.UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: e1.ETag },
          { PartNumber: 2, ETag: e2.ETag },
        ],
      },
    }),
  );
  const pending = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: 'plain', Key: 'pending', Metadata: { state: 'pending' } }),
  );
  pendingUploadId = pending.UploadId!;
  await s3.send(
    new UploadPartCommand({
      Bucket: 'plain',
      Key: 'pending',
      UploadId: pendingUploadId,
      PartNumber: 1,
      Body: pendingPart.bytes(),
    }),
  );
  await g.close({ keepData: true });
  gw = undefined;
});

afterAll(async () => {
  await gw?.close().catch(() => undefined);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('restart on the same data dir', () => {
  it('everything written before reads back after a restart, and writes still work', async () => {
    const { gw: g, s3 } = await startOnDir();
    gw = g;
    try {
      const names = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
      expect(names).toEqual(['kp-bucket', 'plain']);

      const cap = captureHeaders(new HeadBucketCommand({ Bucket: 'kp-bucket' }));
      await s3.send(cap.cmd);
      expect(cap.headers()['ibm-sse-kp-enabled']).toBe('true');
      expect(cap.headers()['ibm-sse-kp-customer-root-key-crn']).toBe(crn);

      const s = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'small' }));
      expect((await bodyBytes(s)).equals(small)).toBe(true);
      expect(s.ContentType).toBe('text/plain');
      expect(s.Metadata).toEqual({ mtime: '1700000000' });

      const st = await s3.send(new GetObjectCommand({ Bucket: 'kp-bucket', Key: 'streamed', ChecksumMode: 'ENABLED' }));
      expect(st.ChecksumCRC32).toBe(streamed.crc32());
      const sres = await md5OfStream(st.Body as Readable);
      expect(sres).toEqual({ md5: streamed.md5(), size: streamed.size });

      const mh = await s3.send(new HeadObjectCommand({ Bucket: 'kp-bucket', Key: 'multi' }));
      expect(mh.ETag).toBe(`"${multipartEtag([mp1.md5(), mp2.md5()])}"`);
      const m = await s3.send(
        new GetObjectCommand({ Bucket: 'kp-bucket', Key: 'multi', Range: `bytes=${5 * MiB - 3}-${5 * MiB + 2}` }),
      );
      expect((await bodyBytes(m)).equals(Buffer.concat([mp1.bytes(5 * MiB - 3), mp2.bytes(0, 3)]))).toBe(true);

      const list = await s3.send(new ListObjectsV2Command({ Bucket: 'kp-bucket' }));
      expect((list.Contents ?? []).map((c) => [c.Key, c.Size])).toEqual([
        ['multi', mp1.size + mp2.size],
        ['streamed', streamed.size],
      ]);

      // The pending upload survived and can be finished now.
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'plain' }));
      expect((uploads.Uploads ?? []).map((u) => u.UploadId)).toEqual([pendingUploadId]);
      const last = Buffer.from('last part after restart');
      const e2 = await s3.send(
        new UploadPartCommand({
          Bucket: 'plain',
          Key: 'pending',
          UploadId: pendingUploadId,
          PartNumber: 2,
          Body: last,
        }),
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'plain',
          Key: 'pending',
          UploadId: pendingUploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: `"${pendingPart.md5()}"` },
              { PartNumber: 2, ETag: e2.ETag },
            ],
          },
        }),
      );
      const done = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'pending' }));
      expect(done.Metadata).toEqual({ state: 'pending' });
      const dres = await md5OfStream(done.Body as Readable);
      expect(dres.size).toBe(pendingPart.size + last.length);

      await s3.send(
        new PutObjectCommand({ Bucket: 'kp-bucket', Key: 'after', Body: Buffer.from('written after restart') }),
      );
      await s3.send(new CreateBucketCommand({ Bucket: 'new-after-restart' }));
    } finally {
      await g.close({ keepData: true });
      gw = undefined;
    }
  });

  it('the start-up sweep removes planted orphan blobs and temp files, and keeps every live blob', async () => {
    const live = (await blobFiles(dataDir)).sort();
    expect(live.length).toBeGreaterThan(3);
    const orphanId = 'ab' + 'cd' + randomBytes(14).toString('hex');
    const orphan = join(dataDir, 'blobs', 'ab', 'cd', orphanId);
    await mkdir(dirname(orphan), { recursive: true });
    await writeFile(orphan, randomBytes(4096));
    const tmp = join(dataDir, 'blobs', 'tmp', `${randomBytes(16).toString('hex')}.deadbeefdeadbeef`);
    await writeFile(tmp, randomBytes(1000));
    const old = new Date(Date.now() - 24 * 3600_000);
    await utimes(tmp, old, old);
    await utimes(orphan, old, old);

    const { gw: g, s3 } = await startOnDir();
    gw = g;
    try {
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && (await blobFiles(dataDir)).includes(orphan))
        await new Promise((r) => setTimeout(r, 50));
      expect((await blobFiles(dataDir)).sort(), 'exactly the live blobs remain').toEqual(live);
      expect(await tmpFiles(dataDir)).toEqual([]);
      expect(
        (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'small' })))).equals(small),
      ).toBe(true);
    } finally {
      await g.close({ keepData: true });
      gw = undefined;
    }
  });

  it('a different master key makes the start fail with a clear error (never serves garbage)', async () => {
    let started: TestGateway | undefined;
    let error: unknown;
    try {
      started = await startTestGateway({ dataDir, config: { masterKey: OTHER_MASTER_KEY } });
    } catch (e) {
      error = e;
    }
    if (started) {
      // It must not have come up; if it did, show what it would serve, then fail.
      const s3 = started.client();
      let served = 'nothing';
      try {
        served = (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'small' }))))
          .toString('hex')
          .slice(0, 64);
      } catch (e) {
        served = `error ${(e as Error).name}`;
      }
      await started.close({ keepData: true });
      expect.fail(`startGateway with the wrong master key succeeded (GET plain/small -> ${served})`);
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message, 'the error names the master key').toMatch(/master.?key/i);
  });

  it('after the failed start, the right key still opens the data dir intact', async () => {
    const { gw: g, s3 } = await startOnDir();
    gw = g;
    try {
      expect(
        (await bodyBytes(await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'small' })))).equals(small),
      ).toBe(true);
      const mh = await s3.send(new HeadObjectCommand({ Bucket: 'kp-bucket', Key: 'multi' }));
      expect(mh.ETag).toBe(`"${multipartEtag([mp1.md5(), mp2.md5()])}"`);
      const st = await s3.send(new GetObjectCommand({ Bucket: 'kp-bucket', Key: 'streamed' }));
      expect(await md5OfStream(st.Body as Readable)).toEqual({ md5: streamed.md5(), size: streamed.size });
    } finally {
      await g.close({ keepData: true });
      gw = undefined;
    }
  });
});
