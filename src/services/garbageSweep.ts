/**
 * Garbage sweep: blobs that no metadata record names (a crash between the blob
 * rename and the metadata commit, or a failed delete after an overwrite) and
 * temp files left by interrupted writes.
 *
 * It runs at start-up, before the listener opens, so no write is in flight: a
 * blob that is durable but not yet committed can only exist while its PUT runs.
 * (A sweep on a live server would have to skip blobs of in-flight writes.)
 */
import type { MetaStore } from '../meta/MetaStore.js';
import type { BlobStore } from '../storage/BlobStore.js';

export interface SweepResult {
  orphans: number;
  tempFiles: number;
  /**
   * Blobs (or the temp sweep) that could not be removed: a drive that is
   * read-only or failing. They stay for the next start; the server still starts,
   * so a bad drive does not also take away the reads that work.
   */
  failed: number;
}

export async function sweepGarbage(
  meta: MetaStore,
  blobs: BlobStore & { sweepTemp?(olderThanMs: number): Promise<number> },
): Promise<SweepResult> {
  let failed = 0;
  const tempFiles = await Promise.resolve(blobs.sweepTemp?.(0)).catch(() => {
    failed++;
    return 0;
  });
  const referenced = new Set<string>();
  for await (const id of meta.referencedDataIds()) referenced.add(id);
  let orphans = 0;
  for await (const id of blobs.list()) {
    if (referenced.has(id)) continue;
    try {
      await blobs.delete(id);
      orphans++;
    } catch {
      failed++;
    }
  }
  return { orphans, tempFiles: tempFiles ?? 0, failed };
}
