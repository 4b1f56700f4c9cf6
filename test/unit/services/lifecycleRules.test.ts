import { describe, expect, it } from 'vitest';
import type { LifecycleRule } from '../../../src/meta/records.js';
import {
  DAY_MS,
  afterDays,
  currentExpiry,
  dayBoundary,
  expirationHeader,
  expirationHeaderValue,
  expiredMarkerRule,
  filterMatches,
  noncurrentDue,
  uploadAbortDue,
} from '../../../src/services/lifecycleRules.js';

const rule = (r: Partial<LifecycleRule>): LifecycleRule => ({
  id: 'r',
  status: 'Enabled',
  filterForm: 'filter',
  ...r,
});
const at = (iso: string) => Date.parse(iso);

describe('day arithmetic', () => {
  it('rounds creation + days up to the next midnight UTC, as AWS does', () => {
    expect(afterDays(at('2026-03-10T15:42:00Z'), 1, DAY_MS)).toBe(at('2026-03-12T00:00:00Z'));
    expect(afterDays(at('2026-03-10T00:00:00Z'), 1, DAY_MS)).toBe(at('2026-03-11T00:00:00Z'));
    expect(afterDays(at('2026-12-31T23:59:59.999Z'), 30, DAY_MS)).toBe(at('2027-01-31T00:00:00Z'));
  });

  it('a shortened day keeps the same rule: boundaries are multiples of it', () => {
    expect(dayBoundary(10_001, 2000)).toBe(12_000);
    expect(dayBoundary(12_000, 2000)).toBe(12_000);
    expect(afterDays(10_500, 2, 1000)).toBe(13_000);
  });
});

describe('filterMatches', () => {
  const obj = { key: 'logs/2026/a.txt', size: 100, tags: { env: 'dev', team: 'x' } };

  it('an empty filter matches everything', () => {
    expect(filterMatches(rule({}), obj)).toBe(true);
    expect(filterMatches(rule({}), { key: 'k', size: 0 })).toBe(true);
  });

  it('prefix: a byte-wise start of the key', () => {
    expect(filterMatches(rule({ prefix: 'logs/' }), obj)).toBe(true);
    expect(filterMatches(rule({ prefix: 'Logs/' }), obj)).toBe(false);
    expect(filterMatches(rule({ prefix: '' }), obj)).toBe(true);
  });

  it('size bounds are strict', () => {
    expect(filterMatches(rule({ sizeGreaterThan: 99 }), obj)).toBe(true);
    expect(filterMatches(rule({ sizeGreaterThan: 100 }), obj)).toBe(false);
    expect(filterMatches(rule({ sizeLessThan: 101 }), obj)).toBe(true);
    expect(filterMatches(rule({ sizeLessThan: 100 }), obj)).toBe(false);
    expect(filterMatches(rule({ sizeGreaterThan: 10, sizeLessThan: 200 }), obj)).toBe(true);
  });

  it('every tag must be present with its value; unknown tags match no tag rule', () => {
    expect(filterMatches(rule({ tags: [{ key: 'env', value: 'dev' }] }), obj)).toBe(true);
    expect(filterMatches(rule({ tags: [{ key: 'env', value: 'prod' }] }), obj)).toBe(false);
    expect(
      filterMatches(
        rule({
          tags: [
            { key: 'env', value: 'dev' },
            { key: 'team', value: 'y' },
          ],
        }),
        obj,
      ),
    ).toBe(false);
    expect(filterMatches(rule({ tags: [{ key: 'env', value: 'dev' }] }), { key: 'k', size: 1 })).toBe(false);
    // An inherited property is no tag.
    expect(filterMatches(rule({ tags: [{ key: 'constructor', value: '' }] }), { key: 'k', size: 1, tags: {} })).toBe(
      false,
    );
  });

  it('And: all conditions together', () => {
    const r = rule({ filterForm: 'and', prefix: 'logs/', tags: [{ key: 'env', value: 'dev' }], sizeLessThan: 1000 });
    expect(filterMatches(r, obj)).toBe(true);
    expect(filterMatches(r, { ...obj, key: 'other' })).toBe(false);
    expect(filterMatches(r, { ...obj, size: 5000 })).toBe(false);
  });
});

describe('currentExpiry and the x-amz-expiration header', () => {
  const created = at('2026-03-10T15:42:00Z');
  const s = { key: 'a/b', size: 10, tags: {} };

  it('the earliest enabled matching rule, Days or Date', () => {
    const rules = [
      rule({ id: 'late', expiration: { days: 30 } }),
      rule({ id: 'soon', prefix: 'a/', expiration: { days: 2 } }),
      rule({ id: 'off', status: 'Disabled', expiration: { days: 1 } }),
      rule({ id: 'other', prefix: 'z/', expiration: { days: 1 } }),
      rule({ id: 'marker', expiration: { expiredObjectDeleteMarker: true } }),
    ];
    expect(currentExpiry(rules, s, created, DAY_MS)).toEqual({ at: at('2026-03-13T00:00:00Z'), ruleId: 'soon' });
    const dated = [...rules, rule({ id: 'date', expiration: { date: at('2026-03-11T00:00:00Z') } })];
    expect(currentExpiry(dated, s, created, DAY_MS)?.ruleId).toBe('date');
    expect(currentExpiry([rules[2]!, rules[3]!, rules[4]!], s, created, DAY_MS)).toBeUndefined();
  });

  it('is rendered as AWS renders it; an id with quotes or non-ASCII is percent-encoded', () => {
    expect(expirationHeaderValue({ at: at('2012-12-23T00:00:00Z'), ruleId: 'picture-deletion-rule' })).toBe(
      'expiry-date="Sun, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"',
    );
    expect(expirationHeaderValue({ at: 0, ruleId: 'a"b\\c%d é' })).toBe(
      'expiry-date="Thu, 01 Jan 1970 00:00:00 GMT", rule-id="a%22b%5Cc%25d %C3%A9"',
    );
    expect(expirationHeader(undefined, s, created, DAY_MS)).toEqual({});
    expect(expirationHeader([rule({ expiration: { days: 1 } })], s, created, DAY_MS)).toEqual({
      'x-amz-expiration': 'expiry-date="Thu, 12 Mar 2026 00:00:00 GMT", rule-id="r"',
    });
  });
});

describe('noncurrentDue', () => {
  const s = { key: 'k', size: 1 };
  const since = at('2026-03-10T10:00:00Z');

  it('NoncurrentDays counted from when the version became noncurrent', () => {
    const rules = [rule({ noncurrentExpiration: { noncurrentDays: 1 } })];
    expect(noncurrentDue(rules, s, since, 0, at('2026-03-11T23:59:59Z'), DAY_MS)).toBeUndefined();
    expect(noncurrentDue(rules, s, since, 0, at('2026-03-12T00:00:00Z'), DAY_MS)?.id).toBe('r');
  });

  it('NewerNoncurrentVersions keeps that many newer noncurrent versions', () => {
    const rules = [rule({ noncurrentExpiration: { noncurrentDays: 1, newerNoncurrentVersions: 2 } })];
    const later = at('2026-04-01T00:00:00Z');
    expect(noncurrentDue(rules, s, since, 0, later, DAY_MS)).toBeUndefined();
    expect(noncurrentDue(rules, s, since, 1, later, DAY_MS)).toBeUndefined();
    expect(noncurrentDue(rules, s, since, 2, later, DAY_MS)?.id).toBe('r');
  });

  it('a disabled or non-matching rule never applies', () => {
    const later = at('2027-01-01T00:00:00Z');
    expect(
      noncurrentDue(
        [rule({ status: 'Disabled', noncurrentExpiration: { noncurrentDays: 1 } })],
        s,
        since,
        0,
        later,
        DAY_MS,
      ),
    ).toBeUndefined();
    expect(
      noncurrentDue([rule({ prefix: 'x', noncurrentExpiration: { noncurrentDays: 1 } })], s, since, 0, later, DAY_MS),
    ).toBeUndefined();
  });
});

describe('expiredMarkerRule and uploadAbortDue', () => {
  it('ExpiredObjectDeleteMarker: enabled, true, and the prefix matches; size conditions are judged against 0', () => {
    const now = at('2026-03-10T10:00:00Z');
    const marker = (rules: LifecycleRule[]) => expiredMarkerRule(rules, 'k', now, now, DAY_MS)?.id;
    expect(marker([rule({ expiration: { expiredObjectDeleteMarker: true } })])).toBe('r');
    expect(marker([rule({ expiration: { expiredObjectDeleteMarker: false } })])).toBeUndefined();
    expect(marker([rule({ prefix: 'a', expiration: { expiredObjectDeleteMarker: true } })])).toBeUndefined();
    expect(marker([rule({ sizeGreaterThan: 0, expiration: { expiredObjectDeleteMarker: true } })])).toBeUndefined();
    expect(marker([rule({ status: 'Disabled', expiration: { expiredObjectDeleteMarker: true } })])).toBeUndefined();
  });

  it('an Expiration with Days removes a lone marker once it is that old (AWS), one with a Date once the date passed', () => {
    const created = at('2026-03-10T10:00:00Z');
    const days = [rule({ expiration: { days: 2 } })];
    expect(expiredMarkerRule(days, 'k', created, at('2026-03-12T23:59:59Z'), DAY_MS)).toBeUndefined();
    expect(expiredMarkerRule(days, 'k', created, at('2026-03-13T00:00:00Z'), DAY_MS)?.id).toBe('r');
    const dated = [rule({ expiration: { date: at('2026-04-01T00:00:00Z') } })];
    expect(expiredMarkerRule(dated, 'k', created, at('2026-03-31T00:00:00Z'), DAY_MS)).toBeUndefined();
    expect(expiredMarkerRule(dated, 'k', created, at('2026-04-01T00:00:00Z'), DAY_MS)?.id).toBe('r');
    // A tag rule never names a marker (it has no tags).
    const tagged = [rule({ tags: [{ key: 'a', value: 'b' }], expiration: { days: 1 } })];
    expect(expiredMarkerRule(tagged, 'k', created, at('2027-01-01T00:00:00Z'), DAY_MS)).toBeUndefined();
  });

  it('AbortIncompleteMultipartUpload: DaysAfterInitiation after initiation, prefix only', () => {
    const started = at('2026-03-10T10:00:00Z');
    const rules = [rule({ prefix: 'up/', abortIncompleteUploadDays: 2 })];
    expect(uploadAbortDue(rules, 'up/x', started, at('2026-03-12T23:00:00Z'), DAY_MS)).toBeUndefined();
    expect(uploadAbortDue(rules, 'up/x', started, at('2026-03-13T00:00:00Z'), DAY_MS)?.id).toBe('r');
    expect(uploadAbortDue(rules, 'down/x', started, at('2027-01-01T00:00:00Z'), DAY_MS)).toBeUndefined();
    // An upload has no size yet: a size-filtered rule does not name it.
    expect(
      uploadAbortDue(
        [rule({ sizeLessThan: 10, abortIncompleteUploadDays: 1 })],
        'k',
        started,
        at('2027-01-01T00:00:00Z'),
        DAY_MS,
      ),
    ).toBeUndefined();
  });
});
