/**
 * Garbage collection on a data tier several gateways share (an S3 cluster
 * behind PostgreSQL metadata), where the start-up sweep of one machine
 * (garbageSweep.ts) would be unsafe: a blob without a record there may be a
 * PUT in flight on another gateway, and a blob just replaced may still be read
 * by a GET that loaded the old record on another gateway.
 *
 * Two sources feed one queue (meta/garbageQueue.ts), each candidate with a
 * due time `graceMs` ahead:
 * - replaced and deleted objects' blobs (deferDelete), so that readers
 *   elsewhere have `graceMs` to finish;
 * - orphans: every `sweepEveryMs`, the gateway holding the "orphan-sweep"
 *   lease lists the tier and queues each blob no record names.
 * When a candidate is due, any gateway may claim it (SKIP LOCKED); it is
 * deleted only if a fresh scan of the metadata still finds no record naming
 * it. A PUT in flight writes its blob and commits its record within moments,
 * far inside `graceMs`, so by then it is referenced and the row is dropped.
 * Reading the references costs one scan of the metadata per pass that has due
 * candidates (no data-id index yet).
 */
import type { GarbageQueue } from '../meta/garbageQueue.js';
import type { MetaStore } from '../meta/MetaStore.js';
import type { BlobStore } from '../storage/BlobStore.js';
import type { Logger } from '../util/logger.js';

export interface SharedGarbageOptions {
  meta: MetaStore;
  queue: GarbageQueue;
  blobs: BlobStore;
  /** This gateway's name for the lease (unique per process). */
  holder: string;
  /** How long a candidate waits before it may be deleted. */
  graceMs: number;
  /** How often the lease holder lists the tier for orphans. */
  sweepEveryMs: number;
  /** How often the background loop runs (queue claims and, when due, the orphan sweep). */
  tickMs: number;
  /** Candidates claimed per transaction. */
  batch?: number;
  log: Logger;
}

export interface GarbageTick {
  /** Orphans queued by this tick's sweep (0 when it did not sweep). */
  queued: number;
  /** Blobs deleted. */
  deleted: number;
  /** Due candidates found referenced again, dropped from the queue. */
  kept: number;
}

export class SharedGarbageCollector {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private lastSweep = 0;
  private stopped = false;

  constructor(private readonly o: SharedGarbageOptions) {}

  /** A replaced or deleted object's blobs: deleted once due and still unreferenced. */
  deferDelete = async (ids: readonly string[]): Promise<void> => {
    await this.o.queue.enqueue(ids, this.o.graceMs);
  };

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.tick()
        .catch((e: Error) => this.o.log.warn('shared garbage collection failed; retrying', { err: e.message }))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.o.tickMs);
        });
    };
    this.timer = setTimeout(loop, this.o.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: the orphan sweep if this gateway holds the lease and one is due, then the due candidates. */
  async tick(now = Date.now()): Promise<GarbageTick> {
    let queued = 0;
    if (now - this.lastSweep >= this.o.sweepEveryMs) {
      // The lease outlives a sweep; another gateway takes it over only after this one stopped renewing.
      if (await this.o.queue.tryLease('orphan-sweep', this.o.holder, this.o.sweepEveryMs * 2)) {
        queued = await this.queueOrphans();
        this.lastSweep = now;
      }
    }
    const { deleted, kept } = await this.reclaim();
    if (queued || deleted || kept) this.o.log.info('shared garbage', { queued, deleted, kept });
    return { queued, deleted, kept };
  }

  private async referenced(): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const id of this.o.meta.referencedDataIds()) ids.add(id);
    return ids;
  }

  /** List the tier, then read the references: a blob listed and committed in between is referenced by then. */
  private async queueOrphans(): Promise<number> {
    const listed: string[] = [];
    for await (const id of this.o.blobs.list()) listed.push(id);
    const refs = await this.referenced();
    const orphans = listed.filter((id) => !refs.has(id));
    for (let i = 0; i < orphans.length; i += 1000)
      await this.o.queue.enqueue(orphans.slice(i, i + 1000), this.o.graceMs);
    return orphans.length;
  }

  private async reclaim(): Promise<{ deleted: number; kept: number }> {
    let deleted = 0;
    let kept = 0;
    let refs: Set<string> | undefined;
    for (;;) {
      const claimed = await this.o.queue.reclaimDue(this.o.batch ?? 100, this.o.graceMs, async (ids) => {
        refs ??= await this.referenced();
        const done: string[] = [];
        for (const id of ids) {
          if (refs.has(id)) {
            kept++;
            done.push(id);
            continue;
          }
          try {
            await this.o.blobs.delete(id);
            deleted++;
            done.push(id);
          } catch (e) {
            // Stays queued, due again after the grace: a backend that is down now is not a reason to stop.
            this.o.log.warn('could not delete a garbage blob; it stays queued', { id, err: (e as Error).message });
          }
        }
        return done;
      });
      if (claimed < (this.o.batch ?? 100) || this.stopped) break;
    }
    return { deleted, kept };
  }
}
