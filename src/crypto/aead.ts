/**
 * AES-GCM for small buffers held whole in memory, with a 12-byte random IV and
 * the 16-byte tag after the ciphertext. Two layers:
 *
 * - gcmSeal / gcmOpen: the IV is the caller's to keep (the KMS stores it next
 *   to a sealed root-key version, and a Key Protect ciphertext carries it as its
 *   own field). The key length picks the variant (16/24/32 bytes ->
 *   AES-128/192/256-GCM) because imported root keys may be 128 or 192 bits
 *   (key-protect.md 2.4); everything Coffer generates is 256 bits.
 * - sealBlob / openBlob: AES-256-GCM with the IV in front, iv(12) ‖ ciphertext
 *   ‖ tag(16), for sealed object metadata and IAM secrets.
 *
 * A random IV is fine here because every K_meta is itself derived from a fresh
 * salt and seals only a handful of blobs, and a root key wraps far fewer than
 * 2^32 DEKs. Streams of object data use streamEncryptor instead (counter
 * nonces, segments).
 */
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import { CryptoIntegrityError } from './errors.js';
import { TAG_SIZE } from './format.js';
import { KEY_SIZE } from './kdf.js';

/** Bytes of the random IV (at the front of a sealed blob). */
export const IV_SIZE = 12;

function algorithm(key: Buffer): CipherGCMTypes {
  switch (key.length) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      throw new RangeError(`AES-GCM key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
}

/** Returns ciphertext ‖ tag. `iv` must be 12 bytes, never reused under the key. */
export function gcmSeal(key: Buffer, iv: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  if (iv.length !== IV_SIZE) throw new RangeError(`AES-GCM IV must be ${IV_SIZE} bytes`);
  const c = createCipheriv(algorithm(key), key, iv, { authTagLength: TAG_SIZE });
  c.setAAD(aad);
  const body = c.update(plaintext);
  const final = c.final();
  return Buffer.concat([body, final, c.getAuthTag()]);
}

/** Opens ciphertext ‖ tag; undefined when authentication fails (never partial output). */
export function gcmOpen(key: Buffer, iv: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (iv.length !== IV_SIZE || sealed.length < TAG_SIZE) return undefined;
  const d = createDecipheriv(algorithm(key), key, iv, { authTagLength: TAG_SIZE });
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const body = d.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    d.final();
  } catch {
    body.fill(0);
    return undefined;
  }
  return body;
}

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
  return Buffer.concat([iv, gcmSeal(key, iv, plaintext, aad)]);
}

/**
 * Inverse of sealBlob.
 * @throws CryptoIntegrityError if the blob is too short, or the tag does not
 *   verify (tampered blob, wrong key, or different AAD).
 */
export function openBlob(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  assertKey(key);
  if (sealed.length < IV_SIZE + TAG_SIZE) {
    throw new CryptoIntegrityError(
      `sealed blob is ${sealed.length} bytes, shorter than iv + tag (${IV_SIZE + TAG_SIZE})`,
    );
  }
  const out = gcmOpen(key, sealed.subarray(0, IV_SIZE), sealed.subarray(IV_SIZE), aad);
  // Node only says "Unsupported state or unable to authenticate data"; say what it means here.
  if (!out) throw new CryptoIntegrityError('sealed blob failed authentication (tampered, wrong key, or wrong AAD)');
  return out;
}
