import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../../../src/util/keyedMutex.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tailsOf = (m: KeyedMutex) => (m as unknown as { tails: Map<string, Promise<void>> }).tails;

describe('KeyedMutex', () => {
  it('returns what fn returns', async () => {
    const m = new KeyedMutex();
    expect(await m.run('k', async () => 42)).toBe(42);
  });

  it('runs callers of one key one at a time, in arrival order', async () => {
    const m = new KeyedMutex();
    const log: string[] = [];
    let active = 0;
    let maxActive = 0;
    const job = (name: string) =>
      m.run('k', async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        log.push(`start ${name}`);
        await tick();
        await tick();
        log.push(`end ${name}`);
        active--;
        return name;
      });
    const results = await Promise.all(['a', 'b', 'c', 'd'].map(job));
    expect(results).toEqual(['a', 'b', 'c', 'd']);
    expect(maxActive).toBe(1);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c', 'start d', 'end d']);
  });

  it('does not start the second caller until the first has finished', async () => {
    const m = new KeyedMutex();
    const gate = deferred();
    let secondStarted = false;
    const first = m.run('k', () => gate.promise);
    const second = m.run('k', async () => {
      secondStarted = true;
    });
    for (let i = 0; i < 5; i++) await tick();
    expect(secondStarted).toBe(false);
    gate.resolve();
    await Promise.all([first, second]);
    expect(secondStarted).toBe(true);
  });

  it('different keys do not wait for each other', async () => {
    const m = new KeyedMutex();
    const gate = deferred();
    const blocked = m.run('a', () => gate.promise);
    let otherRan = false;
    await m.run('b', async () => {
      otherRan = true;
    });
    expect(otherRan).toBe(true);
    gate.resolve();
    await blocked;
  });

  it('a rejecting fn releases the lock and its error reaches only its caller', async () => {
    const m = new KeyedMutex();
    const first = m.run('k', async () => {
      await tick();
      throw new Error('boom');
    });
    const second = m.run('k', async () => 'ok');
    await expect(first).rejects.toThrow('boom');
    await expect(second).resolves.toBe('ok');
  });

  it('a synchronously throwing fn releases the lock too', async () => {
    const m = new KeyedMutex();
    await expect(
      m.run('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(m.run('k', async () => 'after')).resolves.toBe('after');
  });

  it('forgets a key once its last caller is done (no growth with distinct keys)', async () => {
    const m = new KeyedMutex();
    await Promise.all(Array.from({ length: 100 }, (_, i) => m.run(`k${i}`, async () => i)));
    expect(tailsOf(m).size).toBe(0);
    const gate = deferred();
    const a = m.run('x', () => gate.promise);
    const b = m.run('x', async () => undefined);
    expect(tailsOf(m).size).toBe(1);
    gate.resolve();
    await Promise.all([a, b]);
    expect(tailsOf(m).size).toBe(0);
  });

  it('a caller arriving while the queue drains still waits its turn', async () => {
    const m = new KeyedMutex();
    const order: number[] = [];
    const g1 = deferred();
    const p1 = m.run('k', async () => {
      await g1.promise;
      order.push(1);
    });
    const p2 = m.run('k', async () => {
      order.push(2);
    });
    g1.resolve();
    await p1;
    const p3 = m.run('k', async () => {
      order.push(3);
    });
    await Promise.all([p2, p3]);
    expect(order).toEqual([1, 2, 3]);
  });
});
