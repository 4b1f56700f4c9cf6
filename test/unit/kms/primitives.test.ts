// lp.ts, encoding.ts, mutex.ts, validation.ts
import { describe, expect, it } from 'vitest';
import { decodeBase64Field, decodeBase64Strict } from '../../../src/kms/encoding.js';
import { lp, lpAll } from '../../../src/kms/lp.js';
import { KeyedMutex } from '../../../src/util/keyedMutex.js';
import { frameAad, validatePaging } from '../../../src/kms/validation.js';

describe('lp framing', () => {
  it('is a 4-byte big-endian length then the bytes', () => {
    expect(lp('ab').toString('hex')).toBe('000000026162');
    expect(lp(Buffer.alloc(0)).toString('hex')).toBe('00000000');
    expect(lpAll(['ab', 'c']).equals(lpAll(['a', 'bc']))).toBe(false);
    expect(frameAad(['é']).toString('hex')).toBe('00000002c3a9');
  });
});

describe('strict base64', () => {
  it('accepts only standard padded base64', () => {
    expect(decodeBase64Strict('YWJj')?.toString()).toBe('abc');
    expect(decodeBase64Strict('YWI=')?.toString()).toBe('ab');
    for (const bad of ['YWJ', 'YW=j', 'YWJj\n', 'YW Jj', 'YWJj-_', '@@@@'])
      expect(decodeBase64Strict(bad)).toBeUndefined();
    expect(() => decodeBase64Field('q+x3Qi;', 'plaintext', 'a base64 encoded key material')).toThrow(
      /The field 'plaintext' must be: a base64 encoded key material/,
    );
  });
});

describe('paging', () => {
  it('defaults to 200 and caps at 5000', () => {
    expect(validatePaging(undefined, undefined)).toEqual({ limit: 200, offset: 0 });
    expect(() => validatePaging(5001, 0)).toThrow();
    expect(() => validatePaging(10, -1)).toThrow();
  });
});

describe('KeyedMutex', () => {
  it('runs tasks for one key one at a time, other keys in parallel', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    const task = (k: string, id: string) =>
      m.run(k, async () => {
        log.push(`start ${id}`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`end ${id}`);
      });
    await Promise.all([task('a', '1'), task('a', '2'), task('b', '3')]);
    expect(log.indexOf('end 1')).toBeLessThan(log.indexOf('start 2'));
    expect(log.indexOf('start 3')).toBeLessThan(log.indexOf('end 1'));
    await expect(m.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await m.run('a', async () => undefined);
  });
});
