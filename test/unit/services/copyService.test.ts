import { describe, expect, it } from 'vitest';
import { copySourceRange, parseCopySource } from '../../../src/services/copyService.js';
import { DomainError } from '../../../src/services/errors.js';

function failure(f: () => unknown): DomainError {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('copySourceRange (x-amz-copy-source-range)', () => {
  it('no range is the whole source, an empty source included', () => {
    expect(copySourceRange(undefined, 10)).toEqual({ start: 0, end: 9 });
    expect(copySourceRange(undefined, 0)).toEqual({ start: 0, end: -1 });
  });

  it('bytes=first-last is inclusive and may be padded with spaces', () => {
    expect(copySourceRange('bytes=2-5', 10)).toEqual({ start: 2, end: 5 });
    expect(copySourceRange(' bytes=0-9 ', 10)).toEqual({ start: 0, end: 9 });
  });

  it('any other form is InvalidArgument naming the header', () => {
    for (const raw of ['bytes=2-', 'bytes=-5', '2-5', 'bytes=a-b', 'bytes=1-2,4-5']) {
      const e = failure(() => copySourceRange(raw, 10));
      expect([e.code, e.detail], raw).toEqual(['InvalidArgument', { ArgumentName: 'x-amz-copy-source-range' }]);
    }
  });

  it('a range past the end or backwards is InvalidRange with the source size', () => {
    for (const raw of ['bytes=0-10', 'bytes=5-4', 'bytes=0-0']) {
      const size = raw === 'bytes=0-0' ? 0 : 10;
      const e = failure(() => copySourceRange(raw, size));
      expect([e.code, e.message, e.detail], raw).toEqual([
        'InvalidRange',
        'The requested range is not satisfiable',
        { ActualObjectSize: size },
      ]);
    }
  });
});

describe('parseCopySource', () => {
  it('takes /bucket/key and bucket/key, URL-encoded, with an optional versionId', () => {
    expect(parseCopySource('/b/a%20b/c')).toEqual({ bucket: 'b', key: 'a b/c', versionId: undefined });
    expect(parseCopySource('b/k?versionId=null')).toEqual({ bucket: 'b', key: 'k', versionId: 'null' });
  });

  it('refuses a source without bucket and key, or badly encoded', () => {
    for (const raw of ['', '/b', 'b/', '/b/%ZZ'])
      expect(failure(() => parseCopySource(raw)).code, raw).toBe('InvalidArgument');
  });
});
