/**
 * The IAM layer's secrets, all derived from the L0 master key with HKDF under
 * distinct labels (so the master key itself only ever seals root keys):
 *
 *   apiKeyHmac   HMAC-SHA256 key for storing API keys (only the MAC is kept)
 *   tokenSigning HS256 key for access and refresh tokens
 *   s3Seal       AES-256-GCM key sealing S3 secret access keys at rest
 *
 * Every comparison of secret-derived bytes goes through constantTimeEqual.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export interface IamSecrets {
  apiKeyHmac: Buffer;
  tokenSigning: Buffer;
  s3Seal: Buffer;
}

function derive(master: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), label, 32));
}

export function deriveIamSecrets(master: Buffer): IamSecrets {
  if (master.length !== 32) throw new RangeError('the master key must be 32 bytes');
  return {
    apiKeyHmac: derive(master, 'coffer/v1/iam/apikey-hmac'),
    tokenSigning: derive(master, 'coffer/v1/iam/token-signing'),
    s3Seal: derive(master, 'coffer/v1/iam/s3-secret-seal'),
  };
}

export function zeroSecrets(s: IamSecrets): void {
  s.apiKeyHmac.fill(0);
  s.tokenSigning.fill(0);
  s.s3Seal.fill(0);
}

/** Key check value: proves which master key the secrets came from, reveals nothing about it. */
export function secretsCheckValue(s: IamSecrets): string {
  return createHmac('sha256', s.apiKeyHmac).update('coffer/v1/iam/key-check-value').digest('hex');
}

/** HMAC-SHA256 of an API key, hex: what the store keeps and indexes by. */
export function hashApiKey(secrets: IamSecrets, apiKey: string): string {
  return createHmac('sha256', secrets.apiKeyHmac).update(apiKey, 'utf8').digest('hex');
}

/** Constant-time equality that also tolerates different lengths (returns false without an early exit on content). */
export function constantTimeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  if (x.length !== y.length) {
    // Still spend a compare so the length mismatch costs about the same.
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

const URLSAFE = /[+/=]/g;

/** A new API key: 32 random bytes, base64url (43 characters, like IBM's 44-character keys in spirit). */
export function newApiKey(): string {
  return randomBytes(32)
    .toString('base64')
    .replace(URLSAFE, (c) => (c === '+' ? '-' : c === '/' ? '_' : ''));
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** An S3 access key id: 'CF' + 18 upper-case alphanumerics (as rootIdentity makes them). */
export function newAccessKeyId(): string {
  const bytes = randomBytes(18);
  let s = 'CF';
  // 256 % 36 != 0: the bias is irrelevant for an identifier (the secret is separate).
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replace(URLSAFE, 'x');
}

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('hex')}`;
}
