import { describe, expect, it } from 'vitest';
import { HealQueue, type HealRequest } from '../../../../src/storage/erasure/healQueue.js';

describe('HealQueue', () => {
  it('keeps one entry per shard, tells listeners of new ones, drains and forgets', () => {
    const q = new HealQueue();
    const seen: HealRequest[] = [];
    const off = q.onQueued((r) => seen.push(r));
    q.add({ id: 'a', shard: 0, reason: 'missing' });
    q.add({ id: 'a', shard: 0, reason: 'again' });
    q.add({ id: 'a', shard: 1, reason: 'checksum mismatch' });
    q.add({ id: 'b', shard: 0, reason: 'missing' });
    expect(q.size).toBe(3);
    expect(seen.map((r) => `${r.id}/${r.shard}`)).toEqual(['a/0', 'a/1', 'b/0']);
    q.forget('a');
    expect(q.drain()).toEqual([{ id: 'b', shard: 0, reason: 'missing' }]);
    expect(q.size).toBe(0);
    off();
    q.add({ id: 'c', shard: 2, reason: 'x' });
    expect(seen.length).toBe(3);
  });

  it('is bounded: past its limit new entries are counted as dropped', () => {
    const q = new HealQueue();
    for (let i = 0; i < 100_005; i++) q.add({ id: String(i), shard: 0, reason: 'x' });
    expect(q.size).toBe(100_000);
    expect(q.dropped).toBe(5);
  });
});
