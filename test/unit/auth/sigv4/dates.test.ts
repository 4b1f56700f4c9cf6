import { describe, expect, it } from 'vitest';
import { formatAmzDate, parseAmzDate, parseHttpDate } from '../../../../src/auth/sigv4/dates.js';

describe('SigV4 dates', () => {
  it('round-trips ISO 8601 basic timestamps', () => {
    const d = parseAmzDate('20150830T123600Z');
    expect(d?.toISOString()).toBe('2015-08-30T12:36:00.000Z');
    expect(formatAmzDate(new Date('2015-08-30T12:36:00.999Z'))).toBe('20150830T123600Z');
  });

  it.each([
    ['20150830T123600'],
    ['2015-08-30T12:36:00Z'],
    ['20150230T123600Z'],
    ['20150830T243600Z'],
    ['20150830T126000Z'],
    [' 20150830T123600Z'],
  ])('rejects %j', (s) => {
    expect(parseAmzDate(s)).toBeUndefined();
  });

  it('parses HTTP dates', () => {
    expect(parseHttpDate('Fri, 24 May 2013 00:00:00 GMT')?.toISOString()).toBe('2013-05-24T00:00:00.000Z');
    expect(parseHttpDate('not a date')).toBeUndefined();
    expect(parseHttpDate(undefined)).toBeUndefined();
  });
});
