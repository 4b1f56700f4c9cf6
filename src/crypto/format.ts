/**
 * Stream header layout and the plaintext <-> ciphertext offset arithmetic.
 * See index.ts and docs/encryption.md ("Stream format") for the full picture.
 */
import { CryptoIntegrityError } from './errors.js';

// Every constant below is part of the on-disk format; never change one without
// bumping FORMAT_VERSION and keeping a reader for version 1.

/** Bytes of the stream header. Part of the on-disk format; never change without bumping the version byte. */
export const HEADER_SIZE = 64;
/** Bytes of the GCM tag after each segment. Part of the on-disk format; never change without bumping the version byte. */
export const TAG_SIZE = 16;
/** log2 of the default plaintext segment size (64 KiB). Part of the on-disk format; never change without bumping the version byte. */
export const DEFAULT_SEGMENT_LOG2 = 16;
/** Smallest allowed log2 segment size (4 KiB). Part of the on-disk format; never change without bumping the version byte. */
export const MIN_SEGMENT_LOG2 = 12;
/** Largest allowed log2 segment size (16 MiB). Part of the on-disk format; never change without bumping the version byte. */
export const MAX_SEGMENT_LOG2 = 24;
/** Header byte 4. Part of the on-disk format; never change without bumping the version byte. */
export const FORMAT_VERSION = 1;
/** Header byte 5: AES-256-GCM segments under an HKDF-SHA256 per-stream key. Part of the on-disk format; never change without bumping the version byte. */
export const ALGORITHM_AES256GCM_HKDF_SHA256 = 1;

/** Header bytes 0..3, "CFRS". Part of the on-disk format. */
const MAGIC = Buffer.from('CFRS', 'latin1');
/** Bytes of the per-stream HKDF salt. Part of the on-disk format; never change without bumping the version byte. */
export const SALT_SIZE = 32;
/** Bytes of the random nonce prefix. Part of the on-disk format; never change without bumping the version byte. */
export const NONCE_PREFIX_SIZE = 7;
/** Bytes of the key commitment. Part of the on-disk format; never change without bumping the version byte. */
export const COMMITMENT_SIZE = 16;
/** Segment indexes are uint32 in the nonce, so a stream has at most 2^32 segments. */
export const MAX_SEGMENTS = 2 ** 32;

// Field offsets inside the 64-byte header (encryption.md table).
const OFF_VERSION = 4;
const OFF_ALGORITHM = 5;
const OFF_SEGMENT_LOG2 = 6;
const OFF_RESERVED_1 = 7;
const OFF_SALT = 8;
const OFF_NONCE_PREFIX = 40;
const OFF_RESERVED_2 = 47;
const OFF_COMMITMENT = 48;

/** The decoded 64-byte stream header. */
export interface StreamHeader {
  version: number;
  algorithm: number;
  /** log2 of the plaintext segment size, MIN_SEGMENT_LOG2..MAX_SEGMENT_LOG2. */
  segmentLog2: number;
  /** 32 random bytes, the HKDF salt of this stream. */
  salt: Buffer;
  /** 7 random bytes, the first part of every segment nonce. */
  noncePrefix: Buffer;
  /** First 16 bytes of HMAC-SHA256(K_data, "coffer/v1/commit"). */
  commitment: Buffer;
}

function isValidSegmentLog2(log2: number): boolean {
  return Number.isInteger(log2) && log2 >= MIN_SEGMENT_LOG2 && log2 <= MAX_SEGMENT_LOG2;
}

/** @throws RangeError if segmentLog2 is outside MIN_SEGMENT_LOG2..MAX_SEGMENT_LOG2. */
export function assertSegmentLog2(log2: number): void {
  if (!isValidSegmentLog2(log2)) {
    throw new RangeError(`segmentLog2 must be an integer in ${MIN_SEGMENT_LOG2}..${MAX_SEGMENT_LOG2}, got ${log2}`);
  }
}

function assertSize(name: string, b: Buffer, size: number): void {
  if (b.length !== size) throw new RangeError(`${name} must be ${size} bytes, got ${b.length}`);
}

/**
 * Encode a header to its 64 bytes.
 * @throws RangeError on a field of the wrong size or an unsupported version/algorithm/segment size
 *   (the writer only ever produces the current version).
 */
export function encodeHeader(h: StreamHeader): Buffer {
  if (h.version !== FORMAT_VERSION) throw new RangeError(`cannot write format version ${h.version}`);
  if (h.algorithm !== ALGORITHM_AES256GCM_HKDF_SHA256) throw new RangeError(`cannot write algorithm ${h.algorithm}`);
  assertSegmentLog2(h.segmentLog2);
  assertSize('salt', h.salt, SALT_SIZE);
  assertSize('noncePrefix', h.noncePrefix, NONCE_PREFIX_SIZE);
  assertSize('commitment', h.commitment, COMMITMENT_SIZE);
  const out = Buffer.alloc(HEADER_SIZE); // reserved bytes stay 0
  MAGIC.copy(out, 0);
  out[OFF_VERSION] = h.version;
  out[OFF_ALGORITHM] = h.algorithm;
  out[OFF_SEGMENT_LOG2] = h.segmentLog2;
  h.salt.copy(out, OFF_SALT);
  h.noncePrefix.copy(out, OFF_NONCE_PREFIX);
  h.commitment.copy(out, OFF_COMMITMENT);
  return out;
}

/**
 * Decode and validate a 64-byte header. The returned Buffers are copies, so the
 * caller may reuse `buf`.
 * @throws CryptoIntegrityError on a wrong length, bad magic, unknown version or
 *   algorithm, non-zero reserved byte or out-of-range segment size: on disk any of
 *   these means corruption or tampering, not a caller mistake.
 */
export function parseHeader(buf: Buffer): StreamHeader {
  if (buf.length !== HEADER_SIZE) {
    throw new CryptoIntegrityError(`stream header must be ${HEADER_SIZE} bytes, got ${buf.length}`);
  }
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new CryptoIntegrityError('stream header has bad magic');
  const version = buf[OFF_VERSION];
  if (version !== FORMAT_VERSION) throw new CryptoIntegrityError(`unsupported stream format version ${version}`);
  const algorithm = buf[OFF_ALGORITHM];
  if (algorithm !== ALGORITHM_AES256GCM_HKDF_SHA256) {
    throw new CryptoIntegrityError(`unsupported stream algorithm ${algorithm}`);
  }
  const segmentLog2 = buf[OFF_SEGMENT_LOG2];
  if (!isValidSegmentLog2(segmentLog2))
    throw new CryptoIntegrityError(`stream header has bad segment size log2 ${segmentLog2}`);
  if (buf[OFF_RESERVED_1] !== 0 || buf[OFF_RESERVED_2] !== 0) {
    throw new CryptoIntegrityError('stream header has non-zero reserved bytes');
  }
  return {
    version,
    algorithm,
    segmentLog2,
    salt: Buffer.from(buf.subarray(OFF_SALT, OFF_SALT + SALT_SIZE)),
    noncePrefix: Buffer.from(buf.subarray(OFF_NONCE_PREFIX, OFF_NONCE_PREFIX + NONCE_PREFIX_SIZE)),
    commitment: Buffer.from(buf.subarray(OFF_COMMITMENT, OFF_COMMITMENT + COMMITMENT_SIZE)),
  };
}

function assertPlainSize(plainSize: number): void {
  if (!Number.isSafeInteger(plainSize) || plainSize < 0) {
    throw new RangeError(`plainSize must be a non-negative safe integer, got ${plainSize}`);
  }
}

/**
 * Number of segments of a stream: max(1, ceil(size / S)). An empty stream still
 * has one (empty, final) segment, so "ended before the final segment" is always
 * detectable.
 * @throws RangeError if the stream would need more than 2^32 segments.
 */
export function segmentCount(plainSize: number, segmentLog2: number): number {
  assertPlainSize(plainSize);
  assertSegmentLog2(segmentLog2);
  const n = Math.max(1, Math.ceil(plainSize / 2 ** segmentLog2));
  if (n > MAX_SEGMENTS)
    throw new RangeError(`stream of ${plainSize} bytes needs ${n} segments; the format allows ${MAX_SEGMENTS}`);
  return n;
}

/** Total blob size: header + plaintext + one tag per segment. */
export function encryptedSize(plainSize: number, segmentLog2: number): number {
  return HEADER_SIZE + plainSize + segmentCount(plainSize, segmentLog2) * TAG_SIZE;
}

/**
 * Plaintext bytes in segment `index` of a stream of `plainSize` bytes: S for all
 * but the last, the remainder (possibly 0, for the empty stream) for the last.
 */
export function segmentPlainLength(plainSize: number, segmentLog2: number, index: number): number {
  const n = segmentCount(plainSize, segmentLog2);
  if (!Number.isInteger(index) || index < 0 || index >= n)
    throw new RangeError(`segment ${index} out of range 0..${n - 1}`);
  const s = 2 ** segmentLog2;
  return index < n - 1 ? s : plainSize - (n - 1) * s;
}

/** Absolute blob offset where segment `index` starts: 64 + i × (S + 16). */
export function segmentOffset(segmentLog2: number, index: number): number {
  return HEADER_SIZE + index * (2 ** segmentLog2 + TAG_SIZE);
}

/** The ciphertext to read, and how to trim it, for one plaintext range. */
export interface SegmentSpan {
  firstSegment: number;
  lastSegment: number;
  /** Absolute blob offset of the first byte to read (start of firstSegment). */
  cipherStart: number;
  /** Absolute blob offset of the last byte to read, inclusive (end of lastSegment's tag). */
  cipherEnd: number;
  /** Plaintext bytes to drop from the front of the first decrypted segment. */
  skip: number;
  /** Plaintext bytes to emit in total. */
  length: number;
}

/**
 * Which whole segments cover plaintext bytes [start, end] (inclusive), and where
 * they lie in the blob. Whole segments are needed because a GCM tag covers its
 * whole segment; `skip` and `length` trim the edges.
 *
 * The empty object is the one case with an empty range: segmentSpan(0, log2, 0, -1)
 * reads its single empty final segment (16 bytes of tag) and emits nothing, which
 * still proves the stream is complete.
 * @throws RangeError if the range is not within the object (callers validate the
 *   HTTP Range first; this only guards against a bug there).
 */
export function segmentSpan(plainSize: number, segmentLog2: number, start: number, end: number): SegmentSpan {
  const n = segmentCount(plainSize, segmentLog2);
  if (plainSize === 0) {
    if (start !== 0 || end !== -1)
      throw new RangeError(`the only range of an empty object is [0, -1], got [${start}, ${end}]`);
    return {
      firstSegment: 0,
      lastSegment: 0,
      cipherStart: HEADER_SIZE,
      cipherEnd: HEADER_SIZE + TAG_SIZE - 1,
      skip: 0,
      length: 0,
    };
  }
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= plainSize) {
    throw new RangeError(`range [${start}, ${end}] is not within an object of ${plainSize} bytes`);
  }
  const firstSegment = Math.floor(start / 2 ** segmentLog2);
  const lastSegment = Math.floor(end / 2 ** segmentLog2);
  const lastLength = lastSegment < n - 1 ? 2 ** segmentLog2 : plainSize - (n - 1) * 2 ** segmentLog2;
  return {
    firstSegment,
    lastSegment,
    cipherStart: segmentOffset(segmentLog2, firstSegment),
    cipherEnd: segmentOffset(segmentLog2, lastSegment) + lastLength + TAG_SIZE - 1,
    skip: start - firstSegment * 2 ** segmentLog2,
    length: end - start + 1,
  };
}
