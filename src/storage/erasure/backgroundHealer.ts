/**
 * The server's healer, off the request path: two loops sharing one byte-rate
 * limiter, so healing never takes more than its share of the disks.
 *
 * - The queue loop heals the blobs that reads and writes found with a missing
 *   or bad shard (HealQueue), a second after they are queued.
 * - The scrub loop runs a full pass (scrub.ts, with repair) every
 *   `scrubIntervalMs`, and at once when a drive comes back or is replaced (an
 *   empty directory without its marker, driveMarker.ts): that pass refills it.
 *   It also looks at the drives every `probeIntervalMs`, so a disk that
 *   vanishes or is swapped under a running server is noticed and logged.
 *
 * Passes skip blobs whose shards were written in the last `minAgeMs` (a write
 * may still be publishing its shards) and check every blob the drives hold,
 * referenced or not: the server does not consult the metadata here, and the
 * start-up garbage sweep removes unreferenced blobs. Drive state (online,
 * missing, healing) and counts since start are what status() reports for
 * GET /health?detail=1.
 */
import type { Logger } from '../../util/logger.js';
import type { DriveIdentity } from './driveMarker.js';
import type { ErasureBlobStore } from './erasureBlobStore.js';
import { RateLimiter } from './rateLimiter.js';
import { scrubStore, type ScrubSummary } from './scrub.js';
import type { BlobCheck } from './shardHealer.js';

export interface HealerOptions {
  /** Bytes per second of shard reads for all background work; 0 = unlimited. */
  rateBytesPerSec: number;
  /** Time between the end of one full pass and the start of the next; 0 = no periodic pass. */
  scrubIntervalMs: number;
  /** How often the drives are looked at; default 10 s (or the scrub interval, if shorter). */
  probeIntervalMs?: number;
  /** Delay before healing what was queued, so a burst of finds is healed in one go; default 1 s. */
  queueDelayMs?: number;
  /** Passes skip blobs with shards newer than this; default 30 s. */
  minAgeMs?: number;
  log: Logger;
}

export type DriveState = 'online' | 'missing' | 'healing';

export interface DriveStatus {
  index: number;
  path: string;
  state: DriveState;
  note?: string;
  /**
   * Shards of this drive found missing or corrupt, rewritten, and left as they
   * were (the blob lacked k good shards, or the drive refused the file), since
   * the server started.
   */
  missing: number;
  corrupt: number;
  healed: number;
  unhealed: number;
}

export interface HealerStatus {
  k: number;
  m: number;
  drives: DriveStatus[];
  healQueue: { pending: number; dropped: number };
  scrub: {
    running: boolean;
    intervalSeconds: number;
    rateMiBps: number;
    passes: number;
    lastStarted?: string;
    lastFinished?: string;
    last?: ScrubSummary['blobs'] & { bytesRead: number; complete: boolean };
  };
}

/** A sleep that ends early when woken or stopped. */
class Wakeup {
  private wake?: () => void;
  private timer?: NodeJS.Timeout;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = () => resolve();
      if (Number.isFinite(ms)) {
        this.timer = setTimeout(resolve, ms);
        this.timer.unref();
      }
    }).finally(() => {
      clearTimeout(this.timer);
      this.wake = undefined;
    });
  }

  poke(): void {
    this.wake?.();
  }
}

export class BackgroundHealer {
  private readonly limiter: RateLimiter;
  private readonly ac = new AbortController();
  private readonly queueWake = new Wakeup();
  private readonly scrubWake = new Wakeup();
  private readonly drives: DriveStatus[];
  private loops: Promise<void>[] = [];
  private refillWanted = false;
  private scrubRunning = false;
  private passes = 0;
  private lastStarted?: Date;
  private lastFinished?: Date;
  private last?: HealerStatus['scrub']['last'];
  private unsubscribe?: () => void;
  private readonly probeMs: number;
  private readonly minAgeMs: number;

  constructor(
    private readonly store: ErasureBlobStore,
    private readonly o: HealerOptions,
  ) {
    this.limiter = new RateLimiter(o.rateBytesPerSec);
    this.probeMs = Math.min(o.probeIntervalMs ?? 10_000, o.scrubIntervalMs || Infinity);
    this.minAgeMs = o.minAgeMs ?? 30_000;
    this.drives = store.driveRoots.map((path, index) => ({
      index,
      path,
      state: 'online',
      missing: 0,
      corrupt: 0,
      healed: 0,
      unhealed: 0,
    }));
    this.applyProbe(store.openedDrives, true);
  }

  start(): void {
    if (this.loops.length) return;
    this.unsubscribe = this.store.healQueue.onQueued(() => this.queueWake.poke());
    this.loops = [this.queueLoop(), this.scrubLoop()];
  }

  /** Stop both loops; an interrupted heal leaves every shard old or new (see scrub.ts). */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.ac.abort();
    this.queueWake.poke();
    this.scrubWake.poke();
    await Promise.all(this.loops);
    this.loops = [];
  }

  status(): HealerStatus {
    return {
      k: this.store.k,
      m: this.store.m,
      drives: this.drives.map((d) => ({ ...d })),
      healQueue: { pending: this.store.healQueue.size, dropped: this.store.healQueue.dropped },
      scrub: {
        running: this.scrubRunning,
        intervalSeconds: this.o.scrubIntervalMs / 1000,
        rateMiBps: this.o.rateBytesPerSec / (1024 * 1024),
        passes: this.passes,
        ...(this.lastStarted ? { lastStarted: this.lastStarted.toISOString() } : {}),
        ...(this.lastFinished ? { lastFinished: this.lastFinished.toISOString() } : {}),
        ...(this.last ? { last: this.last } : {}),
      },
    };
  }

  private get stopped(): boolean {
    return this.ac.signal.aborted;
  }

  private pace = (bytes: number) => this.limiter.take(bytes, this.ac.signal);

  private async queueLoop(): Promise<void> {
    while (!this.stopped) {
      if (this.store.healQueue.size === 0) await this.queueWake.sleep(Infinity);
      if (this.stopped) return;
      await this.queueWake.sleep(this.o.queueDelayMs ?? 1000);
      // Shards of a drive that is gone cannot be rewritten: its refill, when it is back, covers them.
      const wanted = this.store.healQueue.drain().filter((r) => this.drives[r.shard]?.state !== 'missing');
      const ids = [...new Set(wanted.map((r) => r.id))];
      for (const id of ids) {
        if (this.stopped) return;
        try {
          this.record(await this.store.check(id, { repair: true, pace: this.pace }), 'queue');
        } catch (err) {
          if (this.stopped) return;
          // ENOENT: deleted since it was queued.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
            this.o.log.warn('heal failed', { blob: id, err: (err as Error).message });
        }
      }
    }
  }

  private async scrubLoop(): Promise<void> {
    let nextPass = this.o.scrubIntervalMs ? Date.now() + this.o.scrubIntervalMs : Infinity;
    while (!this.stopped) {
      await this.probe();
      const due = this.refillWanted || Date.now() >= nextPass;
      if (due) {
        await this.pass();
        nextPass = this.o.scrubIntervalMs ? Date.now() + this.o.scrubIntervalMs : Infinity;
        continue;
      }
      await this.scrubWake.sleep(Math.min(this.probeMs, nextPass - Date.now()));
    }
  }

  private async probe(): Promise<void> {
    try {
      this.applyProbe(await this.store.probeDrives(), false);
    } catch (err) {
      this.o.log.warn('drive probe failed', { err: (err as Error).message });
    }
  }

  /** Fold a look at the drives into their states; logs every change. */
  private applyProbe(found: readonly DriveIdentity[], atOpen: boolean): void {
    for (const f of found) {
      const d = this.drives[f.index];
      const was = d.state;
      if (f.note !== d.note) {
        if (f.note) this.o.log.warn('drive', { drive: f.index, path: d.path, note: f.note });
        d.note = f.note;
      }
      if (!f.present) {
        if (was !== 'missing' || atOpen) this.o.log.warn('drive missing', { drive: f.index, path: d.path });
        d.state = 'missing';
      } else if (f.replaced || was === 'missing') {
        // New, swapped or back after an absence: it lacks what was written meanwhile, so refill.
        this.o.log.info(f.replaced ? 'drive is new or replaced: refilling it' : 'drive is back: refilling it', {
          drive: f.index,
          path: d.path,
        });
        d.state = 'healing';
        this.refillWanted = true;
      }
    }
  }

  private async pass(): Promise<void> {
    this.refillWanted = false;
    this.scrubRunning = true;
    this.lastStarted = new Date();
    const refilling = this.drives.filter((d) => d.state === 'healing').map((d) => d.index);
    try {
      const s = await scrubStore(this.store, {
        repair: true,
        pace: this.pace,
        signal: this.ac.signal,
        minAgeMs: this.minAgeMs,
        onTrouble: (c) => this.record(c, 'scrub'),
      });
      if (!s.complete) return;
      this.passes++;
      this.lastFinished = new Date();
      this.last = { ...s.blobs, bytesRead: s.bytesRead, complete: s.complete };
      for (const i of refilling) {
        const d = this.drives[i];
        if (d.state !== 'healing') continue;
        d.state = s.drives[i].unrecoverable === 0 ? 'online' : 'healing';
        if (d.state === 'online')
          this.o.log.info('drive refilled', { drive: i, path: d.path, healed: s.drives[i].healed });
        else this.refillWanted = true; // retried after the next probe
      }
      this.o.log.info('scrub pass finished', { ...this.last });
    } catch (err) {
      if (!this.stopped) this.o.log.warn('scrub pass failed', { err: (err as Error).message });
    } finally {
      this.scrubRunning = false;
    }
  }

  private record(c: BlobCheck, by: 'queue' | 'scrub'): void {
    for (const [i, state] of c.shards.entries()) {
      if (state === 'ok') continue;
      const d = this.drives[i];
      d[state]++;
      if (c.healed.includes(i)) d.healed++;
      else d.unhealed++;
    }
    if (c.unrecoverable)
      this.o.log.error('blob unrecoverable: fewer than k good shards', {
        blob: c.id,
        by,
        reasons: Object.fromEntries(c.reasons),
      });
    else if (c.healed.length)
      this.o.log.info('healed', { blob: c.id, by, shards: c.healed, reasons: Object.fromEntries(c.reasons) });
  }
}
