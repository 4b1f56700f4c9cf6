import { describe, expect, it } from 'vitest';
import {
  checkPreconditions,
  checkWriteConditions,
  parseRange,
  type Preconditions,
  type WriteConditions,
} from '../../../src/services/conditions.js';
import { DomainError } from '../../../src/services/errors.js';

const ETAG = '5d41402abc4b2a76b9719d911017c592';
// 2024-01-02T03:04:05.678Z: not on a whole second, as stored records are.
const LM = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const SAME_SECOND = 'Tue, 02 Jan 2024 03:04:05 GMT';
const SECOND_BEFORE = 'Tue, 02 Jan 2024 03:04:04 GMT';
const SECOND_AFTER = 'Tue, 02 Jan 2024 03:04:06 GMT';

/** 'ok', or the DomainError code (PreconditionFailed / NotModified). */
function check(p: Preconditions, copy = false, etag = ETAG, lm = LM): string {
  try {
    checkPreconditions(p, etag, lm, copy);
    return 'ok';
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
}

function range(h: string | undefined, size: number): { start: number; end: number } | undefined | 'InvalidRange' {
  try {
    return parseRange(h, size);
  } catch (e) {
    if (e instanceof DomainError && e.code === 'InvalidRange') return 'InvalidRange';
    throw e;
  }
}

describe('checkPreconditions: single conditions', () => {
  it('no conditions pass', () => {
    expect(check({})).toBe('ok');
  });

  it('If-Match: quoted, unquoted, in a list, "*"; otherwise 412', () => {
    expect(check({ ifMatch: `"${ETAG}"` })).toBe('ok');
    expect(check({ ifMatch: ETAG })).toBe('ok');
    expect(check({ ifMatch: `"other", "${ETAG}"` })).toBe('ok');
    expect(check({ ifMatch: '*' })).toBe('ok');
    expect(check({ ifMatch: '"other"' })).toBe('PreconditionFailed');
    expect(check({ ifMatch: `"${ETAG.toUpperCase()}"` })).toBe('PreconditionFailed');
  });

  it('If-Match compares multipart ETags whole', () => {
    expect(check({ ifMatch: '"abc-2"' }, false, 'abc-2')).toBe('ok');
    expect(check({ ifMatch: '"abc"' }, false, 'abc-2')).toBe('PreconditionFailed');
  });

  it('If-None-Match: a match (or "*") is 304 on GET/HEAD, 412 on copy; no match passes', () => {
    expect(check({ ifNoneMatch: `"${ETAG}"` })).toBe('NotModified');
    expect(check({ ifNoneMatch: '*' })).toBe('NotModified');
    expect(check({ ifNoneMatch: `"a", "${ETAG}"` })).toBe('NotModified');
    expect(check({ ifNoneMatch: `"${ETAG}"` }, true)).toBe('PreconditionFailed');
    expect(check({ ifNoneMatch: '"other"' })).toBe('ok');
  });

  it('weak comparison for If-None-Match: W/"etag" matches', () => {
    expect(check({ ifNoneMatch: `W/"${ETAG}"` })).toBe('NotModified');
    expect(check({ ifNoneMatch: `"x", W/"${ETAG}"` })).toBe('NotModified');
  });

  it('strong comparison for If-Match (RFC 9110 13.1.1): W/"etag" does not match', () => {
    expect(check({ ifMatch: `W/"${ETAG}"` })).toBe('PreconditionFailed');
  });

  it('If-Modified-Since: 304 unless modified after the date, at second precision', () => {
    expect(check({ ifModifiedSince: SECOND_BEFORE })).toBe('ok');
    expect(check({ ifModifiedSince: SAME_SECOND })).toBe('NotModified'); // 03:04:05.678 is not after 03:04:05
    expect(check({ ifModifiedSince: SECOND_AFTER })).toBe('NotModified');
    expect(check({ ifModifiedSince: SAME_SECOND }, true)).toBe('PreconditionFailed');
  });

  it('If-Unmodified-Since: 412 if modified after the date, at second precision', () => {
    expect(check({ ifUnmodifiedSince: SAME_SECOND })).toBe('ok');
    expect(check({ ifUnmodifiedSince: SECOND_AFTER })).toBe('ok');
    expect(check({ ifUnmodifiedSince: SECOND_BEFORE })).toBe('PreconditionFailed');
  });

  it('accepts the other HTTP date forms and ISO dates', () => {
    expect(check({ ifModifiedSince: 'Tuesday, 02-Jan-24 03:04:05 GMT' })).toBe('NotModified');
    expect(check({ ifModifiedSince: 'Tue Jan  2 03:04:05 2024 GMT' })).toBe('NotModified');
    expect(check({ ifUnmodifiedSince: '2024-01-02T03:04:04Z' })).toBe('PreconditionFailed');
  });

  it('an unparseable or empty date is ignored', () => {
    expect(check({ ifModifiedSince: 'yesterday' })).toBe('ok');
    expect(check({ ifUnmodifiedSince: 'not a date' })).toBe('ok');
    expect(check({ ifModifiedSince: '' })).toBe('ok');
  });
});

describe('checkPreconditions: RFC 9110 13.2.2 precedence', () => {
  it('If-Match failing is 412 even when If-Unmodified-Since would pass', () => {
    expect(check({ ifMatch: '"other"', ifUnmodifiedSince: SECOND_AFTER })).toBe('PreconditionFailed');
  });

  it('If-Match passing makes If-Unmodified-Since irrelevant (AWS: 200)', () => {
    expect(check({ ifMatch: `"${ETAG}"`, ifUnmodifiedSince: SECOND_BEFORE })).toBe('ok');
  });

  it('If-None-Match matching is 304 even when If-Modified-Since says modified (AWS: 304)', () => {
    expect(check({ ifNoneMatch: `"${ETAG}"`, ifModifiedSince: SECOND_BEFORE })).toBe('NotModified');
  });

  it('If-None-Match not matching makes If-Modified-Since irrelevant', () => {
    expect(check({ ifNoneMatch: '"other"', ifModifiedSince: SECOND_AFTER })).toBe('ok');
  });

  it('the If-Match / If-Unmodified-Since step comes before If-None-Match / If-Modified-Since', () => {
    expect(check({ ifMatch: '"other"', ifNoneMatch: `"${ETAG}"` })).toBe('PreconditionFailed');
    expect(check({ ifUnmodifiedSince: SECOND_BEFORE, ifModifiedSince: SECOND_AFTER })).toBe('PreconditionFailed');
    expect(check({ ifMatch: `"${ETAG}"`, ifNoneMatch: `"${ETAG}"` })).toBe('NotModified');
  });

  it('CopyObject: x-amz-copy-source-if-* fail with 412 in every case', () => {
    expect(check({ ifMatch: '"other"' }, true)).toBe('PreconditionFailed');
    expect(check({ ifUnmodifiedSince: SECOND_BEFORE }, true)).toBe('PreconditionFailed');
    expect(check({ ifNoneMatch: '*' }, true)).toBe('PreconditionFailed');
    expect(check({ ifModifiedSince: SECOND_AFTER }, true)).toBe('PreconditionFailed');
    expect(check({ ifMatch: `"${ETAG}"`, ifModifiedSince: SECOND_BEFORE }, true)).toBe('ok');
  });
});

describe('parseRange', () => {
  it('absent header: whole object', () => {
    expect(range(undefined, 100)).toBeUndefined();
    expect(range('', 100)).toBeUndefined();
  });

  it('bytes=a-b', () => {
    expect(range('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(range('bytes=10-10', 100)).toEqual({ start: 10, end: 10 });
    expect(range('bytes=0-99', 100)).toEqual({ start: 0, end: 99 });
    expect(range(' bytes=1-2 ', 100)).toEqual({ start: 1, end: 2 });
  });

  it('bytes=a-b with b beyond the end is clamped', () => {
    expect(range('bytes=90-1000', 100)).toEqual({ start: 90, end: 99 });
    expect(range('bytes=0-99999999999999999999', 100)).toEqual({ start: 0, end: 99 });
  });

  it('bytes=a-', () => {
    expect(range('bytes=0-', 100)).toEqual({ start: 0, end: 99 });
    expect(range('bytes=99-', 100)).toEqual({ start: 99, end: 99 });
  });

  it('bytes=-n: the last n bytes, the whole object when n is beyond the size', () => {
    expect(range('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(range('bytes=-1', 100)).toEqual({ start: 99, end: 99 });
    expect(range('bytes=-100', 100)).toEqual({ start: 0, end: 99 });
    expect(range('bytes=-1000', 100)).toEqual({ start: 0, end: 99 });
  });

  it('bytes=-0 is unsatisfiable (416)', () => {
    expect(range('bytes=-0', 100)).toBe('InvalidRange');
  });

  it('a first byte at or beyond the size is unsatisfiable (416) and says the size', () => {
    expect(range('bytes=100-', 100)).toBe('InvalidRange');
    expect(range('bytes=100-200', 100)).toBe('InvalidRange');
    expect(range('bytes=1000-1001', 100)).toBe('InvalidRange');
    let err: unknown;
    try {
      parseRange('bytes=100-', 100);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).detail).toEqual({ ActualObjectSize: 100 });
  });

  it('empty object: every byte range is unsatisfiable', () => {
    expect(range('bytes=0-', 0)).toBe('InvalidRange');
    expect(range('bytes=0-0', 0)).toBe('InvalidRange');
    expect(range('bytes=-5', 0)).toBe('InvalidRange');
    expect(range('bytes=-0', 0)).toBe('InvalidRange');
    expect(range(undefined, 0)).toBeUndefined();
  });

  it('b < a is syntactically invalid and ignored (whole object), even beyond the end', () => {
    expect(range('bytes=5-4', 100)).toBeUndefined();
    expect(range('bytes=500-400', 100)).toBeUndefined();
  });

  it('malformed headers are ignored (whole object)', () => {
    for (const h of [
      'bytes=',
      'bytes=-',
      'bytes=a-b',
      'bytes=1-x',
      'bytes=0-1,5-6',
      'items=0-1',
      'bytes 0-1',
      '0-1',
      'bytes=1.5-2',
      'bytes=-1-2',
      'bytes=0x10-20',
      'bytes=+1-2',
    ]) {
      expect(range(h, 100), h).toBeUndefined();
    }
  });
});

function write(c: WriteConditions, current: string | undefined, raced: boolean): string {
  try {
    checkWriteConditions(c, current, raced);
    return 'ok';
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
}

describe('checkWriteConditions', () => {
  it('If-None-Match: * holds only when there is no object: 412 before the body, 409 at the commit point', () => {
    expect(write({ ifNoneMatch: '*' }, undefined, false)).toBe('ok');
    expect(write({ ifNoneMatch: '*' }, ETAG, false)).toBe('PreconditionFailed');
    expect(write({ ifNoneMatch: '*' }, ETAG, true)).toBe('ConditionalRequestConflict');
  });

  it('If-Match compares strongly with the current ETag; a missing object is NoSuchKey before the body, 409 after', () => {
    expect(write({ ifMatch: `"${ETAG}"` }, ETAG, false)).toBe('ok');
    expect(write({ ifMatch: ETAG }, ETAG, false)).toBe('ok');
    expect(write({ ifMatch: '*' }, ETAG, false)).toBe('ok');
    expect(write({ ifMatch: `"a", "${ETAG}"` }, ETAG, true)).toBe('ok');
    expect(write({ ifMatch: `W/"${ETAG}"` }, ETAG, false)).toBe('PreconditionFailed');
    expect(write({ ifMatch: '"other"' }, ETAG, false)).toBe('PreconditionFailed');
    expect(write({ ifMatch: '"other"' }, ETAG, true)).toBe('ConditionalRequestConflict');
    expect(write({ ifMatch: '*' }, undefined, false)).toBe('NoSuchKey');
    expect(write({ ifMatch: `"${ETAG}"` }, undefined, true)).toBe('ConditionalRequestConflict');
  });

  it('no condition always holds', () => {
    expect(write({}, ETAG, true)).toBe('ok');
    expect(write({}, undefined, false)).toBe('ok');
  });
});
