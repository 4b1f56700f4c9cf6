/**
 * Shards known to be missing or corrupt, found by reads and by writes that
 * reached only a quorum of drives. In memory only: a restart forgets it, and a
 * later scrub finds the same shards again. The server drains it (a listener, or
 * `drain()` from a timer) and calls ErasureBlobStore.heal on each blob.
 */
export interface HealRequest {
  id: string;
  shard: number;
  reason: string;
}

/** Bound on remembered shards, so a dead drive under heavy reads cannot grow it without end. */
const MAX_ENTRIES = 100_000;

export class HealQueue {
  private readonly pending = new Map<string, HealRequest>();
  private readonly listeners = new Set<(r: HealRequest) => void>();
  /** Requests dropped because the queue was full. */
  dropped = 0;

  add(r: HealRequest): void {
    const key = `${r.id}/${r.shard}`;
    if (this.pending.has(key)) return;
    if (this.pending.size >= MAX_ENTRIES) {
      this.dropped++;
      return;
    }
    this.pending.set(key, r);
    for (const l of this.listeners) l(r);
  }

  /** Called for each newly queued shard. Returns a function that removes the listener. */
  onQueued(listener: (r: HealRequest) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Everything queued so far, and an empty queue. */
  drain(): HealRequest[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }

  /** Forget the blob's entries (it was healed or deleted). */
  forget(id: string): void {
    for (const [key, r] of this.pending) if (r.id === id) this.pending.delete(key);
  }
}
