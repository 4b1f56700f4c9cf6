/**
 * `authorization: Bearer <token>` -> the verified Caller, for both REST
 * adapters. A missing or malformed header throws what `missing()` builds (each
 * protocol has its own 401); a token that fails verification throws the
 * verifier's TokenError, which each adapter renders in its own shape.
 */
import type { Caller, TokenVerifier } from '../identity/caller.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of a `Bearer` authorization header; undefined when there is none. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return BEARER.exec(authorization ?? '')?.[1];
}

export function callerFromBearer(
  verifier: TokenVerifier,
  authorization: string | undefined,
  missing: () => Error,
): Caller {
  const token = bearerToken(authorization);
  if (token === undefined) throw missing();
  return verifier.verify(token);
}
