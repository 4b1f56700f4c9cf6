/**
 * Per-object keys (SSE-C and SSE-KMS, docs/encryption.md "Per-object keys").
 *
 * SSE-C: the customer's 32-byte key is never stored. The object's data DEK is
 *   DEK_c = HKDF-SHA256(ikm = bucketDEK ‖ customerKey, salt = sseSalt,
 *                       info = "coffer/v1/sse-c" ‖ lp(bucketUid))
 * so neither the bucket DEK (the KMS) nor the customer key alone opens the data.
 * A later request's key is checked against
 *   keyCheck = HMAC-SHA256(key = sseSalt, "coffer/v1/sse-c-check" ‖ customerKey)
 * compared in constant time. sseSalt is 32 random bytes per object (or upload).
 *
 * Both modes: the record's `sse` descriptor is bound into the object seal's AAD
 * (sseBinding), so it cannot be dropped or swapped without the seal failing.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { KEY_SIZE, lp } from './kdf.js';
import { SALT_SIZE } from './format.js';

// Part of the on-disk format; never change without bumping the version byte.
const INFO_SSE_C = Buffer.from('coffer/v1/sse-c', 'utf8');
const CHECK_LABEL = Buffer.from('coffer/v1/sse-c-check', 'utf8');
const BINDING_LABEL = Buffer.from('coffer/v1/object-sse', 'utf8');

function assertSizes(customerKey: Buffer, salt: Buffer): void {
  if (customerKey.length !== KEY_SIZE)
    throw new RangeError(`customer key must be ${KEY_SIZE} bytes, got ${customerKey.length}`);
  if (salt.length !== SALT_SIZE) throw new RangeError(`salt must be ${SALT_SIZE} bytes, got ${salt.length}`);
}

/**
 * The data DEK of an SSE-C object: HKDF over the bucket DEK and the customer key together.
 * @throws RangeError on a key or salt of the wrong size.
 */
export function deriveCustomerDek(bucketDek: Buffer, customerKey: Buffer, salt: Buffer, bucketUid: string): Buffer {
  if (bucketDek.length !== KEY_SIZE) throw new RangeError(`DEK must be ${KEY_SIZE} bytes, got ${bucketDek.length}`);
  assertSizes(customerKey, salt);
  const ikm = Buffer.concat([bucketDek, customerKey]);
  try {
    return Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.concat([INFO_SSE_C, lp(bucketUid)]), KEY_SIZE));
  } finally {
    ikm.fill(0);
  }
}

/** The salted check value stored for an SSE-C object (never the key, never its plain MD5). */
export function customerKeyCheck(customerKey: Buffer, salt: Buffer): Buffer {
  assertSizes(customerKey, salt);
  return createHmac('sha256', salt).update(CHECK_LABEL).update(customerKey).digest();
}

/** True when `customerKey` is the key `stored` was made from; constant time. */
export function verifyCustomerKey(customerKey: Buffer, salt: Buffer, stored: Buffer): boolean {
  const mine = customerKeyCheck(customerKey, salt);
  return stored.length === mine.length && timingSafeEqual(mine, stored);
}

/** What of a record's per-object key is bound into its seal (every field, in a fixed order). */
export type SseBindingFields =
  | { type: 'aws:kms'; keyCrn: string; wrappedDek: string; aad: readonly string[]; bucketKeyEnabled?: boolean }
  | { type: 'SSE-C'; salt: string; keyCheck: string };

/**
 * Bytes appended to the object seal's AAD for a record with a per-object key:
 * "coffer/v1/object-sse" ‖ lp(type) ‖ the type's fields, each lp()'d. A record
 * without one appends nothing, so every record written before stays as it was.
 * keyVersion is left out: it only says which root-key version wrapped the DEK,
 * and the wrapped DEK itself is bound.
 */
export function sseBinding(s: SseBindingFields): Buffer {
  const parts: Buffer[] = [BINDING_LABEL, lp(s.type)];
  if (s.type === 'aws:kms') {
    parts.push(lp(s.keyCrn), lp(s.wrappedDek), lp(String(s.aad.length)));
    for (const a of s.aad) parts.push(lp(a));
    parts.push(Buffer.from([s.bucketKeyEnabled ? 1 : 0]));
  } else {
    parts.push(lp(s.salt), lp(s.keyCheck));
  }
  return Buffer.concat(parts);
}
