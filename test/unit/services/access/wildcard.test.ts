import { describe, expect, it } from 'vitest';
import { wildcardMatch } from '../../../../src/services/access/wildcard.js';
import { cidrBits, ipInCidr } from '../../../../src/services/access/ipMatch.js';

describe('wildcardMatch', () => {
  it.each([
    ['*', '', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbb', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*/*', 'x/y/z', true],
    ['a*b*c', 'aXbYbZc', true],
    ['a.c', 'abc', false],
  ])('%s ~ %s: %s', (p, v, want) => {
    expect(wildcardMatch(p, v)).toBe(want);
  });
  it('case-insensitive on request', () => {
    expect(wildcardMatch('s3:get*', 's3:GetObject')).toBe(false);
    expect(wildcardMatch('s3:get*', 's3:GetObject', true)).toBe(true);
  });
});

describe('ipInCidr', () => {
  it('matches on the prefix only, by family', () => {
    expect(ipInCidr('10.255.0.1', '10.0.0.0/8')).toBe(true);
    expect(ipInCidr('11.0.0.1', '10.0.0.0/8')).toBe(false);
    expect(ipInCidr('10.0.0.1', '::/0')).toBe(false);
    expect(ipInCidr('fe80::1', 'fe80::/10')).toBe(true);
    expect(ipInCidr('not-an-ip', '0.0.0.0/0')).toBe(false);
    expect(ipInCidr('10.0.0.1', '10.0.0.0/33')).toBe(false);
    expect(cidrBits('2001:db8::/48')).toEqual({ bits: 48, family: 6 });
  });
});
