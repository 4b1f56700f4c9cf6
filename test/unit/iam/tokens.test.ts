import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenError } from '../../../src/identity/tokenError.js';
import { issueToken, verifyToken } from '../../../src/iam/tokens.js';

const key = randomBytes(32);
const base = {
  sub: 'user-1',
  account: 'acct',
  kind: 'user' as const,
  akid: 'apikey-1',
  nowS: 1_700_000_000,
  ttlS: 3600,
};

function b64url(s: string | Buffer): string {
  return Buffer.from(s).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function expectTokenError(fn: () => unknown, kind: 'malformed' | 'invalid'): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TokenError);
    expect((e as TokenError).kind).toBe(kind);
    return;
  }
  throw new Error('expected a TokenError');
}

describe('tokens (JWT HS256)', () => {
  it('issues a JWT with exp and iat that IBM SDK core can decode, and verifies it', () => {
    const { token, claims } = issueToken(key, { ...base, typ: 'access' });
    const [h, p] = token.split('.') as [string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, number>;
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(verifyToken(key, token, 'access', base.nowS + 10)).toEqual(claims);
  });

  it('rejects expiry, the wrong type, another key, a changed payload, alg none, and non-JWTs', () => {
    const { token } = issueToken(key, { ...base, typ: 'access' });
    expectTokenError(() => verifyToken(key, token, 'access', base.nowS + 3600), 'invalid');
    expectTokenError(() => verifyToken(key, token, 'refresh', base.nowS), 'invalid');
    expectTokenError(() => verifyToken(randomBytes(32), token, 'access', base.nowS), 'invalid');
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    forged.sub = 'user-admin';
    expectTokenError(
      () => verifyToken(key, `${h}.${b64url(JSON.stringify(forged))}.${s}`, 'access', base.nowS),
      'invalid',
    );
    const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}.`;
    expectTokenError(() => verifyToken(key, none, 'access', base.nowS), 'invalid');
    const noneSigned = `${b64url(JSON.stringify({ alg: 'none' }))}.${p}.${b64url(createHmac('sha256', key).update('x').digest())}`;
    expectTokenError(() => verifyToken(key, noneSigned, 'access', base.nowS), 'invalid');
    expectTokenError(() => verifyToken(key, 'not-a-jwt', 'access', base.nowS), 'malformed');
    expectTokenError(() => verifyToken(key, 'a.b!.c', 'access', base.nowS), 'malformed');
  });
});
