/**
 * On-disk format of erasure-coded blobs (format version 1).
 *
 * Drive layout. Each drive is a directory standing for one disk, laid out like
 * FsBlobStore: `<drive>/<id[0..2]>/<id[2..4]>/<id>` holds that drive's shard of
 * blob `id`, and `<drive>/tmp/` holds shard files being written. Drive i of the
 * configured list always holds shard i (data shards 0..k-1, then parity shards
 * k..k+m-1), and every shard names its index in its header, so a drive moved to
 * another position is noticed rather than misread.
 *
 * Stripes. The blob is cut into stripes of k * S bytes (S, the block size, is in
 * the header; the last stripe may be shorter). A stripe of n bytes is split into
 * k data blocks of L = roundUp8(ceil(n / k)) bytes (the tail of the last one is
 * zero-padded; L = S for every full stripe) and m parity blocks of L bytes are
 * computed from them (codec in the header; codec 1 is the systematic
 * Reed-Solomon code of reedSolomon.ts). Data block j holds stripe bytes
 * [j * L, (j + 1) * L), so even a tiny blob is spread over the k data drives.
 *
 * Shard file of shard i:
 *
 *   header, 64 bytes (integers big-endian):
 *     0  4  magic "CFEC"
 *     4  1  format version (1)
 *     5  1  codec (1 = GF(2^8) Reed-Solomon, Vandermonde, systematic)
 *     6  1  k (data shards)
 *     7  1  m (parity shards)
 *     8  1  i (this shard's index)
 *     9  3  zero
 *    12  4  S (block size, a multiple of 8)
 *    16  8  blob size in bytes
 *    24 16  blob id (16 bytes)
 *    40  8  zero
 *    48 16  xxhash128 of bytes 0..47
 *   then for each stripe s in order: a 16-byte checksum, then the L bytes of
 *   block i of stripe s. The checksum is xxhash128 over (blob id, s as u32,
 *   i as u8, three zero bytes, the block), so a block moved to another blob,
 *   stripe or shard fails its check just as a flipped bit does.
 *
 * A shard whose header fails, names another blob or disagrees with the others
 * is treated as missing; so is a block that fails its checksum or is cut short.
 */
import { assertBlobId } from '../fsBlobStore.js';
import type { Checksummer } from './checksum.js';

export const MAGIC = Buffer.from('CFEC', 'latin1');
export const FORMAT_VERSION = 1;
export const CODEC_RS_VANDERMONDE = 1;
export const HEADER_SIZE = 64;
export const CHECKSUM_SIZE = 16;
/** Bytes before the checksum in the header. */
const HEADER_BODY = 48;

export interface ShardHeader {
  k: number;
  m: number;
  index: number;
  blockSize: number;
  size: number;
  id: string;
}

const roundUp8 = (n: number) => (n + 7) & ~7;

/** Geometry of a blob: where stripe s starts in the blob and how long its blocks are. */
export class StripeLayout {
  readonly stripeData: number;
  readonly stripes: number;

  constructor(
    readonly k: number,
    readonly blockSize: number,
    readonly size: number,
  ) {
    this.stripeData = k * blockSize;
    this.stripes = Math.ceil(size / this.stripeData);
  }

  /** Blob bytes in stripe s. */
  dataLength(s: number): number {
    return Math.min(this.stripeData, this.size - s * this.stripeData);
  }

  /** L: the block length of stripe s on every shard. */
  blockLength(s: number): number {
    return s < this.stripes - 1 ? this.blockSize : blockLengthFor(this.dataLength(s), this.k);
  }

  /** Offset of stripe s's checksum in a shard file (every stripe but the last has full blocks). */
  blockOffset(s: number): number {
    return HEADER_SIZE + s * (CHECKSUM_SIZE + this.blockSize);
  }
}

/** Block length for a stripe holding n bytes. */
export function blockLengthFor(n: number, k: number): number {
  return roundUp8(Math.ceil(n / k));
}

export function encodeHeader(h: ShardHeader, sum: Checksummer): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(b, 0);
  b[4] = FORMAT_VERSION;
  b[5] = CODEC_RS_VANDERMONDE;
  b[6] = h.k;
  b[7] = h.m;
  b[8] = h.index;
  b.writeUInt32BE(h.blockSize, 12);
  b.writeBigUInt64BE(BigInt(h.size), 16);
  Buffer.from(h.id, 'hex').copy(b, 24);
  sum.digest([b.subarray(0, HEADER_BODY)]).copy(b, HEADER_BODY);
  return b;
}

/** Parse and check a header; a string says why it is unusable. */
export function decodeHeader(b: Buffer, sum: Checksummer): ShardHeader | string {
  if (b.length < HEADER_SIZE) return 'header cut short';
  if (!b.subarray(0, 4).equals(MAGIC)) return 'not a shard file';
  if (!sum.digest([b.subarray(0, HEADER_BODY)]).equals(b.subarray(HEADER_BODY, HEADER_SIZE)))
    return 'header checksum mismatch';
  if (b[4] !== FORMAT_VERSION) return `unknown format version ${b[4]}`;
  if (b[5] !== CODEC_RS_VANDERMONDE) return `unknown codec ${b[5]}`;
  const size = b.readBigUInt64BE(16);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return 'size out of range';
  const h: ShardHeader = {
    k: b[6],
    m: b[7],
    index: b[8],
    blockSize: b.readUInt32BE(12),
    size: Number(size),
    id: b.subarray(24, 40).toString('hex'),
  };
  if (h.k < 1 || h.index >= h.k + h.m || h.blockSize === 0 || h.blockSize % 8 !== 0)
    return 'header fields out of range';
  return h;
}

/** The 24 bytes that bind a block's checksum to its blob, stripe and shard. */
export function blockBinding(id: string, stripe: number, shard: number): Buffer {
  assertBlobId(id);
  const b = Buffer.alloc(24);
  Buffer.from(id, 'hex').copy(b, 0);
  b.writeUInt32BE(stripe, 16);
  b[20] = shard;
  return b;
}
