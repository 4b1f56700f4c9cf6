/**
 * The flexible checksums S3 clients send in `x-amz-checksum-*` headers and
 * aws-chunked trailers (docs/s3-clients.md B1, B5 item 3): CRC32, CRC32C,
 * CRC64NVME, SHA1, SHA256. Every digest is the raw big-endian value; the wire
 * form is its base64.
 *
 * CRC32 comes from zlib (native, Node >= 20.15). CRC32C and CRC64NVME have no
 * native binding in Node, so they are table-driven JS using slicing-by-8: eight
 * bytes per step, all in 32-bit integer arithmetic. CRC64 keeps its state as
 * two 32-bit halves because BigInt arithmetic per byte is ~100x slower.
 */
import { createHash, type Hash } from 'node:crypto';
import * as zlib from 'node:zlib';

/** A checksum algorithm, spelled as AWS spells it in `x-amz-checksum-algorithm`. */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

/** Every supported algorithm, in AWS's documentation order. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = Object.freeze([
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
]);

/** An incremental checksum. `digest()` does not reset and may be called again. */
export interface Checksum {
  update(data: Buffer): void;
  /** Raw big-endian bytes; base64 on the wire. */
  digest(): Buffer;
}

/**
 * The header (or trailer) that carries an algorithm's value.
 * @param a the algorithm
 * @returns e.g. `x-amz-checksum-crc32`
 */
export function checksumHeaderName(a: ChecksumAlgorithm): string {
  return `x-amz-checksum-${a.toLowerCase()}`;
}

/**
 * Parse an algorithm name case-insensitively (`crc32c`, `CRC64NVME`, ...).
 * @param s the name as sent by a client
 * @returns the algorithm, or undefined if unsupported
 */
export function parseChecksumAlgorithm(s: string): ChecksumAlgorithm | undefined {
  const upper = s.trim().toUpperCase();
  return CHECKSUM_ALGORITHMS.find((a) => a === upper);
}

/**
 * The algorithm named by a checksum header/trailer name, e.g.
 * `x-amz-checksum-crc32c` -> 'CRC32C'.
 * @param name a header name in any case
 * @returns the algorithm, or undefined if the name is not a checksum header
 */
export function checksumAlgorithmFromHeaderName(name: string): ChecksumAlgorithm | undefined {
  const lower = name.trim().toLowerCase();
  const prefix = 'x-amz-checksum-';
  return lower.startsWith(prefix) ? parseChecksumAlgorithm(lower.slice(prefix.length)) : undefined;
}

/**
 * A fresh incremental checksum.
 * @param a the algorithm
 */
export function createChecksum(a: ChecksumAlgorithm): Checksum {
  switch (a) {
    case 'CRC32':
      return new Crc32();
    case 'CRC32C':
      return new Crc32c();
    case 'CRC64NVME':
      return new Crc64Nvme();
    case 'SHA1':
      return new ShaChecksum(createHash('sha1'));
    case 'SHA256':
      return new ShaChecksum(createHash('sha256'));
    default:
      return assertNever(a);
  }
}

function assertNever(x: never): never {
  throw new TypeError(`unknown checksum algorithm ${String(x)}`);
}

class ShaChecksum implements Checksum {
  constructor(private readonly hash: Hash) {}
  update(data: Buffer): void {
    this.hash.update(data);
  }
  digest(): Buffer {
    // copy() keeps the running hash usable after a digest.
    return this.hash.copy().digest();
  }
}

function u32be(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}

// ---------------------------------------------------------------- CRC32 ----

/** zlib.crc32 appeared in Node 20.15 / 22.2; the table is the fallback for older 20.x. */
const nativeCrc32: ((data: Buffer, value?: number) => number) | undefined =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? zlib.crc32 : undefined;

class Crc32 implements Checksum {
  private crc = 0;
  update(data: Buffer): void {
    // zlib.crc32 answers 0, not the running value, for some empty buffers (randomBytes(0)).
    if (data.length === 0) return;
    this.crc = nativeCrc32 ? nativeCrc32(data, this.crc) : crc32Js(this.crc, data);
  }
  digest(): Buffer {
    return u32be(this.crc);
  }
}

/** Exported for tests only: the JS fallback used when zlib.crc32 is missing. */
export function crc32Js(previous: number, data: Buffer): number {
  return ~slice8Crc32(crc32Tables(), ~previous, data) >>> 0;
}

// --------------------------------------------------------------- CRC32C ----

class Crc32c implements Checksum {
  private crc = 0;
  update(data: Buffer): void {
    this.crc = ~slice8Crc32(crc32cTables(), ~this.crc, data) >>> 0;
  }
  digest(): Buffer {
    return u32be(this.crc);
  }
}

/** Lazily built slicing-by-8 tables for a reflected 32-bit polynomial. */
function tables32(poly: number): () => Int32Array[] {
  let cached: Int32Array[] | undefined;
  return () => {
    if (cached) return cached;
    const t = Array.from({ length: 8 }, () => new Int32Array(256));
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
      t[0][i] = c;
    }
    for (let i = 0; i < 256; i++) {
      for (let s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >>> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
    cached = t;
    return t;
  };
}

const crc32Tables = tables32(0xedb88320);
const crc32cTables = tables32(0x82f63b78);

/** Runs the raw (un-inverted) register over data; callers apply init/xorout. */
function slice8Crc32(t: Int32Array[], crc: number, data: Buffer): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = t;
  let c = crc | 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const lo = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    const hi = data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24);
    c =
      t7[lo & 0xff] ^
      t6[(lo >>> 8) & 0xff] ^
      t5[(lo >>> 16) & 0xff] ^
      t4[lo >>> 24] ^
      t3[hi & 0xff] ^
      t2[(hi >>> 8) & 0xff] ^
      t1[(hi >>> 16) & 0xff] ^
      t0[hi >>> 24];
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return c;
}

// ------------------------------------------------------------ CRC64NVME ----

/**
 * CRC-64/NVME: reflected poly 0x9A6C9329AC4BC9B5, init and xorout all ones.
 * Tables hold the high and low 32-bit halves of each 64-bit entry separately.
 */
let crc64Cache: { hi: Uint32Array[]; lo: Uint32Array[] } | undefined;

function crc64Tables(): { hi: Uint32Array[]; lo: Uint32Array[] } {
  if (crc64Cache) return crc64Cache;
  const POLY_HI = 0x9a6c9329;
  const POLY_LO = 0xac4bc9b5;
  const hi = Array.from({ length: 8 }, () => new Uint32Array(256));
  const lo = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let i = 0; i < 256; i++) {
    let h = 0;
    let l = i;
    for (let k = 0; k < 8; k++) {
      const bit = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (bit) {
        h = (h ^ POLY_HI) >>> 0;
        l = (l ^ POLY_LO) >>> 0;
      }
    }
    hi[0][i] = h;
    lo[0][i] = l;
  }
  for (let s = 1; s < 8; s++) {
    for (let i = 0; i < 256; i++) {
      // T[s][i] = (T[s-1][i] >> 8) ^ T[0][T[s-1][i] & 0xff]
      const ph = hi[s - 1][i];
      const pl = lo[s - 1][i];
      const idx = pl & 0xff;
      hi[s][i] = ((ph >>> 8) ^ hi[0][idx]) >>> 0;
      lo[s][i] = (((pl >>> 8) | (ph << 24)) ^ lo[0][idx]) >>> 0;
    }
  }
  crc64Cache = { hi, lo };
  return crc64Cache;
}

class Crc64Nvme implements Checksum {
  // Register (after init inversion), as two unsigned 32-bit halves.
  private h = 0xffffffff;
  private l = 0xffffffff;

  update(data: Buffer): void {
    const { hi, lo } = crc64Tables();
    let h = this.h;
    let l = this.l;
    let i = 0;
    const end8 = data.length - (data.length % 8);
    for (; i < end8; i += 8) {
      const xl = l ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
      const xh = h ^ (data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24));
      const b0 = xl & 0xff,
        b1 = (xl >>> 8) & 0xff,
        b2 = (xl >>> 16) & 0xff,
        b3 = xl >>> 24;
      const b4 = xh & 0xff,
        b5 = (xh >>> 8) & 0xff,
        b6 = (xh >>> 16) & 0xff,
        b7 = xh >>> 24;
      h = hi[7][b0] ^ hi[6][b1] ^ hi[5][b2] ^ hi[4][b3] ^ hi[3][b4] ^ hi[2][b5] ^ hi[1][b6] ^ hi[0][b7];
      l = lo[7][b0] ^ lo[6][b1] ^ lo[5][b2] ^ lo[4][b3] ^ lo[3][b4] ^ lo[2][b5] ^ lo[1][b6] ^ lo[0][b7];
    }
    for (; i < data.length; i++) {
      const idx = (l ^ data[i]) & 0xff;
      const nl = (l >>> 8) | (h << 24);
      const nh = h >>> 8;
      l = nl ^ lo[0][idx];
      h = nh ^ hi[0][idx];
    }
    this.h = h >>> 0;
    this.l = l >>> 0;
  }

  digest(): Buffer {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(~this.h >>> 0, 0);
    b.writeUInt32BE(~this.l >>> 0, 4);
    return b;
  }
}
