/**
 * Unwrapped bucket DEKs, keyed by (root key CRN, wrapped DEK), for a short TTL
 * (default 30 s): the data path must not call the KMS on every request, and a
 * disabled or deleted key must still stop access quickly. Key events drop a
 * key's entries at once (attachTo), so embedded disable/delete takes effect
 * immediately; the TTL bounds staleness when events are missed (remote KMS).
 *
 * Buffers: the cache keeps its own copies and zeroes them when an entry expires,
 * is evicted or invalidated. get() returns a fresh copy the caller owns, so an
 * eviction can never zero a DEK a request is still using.
 */
import { parseKeyCrn } from './crn.js';
import type { KeyEvent, KeyProvider } from './KeyProvider.js';

export interface DekCacheOptions {
  /** Time to live in ms; 0 disables caching. Default 30 000. */
  ttlMs?: number;
  /** Oldest entries are evicted beyond this. Default 10 000. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  crn: string;
  dek: Buffer;
  expiresAt: number;
}

export const DEFAULT_DEK_TTL_MS = 30_000;

export class DekCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byCrn = new Map<string, Set<string>>();
  /** Bumped per CRN on invalidation (and for all on clear): a load started before must not be cached. */
  private readonly generations = new Map<string, number>();
  private globalGeneration = 0;
  private readonly inflight = new Map<string, { gen: string; promise: Promise<Buffer> }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** While this says no, nothing is served from the cache (a split-mode gateway cut off from the KMS). */
  private usable: () => boolean = () => true;

  constructor(opts: DekCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_DEK_TTL_MS;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
    if (!(this.ttlMs >= 0) || !(this.maxEntries >= 1))
      throw new RangeError('DekCache: ttlMs must be >= 0 and maxEntries >= 1');
  }

  get size(): number {
    return this.entries.size;
  }

  /** A copy of the cached DEK, or undefined. */
  get(rootKeyCrn: string, wrapped: string): Buffer | undefined {
    if (!this.usable()) return undefined;
    const id = entryId(rootKeyCrn, wrapped);
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (this.now() >= e.expiresAt) {
      this.remove(id);
      return undefined;
    }
    return Buffer.from(e.dek);
  }

  /** Caches a copy of `dek`; the caller keeps (and may zero) its own buffer. */
  set(rootKeyCrn: string, wrapped: string, dek: Buffer): void {
    if (this.ttlMs === 0) return;
    const id = entryId(rootKeyCrn, wrapped);
    this.remove(id);
    this.entries.set(id, { crn: rootKeyCrn, dek: Buffer.from(dek), expiresAt: this.now() + this.ttlMs });
    let ids = this.byCrn.get(rootKeyCrn);
    if (!ids) this.byCrn.set(rootKeyCrn, (ids = new Set()));
    ids.add(id);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
  }

  /**
   * Cached DEK or `load()`ed one; concurrent misses share one load. A load that
   * was started before an invalidation of its key is returned to its callers but
   * not cached. Every caller gets its own copy; the buffer `load` returns is
   * taken over by the cache and zeroed once every waiting caller has copied it.
   */
  async getOrLoad(rootKeyCrn: string, wrapped: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.get(rootKeyCrn, wrapped);
    if (hit) return hit;
    const id = entryId(rootKeyCrn, wrapped);
    const gen = this.generationOf(rootKeyCrn);
    let flight = this.inflight.get(id);
    if (!flight || flight.gen !== gen) {
      const promise = load().then((dek) => {
        if (this.generationOf(rootKeyCrn) === gen) this.set(rootKeyCrn, wrapped, dek);
        // Waiters resume (and copy) in microtasks; setImmediate runs after them.
        setImmediate(() => dek.fill(0));
        return dek;
      });
      flight = { gen, promise };
      this.inflight.set(id, flight);
      const mine = flight;
      const done = () => {
        if (this.inflight.get(id) === mine) this.inflight.delete(id);
      };
      promise.then(done, done);
    }
    const dek = await flight.promise;
    return Buffer.from(dek);
  }

  /** Drops (and zeroes) every entry for this root key. */
  invalidateKey(rootKeyCrn: string): void {
    this.generations.set(rootKeyCrn, (this.generations.get(rootKeyCrn) ?? 0) + 1);
    for (const id of [...(this.byCrn.get(rootKeyCrn) ?? [])]) this.remove(id);
  }

  /**
   * Drops every entry of root keys in the instance (keyId undefined) or of one
   * key: a revoked authorization names its target, not the CRNs cached under it.
   */
  invalidateTarget(instanceId: string, keyId?: string): void {
    for (const crn of [...this.byCrn.keys(), ...this.generations.keys()]) {
      let t: { instanceId: string; keyId: string } | undefined;
      try {
        t = parseKeyCrn(crn);
      } catch {
        t = undefined;
      }
      if (t && t.instanceId === instanceId && (keyId === undefined || t.keyId === keyId)) this.invalidateKey(crn);
    }
    // A load in flight for a CRN not seen yet must not be cached either.
    this.globalGeneration++;
  }

  /** Serve cached DEKs only while `fn` says so (the split-mode gateway's fail-closed rule). */
  setUsable(fn: () => boolean): void {
    this.usable = fn;
  }

  clear(): void {
    this.globalGeneration++;
    for (const id of [...this.entries.keys()]) this.remove(id);
  }

  /** Drops expired entries; the cache also does this lazily on get(). */
  sweep(): void {
    const now = this.now();
    for (const [id, e] of this.entries) if (now >= e.expiresAt) this.remove(id);
  }

  /** Invalidate a key's entries on each of the provider's lifecycle events. */
  attachTo(provider: Pick<KeyProvider, 'onKeyEvent'>): void {
    provider.onKeyEvent?.((e: KeyEvent) => this.invalidateKey(e.keyCrn));
  }

  private generationOf(crn: string): string {
    return `${this.globalGeneration}.${this.generations.get(crn) ?? 0}`;
  }

  private remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.dek.fill(0);
    this.entries.delete(id);
    const ids = this.byCrn.get(e.crn);
    ids?.delete(id);
    if (ids && ids.size === 0) this.byCrn.delete(e.crn);
  }
}

function entryId(crn: string, wrapped: string): string {
  return JSON.stringify([crn, wrapped]);
}
