/**
 * AES-GCM for the KMS: 12-byte random IV, 16-byte tag appended to the ciphertext.
 * The key length picks the variant (16/24/32 bytes -> AES-128/192/256-GCM) because
 * imported root keys may be 128 or 192 bits (key-protect.md 2.4); everything Coffer
 * generates is 256 bits.
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

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

/** Returns ciphertext ‖ tag. */
export function gcmSeal(key: Buffer, iv: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  if (iv.length !== GCM_IV_BYTES) throw new RangeError('AES-GCM IV must be 12 bytes');
  const c = createCipheriv(algorithm(key), key, iv, { authTagLength: GCM_TAG_BYTES });
  c.setAAD(aad);
  const body = c.update(plaintext);
  const final = c.final();
  return Buffer.concat([body, final, c.getAuthTag()]);
}

/** Opens ciphertext ‖ tag; returns undefined when authentication fails (never partial output). */
export function gcmOpen(key: Buffer, iv: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (iv.length !== GCM_IV_BYTES || sealed.length < GCM_TAG_BYTES) return undefined;
  const d = createDecipheriv(algorithm(key), key, iv, { authTagLength: GCM_TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES));
  const body = d.update(sealed.subarray(0, sealed.length - GCM_TAG_BYTES));
  try {
    d.final();
  } catch {
    body.fill(0);
    return undefined;
  }
  return body;
}
