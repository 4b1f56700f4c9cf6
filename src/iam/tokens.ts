/**
 * Bearer tokens for the KMS API: JWTs signed HS256 with a key derived from the
 * master key (secrets.ts). IBM's SDK core decodes the access token and reads
 * `exp` and `iat` to schedule its refresh, so the token must be a real JWT with
 * both claims. Only HS256 is accepted: a token naming any other algorithm
 * (notably "none") is rejected before its signature is even looked at.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { IdentityKind, TokenClaims } from '../identity/caller.js';
import { TokenError } from '../identity/tokenError.js';
import { constantTimeEqual } from './secrets.js';

export const ACCESS_TOKEN_TTL_S = 3600;
export const REFRESH_TOKEN_TTL_S = 7 * 24 * 3600;
export const TOKEN_ISSUER = 'coffer-iam';

function b64url(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromB64url(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

const HEADER = b64url(Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));

function sign(key: Buffer, signingInput: string): Buffer {
  return createHmac('sha256', key).update(signingInput, 'ascii').digest();
}

export interface IssueInput {
  sub: string;
  account: string;
  kind: IdentityKind;
  akid: string;
  typ: 'access' | 'refresh';
  nowS: number;
  ttlS: number;
}

export function issueToken(key: Buffer, i: IssueInput): { token: string; claims: TokenClaims } {
  const claims: TokenClaims = {
    iss: TOKEN_ISSUER,
    sub: i.sub,
    account: i.account,
    kind: i.kind,
    akid: i.akid,
    typ: i.typ,
    iat: i.nowS,
    exp: i.nowS + i.ttlS,
    jti: randomBytes(12).toString('hex'),
  };
  const input = `${HEADER}.${b64url(Buffer.from(JSON.stringify(claims)))}`;
  return { token: `${input}.${b64url(sign(key, input))}`, claims };
}

function isClaims(x: unknown): x is TokenClaims {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Record<string, unknown>;
  return (
    typeof c.sub === 'string' &&
    typeof c.account === 'string' &&
    (c.kind === 'user' || c.kind === 'service') &&
    typeof c.akid === 'string' &&
    (c.typ === 'access' || c.typ === 'refresh') &&
    typeof c.iat === 'number' &&
    typeof c.exp === 'number' &&
    c.iss === TOKEN_ISSUER
  );
}

/** Verifies signature, issuer, type and expiry; returns the claims. Throws TokenError. */
export function verifyToken(key: Buffer, token: string, typ: 'access' | 'refresh', nowS: number): TokenClaims {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3 || token.length > 8192) throw new TokenError('malformed', 'the bearer token is not a JWT');
  const [h, p, s] = parts as [string, string, string];
  const headerRaw = fromB64url(h);
  const payloadRaw = fromB64url(p);
  const sig = fromB64url(s);
  if (!headerRaw || !payloadRaw || !sig) throw new TokenError('malformed', 'the bearer token is not a JWT');
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(headerRaw.toString('utf8'));
    payload = JSON.parse(payloadRaw.toString('utf8'));
  } catch {
    throw new TokenError('malformed', 'the bearer token is not a JWT');
  }
  if (typeof header !== 'object' || header === null || (header as { alg?: unknown }).alg !== 'HS256') {
    throw new TokenError('invalid', 'the bearer token is not signed by this service');
  }
  if (!constantTimeEqual(sig, sign(key, `${h}.${p}`)))
    throw new TokenError('invalid', 'the bearer token is not signed by this service');
  if (!isClaims(payload)) throw new TokenError('invalid', 'the bearer token lacks required claims');
  if (payload.typ !== typ) throw new TokenError('invalid', `the token is not an ${typ} token`);
  if (nowS >= payload.exp) throw new TokenError('invalid', 'the bearer token has expired');
  return payload;
}
