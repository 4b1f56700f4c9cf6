/**
 * GarbageQueue: blobs waiting to be deleted from a data tier that several
 * gateways share, and the lease that lets one gateway at a time look for
 * orphans.
 *
 * On one machine a replaced blob is deleted at once (after in-process readers
 * let go: services/blobLeases.ts) and orphans are swept at start-up, before
 * any write is in flight. Neither is safe across gateways: a GET on another
 * gateway may still be reading the replaced blob, and a blob without a record
 * may belong to a PUT in flight on another gateway. So a shared tier queues
 * every candidate with a due time, and the blob is deleted only when it is due
 * and a fresh look at the metadata still finds no record naming it
 * (services/sharedGarbage.ts).
 *
 * Times are the store's clock (the database's `now()` for PostgreSQL), so
 * gateways with skewed clocks agree on what is due and who holds a lease.
 */
export interface GarbageQueue {
  /** Queue `ids` to be looked at `delayMs` from now; an id already queued keeps its earlier due time. */
  enqueue(ids: readonly string[], delayMs: number): Promise<void>;
  /**
   * Claim up to `limit` due ids no other gateway holds, and pass them to
   * `handle`, which answers the ids it is done with (deleted, or found
   * referenced); those leave the queue, the rest are due again `retryMs`
   * later. Returns how many were claimed.
   */
  reclaimDue(limit: number, retryMs: number, handle: (ids: string[]) => Promise<string[]>): Promise<number>;
  /** Take or renew the lease `name` for `holder` for `ttlMs`; false while another holder's lease runs. */
  tryLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Ids queued (due or not): for tests and metrics. */
  pending(): Promise<number>;
}

/** A MetaStore that can hold a shared tier's garbage queue (PostgreSQL). */
export interface WithGarbageQueue {
  garbage: GarbageQueue;
}

export function hasGarbageQueue(m: object): m is WithGarbageQueue {
  return typeof (m as Partial<WithGarbageQueue>).garbage === 'object';
}

/** The queue in memory, for one process (the contract tests run it beside PostgreSQL's). */
export class MemoryGarbageQueue implements GarbageQueue {
  private readonly due = new Map<string, number>();
  private readonly leases = new Map<string, { holder: string; until: number }>();
  private readonly claimed = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  async enqueue(ids: readonly string[], delayMs: number): Promise<void> {
    const at = this.now() + delayMs;
    for (const id of ids) if (!this.due.has(id)) this.due.set(id, at);
  }

  async reclaimDue(limit: number, retryMs: number, handle: (ids: string[]) => Promise<string[]>): Promise<number> {
    const t = this.now();
    const ids = [...this.due]
      .filter(([id, at]) => at <= t && !this.claimed.has(id))
      .sort((a, b) => a[1] - b[1])
      .slice(0, limit)
      .map(([id]) => id);
    if (ids.length === 0) return 0;
    for (const id of ids) this.claimed.add(id);
    try {
      const done = new Set(await handle(ids));
      for (const id of ids) {
        if (done.has(id)) this.due.delete(id);
        else this.due.set(id, this.now() + retryMs);
      }
    } finally {
      for (const id of ids) this.claimed.delete(id);
    }
    return ids.length;
  }

  async tryLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const t = this.now();
    const cur = this.leases.get(name);
    if (cur && cur.holder !== holder && cur.until > t) return false;
    this.leases.set(name, { holder, until: t + ttlMs });
    return true;
  }

  async pending(): Promise<number> {
    return this.due.size;
  }
}
