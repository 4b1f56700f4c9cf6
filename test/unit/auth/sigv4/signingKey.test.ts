import { describe, expect, it } from 'vitest';
import { deriveSigningKey, signaturesEqual, SigningKeyCache, signHex } from '../../../../src/auth/sigv4/signingKey.js';

describe('deriveSigningKey', () => {
  it('matches the AWS General Reference example key', () => {
    // "Derive a signing key": secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
    expect(
      deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam').toString('hex'),
    ).toBe('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });

  it('signs the get-vanilla string to sign', () => {
    const key = deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830', 'us-east-1', 'service');
    const sts =
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63';
    expect(signHex(key, sts)).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  });
});

describe('SigningKeyCache', () => {
  it('returns the cached key and evicts the least recently used entry', () => {
    const cache = new SigningKeyCache(2);
    const a = cache.get('s1', '20260301', 'r', 's3');
    expect(cache.get('s1', '20260301', 'r', 's3')).toBe(a);
    cache.get('s2', '20260301', 'r', 's3');
    cache.get('s1', '20260301', 'r', 's3'); // s1 is now the most recent
    cache.get('s3', '20260301', 'r', 's3'); // evicts s2
    expect(cache.size).toBe(2);
    expect(cache.get('s1', '20260301', 'r', 's3')).toBe(a);
    expect(cache.get('s1', '20260302', 'r', 's3')).not.toEqual(a);
    expect(cache.get('s1', '20260301', 'r2', 's3')).not.toEqual(a);
  });
});

describe('signaturesEqual', () => {
  it('compares exactly, including length', () => {
    expect(signaturesEqual('ab', 'ab')).toBe(true);
    expect(signaturesEqual('ab', 'ac')).toBe(false);
    expect(signaturesEqual('ab', 'abc')).toBe(false);
  });
});
