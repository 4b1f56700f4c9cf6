/**
 * The background worker that applies buckets' lifecycle rules
 * (lifecycleRules.ts decides, this acts): current versions expired (a delete
 * marker in a versioned bucket, gone in one never versioned), delete markers
 * left alone with no versions behind them removed, noncurrent versions expired
 * (NoncurrentDays, NewerNoncurrentVersions), incomplete multipart uploads
 * aborted.
 *
 * Every change goes through the services' own delete paths (ObjectService.remove,
 * MultipartService.abort), so blobs are released and Object Lock is enforced
 * there: a locked version is refused and counted as skipped, never removed.
 * Each removal names the record the worker judged (onlyRecord), so a version
 * written meanwhile is never the one expired.
 *
 * A pass walks each bucket that has enabled rules in key order, then its
 * uploads, saving where it got to after every batch (LifecycleProgress), so a
 * restarted server continues where the last one stopped. Paced by a token
 * bucket (versions examined or removed per second); counts are logged, never
 * keys.
 */
import type { MetaStore } from '../meta/MetaStore.js';
import type { BucketRecord, ObjectRecord } from '../meta/records.js';
import { RateLimiter } from '../storage/erasure/rateLimiter.js';
import type { Logger } from '../util/logger.js';
import { DomainError } from './errors.js';
import {
  currentExpiry,
  enabledRules,
  expiredMarkerRule,
  filtersOnTags,
  noncurrentDue,
  uploadAbortDue,
  type LifecycleSubject,
} from './lifecycleRules.js';
import type { MultipartService } from './multipartService.js';
import type { ObjectService } from './objectService.js';
import { versionOf } from './objectVersions.js';

/** Where a bucket's pass got to: its objects after `after`, or its uploads after (afterKey, afterUploadId). */
export interface BucketProgress {
  phase: 'objects' | 'uploads';
  after?: string;
  afterUploadId?: string;
}

/** Per bucket uid: the pass in progress. Absent: the next pass starts at the beginning. */
export type LifecycleProgressState = Record<string, BucketProgress>;

/** Where progress is kept between batches and across restarts (the server: a file in the data dir). */
export interface LifecycleProgress {
  load(): Promise<LifecycleProgressState>;
  save(state: LifecycleProgressState): Promise<void>;
}

export interface LifecycleWorkerDeps {
  meta: MetaStore;
  objects: ObjectService;
  multipart: MultipartService;
  progress: LifecycleProgress;
  /** Milliseconds in a rule's day. */
  dayMs: number;
  /** Milliseconds between passes. */
  intervalMs: number;
  /** Versions examined or removed per second; 0: unlimited. */
  ratePerSecond: number;
  log: Logger;
  now?: () => number;
  /** Keys per listing batch (progress is saved after each). */
  batchSize?: number;
  /** The rate limiter's clock and sleep (tests). */
  pacing?: { now: () => number; sleep: (ms: number, signal?: AbortSignal) => Promise<void> };
}

export interface LifecycleCounts {
  examined: number;
  expired: number;
  deleteMarkersPlaced: number;
  expiredMarkersRemoved: number;
  noncurrentRemoved: number;
  uploadsAborted: number;
  /** Versions a rule named that Object Lock (retention or legal hold) protects. */
  skippedLocked: number;
  failed: number;
}

const zero = (): LifecycleCounts => ({
  examined: 0,
  expired: 0,
  deleteMarkersPlaced: 0,
  expiredMarkersRemoved: 0,
  noncurrentRemoved: 0,
  uploadsAborted: 0,
  skippedLocked: 0,
  failed: 0,
});

/** A key's history is read in pages of this many versions. */
const HISTORY_PAGE = 1000;

class Stopped extends Error {}

export class LifecycleWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly limiter: RateLimiter;
  private readonly now: () => number;

  constructor(private readonly d: LifecycleWorkerDeps) {
    this.limiter = new RateLimiter(d.ratePerSecond, d.pacing ?? {});
    this.now = d.now ?? Date.now;
  }

  /** Run a pass now, then one every intervalMs (each after the previous has finished). */
  start(): void {
    if (this.abort.signal.aborted || this.timer || this.running) return;
    const tick = () => {
      this.timer = undefined;
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((e: unknown) => {
          if (!(e instanceof Stopped)) this.d.log.warn('lifecycle pass failed', { err: (e as Error).message });
        })
        .finally(() => {
          this.running = undefined;
          if (!this.abort.signal.aborted) this.timer = setTimeout(tick, this.d.intervalMs).unref();
        });
    };
    tick();
  }

  /** Stop after the step in progress; the saved progress lets the next start continue. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over every bucket with enabled rules; resumes a pass a previous run left unfinished. */
  async runOnce(): Promise<LifecycleCounts> {
    const total = zero();
    const state = await this.d.progress.load();
    const buckets = (await this.d.meta.listBuckets()).filter((b) => enabledRules(b.lifecycle).length > 0);
    // Progress of buckets gone (or without rules now) is dropped.
    const live = new Set(buckets.map((b) => b.uid));
    const stale = Object.keys(state).filter((uid) => !live.has(uid));
    for (const uid of stale) delete state[uid];
    if (stale.length > 0) await this.d.progress.save(state);
    for (const b of buckets) {
      this.checkStopped();
      const counts = zero();
      try {
        await this.bucketPass(b, state, counts);
      } finally {
        for (const k of Object.keys(total) as (keyof LifecycleCounts)[]) total[k] += counts[k];
        const acted = Object.entries(counts).some(([k, v]) => k !== 'examined' && v > 0);
        if (acted) this.d.log.info('lifecycle', { bucket: b.name, ...counts });
      }
    }
    return total;
  }

  private checkStopped(): void {
    if (this.abort.signal.aborted) throw new Stopped('stopped');
  }

  private async pace(): Promise<void> {
    this.checkStopped();
    await this.limiter.take(1, this.abort.signal).catch(() => this.checkStopped());
  }

  /**
   * The bucket as it is now (its rules, its versioning and lock state may have
   * changed since the pass began): undefined when it is gone, re-created or
   * without enabled rules.
   */
  private async fresh(b: BucketRecord): Promise<BucketRecord | undefined> {
    const now = await this.d.meta.getBucket(b.name);
    return now && now.uid === b.uid && enabledRules(now.lifecycle).length > 0 ? now : undefined;
  }

  private async bucketPass(start: BucketRecord, state: LifecycleProgressState, counts: LifecycleCounts): Promise<void> {
    const batch = this.d.batchSize ?? 100;
    const at: BucketProgress = state[start.uid] ?? { phase: 'objects' };
    state[start.uid] = at;
    let b: BucketRecord = start;
    const refresh = async () => {
      const now = await this.fresh(start);
      if (!now) {
        delete state[start.uid];
        await this.d.progress.save(state);
      }
      return now;
    };
    while (at.phase === 'objects') {
      const now = await refresh();
      if (!now) return;
      b = now;
      const page: ObjectRecord[] = [];
      for await (const rec of this.d.meta.listObjects({
        bucketUid: b.uid,
        after: at.after,
        limit: batch,
        deleteMarkers: true,
      }))
        page.push(rec);
      for (const rec of page) {
        await this.key(b, rec, counts);
        at.after = rec.key;
      }
      if (page.length < batch) {
        at.phase = 'uploads';
        delete at.after;
      }
      await this.d.progress.save(state);
    }
    for (;;) {
      const now = await refresh();
      if (!now) return;
      b = now;
      const page = [];
      for await (const u of this.d.meta.listUploads({
        bucketUid: b.uid,
        afterKey: at.after,
        afterUploadId: at.afterUploadId,
        limit: batch,
      }))
        page.push(u);
      for (const u of page) {
        await this.pace();
        counts.examined++;
        if (uploadAbortDue(b.lifecycle, u.key, u.initiated, this.now(), this.d.dayMs)) {
          await this.attempt(counts, 'uploadsAborted', b, (now) => this.d.multipart.abort(now, u.key, u.uploadId));
        }
        at.after = u.key;
        at.afterUploadId = u.uploadId;
      }
      if (page.length < batch) break;
      await this.d.progress.save(state);
    }
    // The bucket's pass is complete: the next one starts from the beginning.
    delete state[start.uid];
    await this.d.progress.save(state);
  }

  /** Run one removal; a lock refusal counts as skipped, any other failure is logged (without the key) and counted. */
  private async attempt(
    counts: LifecycleCounts,
    done: keyof LifecycleCounts,
    bucket: BucketRecord,
    act: (bucket: BucketRecord) => Promise<{ skipped?: boolean } | void>,
  ): Promise<void> {
    await this.pace();
    try {
      // Acted on as the bucket is now: a versioning change since the listing decides marker or delete.
      const now = await this.fresh(bucket);
      if (!now) return;
      const r = await act(now);
      if (!(r && r.skipped)) counts[done]++;
    } catch (e) {
      if (e instanceof DomainError && e.code === 'AccessDenied') counts.skippedLocked++;
      else if (e instanceof DomainError && (e.code === 'NoSuchUpload' || e.code === 'NoSuchKey')) return;
      else {
        counts.failed++;
        this.d.log.warn('lifecycle action failed', { action: done, err: (e as Error).message });
      }
    }
  }

  /** What a version's filters see; the seal is opened only when a rule filters on tags. */
  private async subject(b: BucketRecord, rec: ObjectRecord, needTags: boolean): Promise<LifecycleSubject> {
    if (rec.deleteMarker || !needTags) return { key: rec.key, size: rec.size };
    const { dek, meta } = await this.d.objects.unseal(b, rec.key, rec);
    dek.fill(0);
    return { key: rec.key, size: rec.size, tags: meta.tags ?? {} };
  }

  private async key(b: BucketRecord, cur: ObjectRecord, counts: LifecycleCounts): Promise<void> {
    const rules = enabledRules(b.lifecycle);
    const needTags = rules.some(filtersOnTags);
    const now = this.now();
    await this.pace();
    counts.examined++;
    // Noncurrent versions left behind the current one; undefined: not read (no rule could act on them or on a marker).
    let remaining: number | undefined;
    if (b.versioning !== undefined && rules.some((r) => r.noncurrentExpiration || (cur.deleteMarker && r.expiration)))
      remaining = await this.history(b, cur, counts, needTags, now);
    if (!cur.deleteMarker) {
      let s: LifecycleSubject;
      try {
        s = await this.subject(b, cur, needTags);
      } catch (e) {
        counts.failed++;
        this.d.log.warn('lifecycle could not open a version to judge it', {
          bucket: b.name,
          err: (e as Error).message,
        });
        return;
      }
      const e = currentExpiry(rules, s, cur.lastModified, this.d.dayMs);
      if (e && now >= e.at)
        await this.attempt(counts, b.versioning === undefined ? 'expired' : 'deleteMarkersPlaced', b, (now) =>
          this.d.objects.remove({ bucket: now, key: cur.key, onlyRecord: cur.versionId }),
        );
      return;
    }
    // A delete marker with nothing behind it.
    if (remaining === 0 && expiredMarkerRule(rules, cur.key, cur.lastModified, now, this.d.dayMs))
      await this.attempt(counts, 'expiredMarkersRemoved', b, (now) =>
        this.d.objects.remove({ bucket: now, key: cur.key, versionId: versionOf(cur), onlyRecord: cur.versionId }),
      );
  }

  /**
   * Expire the key's noncurrent versions that are due; returns how many remain.
   * A version became noncurrent when the next newer one was written (its lastModified).
   */
  private async history(
    b: BucketRecord,
    cur: ObjectRecord,
    counts: LifecycleCounts,
    needTags: boolean,
    now: number,
  ): Promise<number> {
    const rules = b.lifecycle;
    let newerTime = cur.lastModified;
    let newer = 0;
    let remaining = 0;
    let after: string | undefined;
    for (;;) {
      const page = [];
      for await (const e of this.d.meta.listVersions({ bucketUid: b.uid, key: cur.key, after, limit: HISTORY_PAGE }))
        page.push(e);
      for (const { historyId, record } of page) {
        after = historyId;
        await this.pace();
        counts.examined++;
        const since = newerTime;
        newerTime = record.lastModified;
        let s: LifecycleSubject;
        try {
          s = await this.subject(b, record, needTags);
        } catch (e) {
          counts.failed++;
          remaining++;
          newer++;
          this.d.log.warn('lifecycle could not open a version to judge it', {
            bucket: b.name,
            err: (e as Error).message,
          });
          continue;
        }
        if (noncurrentDue(rules, s, since, newer, now, this.d.dayMs)) {
          const before = counts.noncurrentRemoved;
          await this.attempt(counts, 'noncurrentRemoved', b, (fresh) =>
            this.d.objects.remove({
              bucket: fresh,
              key: cur.key,
              versionId: versionOf(record),
              onlyRecord: record.versionId,
            }),
          );
          if (counts.noncurrentRemoved > before) continue;
        }
        remaining++;
        newer++;
      }
      if (page.length < HISTORY_PAGE) return remaining;
    }
  }
}
