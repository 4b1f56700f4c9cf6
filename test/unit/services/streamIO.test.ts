import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PartRef, StreamRef } from '../../../src/meta/records.js';
import { DomainError } from '../../../src/services/errors.js';
import {
  concatDecrypted,
  newId,
  openConcatDecrypted,
  piecesFor,
  writeEncryptedStream,
  type StreamPiece,
} from '../../../src/services/streamIO.js';
import { UploadHasher } from '../../../src/services/uploadHasher.js';
import { FsBlobStore } from '../../../src/storage/fsBlobStore.js';

const stream = (size: number, dataId = 's'): StreamRef => ({
  dataId,
  salt: '00',
  headerDigest: '00',
  size,
  segmentLog2: 16,
});
const part = (partNumber: number, size: number): PartRef => ({
  ...stream(size, `d${partNumber}`),
  partNumber,
  uploadId: 'up',
  sealedEtag: '',
});
const parts = (...sizes: number[]): PartRef[] => sizes.map((s, i) => part(i + 1, s));

/** [partNumber, start, end] triples, for readable expectations. */
const pieces = (list: PartRef[], start: number, end: number) =>
  piecesFor(undefined, list, start, end).map((p) => [p.partNumber, p.start, p.end]);

/** Brute force: for every byte of [start, end], which part and offset it falls in. */
function reference(sizes: number[], start: number, end: number): number[][] {
  const out: number[][] = [];
  let off = 0;
  sizes.forEach((size, i) => {
    const s = Math.max(start, off);
    const e = Math.min(end, off + size - 1);
    if (size > 0 && s <= e) out.push([i + 1, s - off, e - off]);
    off += size;
  });
  return out;
}

describe('piecesFor: single stream', () => {
  it('is the range itself on the one stream', () => {
    const s = stream(100);
    expect(piecesFor(s, undefined, 10, 20)).toEqual([{ ref: s, start: 10, end: 20 }]);
    expect(piecesFor(s, undefined, 0, 99)).toEqual([{ ref: s, start: 0, end: 99 }]);
  });

  it('empty object: one piece 0..-1 (decrypts the empty final segment)', () => {
    const s = stream(0);
    expect(piecesFor(s, undefined, 0, -1)).toEqual([{ ref: s, start: 0, end: -1 }]);
  });

  it('the stream wins if a record somehow has both', () => {
    const s = stream(10);
    expect(piecesFor(s, parts(5, 5), 0, 9)).toEqual([{ ref: s, start: 0, end: 9 }]);
  });
});

describe('piecesFor: multipart', () => {
  it('the whole object is every part, whole, in order, with its uploadId and partNumber', () => {
    const list = parts(10, 10, 5);
    const out = piecesFor(undefined, list, 0, 24);
    expect(out).toEqual([
      { ref: list[0], uploadId: 'up', partNumber: 1, start: 0, end: 9 },
      { ref: list[1], uploadId: 'up', partNumber: 2, start: 0, end: 9 },
      { ref: list[2], uploadId: 'up', partNumber: 3, start: 0, end: 4 },
    ]);
  });

  it('a range inside one part', () => {
    expect(pieces(parts(10, 10, 10), 12, 17)).toEqual([[2, 2, 7]]);
    expect(pieces(parts(10, 10, 10), 0, 0)).toEqual([[1, 0, 0]]);
    expect(pieces(parts(10, 10, 10), 29, 29)).toEqual([[3, 9, 9]]);
  });

  it('ranges crossing part boundaries', () => {
    expect(pieces(parts(10, 10, 10), 9, 10)).toEqual([
      [1, 9, 9],
      [2, 0, 0],
    ]);
    expect(pieces(parts(10, 10, 10), 5, 25)).toEqual([
      [1, 5, 9],
      [2, 0, 9],
      [3, 0, 5],
    ]);
    expect(pieces(parts(10, 10, 10), 10, 19)).toEqual([[2, 0, 9]]);
  });

  it('ranges starting exactly on a boundary', () => {
    expect(pieces(parts(10, 10, 10), 20, 29)).toEqual([[3, 0, 9]]);
    expect(pieces(parts(10, 10, 10), 10, 20)).toEqual([
      [2, 0, 9],
      [3, 0, 0],
    ]);
  });

  it('parts of different sizes', () => {
    expect(pieces(parts(7, 1, 13, 2), 6, 9)).toEqual([
      [1, 6, 6],
      [2, 0, 0],
      [3, 0, 1],
    ]);
    expect(pieces(parts(7, 1, 13, 2), 21, 22)).toEqual([[4, 0, 1]]);
  });

  it('zero-size parts are skipped, wherever they are', () => {
    expect(pieces(parts(5, 0, 5), 0, 9)).toEqual([
      [1, 0, 4],
      [3, 0, 4],
    ]);
    expect(pieces(parts(5, 0, 5), 5, 9)).toEqual([[3, 0, 4]]);
    expect(pieces(parts(5, 0, 0, 5), 4, 5)).toEqual([
      [1, 4, 4],
      [4, 0, 0],
    ]);
    expect(pieces(parts(0, 5), 0, 4)).toEqual([[2, 0, 4]]);
    expect(pieces(parts(5, 0), 0, 4)).toEqual([[1, 0, 4]]);
  });

  it('empty object (end < start): the first part with 0..-1, or nothing without parts', () => {
    const list = parts(0);
    expect(piecesFor(undefined, list, 0, -1)).toEqual([
      { ref: list[0], uploadId: 'up', partNumber: 1, start: 0, end: -1 },
    ]);
    expect(piecesFor(undefined, [], 0, -1)).toEqual([]);
    expect(piecesFor(undefined, undefined, 0, -1)).toEqual([]);
  });

  it('agrees with a brute-force mapping for every range of small layouts (binary search)', () => {
    const layouts = [[1], [3], [1, 1], [4, 4, 4, 4], [5, 0, 5], [0, 3, 0, 2, 0], [2, 7, 1, 9, 3, 1, 1, 4]];
    for (const sizes of layouts) {
      const total = sizes.reduce((a, b) => a + b, 0);
      for (let s = 0; s < total; s++) {
        for (let e = s; e < total; e++) {
          expect(pieces(parts(...sizes), s, e), `${sizes.join(',')} ${s}-${e}`).toEqual(reference(sizes, s, e));
        }
      }
    }
  });

  it('finds the first part by binary search over many parts', () => {
    const list = parts(...Array.from({ length: 10_000 }, () => 5));
    expect(pieces(list, 49_990, 49_999)).toEqual([
      [9999, 0, 4],
      [10000, 0, 4],
    ]);
    expect(pieces(list, 12_345, 12_345)).toEqual([[2470, 0, 0]]);
  });
});

describe('newId', () => {
  it('is 16 random bytes in hex', () => {
    const a = newId();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(newId()).not.toBe(a);
  });
});

describe('writeEncryptedStream + concatDecrypted (FsBlobStore)', () => {
  const DEK = Buffer.alloc(32, 7);
  const UID = 'ab'.repeat(16);
  let dir: string;
  let blobs: FsBlobStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-streamio-'));
    blobs = await FsBlobStore.open(join(dir, 'blobs'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function ids(): Promise<string[]> {
    const out: string[] = [];
    for await (const id of blobs.list()) out.push(id);
    return out;
  }

  async function readAll(r: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it('round-trips ranges across segments and across parts', async () => {
    const a = randomBytes(10_000);
    const b = randomBytes(3_000);
    const refA = await writeEncryptedStream({
      blobs,
      dek: DEK,
      bucketUid: UID,
      uploadId: 'up',
      partNumber: 1,
      segmentLog2: 12,
      body: Readable.from([a]),
      hasher: new UploadHasher({ length: a.length }),
    });
    const refB = await writeEncryptedStream({
      blobs,
      dek: DEK,
      bucketUid: UID,
      uploadId: 'up',
      partNumber: 2,
      segmentLog2: 12,
      body: Readable.from([b]),
      hasher: new UploadHasher({ length: b.length }),
    });
    expect([refA.size, refB.size]).toEqual([10_000, 3_000]);
    const list: PartRef[] = [
      { ...refA, partNumber: 1, uploadId: 'up', sealedEtag: '' },
      { ...refB, partNumber: 2, uploadId: 'up', sealedEtag: '' },
    ];
    const whole = Buffer.concat([a, b]);
    for (const [s, e] of [
      [0, 12_999],
      [4_000, 4_200],
      [4_095, 4_096],
      [9_990, 10_010],
      [12_999, 12_999],
    ]) {
      const got = await readAll(concatDecrypted(blobs, DEK, UID, piecesFor(undefined, list, s, e)));
      expect(got.equals(whole.subarray(s, e + 1)), `${s}-${e}`).toBe(true);
    }
  });

  it('a small object is read with one whole-blob read, a large one through stat, header read and a ranged stream', async () => {
    const calls: string[] = [];
    const spied = new Proxy(blobs, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function' || !['readSmall', 'stat', 'read', 'get'].includes(String(prop))) return v;
        return (...a: unknown[]) => {
          calls.push(String(prop));
          return (v as (...x: unknown[]) => unknown).apply(target, a);
        };
      },
    });
    for (const size of [4096, 300 * 1024]) {
      const body = randomBytes(size);
      const ref = await writeEncryptedStream({
        blobs,
        dek: DEK,
        bucketUid: UID,
        segmentLog2: 16,
        body: Readable.from([body]),
        hasher: new UploadHasher({ length: size }),
      });
      calls.length = 0;
      const got = await readAll(await openConcatDecrypted(spied, DEK, UID, piecesFor(ref, undefined, 0, size - 1)));
      expect(got.equals(body)).toBe(true);
      expect(calls.sort()).toEqual(size === 4096 ? ['readSmall'] : ['get', 'read', 'stat']);
    }
  });

  it('an empty single stream decrypts to nothing', async () => {
    const ref = await writeEncryptedStream({
      blobs,
      dek: DEK,
      bucketUid: UID,
      segmentLog2: 12,
      body: Readable.from([]),
      hasher: new UploadHasher({ length: 0 }),
    });
    expect(ref.size).toBe(0);
    expect((await readAll(concatDecrypted(blobs, DEK, UID, piecesFor(ref, undefined, 0, -1)))).length).toBe(0);
  });

  it('a failed hasher check rejects the write and leaves no blob behind', async () => {
    const body = randomBytes(20_000);
    await expect(
      writeEncryptedStream({
        blobs,
        dek: DEK,
        bucketUid: UID,
        segmentLog2: 12,
        body: Readable.from([body]),
        hasher: new UploadHasher({ checksums: { CRC32: 'AAAAAA==' } }),
      }),
    ).rejects.toMatchObject({ code: 'XAmzContentChecksumMismatch' });
    await expect(
      writeEncryptedStream({
        blobs,
        dek: DEK,
        bucketUid: UID,
        segmentLog2: 12,
        body: Readable.from([body]),
        hasher: new UploadHasher({ length: 20_001 }),
      }),
    ).rejects.toBeInstanceOf(DomainError);
    expect(await ids()).toEqual([]);
  });

  /** The one blob file on disk (FsBlobStore shards files in subdirectories). */
  async function blobFile(): Promise<string> {
    const files = (await readdir(join(dir, 'blobs'), { recursive: true, withFileTypes: true })).filter(
      (e) => e.isFile() && !e.name.includes('.tmp'),
    );
    expect(files.length).toBe(1);
    return join(files[0].parentPath, files[0].name);
  }

  async function readError(r: Readable): Promise<{ code?: string; message: string; bytes: number }> {
    let bytes = 0;
    try {
      for await (const c of r) bytes += (c as Buffer).length;
    } catch (e) {
      return { code: (e as DomainError).code, message: (e as Error).message, bytes };
    }
    return { message: 'read to the end', bytes };
  }

  it('bytes appended after the final segment are an IntegrityError before any byte, for whole and ranged reads', async () => {
    const body = randomBytes(10_000);
    const ref = await writeEncryptedStream({
      blobs,
      dek: DEK,
      bucketUid: UID,
      segmentLog2: 12,
      body: Readable.from([body]),
      hasher: new UploadHasher({ length: body.length }),
    });
    // Sanity: untampered, both reads succeed.
    expect((await readAll(concatDecrypted(blobs, DEK, UID, piecesFor(ref, undefined, 0, 9_999)))).equals(body)).toBe(
      true,
    );
    await appendFile(await blobFile(), Buffer.from('extra'));
    for (const [s, e] of [
      [0, 9_999],
      [0, 9],
      [9_990, 9_999],
    ]) {
      const got = await readError(concatDecrypted(blobs, DEK, UID, piecesFor(ref, undefined, s, e)));
      expect(got, `${s}-${e}`).toMatchObject({ code: 'IntegrityError', bytes: 0 });
      expect(got.message).toMatch(/extended/);
    }
  });

  it('a blob cut inside a segment or at a segment boundary is an IntegrityError before any byte, even for a range before the cut', async () => {
    const body = randomBytes(10_000); // segments of 4096: 3 segments
    const ref = await writeEncryptedStream({
      blobs,
      dek: DEK,
      bucketUid: UID,
      segmentLog2: 12,
      body: Readable.from([body]),
      hasher: new UploadHasher({ length: body.length }),
    });
    const file = await blobFile();
    for (const size of [64 + 2 * (4096 + 16), 64 + 4096 + 16 + 100]) {
      await truncate(file, size);
      for (const [s, e] of [
        [0, 9_999],
        [0, 9],
      ]) {
        const got = await readError(concatDecrypted(blobs, DEK, UID, piecesFor(ref, undefined, s, e)));
        expect(got, `cut at ${size}, ${s}-${e}`).toMatchObject({ code: 'IntegrityError', bytes: 0 });
        expect(got.message).toMatch(/truncated/);
      }
    }
  });

  it('a record size or segment size that does not fit the blob is an IntegrityError, not a RangeError', async () => {
    const body = randomBytes(5_000);
    const ref = await writeEncryptedStream({
      blobs,
      dek: DEK,
      bucketUid: UID,
      segmentLog2: 12,
      body: Readable.from([body]),
      hasher: new UploadHasher({ length: body.length }),
    });
    for (const bad of [{ size: 4_999 }, { size: 5_001 }, { segmentLog2: 40 }]) {
      const got = await readError(concatDecrypted(blobs, DEK, UID, [{ ref: { ...ref, ...bad }, start: 0, end: 9 }]));
      expect(got, JSON.stringify(bad)).toMatchObject({ code: 'IntegrityError', bytes: 0 });
    }
  });

  it('a missing blob is an IntegrityError on read', async () => {
    const piece: StreamPiece = {
      ref: { dataId: newId(), salt: '00', headerDigest: '00'.repeat(32), size: 5, segmentLog2: 12 },
      start: 0,
      end: 4,
    };
    await expect(readAll(concatDecrypted(blobs, DEK, UID, [piece]))).rejects.toMatchObject({ code: 'IntegrityError' });
  });
});
