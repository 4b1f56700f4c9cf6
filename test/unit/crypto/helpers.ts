/** Shared test helpers for the crypto unit tests (not a test file itself). */
import { readFileSync } from 'node:fs';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'vitest';
import { CryptoIntegrityError } from '../../../src/crypto/errors.js';

export interface StreamVector {
  name: string;
  segmentLog2: number;
  bucketUid: string;
  dataId: string;
  uploadId?: string;
  partNumber?: number;
  salt: string;
  noncePrefix: string;
  plaintext: string;
  kData: string;
  commitment: string;
  header: string;
  headerDigest: string;
  aad: string;
  blob: string;
}

export interface Vectors {
  dek: string;
  streams: StreamVector[];
  meta: { bucketUid: string; versionId: string; metaSalt: string; kMeta: string }[];
  sealedBlobs: { key: string; aad: string; plaintext: string; sealed: string }[];
}

/** test/fixtures/crypto/vectors.json, produced by gen_vectors.py (Python, independent of src/crypto). */
export function loadVectors(): Vectors {
  const url = new URL('../../fixtures/crypto/vectors.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Vectors;
}

export const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** A `random` for createEncryptor that hands out the given buffers in order and checks the sizes asked for. */
export function fixedRandom(...values: Buffer[]): (n: number) => Buffer {
  const queue = [...values];
  return (n: number) => {
    const next = queue.shift();
    if (next === undefined) throw new Error('fixedRandom: no more values');
    if (next.length !== n) throw new Error(`fixedRandom: asked for ${n} bytes, next value has ${next.length}`);
    return next;
  };
}

/** Small seeded PRNG (mulberry32) so random sizes and ranges repeat run to run. */
export function prng(seed: number): { int(maxExclusive: number): number; bytes(n: number): Buffer } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    int: (max) => Math.floor(next() * max),
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
}

/** Cut `buf` into chunks of the given sizes (cycled); the rest goes in the last chunk. */
export function chunked(buf: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  for (let i = 0; off < buf.length; i++) {
    const n = sizes[i % sizes.length] ?? buf.length;
    out.push(buf.subarray(off, off + n));
    off += n;
  }
  return out;
}

/** Cut `buf` into random-size chunks (1..max bytes). */
export function randomChunks(buf: Buffer, rnd: ReturnType<typeof prng>, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length;) {
    const n = 1 + rnd.int(max);
    out.push(buf.subarray(off, off + n));
    off += n;
  }
  return out;
}

/** Pipe `chunks` through `stream`; resolve with everything it emitted. `emitted` sees output even on failure. */
export async function run(stream: Transform, chunks: Buffer[], emitted: Buffer[] = []): Promise<Buffer> {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      emitted.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(chunks), stream, sink);
  return Buffer.concat(emitted);
}

/**
 * Expect `fn` to fail with CryptoIntegrityError, whether it throws synchronously
 * (header checks in createDecryptor) or the stream errors (segment checks).
 */
export async function expectIntegrityError(
  fn: () => Promise<unknown>,
  message?: RegExp,
): Promise<CryptoIntegrityError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CryptoIntegrityError);
  const err = caught as CryptoIntegrityError;
  if (message) expect(err.message).toMatch(message);
  return err;
}
