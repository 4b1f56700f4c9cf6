import { ErasureBlobStore } from './erasure/erasureBlobStore.js';
import { FsBlobStore, type FsBlobStoreOptions } from './fsBlobStore.js';

/**
 * The blob store for a list of drives: one drive is a plain FsBlobStore (the
 * embedded default, unchanged), two or more an ErasureBlobStore with `parity`
 * parity shards. `fsOptions` size the plain store's file I/O; its `fs` (the
 * file system, node:fs by default) is every drive's.
 */
export async function openBlobStore(
  drives: readonly string[],
  parity: number,
  fsOptions: FsBlobStoreOptions = {},
): Promise<FsBlobStore | ErasureBlobStore> {
  if (drives.length === 0) throw new RangeError('at least one drive is needed');
  if (drives.length === 1) {
    if (parity !== 0) throw new RangeError('one drive cannot hold parity');
    return FsBlobStore.open(drives[0], fsOptions);
  }
  return ErasureBlobStore.open({ drives, parity, ...(fsOptions.fs ? { fs: fsOptions.fs } : {}) });
}
