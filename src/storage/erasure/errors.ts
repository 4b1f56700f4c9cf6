import { diskFaultKind } from '../../util/diskFault.js';

/**
 * Fewer good shards than an operation needs: more drives are missing or bad than
 * the code tolerates. Never answered with wrong data; the S3 layer maps it to
 * 503 ServiceUnavailable (the blob may come back with its drives).
 */
export class InsufficientShardsError extends Error {
  readonly code = 'EINSUFFICIENTSHARDS';
  /**
   * A write that lost its quorum because every drive that refused it is full
   * (ENOSPC, EDQUOT): the S3 layer answers 507 InsufficientStorage instead of 503.
   */
  readonly storageFull: boolean;

  constructor(
    readonly op: 'read' | 'write',
    readonly blobId: string,
    /** Shards found good (read) or drives that accepted the shard (write). */
    readonly found: number,
    /** k for a read, the write quorum for a write. */
    readonly needed: number,
    readonly total: number,
    /** Why shards were missing, by shard index, for the log. */
    readonly reasons: ReadonlyMap<number, string> = new Map(),
  ) {
    const why = [...reasons].map(([i, r]) => `shard ${i}: ${r}`).join('; ');
    super(
      op === 'read'
        ? `blob ${blobId}: ${found} of ${total} shards readable, ${needed} needed to read it${why ? ` (${why})` : ''}`
        : `blob ${blobId}: ${found} of ${total} drives accepted the write, a quorum of ${needed} is needed${why ? ` (${why})` : ''}`,
    );
    this.name = 'InsufficientShardsError';
    this.storageFull =
      op === 'write' && reasons.size > 0 && [...reasons.values()].every((r) => diskFaultKind(r) === 'full');
  }
}
