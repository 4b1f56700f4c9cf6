/**
 * The shared-tier collector: nothing is deleted before it is due, a due blob
 * that a record names again is kept, one gateway at a time sweeps for orphans,
 * and a failing delete stays queued.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryGarbageQueue } from '../../../src/meta/garbageQueue.js';
import type { MetaStore } from '../../../src/meta/MetaStore.js';
import { SharedGarbageCollector } from '../../../src/services/sharedGarbage.js';
import { MemoryBlobStore } from '../../../src/storage/memoryBlobStore.js';
import { createLogger } from '../../../src/util/logger.js';

const log = createLogger('error', {}, () => undefined);
/** A blob id (32 hex digits) per readable name. */
const ID = (name: string) => createHash('md5').update(name).digest('hex');

function setup(clock: { t: number }) {
  const refs = new Set<string>();
  const meta = {
    async *referencedDataIds() {
      yield* [...refs];
    },
  } as unknown as MetaStore;
  const blobs = new MemoryBlobStore();
  const queue = new MemoryGarbageQueue(() => clock.t);
  const gc = (holder: string) =>
    new SharedGarbageCollector({ meta, queue, blobs, holder, graceMs: 1000, sweepEveryMs: 5000, tickMs: 100, log });
  const put = (id: string) => blobs.put(id, Readable.from([Buffer.from(id)]));
  const present = async () => {
    const ids: string[] = [];
    for await (const id of blobs.list()) ids.push(id);
    return ids.sort();
  };
  return { refs, blobs, queue, gc, put, present };
}

describe('SharedGarbageCollector', () => {
  it('deletes a replaced blob only after the grace, and only if still unreferenced', async () => {
    const clock = { t: 0 };
    const s = setup(clock);
    await s.put(ID('old'));
    await s.put(ID('revived'));
    const g = s.gc('g1');
    await g.deferDelete([ID('old'), ID('revived')]);
    clock.t = 999;
    expect((await g.tick(clock.t)).deleted).toBe(0);
    expect(await s.present()).toEqual([ID('old'), ID('revived')].sort());
    s.refs.add(ID('revived')); // a record names it (never so for a replaced blob, but the check must hold)
    clock.t = 1000;
    const r = await g.tick(clock.t);
    expect(r).toMatchObject({ deleted: 1, kept: 1 });
    expect(await s.present()).toEqual([ID('revived')]);
    expect(await s.queue.pending()).toBe(0);
  });

  it('an orphan is queued by the lease holder only, and deleted after the grace; a blob committed meanwhile stays', async () => {
    const clock = { t: 10_000 };
    const s = setup(clock);
    await s.put(ID('orphan'));
    await s.put(ID('inflight')); // its PUT has written the blob, not yet its record
    await s.put(ID('live'));
    s.refs.add(ID('live'));
    const g1 = s.gc('g1');
    const g2 = s.gc('g2');
    expect((await g1.tick(clock.t)).queued).toBe(2);
    expect((await g2.tick(clock.t)).queued).toBe(0); // g1 holds the lease
    s.refs.add(ID('inflight')); // the PUT commits
    clock.t += 1000;
    expect(await g2.tick(clock.t)).toMatchObject({ deleted: 1, kept: 1 }); // any gateway reclaims
    expect(await s.present()).toEqual([ID('inflight'), ID('live')].sort());
  });

  it('a delete that fails stays queued and is retried', async () => {
    const clock = { t: 0 };
    const s = setup(clock);
    await s.put(ID('x'));
    const g = s.gc('g1');
    await g.deferDelete([ID('x')]);
    const del = s.blobs.delete.bind(s.blobs);
    s.blobs.delete = async () => {
      throw new Error('503 SlowDown');
    };
    clock.t = 1000;
    expect((await g.tick(clock.t)).deleted).toBe(0);
    expect(await s.queue.pending()).toBe(1);
    s.blobs.delete = del;
    clock.t = 2000;
    expect((await g.tick(clock.t)).deleted).toBe(1);
    expect(await s.present()).toEqual([]);
  });
});
