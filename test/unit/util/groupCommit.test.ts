import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../src/util/groupCommit.js';

/** A write whose calls are recorded and settled by the test. */
function controlledWrite<T>() {
  const calls: { items: T[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const write = (items: T[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ items, resolve, reject });
    });
  return { calls, write };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Settlement state of a promise, observable without awaiting it. */
function track(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => (t.state = 'resolved'),
    (e: unknown) => ((t.state = 'rejected'), (t.error = e)),
  );
  return t;
}

describe('GroupCommit', () => {
  it('starts a lone write at once, without waiting for a tick', () => {
    const { calls, write } = controlledWrite<number>();
    const g = new GroupCommit(write);
    void g.submit(1);
    expect(calls.map((c) => c.items)).toEqual([[1]]);
  });

  it('groups everything submitted during a write into the next one, in submission order', async () => {
    const { calls, write } = controlledWrite<number>();
    const g = new GroupCommit(write);
    const a = track(g.submit(1));
    const b = track(g.submit(2));
    const c = track(g.submit(3));
    expect(calls.map((x) => x.items)).toEqual([[1]]);
    calls[0].resolve();
    await tick();
    expect(a.state).toBe('resolved');
    // 2 and 3 were not in the first write, so they wait for the second.
    expect([b.state, c.state]).toEqual(['pending', 'pending']);
    expect(calls.map((x) => x.items)).toEqual([[1], [2, 3]]);
    const d = track(g.submit(4));
    calls[1].resolve();
    await tick();
    expect([b.state, c.state, d.state]).toEqual(['resolved', 'resolved', 'pending']);
    expect(calls.map((x) => x.items)).toEqual([[1], [2, 3], [4]]);
    calls[2].resolve();
    await tick();
    expect(d.state).toBe('resolved');
    expect(g.idle).toBe(true);
  });

  it('rejects exactly the callers of the failing write, and goes on with the next', async () => {
    const { calls, write } = controlledWrite<string>();
    const g = new GroupCommit(write);
    const first = track(g.submit('a'));
    const second = track(g.submit('b'));
    const third = track(g.submit('c'));
    calls[0].resolve();
    await tick();
    const late = track(g.submit('d'));
    const boom = new Error('disk on fire');
    calls[1].reject(boom);
    await tick();
    expect(first.state).toBe('resolved');
    expect([second.state, third.state]).toEqual(['rejected', 'rejected']);
    expect(second.error).toBe(boom);
    expect(third.error).toBe(boom);
    expect(late.state).toBe('pending');
    expect(calls.map((x) => x.items)).toEqual([['a'], ['b', 'c'], ['d']]);
    calls[2].resolve();
    await tick();
    expect(late.state).toBe('resolved');
  });

  it('turns a write that throws synchronously into a rejection of its callers', async () => {
    let n = 0;
    const g = new GroupCommit<number>(() => {
      if (n++ === 0) throw new Error('sync throw');
      return Promise.resolve();
    });
    await expect(g.submit(1)).rejects.toThrow('sync throw');
    await expect(g.submit(2)).resolves.toBeUndefined();
  });

  it('is idle again after a burst, and a later submit starts a new write', async () => {
    const { calls, write } = controlledWrite<number>();
    const g = new GroupCommit(write);
    const p = g.submit(1);
    expect(g.idle).toBe(false);
    calls[0].resolve();
    await p;
    expect(g.idle).toBe(true);
    void g.submit(2);
    expect(calls).toHaveLength(2);
  });
});
