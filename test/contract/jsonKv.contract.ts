/**
 * The JsonKv contract (src/meta/kv/jsonKv.ts), run against LevelDB and
 * PostgreSQL: values round-trip as JSON, batches are atomic, ranges are in
 * byte order, and read-modify-writes under one lock name lose no update when
 * two handles (two processes, for PostgreSQL) run them at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JsonKv } from '../../src/meta/kv/jsonKv.js';
import { prefixRange } from '../../src/meta/kv/jsonKv.js';

export interface JsonKvFixture {
  kv: JsonKv;
  /** A second handle on the same records (another process), when the backend can have one. */
  other?: JsonKv;
  cleanup(): Promise<void>;
}

export function jsonKvContract(name: string, make: () => Promise<JsonKvFixture>): void {
  describe(`JsonKv contract: ${name}`, () => {
    let f: JsonKvFixture;
    beforeEach(async () => {
      f = await make();
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('puts, gets and deletes JSON values per space; a missing key is undefined', async () => {
      const value = { a: 1, s: 'x\u0000y', nested: { list: [1, 'two', null] } };
      await f.kv.write([
        { type: 'put', space: 'one', key: 'k', value },
        { type: 'put', space: 'two', key: 'k', value: 'a string' },
      ]);
      expect(await f.kv.get('one', 'k')).toEqual(value);
      expect(await f.kv.get('two', 'k')).toBe('a string');
      expect(await f.kv.get('one', 'absent')).toBeUndefined();
      await f.kv.write([{ type: 'del', space: 'one', key: 'k' }]);
      expect(await f.kv.get('one', 'k')).toBeUndefined();
      expect(await f.kv.get('two', 'k')).toBe('a string');
    });

    it('lists one space in byte order, with bounds, prefix ranges, reverse and limit', async () => {
      const keys = ['b!2', 'a!1', 'b!1', 'b!é', 'c', 'b!10', 'b'];
      await f.kv.write(keys.map((key, i) => ({ type: 'put', space: 's', key, value: i })));
      await f.kv.write([{ type: 'put', space: 'other', key: 'b!3', value: 'not mine' }]);
      const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(await f.kv.keys('s')).toEqual(sorted);
      expect((await f.kv.list<number>('s', prefixRange('b!'))).map(([k]) => k)).toEqual(['b!1', 'b!10', 'b!2', 'b!é']);
      expect(await f.kv.keys('s', { ...prefixRange('b!'), reverse: true, limit: 2 })).toEqual(['b!é', 'b!2']);
      expect(await f.kv.keys('s', { gte: 'b!2', lt: 'c' })).toEqual(['b!2', 'b!é']);
      expect(await f.kv.list('s', { gt: 'b!é' })).toEqual([['c', 4]]);
      expect(await f.kv.keys('empty')).toEqual([]);
    });

    it('writes a batch all or nothing', async () => {
      await f.kv.write([{ type: 'put', space: 's', key: 'keep', value: 1 }]);
      const bad = {
        toJSON: () => {
          throw new Error('unserializable');
        },
      };
      await expect(
        f.kv.write([
          { type: 'put', space: 's', key: 'new', value: 2 },
          { type: 'del', space: 's', key: 'keep' },
          { type: 'put', space: 's', key: 'bad', value: bad },
        ]),
      ).rejects.toThrow();
      expect(await f.kv.get('s', 'keep')).toBe(1);
      expect(await f.kv.get('s', 'new')).toBeUndefined();
    });

    it('loses no update when read-modify-writes of one record race under one lock name', async () => {
      const handles = [f.kv, f.other ?? f.kv];
      const bump = (kv: JsonKv) =>
        kv.locks.run('counter', async () => {
          const n = (await kv.get<number>('s', 'counter')) ?? 0;
          // A pause between read and write: without the lock, the racers would read the same n.
          await new Promise((r) => setTimeout(r, 2));
          await kv.write([{ type: 'put', space: 's', key: 'counter', value: n + 1 }]);
        });
      await Promise.all(Array.from({ length: 20 }, (_, i) => bump(handles[i % 2]!)));
      expect(await f.kv.get('s', 'counter')).toBe(20);
    });

    it('a failing holder releases the lock and its error reaches the caller', async () => {
      await expect(f.kv.locks.run('l', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
      await expect(f.kv.locks.run('l', async () => 'next')).resolves.toBe('next');
    });
  });
}
