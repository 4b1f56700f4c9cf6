import type { Readable } from 'node:stream';

/**
 * BlobStore: opaque, immutable byte blobs addressed by a caller-chosen random id.
 *
 * It stores ciphertext and knows nothing of buckets, objects or keys. The id is
 * chosen by the caller before writing because it is bound into the encryption
 * (KDF info and segment AAD), and it is never derived from an object name.
 *
 * Durability contract of `put`: when the promise resolves, the bytes and the
 * directory entry are on stable storage (temp file -> fsync -> rename -> fsync
 * dir). If the body stream errors or the put is aborted, nothing remains under
 * the id. A blob becomes visible to S3 only when the metadata batch that names it
 * commits; blobs that no record names are garbage for `sweep`.
 */
export interface BlobStore {
  /** Write the whole stream as blob `id`; resolves with the stored byte count. */
  put(id: string, body: Readable, signal?: AbortSignal): Promise<{ size: number }>;
  /** Stream bytes [start, end] inclusive (whole blob when no range is given). */
  get(id: string, range?: { start: number; end: number }): Readable;
  /** Read exactly `length` bytes at `offset` (for stream headers); shorter if the blob is shorter. */
  read(id: string, offset: number, length: number): Promise<Buffer>;
  /**
   * The whole blob in one read when it holds at most `maxBytes`, else undefined
   * (then use stat/read/get). Optional: a store where this saves nothing leaves
   * it out. A missing blob rejects as `read` does. For small objects, whose GET
   * would otherwise open the blob twice and stat it once.
   */
  readSmall?(id: string, maxBytes: number): Promise<Buffer | undefined>;
  /** Stored size in bytes, or undefined when the blob does not exist. */
  stat(id: string): Promise<{ size: number } | undefined>;
  /** Remove the blob; missing blobs are not an error. */
  delete(id: string): Promise<void>;
  /** Every blob id present (for the garbage sweep). Leftover temp files are removed by the implementation's own sweep (FsBlobStore.sweepTemp). */
  list(): AsyncIterable<string>;
  close?(): Promise<void>;
}
