/**
 * A pass over every blob of an erasure set: verify each block of each shard
 * (scrub) and, with `repair`, rewrite the missing and corrupt ones (heal).
 * `coffer scrub`, `coffer heal` and the background healer all run this.
 *
 * Which blobs: the union of the drives' shard files (ErasureBlobStore.list), so
 * a blob is found while any drive still holds a shard of it. With `referenced`
 * (the data ids the metadata names) two things change: blobs no record names are
 * skipped and counted as `unreferenced` (the start-up garbage sweep removes
 * them; healing them would be wasted work), and a referenced blob that no drive
 * holds at all is reported lost (every shard missing, unrecoverable).
 *
 * Safe to interrupt and rerun: each shard rewrite is a temp file renamed over
 * the bad one, so a stop leaves every shard old or new; a rerun checks again
 * and rewrites what is still bad. The pass stops between blobs (or inside a
 * paced wait) when `signal` aborts, and says so in its summary.
 */
import { isErrnoCode } from './drive.js';
import type { ErasureBlobStore } from './erasureBlobStore.js';
import type { BlobCheck } from './shardHealer.js';

export interface DriveCounts {
  /** Shards looked at on this drive (one per blob checked). */
  checked: number;
  ok: number;
  missing: number;
  corrupt: number;
  /** Missing or corrupt shards rewritten. */
  healed: number;
  /** Missing or corrupt shards that could not be rebuilt (too few good shards, or the drive refused the file). */
  unrecoverable: number;
}

export interface ScrubSummary {
  repair: boolean;
  /** False when the pass stopped early (signal). */
  complete: boolean;
  blobs: {
    checked: number;
    /** Every shard good. */
    ok: number;
    /** Some shard missing or corrupt, but the blob reads (from the others). */
    degraded: number;
    /** Blobs whose bad shards were all rewritten. */
    healed: number;
    /** Fewer than k good shards: the blob cannot be read until drives come back. */
    unrecoverable: number;
    /** Skipped: no metadata record names them (garbage for the start-up sweep). */
    unreferenced: number;
    /** Skipped: shards written moments ago, maybe by a write still in flight (background passes only). */
    recent: number;
  };
  bytesRead: number;
  drives: Array<DriveCounts & { index: number; path: string }>;
}

export interface ScrubProgress {
  /** Blobs handled so far (checked or skipped). */
  done: number;
  /** Blobs to handle, when counted first (`count`). */
  total?: number;
  bytesRead: number;
  drives: ScrubSummary['drives'];
}

export interface ScrubOptions {
  repair: boolean;
  /** Rate limit: awaited with the bytes read after each batch. */
  pace?: (bytes: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
  /** Data ids the metadata references (see the module doc). */
  referenced?: ReadonlySet<string>;
  /** Count the blobs first so progress has a total (one extra listing of the drives; not needed with `referenced`). */
  count?: boolean;
  /** Skip blobs with a shard file modified less than this long ago (a live server: writes in flight). */
  minAgeMs?: number;
  onProgress?: (p: ScrubProgress) => void;
  /** Each blob with a bad shard, after its check (for logs). */
  onTrouble?: (check: BlobCheck) => void;
}

function zero(): DriveCounts {
  return { checked: 0, ok: 0, missing: 0, corrupt: 0, healed: 0, unrecoverable: 0 };
}

function aborted(signal?: AbortSignal): boolean {
  return signal?.aborted === true;
}

export async function scrubStore(store: ErasureBlobStore, opts: ScrubOptions): Promise<ScrubSummary> {
  const n = store.k + store.m;
  const summary: ScrubSummary = {
    repair: opts.repair,
    complete: false,
    blobs: { checked: 0, ok: 0, degraded: 0, healed: 0, unrecoverable: 0, unreferenced: 0, recent: 0 },
    bytesRead: 0,
    drives: store.driveRoots.map((path, index) => ({ index, path, ...zero() })),
  };
  const { signal, referenced } = opts;
  // With the referenced set the work is exactly it (each id is on the drives or lost); else count the drives' blobs.
  let total: number | undefined = referenced?.size;
  if (opts.count && total === undefined) {
    total = 0;
    for await (const id of store.list()) if (id) total++;
  }
  let done = 0;
  const progress = () => opts.onProgress?.({ done, total, bytesRead: summary.bytesRead, drives: summary.drives });
  const pace = async (bytes: number) => {
    summary.bytesRead += bytes;
    await opts.pace?.(bytes, signal);
  };
  const lost = referenced ? new Set(referenced) : undefined;

  const checkOne = async (id: string, mustExist: boolean): Promise<void> => {
    let check: BlobCheck;
    try {
      check = await store.check(id, { repair: opts.repair, pace });
    } catch (err) {
      if (!isErrnoCode(err, 'ENOENT')) throw err;
      if (!mustExist) return; // deleted since it was listed
      check = {
        id,
        shards: new Array(n).fill('missing'),
        reasons: new Map(),
        healed: [],
        unhealed: [...Array(n).keys()],
        unrecoverable: true,
        bytesRead: 0,
      };
    }
    tally(summary, check);
    if (check.unhealed.length || check.healed.length) opts.onTrouble?.(check);
  };

  try {
    for await (const id of store.list()) {
      if (aborted(signal)) return summary;
      if (referenced && !referenced.has(id)) {
        summary.blobs.unreferenced++;
        continue;
      }
      lost?.delete(id);
      if (opts.minAgeMs && (await store.shardAgeMs(id)) < opts.minAgeMs) {
        summary.blobs.recent++;
      } else {
        await checkOne(id, false);
      }
      done++;
      progress();
    }
    for (const id of lost ?? []) {
      if (aborted(signal)) return summary;
      await checkOne(id, true);
      done++;
      progress();
    }
    summary.complete = true;
    return summary;
  } catch (err) {
    if (aborted(signal)) return summary;
    throw err;
  }
}

function tally(summary: ScrubSummary, check: BlobCheck): void {
  const b = summary.blobs;
  b.checked++;
  const bad = check.shards.some((s) => s !== 'ok');
  if (check.unrecoverable) b.unrecoverable++;
  else if (!bad) b.ok++;
  else if (check.unhealed.length === 0) b.healed++;
  else b.degraded++;
  for (const [i, state] of check.shards.entries()) {
    const d = summary.drives[i];
    d.checked++;
    d[state]++;
    if (check.healed.includes(i)) d.healed++;
    else if (state !== 'ok' && (check.unrecoverable || summary.repair)) d.unrecoverable++;
  }
}

/** True when the pass leaves something that cannot be (or was not) rebuilt: the CLI's non-zero exit. */
export function hasUnrecoverable(s: ScrubSummary): boolean {
  return s.blobs.unrecoverable > 0 || s.drives.some((d) => d.unrecoverable > 0);
}
