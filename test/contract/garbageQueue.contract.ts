/**
 * The GarbageQueue contract (meta/garbageQueue.ts), run against the in-memory
 * queue and PostgreSQL's. Due times are real milliseconds of the store's clock,
 * so the waits are short and bounded.
 */
import { describe, expect, it } from 'vitest';
import type { GarbageQueue } from '../../src/meta/garbageQueue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function garbageQueueContract(
  name: string,
  open: () => Promise<{ queue: GarbageQueue; cleanup(): Promise<void> }>,
) {
  describe(`GarbageQueue contract: ${name}`, () => {
    async function withQueue(fn: (q: GarbageQueue) => Promise<void>) {
      const { queue, cleanup } = await open();
      try {
        await fn(queue);
      } finally {
        await cleanup();
      }
    }
    const claimAll = async (q: GarbageQueue, answer: (ids: string[]) => string[] = (ids) => ids) => {
      const seen: string[] = [];
      await q.reclaimDue(100, 60_000, async (ids) => {
        seen.push(...ids);
        return answer(ids);
      });
      return seen.sort();
    };

    it('an id is claimed only once it is due, and leaves the queue when handled', () =>
      withQueue(async (q) => {
        await q.enqueue(['a', 'b'], 150);
        await q.enqueue(['c'], 0);
        expect(await claimAll(q)).toEqual(['c']);
        expect(await q.pending()).toBe(2);
        await sleep(200);
        expect(await claimAll(q)).toEqual(['a', 'b']);
        expect(await q.pending()).toBe(0);
        expect(await claimAll(q)).toEqual([]);
      }));

    it('re-queueing keeps the earlier due time', () =>
      withQueue(async (q) => {
        await q.enqueue(['x'], 0);
        await q.enqueue(['x'], 60_000);
        expect(await q.pending()).toBe(1);
        expect(await claimAll(q)).toEqual(['x']);
      }));

    it('ids the handler does not answer stay queued, due again after the retry delay', () =>
      withQueue(async (q) => {
        await q.enqueue(['keep', 'done'], 0);
        expect(await claimAll(q, () => ['done'])).toEqual(['done', 'keep']);
        expect(await q.pending()).toBe(1);
        expect(await claimAll(q)).toEqual([]); // not due for a minute
      }));

    it('a handler that throws leaves every claimed id queued', () =>
      withQueue(async (q) => {
        await q.enqueue(['p', 'q'], 0);
        await expect(
          q.reclaimDue(10, 0, async () => {
            throw new Error('backend down');
          }),
        ).rejects.toThrow('backend down');
        expect(await claimAll(q)).toEqual(['p', 'q']);
      }));

    it('two claimers at once never get the same id', () =>
      withQueue(async (q) => {
        const ids = Array.from({ length: 40 }, (_, i) => `id${String(i).padStart(2, '0')}`);
        await q.enqueue(ids, 0);
        const got: string[][] = [[], []];
        let inside = 0;
        let overlapped = false;
        const claimer = (n: number) =>
          q.reclaimDue(20, 60_000, async (batch) => {
            inside++;
            if (inside > 1) overlapped = true;
            got[n]!.push(...batch);
            await sleep(500); // long enough for the other claimer to connect and claim meanwhile
            inside--;
            return batch;
          });
        await Promise.all([claimer(0), claimer(1)]);
        const all = [...got[0]!, ...got[1]!];
        expect(new Set(all).size).toBe(all.length);
        expect(all.length).toBe(40);
        expect(overlapped).toBe(true);
      }));

    it('a lease is held by one holder until it expires, and renewed by its holder', () =>
      withQueue(async (q) => {
        expect(await q.tryLease('sweep', 'g1', 150)).toBe(true);
        expect(await q.tryLease('sweep', 'g2', 150)).toBe(false);
        expect(await q.tryLease('sweep', 'g1', 150)).toBe(true);
        expect(await q.tryLease('other', 'g2', 150)).toBe(true);
        await sleep(200);
        expect(await q.tryLease('sweep', 'g2', 150)).toBe(true);
        expect(await q.tryLease('sweep', 'g1', 150)).toBe(false);
      }));
  });
}
