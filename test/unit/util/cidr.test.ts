import { describe, expect, it } from 'vitest';
import { addressBytes, CidrSet, parseCidr, PRIVATE_RANGES } from '../../../src/util/cidr.js';
import { clientAddress } from '../../../src/util/clientAddress.js';

describe('cidr', () => {
  it('parses IPv4 and IPv6 ranges and single addresses; refuses what is not one', () => {
    expect(parseCidr('10.0.0.0/8').bits).toBe(104);
    expect(parseCidr('fd00::/8').bits).toBe(8);
    expect(parseCidr('192.0.2.7').bits).toBe(128);
    for (const bad of ['10.0.0.0/33', '::/129', 'example.com', '10.0.0/8', '', '1.2.3.4/-1'])
      expect(() => parseCidr(bad), bad).toThrow();
  });

  it('matches addresses in and out of ranges, IPv4-mapped IPv6 as IPv4', () => {
    const s = new CidrSet(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    expect(s.has('10.255.0.1')).toBe(true);
    expect(s.has('::ffff:10.1.2.3')).toBe(true);
    expect(s.has('11.0.0.1')).toBe(false);
    expect(s.has('2001:db8:1::5')).toBe(true);
    expect(s.has('2001:db9::1')).toBe(false);
    expect(s.has('192.0.2.7')).toBe(true);
    expect(s.has('192.0.2.8')).toBe(false);
    expect(s.has('not-an-ip')).toBe(false);
    expect(s.has(undefined)).toBe(false);
  });

  it('a /0 matches everything of its family only through the mapping: 0.0.0.0/0 is all IPv4', () => {
    const v4 = new CidrSet(['0.0.0.0/0']);
    expect(v4.has('203.0.113.9')).toBe(true);
    expect(v4.has('2001:db8::1')).toBe(false);
    expect(new CidrSet(['::/0']).has('2001:db8::1')).toBe(true);
  });

  it('the default private ranges are loopback, RFC 1918 and unique local', () => {
    const p = new CidrSet(PRIVATE_RANGES);
    for (const a of ['127.0.0.1', '::1', '10.1.1.1', '172.20.0.1', '192.168.1.1', 'fd12::1'])
      expect(p.has(a), a).toBe(true);
    for (const a of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '::ffff:1.1.1.1']) expect(p.has(a), a).toBe(false);
  });

  it('addressBytes reads compressed IPv6, embedded IPv4 and zone ids', () => {
    expect(addressBytes('::1')?.toString('hex')).toBe('00000000000000000000000000000001');
    expect(addressBytes('fe80::1%eth0')?.toString('hex')).toBe('fe800000000000000000000000000001');
    expect(addressBytes('::ffff:1.2.3.4')?.toString('hex')).toBe('00000000000000000000ffff01020304');
  });
});

describe('clientAddress', () => {
  const none = new CidrSet([]);
  const proxy = new CidrSet(['127.0.0.1', '10.0.0.0/8']);

  it('is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress('::ffff:203.0.113.5', { 'x-forwarded-for': '10.0.0.1' }, none)).toBe('203.0.113.5');
    expect(clientAddress('203.0.113.5', { 'x-forwarded-for': '127.0.0.1' }, proxy)).toBe('203.0.113.5');
  });

  it('walks X-Forwarded-For from the right past trusted proxies', () => {
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '198.51.100.1, 203.0.113.9, 10.1.1.1' }, proxy)).toBe(
      '203.0.113.9',
    );
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': ['198.51.100.1', '10.2.2.2'] }, proxy)).toBe('198.51.100.1');
    expect(clientAddress('127.0.0.1', {}, proxy)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '10.1.1.1' }, proxy)).toBe('10.1.1.1');
  });

  it('an entry that is not an address gives no address', () => {
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': 'unknown, 10.1.1.1' }, proxy)).toBeUndefined();
    expect(clientAddress(undefined, {}, proxy)).toBeUndefined();
  });
});
