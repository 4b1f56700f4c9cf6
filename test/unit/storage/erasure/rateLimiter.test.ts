import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../../src/storage/erasure/rateLimiter.js';

/** A manual clock whose sleeps advance it, recording each wait. */
function clocked() {
  let t = 0;
  const waits: number[] = [];
  return {
    now: () => t,
    advance: (ms: number) => (t += ms),
    waits,
    sleep: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
  };
}

describe('RateLimiter', () => {
  it('lets a burst through, then paces takes to the rate', async () => {
    const c = clocked();
    const r = new RateLimiter(1000, { now: c.now, sleep: c.sleep });
    await r.take(1000); // the one-second burst
    expect(c.waits).toEqual([]);
    await r.take(500);
    expect(c.waits).toEqual([500]);
    await r.take(2000); // a big take goes into debt and sleeps it off
    expect(c.waits).toEqual([500, 2000]);
    // 10 s of work at 1000 B/s take 10 s of clock, whatever the pieces.
    const start = c.now();
    for (let i = 0; i < 100; i++) await r.take(100);
    expect(c.now() - start).toBeCloseTo(10_000, 6);
  });

  it('banks at most the burst while idle', async () => {
    const c = clocked();
    const r = new RateLimiter(1000, { now: c.now, sleep: c.sleep, burstSeconds: 2 });
    c.advance(60_000);
    await r.take(2000);
    expect(c.waits).toEqual([]);
    await r.take(1000);
    expect(c.waits).toEqual([1000]);
  });

  it('does not limit at rate 0, and an aborted wait rejects', async () => {
    const c = clocked();
    const free = new RateLimiter(0, { now: c.now, sleep: c.sleep });
    await free.take(1e12);
    expect(c.waits).toEqual([]);
    const r = new RateLimiter(10);
    await r.take(10);
    const ac = new AbortController();
    const p = r.take(1000, ac.signal);
    ac.abort();
    await expect(p).rejects.toThrow();
  });
});
