import { describe, expect, it } from 'vitest';
import {
  clauseHolds,
  isKnownConditionKey,
  parseConditionOperator,
} from '../../../../src/services/access/conditions.js';

/** Does `operator` {key: values} hold for a request whose `key` has `request` (undefined: absent)? */
const holds = (operator: string, values: string[], request: string[] | undefined, key = 'k:x') =>
  clauseHolds(operator, key, values, request === undefined ? {} : { [key]: request });

describe('string operators', () => {
  it('StringEquals / StringNotEquals: exact, any of the values', () => {
    expect(holds('StringEquals', ['a', 'b'], ['b'])).toBe(true);
    expect(holds('StringEquals', ['a'], ['A'])).toBe(false);
    expect(holds('StringNotEquals', ['a', 'b'], ['c'])).toBe(true);
    expect(holds('StringNotEquals', ['a', 'b'], ['b'])).toBe(false);
  });
  it('IgnoreCase variants', () => {
    expect(holds('StringEqualsIgnoreCase', ['Public'], ['PUBLIC'])).toBe(true);
    expect(holds('StringNotEqualsIgnoreCase', ['Public'], ['public'])).toBe(false);
    expect(holds('StringNotEqualsIgnoreCase', ['Public'], ['private'])).toBe(true);
  });
  it('StringLike / StringNotLike with * and ?', () => {
    expect(holds('StringLike', ['home/*'], ['home/a/b'])).toBe(true);
    expect(holds('StringLike', ['home/?'], ['home/ab'])).toBe(false);
    expect(holds('StringLike', ['home/?'], ['home/a'])).toBe(true);
    expect(holds('StringNotLike', ['home/*'], ['etc/x'])).toBe(true);
    expect(holds('StringNotLike', ['home/*'], ['home/x'])).toBe(false);
  });
});

describe('numeric, date, bool, binary, arn', () => {
  it('Numeric*', () => {
    expect(holds('NumericEquals', ['10'], ['10'])).toBe(true);
    expect(holds('NumericNotEquals', ['10'], ['10'])).toBe(false);
    expect(holds('NumericLessThan', ['10'], ['9'])).toBe(true);
    expect(holds('NumericLessThan', ['10'], ['10'])).toBe(false);
    expect(holds('NumericLessThanEquals', ['10'], ['10'])).toBe(true);
    expect(holds('NumericGreaterThan', ['10'], ['11'])).toBe(true);
    expect(holds('NumericGreaterThanEquals', ['10'], ['9'])).toBe(false);
    expect(holds('NumericLessThan', ['10'], ['not-a-number'])).toBe(false);
  });
  it('Date* with ISO dates and epoch seconds', () => {
    const t = '2026-01-01T00:00:00Z';
    expect(holds('DateLessThan', [t], ['2025-12-31T23:59:59Z'])).toBe(true);
    expect(holds('DateGreaterThan', [t], ['2025-12-31T23:59:59Z'])).toBe(false);
    expect(holds('DateEquals', [t], [String(Date.parse(t) / 1000)])).toBe(true);
    expect(holds('DateNotEquals', [t], [t])).toBe(false);
    expect(holds('DateLessThanEquals', [t], [t])).toBe(true);
    expect(holds('DateGreaterThanEquals', [t], ['2026-01-02T00:00:00Z'])).toBe(true);
  });
  it('Bool, BinaryEquals, Arn*', () => {
    expect(holds('Bool', ['true'], ['true'])).toBe(true);
    expect(holds('Bool', ['false'], ['true'])).toBe(false);
    expect(holds('BinaryEquals', ['QUJD'], ['QUJD'])).toBe(true);
    expect(holds('ArnLike', ['arn:aws:iam::*:root'], ['arn:aws:iam::acct:root'])).toBe(true);
    expect(holds('ArnNotEquals', ['arn:aws:iam::a:root'], ['arn:aws:iam::a:root'])).toBe(false);
  });
});

describe('IpAddress / NotIpAddress', () => {
  it('IPv4 and IPv6 CIDRs, bare addresses, IPv4-mapped IPv6', () => {
    expect(holds('IpAddress', ['192.0.2.0/24'], ['192.0.2.77'])).toBe(true);
    expect(holds('IpAddress', ['192.0.2.0/24'], ['192.0.3.1'])).toBe(false);
    expect(holds('IpAddress', ['127.0.0.1'], ['127.0.0.1'])).toBe(true);
    expect(holds('IpAddress', ['10.0.0.0/8'], ['::ffff:10.1.2.3'])).toBe(true);
    expect(holds('IpAddress', ['2001:db8::/32'], ['2001:db8:1::5'])).toBe(true);
    expect(holds('IpAddress', ['2001:db8::/32'], ['2001:db9::5'])).toBe(false);
    expect(holds('IpAddress', ['0.0.0.0/0'], ['::1'])).toBe(false);
    expect(holds('NotIpAddress', ['192.0.2.0/24'], ['198.51.100.1'])).toBe(true);
    expect(holds('NotIpAddress', ['192.0.2.0/24', '::1/128'], ['::1'])).toBe(false);
  });
});

describe('absent keys, Null, IfExists, set operators', () => {
  it('an absent key: positive false, negated true, IfExists true', () => {
    expect(holds('StringEquals', ['a'], undefined)).toBe(false);
    expect(holds('StringNotEquals', ['a'], undefined)).toBe(true);
    expect(holds('StringEqualsIfExists', ['a'], undefined)).toBe(true);
    expect(holds('StringEqualsIfExists', ['a'], ['b'])).toBe(false);
    expect(holds('NumericLessThanIfExists', ['5'], ['4'])).toBe(true);
  });
  it('Null tests presence', () => {
    expect(holds('Null', ['true'], undefined)).toBe(true);
    expect(holds('Null', ['true'], ['x'])).toBe(false);
    expect(holds('Null', ['false'], ['x'])).toBe(true);
    expect(holds('Null', ['false'], undefined)).toBe(false);
  });
  it('ForAnyValue: some request value matches; absent is false', () => {
    expect(holds('ForAnyValue:StringEquals', ['a', 'b'], ['x', 'b'])).toBe(true);
    expect(holds('ForAnyValue:StringEquals', ['a'], ['x', 'y'])).toBe(false);
    expect(holds('ForAnyValue:StringEquals', ['a'], undefined)).toBe(false);
  });
  it('ForAllValues: every request value matches; absent or empty is true', () => {
    expect(holds('ForAllValues:StringEquals', ['a', 'b'], ['a', 'b'])).toBe(true);
    expect(holds('ForAllValues:StringEquals', ['a', 'b'], ['a', 'c'])).toBe(false);
    expect(holds('ForAllValues:StringEquals', ['a'], undefined)).toBe(true);
    expect(holds('ForAllValues:StringEquals', ['a'], [])).toBe(true);
  });
  it('key names compare case-insensitively, tag keys after the slash exactly', () => {
    expect(clauseHolds('StringEquals', 'AWS:SourceIp', ['1.2.3.4'], { 'aws:SourceIp': ['1.2.3.4'] })).toBe(true);
    expect(
      clauseHolds('StringEquals', 's3:ExistingObjectTag/Team', ['x'], { 's3:existingobjecttag/Team': ['x'] }),
    ).toBe(true);
    expect(
      clauseHolds('StringEquals', 's3:ExistingObjectTag/team', ['x'], { 's3:ExistingObjectTag/Team': ['x'] }),
    ).toBe(false);
  });
});

describe('operator and key names', () => {
  it('parses qualifiers and refuses unknown names', () => {
    expect(parseConditionOperator('ForAllValues:StringLikeIfExists')).toEqual({
      base: 'StringLike',
      set: 'ForAllValues',
      ifExists: true,
    });
    expect(parseConditionOperator('StringEq')).toBeUndefined();
    expect(parseConditionOperator('NullIfExists')).toBeUndefined();
  });
  it('knows the S3 keys Coffer supplies and every aws: key', () => {
    for (const k of [
      'aws:SourceIp',
      'aws:SecureTransport',
      'aws:PrincipalAccount',
      'aws:CurrentTime',
      's3:prefix',
      's3:max-keys',
      's3:delimiter',
      's3:x-amz-server-side-encryption',
      's3:x-amz-server-side-encryption-aws-kms-key-id',
      's3:ExistingObjectTag/team',
      's3:RequestObjectTag/team',
      's3:x-amz-acl',
    ])
      expect(isKnownConditionKey(k)).toBe(true);
    expect(isKnownConditionKey('s3:whatever')).toBe(false);
    expect(isKnownConditionKey('ec2:Region')).toBe(false);
  });
});
