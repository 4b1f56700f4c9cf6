import { describe, expect, it } from 'vitest';
import { RecordCache } from '../../../src/meta/recordCache.js';

describe('RecordCache', () => {
  it('answers what was set, as a new copy each time', () => {
    const c = new RecordCache<{ a: number[] }>(4);
    c.set('x', { a: [1] }, c.current);
    const first = c.get('x')!;
    first.a.push(2);
    expect(c.get('x')).toEqual({ a: [1] });
    expect(c.get('x')).not.toBe(c.get('x'));
  });

  it('ignores a set from a read that started before an invalidation (of any id)', () => {
    const c = new RecordCache<number>(4);
    const before = c.current;
    c.invalidate(['other']);
    c.set('x', 1, before);
    expect(c.get('x')).toBeUndefined();
    c.set('x', 2, c.current);
    expect(c.get('x')).toBe(2);
  });

  it('drops invalidated ids and keeps the others', () => {
    const c = new RecordCache<number>(4);
    c.set('x', 1, c.current);
    c.set('y', 2, c.current);
    c.invalidate(['x']);
    expect(c.get('x')).toBeUndefined();
    expect(c.get('y')).toBe(2);
  });

  it('evicts the least recently used id beyond its bound', () => {
    const c = new RecordCache<number>(2);
    c.set('a', 1, c.current);
    c.set('b', 2, c.current);
    c.get('a'); // b is now the least recently used
    c.set('c', 3, c.current);
    expect(c.size).toBe(2);
    expect(c.get('b')).toBeUndefined();
    expect([c.get('a'), c.get('c')]).toEqual([1, 3]);
  });
});
