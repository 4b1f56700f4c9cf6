/**
 * CRC combination: crc(A || B) from crc(A), crc(B) and the length of B, without
 * the bytes. A multipart upload's full-object CRC (x-amz-checksum-type:
 * FULL_OBJECT) is built this way from the part CRCs at CompleteMultipartUpload,
 * so completing never re-reads (or decrypts) the parts.
 *
 * zlib's method (crc32_combine, 1.2.12+) generalised to the width: multiply
 * crc(A) by x^(8*len(B)) modulo the polynomial, then xor crc(B). It holds for
 * CRC32, CRC32C and CRC64NVME as they are all reflected with init = xorout =
 * all ones. BigInt is fine here: it runs a few hundred steps per part, never per byte.
 */
import type { ChecksumAlgorithm } from './checksums.js';

interface CrcSpec {
  width: number;
  /** Reflected polynomial. */
  poly: bigint;
}

const SPECS: Partial<Record<ChecksumAlgorithm, CrcSpec>> = {
  CRC32: { width: 32, poly: 0xedb88320n },
  CRC32C: { width: 32, poly: 0x82f63b78n },
  CRC64NVME: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
};

/** The algorithm is a CRC, so its values combine (FULL_OBJECT is possible). */
export function isCrc(a: ChecksumAlgorithm): boolean {
  return SPECS[a] !== undefined;
}

/** a(x) * b(x) modulo the polynomial, in the reflected bit order (the top bit is x^0). */
function multModP(s: CrcSpec, a: bigint, b: bigint): bigint {
  let m = 1n << BigInt(s.width - 1);
  let p = 0n;
  while (m !== 0n) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ s.poly : b >> 1n;
  }
  return p;
}

const powerTables = new Map<CrcSpec, bigint[]>();

/** x^(2^k) modulo the polynomial, for k = 0..63. */
function powers(s: CrcSpec): bigint[] {
  let t = powerTables.get(s);
  if (t) return t;
  t = [1n << BigInt(s.width - 2)];
  for (let k = 1; k < 64; k++) t.push(multModP(s, t[k - 1], t[k - 1]));
  powerTables.set(s, t);
  return t;
}

/** x^(8 * bytes) modulo the polynomial. */
function shiftFor(s: CrcSpec, bytes: number): bigint {
  const t = powers(s);
  let p = 1n << BigInt(s.width - 1);
  let n = BigInt(bytes);
  let k = 3; // 8 = 2^3 bits per byte
  while (n > 0n) {
    if (n & 1n) p = multModP(s, t[k], p);
    n >>= 1n;
    k++;
  }
  return p;
}

/**
 * crc(A || B) from the raw big-endian digests of A and B (as createChecksum gives them).
 * @param a a CRC algorithm (isCrc)
 * @param crcA digest of the first bytes
 * @param crcB digest of the bytes that follow
 * @param lengthB how many bytes B has
 */
export function combineCrc(a: ChecksumAlgorithm, crcA: Buffer, crcB: Buffer, lengthB: number): Buffer {
  const s = SPECS[a];
  if (!s) throw new TypeError(`${a} is not a CRC`);
  const bytes = s.width / 8;
  if (crcA.length !== bytes || crcB.length !== bytes) throw new RangeError(`a ${a} digest has ${bytes} bytes`);
  const v =
    multModP(s, shiftFor(s, lengthB), BigInt('0x' + crcA.toString('hex'))) ^ BigInt('0x' + crcB.toString('hex'));
  return Buffer.from(v.toString(16).padStart(bytes * 2, '0'), 'hex');
}
