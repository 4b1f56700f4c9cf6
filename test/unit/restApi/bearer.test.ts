import { describe, expect, it } from 'vitest';
import type { Caller, TokenVerifier } from '../../../src/identity/caller.js';
import { TokenError } from '../../../src/identity/tokenError.js';
import { bearerToken, callerFromBearer } from '../../../src/restApi/bearer.js';

const caller = { identity: { id: 'user-1' } } as unknown as Caller;
const verifier: TokenVerifier = {
  verify: (token) => {
    if (token !== 'good') throw new TokenError('invalid', 'bad token');
    return caller;
  },
};

describe('bearer authentication', () => {
  it('takes the token of a Bearer header, case-insensitively, and nothing else', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc  ')).toBe('abc');
    for (const h of [undefined, '', 'Bearer', 'Bearer a b', 'Basic abc']) expect(bearerToken(h)).toBeUndefined();
  });

  it('verifies the token; a missing one throws what the protocol builds, a bad one the TokenError', () => {
    const missing = () => new Error('missing');
    expect(callerFromBearer(verifier, 'Bearer good', missing)).toBe(caller);
    expect(() => callerFromBearer(verifier, undefined, missing)).toThrow('missing');
    expect(() => callerFromBearer(verifier, 'Bearer nope', missing)).toThrow(TokenError);
  });
});
