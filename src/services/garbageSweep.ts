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
}

export async function sweepGarbage(
  meta: MetaStore,
  blobs: BlobStore & { sweepTemp?(olderThanMs: number): Promise<number> },
): Promise<SweepResult> {
  const tempFiles = (await blobs.sweepTemp?.(0)) ?? 0;
  const referenced = new Set<string>();
  for await (const id of meta.referencedDataIds()) referenced.add(id);
  let orphans = 0;
  for await (const id of blobs.list()) {
    if (referenced.has(id)) continue;
    await blobs.delete(id);
    orphans++;
  }
  return { orphans, tempFiles };
}
