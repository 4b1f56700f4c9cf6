/**
 * AES-256-GCM for small blobs held whole in memory: sealed object metadata and
 * root-key material. Layout: iv(12, random) ‖ ciphertext ‖ tag(16).
 *
 * A random IV is fine here because every K_meta is itself derived from a fresh
 * salt and seals only a handful of blobs, far below the 2^32 random-IV limit.
 * Streams of object data use streamEncryptor instead (counter nonces, segments).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoIntegrityError } from './errors.js';
import { TAG_SIZE } from './format.js';
import { KEY_SIZE } from './kdf.js';

/** Bytes of the random IV at the front of a sealed blob. */
export const IV_SIZE = 12;

function assertKey(key: Buffer): void {
  if (key.length !== KEY_SIZE) throw new RangeError(`key must be ${KEY_SIZE} bytes, got ${key.length}`);
}

/**
 * Encrypt and authenticate `plaintext`, binding `aad` (which is not stored:
 * the opener must supply the same bytes, e.g. bucketUid ‖ object name ‖ versionId).
 * @returns iv ‖ ciphertext ‖ tag
 */
export function sealBlob(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  assertKey(key);
  const iv = randomBytes(IV_SIZE);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_SIZE });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/**
 * Inverse of sealBlob.
 * @throws CryptoIntegrityError if the blob is too short, or the tag does not
 *   verify (tampered blob, wrong key, or different AAD).
 */
export function openBlob(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  assertKey(key);
  if (sealed.length < IV_SIZE + TAG_SIZE) {
    throw new CryptoIntegrityError(`sealed blob is ${sealed.length} bytes, shorter than iv + tag (${IV_SIZE + TAG_SIZE})`);
  }
  const iv = sealed.subarray(0, IV_SIZE);
  const tag = sealed.subarray(sealed.length - TAG_SIZE);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_SIZE });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const body = decipher.update(sealed.subarray(IV_SIZE, sealed.length - TAG_SIZE));
  try {
    return Buffer.concat([body, decipher.final()]);
  } catch {
    // Node only says "Unsupported state or unable to authenticate data"; say what it means here.
    throw new CryptoIntegrityError('sealed blob failed authentication (tampered, wrong key, or wrong AAD)');
  }
}
