/**
 * A token bucket over bytes, for the healer and scrubber: reads of shard files
 * off the request path take their bytes from it, so a background pass never
 * takes more than its share of the disks. A take larger than what is available
 * goes into debt and sleeps it off, so big batches are paced as smoothly as
 * small ones, and the bucket holds at most `burstSeconds` of credit so an idle
 * spell cannot bank a flood.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RateLimiterOptions {
  /** Seconds of credit the bucket can hold; default 1. */
  burstSeconds?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
  /** Sleep for ms, rejecting when the signal aborts (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  /** `bytesPerSecond` of 0 or Infinity: no limit. */
  constructor(
    readonly bytesPerSecond: number,
    opts: RateLimiterOptions = {},
  ) {
    if (!(bytesPerSecond >= 0)) throw new RangeError(`rate must be >= 0, got ${bytesPerSecond}`);
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal, ref: false }));
    this.burst = bytesPerSecond * (opts.burstSeconds ?? 1);
    this.tokens = this.burst;
    this.last = this.now();
  }

  get unlimited(): boolean {
    return this.bytesPerSecond === 0 || this.bytesPerSecond === Infinity;
  }

  /** Spend `bytes`; resolves when the spending fits the rate. Rejects if `signal` aborts the wait. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.unlimited || bytes <= 0) return;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
    this.tokens -= bytes;
    if (this.tokens < 0) await this.sleep((-this.tokens / this.bytesPerSecond) * 1000, signal);
  }
}
