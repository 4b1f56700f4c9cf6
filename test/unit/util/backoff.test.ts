import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/util/backoff.js';

describe('backoffDelay', () => {
  it('doubles per attempt up to the cap, between half and all of the step', () => {
    const lo = { baseMs: 100, capMs: 1000, random: () => 0 };
    const hi = { baseMs: 100, capMs: 1000, random: () => 0.999999 };
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, lo))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, hi))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('jitters: different random draws give different waits within the bounds', () => {
    const waits = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const w = backoffDelay(3, { baseMs: 100, capMs: 10_000 });
      expect(w).toBeGreaterThanOrEqual(400);
      expect(w).toBeLessThanOrEqual(800);
      waits.add(w);
    }
    expect(waits.size).toBeGreaterThan(1);
  });

  it('a huge or negative attempt stays finite and bounded', () => {
    expect(backoffDelay(10_000, { baseMs: 100, capMs: 3000, random: () => 0.5 })).toBe(2250);
    expect(backoffDelay(-3, { baseMs: 100, capMs: 3000, random: () => 0 })).toBe(50);
  });
});
