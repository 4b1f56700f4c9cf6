import { describe, expect, it } from 'vitest';
import { DekCache } from '../../../src/keys/dekCache.js';
import type { KeyEvent } from '../../../src/keys/KeyProvider.js';
import { ManualClock } from '../kms/kmsTestKit.js';

describe('DekCache', () => {
  it('returns copies and expires entries after the TTL (default 30 s)', () => {
    const clock = new ManualClock();
    const c = new DekCache({ now: clock.now });
    const dek = Buffer.alloc(32, 7);
    c.set('crn-1', 'w1', dek);
    dek.fill(0); // the caller may zero its own buffer
    const got = c.get('crn-1', 'w1')!;
    expect(got.equals(Buffer.alloc(32, 7))).toBe(true);
    got.fill(1);
    expect(c.get('crn-1', 'w1')!.equals(Buffer.alloc(32, 7))).toBe(true);
    clock.advance(29_999);
    expect(c.get('crn-1', 'w1')).toBeDefined();
    clock.advance(1);
    expect(c.get('crn-1', 'w1')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('zeroes the buffers it held on invalidation, eviction, expiry and clear', () => {
    const clock = new ManualClock();
    const c = new DekCache({ maxEntries: 2, now: clock.now });
    const held = (crn: string): Buffer => {
      const entries = (c as unknown as { entries: Map<string, { crn: string; dek: Buffer }> }).entries;
      const e = [...entries.values()].find((x) => x.crn === crn);
      if (!e) throw new Error(`no entry for ${crn}`);
      return e.dek;
    };
    const zero = (b: Buffer) => b.every((x) => x === 0);
    c.set('a', 'w', Buffer.alloc(32, 1));
    const a = held('a');
    c.set('b', 'w', Buffer.alloc(32, 2));
    const b = held('b');
    c.set('c', 'w', Buffer.alloc(32, 3));
    const cc = held('c');
    expect(c.get('a', 'w')).toBeUndefined(); // oldest evicted
    expect(zero(a)).toBe(true);
    c.invalidateKey('b');
    expect(zero(b)).toBe(true);
    c.set('d', 'w', Buffer.alloc(32, 4));
    const d = held('d');
    clock.advance(30_000);
    c.sweep();
    expect(zero(cc) && zero(d)).toBe(true);
    c.set('e', 'w', Buffer.alloc(32, 5));
    const e = held('e');
    c.clear();
    expect(zero(e)).toBe(true);
    expect(c.size).toBe(0);
  });

  it('invalidates only the given key', () => {
    const c = new DekCache();
    c.set('k1', 'a', Buffer.alloc(32, 1));
    c.set('k1', 'b', Buffer.alloc(32, 1));
    c.set('k2', 'a', Buffer.alloc(32, 2));
    c.invalidateKey('k1');
    expect(c.get('k1', 'a')).toBeUndefined();
    expect(c.get('k1', 'b')).toBeUndefined();
    expect(c.get('k2', 'a')).toBeDefined();
  });

  it('ttl 0 disables caching', () => {
    const c = new DekCache({ ttlMs: 0 });
    c.set('k', 'w', Buffer.alloc(32));
    expect(c.get('k', 'w')).toBeUndefined();
  });

  it('getOrLoad shares one load and does not cache a load that an invalidation overtook', async () => {
    const c = new DekCache();
    let loads = 0;
    let release!: (b: Buffer) => void;
    const load = () => {
      loads++;
      return new Promise<Buffer>((r) => (release = r));
    };
    const p1 = c.getOrLoad('k', 'w', load);
    const p2 = c.getOrLoad('k', 'w', load);
    expect(loads).toBe(1);
    c.invalidateKey('k');
    release(Buffer.alloc(32, 5));
    const [a, b] = await Promise.all([p1, p2]);
    expect(a.equals(Buffer.alloc(32, 5))).toBe(true);
    expect(b.equals(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(c.get('k', 'w')).toBeUndefined();

    const v = await c.getOrLoad('k', 'w', async () => Buffer.alloc(32, 6));
    expect(v[0]).toBe(6);
    expect(c.get('k', 'w')?.[0]).toBe(6);
  });

  it('attachTo invalidates on provider events', () => {
    const c = new DekCache();
    let listener: ((e: KeyEvent) => void) | undefined;
    c.attachTo({ onKeyEvent: (l) => (listener = l) });
    c.set('crn-x', 'w', Buffer.alloc(32, 1));
    listener?.({ type: 'disable', keyCrn: 'crn-x' });
    expect(c.get('crn-x', 'w')).toBeUndefined();
  });
});
