/**
 * Erasure-coded drives across a restart: multipart and copied objects written on
 * four drives (2+2) read back byte for byte after the server restarts on the
 * same drives with one of them wiped (start-up recreates it empty, and the
 * garbage sweep keeps every referenced blob), ranges across part boundaries too.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes } from '../../helpers/s3Test.js';
import { SeededData } from '../../helpers/seeded.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';

const MiB = 1024 * 1024;
const part1 = new SeededData('ec-restart-1', 5 * MiB);
const part2 = new SeededData('ec-restart-2', 1000);
const single = new SeededData('ec-restart-single', 700_001);

let root: string;
let dataDir: string;
let drives: string[];
let gw: TestGateway | undefined;

const start = async (): Promise<S3Client> => {
  const g = await startTestGateway({ dataDir, config: { drives, parity: 2 } });
  gw = g;
  return g.client();
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'coffer-ec-restart-'));
  dataDir = join(root, 'data');
  drives = [1, 2, 3, 4].map((i) => join(root, `disk${i}`));
  const s3 = await start();
  await s3.send(new CreateBucketCommand({ Bucket: 'ec-restart' }));
  await s3.send(new PutObjectCommand({ Bucket: 'ec-restart', Key: 'single', Body: single.bytes() }));
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'ec-restart', Key: 'multi' }));
  const parts = [];
  for (const [n, p] of [part1, part2].entries()) {
    const out = await s3.send(
      new UploadPartCommand({
        Bucket: 'ec-restart',
        Key: 'multi',
        UploadId: up.UploadId,
        PartNumber: n + 1,
        Body: p.bytes(),
      }),
    );
    parts.push({ PartNumber: n + 1, ETag: out.ETag });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: 'ec-restart',
      Key: 'multi',
      UploadId: up.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  await s3.send(new CopyObjectCommand({ Bucket: 'ec-restart', Key: 'copy', CopySource: 'ec-restart/single' }));
  await gw?.close({ keepData: true });
  gw = undefined;
});

afterAll(async () => {
  await gw?.close({ keepData: true });
  await rm(root, { recursive: true, force: true });
});

describe('erasure-coded drives across a restart', () => {
  it('a wiped drive at start-up: every object still reads byte for byte, ranges across the part boundary too', async () => {
    await rm(drives[0], { recursive: true, force: true });
    const s3 = await start();
    // Back as a new drive: tmp/ and its marker (and the server's lock); the background healer refills it.
    expect(await readdir(drives[0])).toEqual(expect.arrayContaining(['coffer-drive.json', 'tmp']));
    const get = async (Key: string, Range?: string) =>
      bodyBytes(await s3.send(new GetObjectCommand({ Bucket: 'ec-restart', Key, Range })));
    const multi = Buffer.concat([part1.bytes(), part2.bytes()]);
    expect((await get('multi')).equals(multi)).toBe(true);
    const boundary = part1.size;
    expect(
      (await get('multi', `bytes=${boundary - 70_000}-${boundary + 500}`)).equals(
        multi.subarray(boundary - 70_000, boundary + 501),
      ),
    ).toBe(true);
    expect((await get('single')).equals(single.bytes())).toBe(true);
    expect((await get('copy')).equals(single.bytes())).toBe(true);
    expect((await get('copy', 'bytes=-10')).equals(single.bytes().subarray(-10))).toBe(true);
  });
});
