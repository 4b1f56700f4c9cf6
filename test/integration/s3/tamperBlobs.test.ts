/**
 * Tampered blob files. Each object's blob is found through its record and then
 * edited on disk between requests: swapped with another object's, rolled back
 * to an older write, segments flipped, swapped or reordered, cut at or inside a
 * segment boundary, extended. A GET must fail: with an error response when the
 * damage is found before the response starts (stored size, header digest), or
 * by dying short of Content-Length with only authentic bytes delivered when a
 * segment fails mid-body. Never a 200 with the wrong bytes.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, truncate, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ObjectRecord } from '../../../src/meta/records.js';
import { objectPath, signedRequest, type RawEndpoint } from '../../helpers/rawS3.js';
import { SeededData } from '../../helpers/seeded.js';
import { useGateway } from '../../helpers/s3Test.js';
import type { TestGateway } from '../../helpers/startGateway.js';
import {
  blobPath,
  expectDiedShort,
  expectIntegrityError,
  expectRefused,
  overwrite,
  swapFiles,
} from '../../helpers/tamper.js';

let gw: TestGateway;
let s3: S3Client;
let ep: RawEndpoint;
useGateway((t) => ({ gw, s3, ep } = t));

const MiB = 1024 * 1024;
const SIZE = 200_000; // segments of 64 KiB: three full ones and a final 3,392-byte one
const SEG = 65_536 + 16;
const segAt = (i: number) => 64 + i * SEG;
const B = 'tamper-blobs';
let bucketReady: Promise<unknown> | undefined;

async function record(key: string): Promise<ObjectRecord> {
  const uid = (await gw.gateway.meta.getBucket(B))!.uid;
  return (await gw.gateway.meta.getObject(uid, key))!;
}

/** PUT `key` with seeded bytes; returns the bytes and the path of its blob file. */
async function fixture(key: string, seed = key): Promise<{ bytes: Buffer; file: string }> {
  bucketReady ??= s3.send(new CreateBucketCommand({ Bucket: B }));
  await bucketReady;
  const bytes = new SeededData(`blob-${seed}`, SIZE).bytes();
  await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: bytes }));
  return { bytes, file: blobPath(gw.dataDir, (await record(key)).stream!.dataId) };
}

async function multipart(key: string): Promise<{ bytes: Buffer[]; files: string[] }> {
  bucketReady ??= s3.send(new CreateBucketCommand({ Bucket: B }));
  await bucketReady;
  const bytes = [new SeededData(`mp-${key}-1`, 5 * MiB).bytes(), new SeededData(`mp-${key}-2`, 1000).bytes()];
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }));
  const parts = [];
  for (const [i, body] of bytes.entries()) {
    const r = await s3.send(
      new UploadPartCommand({ Bucket: B, Key: key, UploadId: up.UploadId, PartNumber: i + 1, Body: body }),
    );
    parts.push({ PartNumber: i + 1, ETag: r.ETag });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: B,
      Key: key,
      UploadId: up.UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  return { bytes, files: (await record(key)).parts!.map((p) => blobPath(gw.dataDir, p.dataId)) };
}

const get = (key: string, range?: string, query?: string) =>
  signedRequest(ep, { method: 'GET', path: objectPath(B, key, query), headers: range ? { range } : {} });

async function segments(file: string, order: number[]): Promise<void> {
  const blob = await readFile(file);
  const pieces = order.map((i) => blob.subarray(segAt(i), segAt(i) + SEG));
  await overwrite(file, segAt(0), Buffer.concat(pieces));
}

describe('blob files tampered between requests', () => {
  it('blob swap: two objects of the same size with their blob files exchanged', async () => {
    const a = await fixture('swap-a');
    const b = await fixture('swap-b');
    await swapFiles(a.file, b.file);
    expectIntegrityError(await get('swap-a'), 'GET swap-a');
    expectIntegrityError(await get('swap-b', 'bytes=0-9'), 'ranged GET swap-b');
  });

  it('blob rollback: an older write of the object put back in place of the current blob', async () => {
    const v1 = await fixture('rollback', 'rollback-v1');
    const old = await readFile(v1.file);
    const v2 = await fixture('rollback', 'rollback-v2');
    expect(v2.file).not.toBe(v1.file);
    await writeFile(v2.file, old);
    expectIntegrityError(await get('rollback'), 'GET of a rolled-back blob');
    expectIntegrityError(await get('rollback', 'bytes=100-199'), 'ranged GET of a rolled-back blob');
  });

  it('bit flips: in a middle segment, in the final tag (die short), in the header (refused before data)', async () => {
    const o = await fixture('flip');
    const one = async (pos: number) => {
      const b = await readFile(o.file);
      await overwrite(o.file, pos, Buffer.of(b[pos] ^ 0x01));
    };
    await one(segAt(2) + 500);
    // Whether the 200 went out before segment 2 was reached depends on buffering: either outcome is a refusal.
    expectRefused(await get('flip'), o.bytes, 'flip in segment 2');
    // Segments before the damage still authenticate on their own.
    const first = await get('flip', 'bytes=0-99');
    expect(first.status).toBe(206);
    expect(first.body.equals(o.bytes.subarray(0, 100))).toBe(true);

    const t = await fixture('flip-tag');
    const b = await readFile(t.file);
    await overwrite(t.file, b.length - 1, Buffer.of(b[b.length - 1] ^ 0x80));
    expectRefused(await get('flip-tag'), t.bytes, 'flip in the final tag');

    const h = await fixture('flip-header');
    const hb = await readFile(h.file);
    await overwrite(h.file, 40, Buffer.of(hb[40] ^ 0x01)); // nonce prefix
    expectIntegrityError(await get('flip-header'), 'flip in the header');
  });

  it('segment swap: segments 1 and 2 exchanged', async () => {
    const o = await fixture('seg-swap');
    await segments(o.file, [0, 2, 1]);
    const whole = await get('seg-swap');
    expectRefused(whole, o.bytes, 'segments 1 and 2 swapped');
    expect(whole.body.length, 'at most segment 0 (intact) arrives').toBeLessThanOrEqual(65_536);
    expectRefused(
      await get('seg-swap', 'bytes=65536-65545'),
      o.bytes.subarray(65_536, 65_546),
      'range inside a swapped segment',
    );
  });

  it('segment reorder: segments 0, 1, 2 rotated', async () => {
    const o = await fixture('seg-rotate');
    await segments(o.file, [1, 2, 0]);
    expectRefused(await get('seg-rotate'), o.bytes, 'rotated segments');
    expectRefused(await get('seg-rotate', 'bytes=0-9'), o.bytes.subarray(0, 10), 'range in a rotated segment');
  });

  it('truncation at a segment boundary: the final segment removed', async () => {
    const o = await fixture('cut-boundary');
    await truncate(o.file, segAt(3));
    expectIntegrityError(await get('cut-boundary'), 'GET cut at a boundary');
    expectIntegrityError(await get('cut-boundary', 'bytes=0-9'), 'ranged GET before the cut');
  });

  it('truncation inside a segment', async () => {
    const o = await fixture('cut-inside');
    await truncate(o.file, segAt(1) + 1000);
    expectIntegrityError(await get('cut-inside'), 'GET cut inside segment 1');
    expectIntegrityError(await get('cut-inside', 'bytes=0-9'), 'ranged GET before the cut');
  });

  it('extension: bytes after the final segment, garbage or a copy of a real segment', async () => {
    const o = await fixture('extended');
    await appendFile(o.file, randomBytes(100));
    expectIntegrityError(await get('extended'), 'GET of an extended blob');
    expectIntegrityError(await get('extended', 'bytes=0-9'), 'ranged GET of an extended blob');
    const c = await fixture('extended-seg');
    const blob = await readFile(c.file);
    await appendFile(c.file, blob.subarray(segAt(3)));
    expectIntegrityError(await get('extended-seg'), 'GET with the final segment appended twice');
  });

  it("multipart: a part blob extended, cut, or swapped with another object's part", async () => {
    const whole = (bytes: Buffer[]) => Buffer.concat(bytes);
    const ext = await multipart('mp-ext');
    await appendFile(ext.files[1], Buffer.from('appended'));
    // Part 1 is fine and streams out under the 200; part 2 is found extended mid-body.
    const r = await get('mp-ext');
    expectDiedShort(r, whole(ext.bytes), 'GET with part 2 extended');
    expect(r.body.length, 'part 1 arrived whole, nothing of part 2').toBe(5 * MiB);
    expectIntegrityError(await get('mp-ext', undefined, 'partNumber=2'), '?partNumber=2 with part 2 extended');
    expect((await get('mp-ext', undefined, 'partNumber=1')).body.equals(ext.bytes[0])).toBe(true);

    const cut = await multipart('mp-cut');
    await truncate(cut.files[0], segAt(10) + 7);
    expectIntegrityError(await get('mp-cut'), 'GET with part 1 cut');

    const a = await multipart('mp-a');
    const b = await multipart('mp-b');
    await swapFiles(a.files[1], b.files[1]);
    expectDiedShort(await get('mp-a'), whole(a.bytes), 'GET with part 2 from another object');
    expectIntegrityError(await get('mp-b', `bytes=${5 * MiB}-${5 * MiB + 9}`), 'range in a swapped part');
  });
});
