/**
 * Key derivation: per-stream data keys and per-version metadata keys from the
 * bucket DEK (docs/encryption.md, "Key hierarchy").
 *
 * Why derive instead of using the DEK directly: AES-GCM with random nonces is
 * good for about 2^32 messages per key, which a busy bucket would pass. A fresh
 * 32-byte salt per stream gives every stream its own key, and counter nonces
 * inside a stream never repeat. Binding bucketUid and dataId into HKDF info means
 * a blob moved to another bucket or record decrypts under a different key.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { SALT_SIZE, COMMITMENT_SIZE } from './format.js';

/** Bytes of the bucket DEK and of every derived key (AES-256). */
export const KEY_SIZE = 32;

// HKDF info labels and the commitment label. Part of the on-disk format; never
// change without bumping the version byte.
const INFO_DATA = Buffer.from('coffer/v1/data', 'utf8');
const INFO_META = Buffer.from('coffer/v1/meta', 'utf8');
const COMMIT_LABEL = Buffer.from('coffer/v1/commit', 'utf8');

/**
 * Length-prefix: 4-byte big-endian byte length, then the bytes. Strings are
 * taken as their UTF-8 bytes. Prefixing makes concatenations unambiguous
 * ("ab"‖"c" and "a"‖"bc" differ).
 */
export function lp(x: Buffer | string): Buffer {
  const bytes = typeof x === 'string' ? Buffer.from(x, 'utf8') : x;
  if (bytes.length > 0xffffffff) throw new RangeError('lp: value longer than 2^32-1 bytes');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([len, bytes]);
}

function assertKeyInputs(dek: Buffer, salt: Buffer): void {
  if (dek.length !== KEY_SIZE) throw new RangeError(`DEK must be ${KEY_SIZE} bytes, got ${dek.length}`);
  if (salt.length !== SALT_SIZE) throw new RangeError(`salt must be ${SALT_SIZE} bytes, got ${salt.length}`);
}

function hkdf(ikm: Buffer, salt: Buffer, info: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, KEY_SIZE));
}

/**
 * K_data = HKDF-SHA256(ikm = DEK, salt, info = "coffer/v1/data" ‖ lp(bucketUid) ‖ lp(dataId)).
 * One per stream (single PUT or one UploadPart attempt).
 * @throws RangeError if the DEK or salt has the wrong size.
 */
export function deriveDataKey(dek: Buffer, salt: Buffer, bucketUid: string, dataId: string): Buffer {
  assertKeyInputs(dek, salt);
  return hkdf(dek, salt, Buffer.concat([INFO_DATA, lp(bucketUid), lp(dataId)]));
}

/**
 * K_meta = HKDF-SHA256(ikm = DEK, metaSalt, info = "coffer/v1/meta" ‖ lp(bucketUid) ‖ lp(versionId)).
 * Seals the ETag, checksums and user metadata of one object version record.
 * @throws RangeError if the DEK or salt has the wrong size.
 */
export function deriveMetaKey(dek: Buffer, metaSalt: Buffer, bucketUid: string, versionId: string): Buffer {
  assertKeyInputs(dek, metaSalt);
  return hkdf(dek, metaSalt, Buffer.concat([INFO_META, lp(bucketUid), lp(versionId)]));
}

/**
 * Key commitment stored in the header: first 16 bytes of
 * HMAC-SHA256(K_data, "coffer/v1/commit"). GCM is not key-committing, so this
 * is what turns "wrong DEK / wrong binding" into a clear error before any
 * segment is tried.
 */
export function keyCommitment(kData: Buffer): Buffer {
  if (kData.length !== KEY_SIZE) throw new RangeError(`K_data must be ${KEY_SIZE} bytes, got ${kData.length}`);
  // Copy, so the caller does not hold a view on the other half of the MAC.
  return Buffer.from(createHmac('sha256', kData).update(COMMIT_LABEL).digest().subarray(0, COMMITMENT_SIZE));
}
