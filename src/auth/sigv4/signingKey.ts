/**
 * SigV4 signing-key derivation, an LRU memo of derived keys, and the final
 * HMAC. kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SCOPE_TERMINATOR } from './constants.js';

/**
 * HMAC-SHA256.
 * @param key the key
 * @param data the message (strings as UTF-8)
 */
export function hmacSha256(key: Buffer | string, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * Derive the signing key for one day, region and service.
 * @param secretAccessKey the secret
 * @param date the scope date, YYYYMMDD
 * @param region the scope region
 * @param service the scope service ('s3')
 */
export function deriveSigningKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  const kDate = hmacSha256('AWS4' + secretAccessKey, date);
  const kRegion = hmacSha256(kDate, region);
  const kService = hmacSha256(kRegion, service);
  return hmacSha256(kService, SCOPE_TERMINATOR);
}

/**
 * A small LRU of derived signing keys. Derivation costs four HMACs per request;
 * one key serves a client for a whole day, so a few hundred entries cover many
 * clients. Entries are keyed by a hash of the secret, never the secret itself,
 * so a heap dump of the map alone reveals nothing usable.
 */
export class SigningKeyCache {
  private readonly entries = new Map<string, Buffer>();

  /** @param capacity maximum entries kept */
  constructor(private readonly capacity = 256) {}

  /**
   * The signing key, derived on a miss.
   * @param secretAccessKey the secret
   * @param date YYYYMMDD
   * @param region scope region
   * @param service scope service
   */
  get(secretAccessKey: string, date: string, region: string, service: string): Buffer {
    const secretId = createHash('sha256').update(secretAccessKey).digest('base64');
    const id = `${secretId}\n${date}\n${region}\n${service}`;
    const hit = this.entries.get(id);
    if (hit) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit;
    }
    const key = deriveSigningKey(secretAccessKey, date, region, service);
    this.entries.set(id, key);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return key;
  }

  /** Number of cached keys (for tests). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * The hex signature of a string to sign.
 * @param signingKey from deriveSigningKey
 * @param toSign the string to sign
 */
export function signHex(signingKey: Buffer, toSign: string): string {
  return hmacSha256(signingKey, toSign).toString('hex');
}

/**
 * Constant-time comparison of two lower-case hex signatures. Unequal lengths
 * return false straight away; the length of a signature is public anyway.
 * @param expected the signature we computed
 * @param provided the signature the client sent
 */
export function signaturesEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
