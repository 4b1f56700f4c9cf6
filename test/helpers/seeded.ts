/**
 * Deterministic pseudo-random test data that never has to sit in memory whole.
 *
 * Bytes come from AES-128-CTR over zeros with a key derived from the seed, so any
 * slice [start, end) can be regenerated on demand (the CTR counter is seekable):
 * a 64 MiB body is streamed into a request and hashed again for comparison
 * without ever holding 64 MiB.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';

const PIECE = 64 * 1024;

export class SeededData {
  private readonly key: Buffer;

  constructor(
    readonly seed: string,
    readonly size: number,
  ) {
    this.key = createHash('sha256').update(`coffer-test:${seed}`).digest().subarray(0, 16);
  }

  /** Bytes [start, end) in pieces of at most `piece` bytes. */
  *pieces(start = 0, end = this.size, piece = PIECE): Generator<Buffer> {
    if (start < 0 || end > this.size || start > end)
      throw new RangeError(`bad slice [${start}, ${end}) of ${this.size}`);
    const block = Math.floor(start / 16);
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(BigInt(block), 8);
    const cipher = createCipheriv('aes-128-ctr', this.key, iv);
    let skip = start - block * 16;
    if (skip > 0) cipher.update(Buffer.alloc(skip));
    skip = 0;
    for (let off = start; off < end; off += piece) {
      const n = Math.min(piece, end - off);
      yield cipher.update(Buffer.alloc(n));
    }
  }

  /** A fresh Readable of bytes [start, end). */
  stream(start = 0, end = this.size): Readable {
    return Readable.from(this.pieces(start, end), { objectMode: false });
  }

  /** Bytes [start, end) as one Buffer: only for small slices. */
  bytes(start = 0, end = this.size): Buffer {
    return Buffer.concat([...this.pieces(start, end)]);
  }

  md5(start = 0, end = this.size): string {
    const h = createHash('md5');
    for (const p of this.pieces(start, end)) h.update(p);
    return h.digest('hex');
  }

  md5Raw(start = 0, end = this.size): Buffer {
    return Buffer.from(this.md5(start, end), 'hex');
  }

  sha256(start = 0, end = this.size): string {
    const h = createHash('sha256');
    for (const p of this.pieces(start, end)) h.update(p);
    return h.digest('hex');
  }

  /** CRC32 as S3 sends it: base64 of the big-endian 4-byte value. */
  crc32(start = 0, end = this.size): string {
    let c = 0;
    for (const p of this.pieces(start, end)) c = zlib.crc32(p, c);
    return crc32Base64FromInt(c);
  }
}

export function crc32Base64FromInt(c: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(c >>> 0);
  return b.toString('base64');
}

export function crc32Base64(data: Buffer | string): string {
  return crc32Base64FromInt(zlib.crc32(typeof data === 'string' ? Buffer.from(data) : data));
}

export function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

export function md5Base64(data: Buffer | string): string {
  return createHash('md5').update(data).digest('base64');
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** ETag S3 gives a multipart object: MD5 of the concatenated binary part MD5s, "-N". */
export function multipartEtag(partMd5sHex: string[]): string {
  const h = createHash('md5');
  for (const m of partMd5sHex) h.update(Buffer.from(m, 'hex'));
  return `${h.digest('hex')}-${partMd5sHex.length}`;
}

/** MD5 (hex) and length of a stream, without keeping it. */
export async function md5OfStream(s: AsyncIterable<Uint8Array>): Promise<{ md5: string; size: number }> {
  const h = createHash('md5');
  let size = 0;
  for await (const c of s) {
    h.update(c);
    size += c.length;
  }
  return { md5: h.digest('hex'), size };
}
