import { describe, expect, it } from 'vitest';
import { headerValue } from '../../../src/util/httpHeaders.js';

describe('headerValue', () => {
  it('reads a header as Node gives it in req.headers', () => {
    expect(headerValue({ 'content-type': 'text/plain' }, 'content-type')).toBe('text/plain');
    expect(headerValue({ 'content-type': '' }, 'content-type')).toBe('');
    expect(headerValue({}, 'content-type')).toBeUndefined();
    expect(headerValue({ 'x-a': ' v ' }, 'x-a', { repeated: 'first' })).toBe(' v ');
  });

  it('joins a list (req.headersDistinct) with "," by default', () => {
    expect(headerValue({ 'x-a': ['1', '2'] }, 'x-a')).toBe('1,2');
    expect(headerValue({ 'x-a': ['1'] }, 'x-a')).toBe('1');
  });

  it("takes a list's first value for a singleton field (repeated: 'first')", () => {
    expect(
      headerValue({ authorization: ['AWS4-HMAC-SHA256 a', 'AWS4-HMAC-SHA256 b'] }, 'authorization', {
        repeated: 'first',
      }),
    ).toBe('AWS4-HMAC-SHA256 a');
    expect(headerValue({ 'x-amz-date': [] }, 'x-amz-date', { repeated: 'first' })).toBeUndefined();
  });
});
