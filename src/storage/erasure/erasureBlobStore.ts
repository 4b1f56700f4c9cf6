/**
 * BlobStore over k + m drives with Reed-Solomon erasure coding and per-block
 * checksums (format and drive layout: shardFormat.ts; write path:
 * shardWriter.ts; read path: shardReader.ts).
 *
 * Any m drives may be missing, emptied, replaced or hold corrupt files and every
 * blob still reads back exactly; with more gone, reads fail with
 * InsufficientShardsError. A write succeeds once a write quorum (k + 1 with
 * parity, k without) has its shard durable. Shards found missing or bad are
 * queued in `healQueue` for `heal(id)`.
 *
 * The drive list is fixed for the data on it: shard i lives on drive i and the
 * headers record k and m, so reordering COFFER_DRIVES or changing COFFER_PARITY
 * over existing blobs makes their shards count as bad (never misread). Moving
 * between layouts needs a rewrite of the blobs, which this store does not do.
 */
import { Readable } from 'node:stream';
import type { BlobStore } from '../BlobStore.js';
import { assertBlobId } from '../fsBlobStore.js';
import { Checksummer } from './checksum.js';
import { asDiskFault } from '../../util/diskFault.js';
import type { BlobFs } from '../blobFs.js';
import { Drive, errText, isErrnoCode } from './drive.js';
import { HealQueue } from './healQueue.js';
import { ReedSolomon } from './reedSolomon.js';
import { ShardSet } from './shardReader.js';
import { writeStriped, type ErasureContext } from './shardWriter.js';
import { checkShards, type BlobCheck, type CheckOptions } from './shardHealer.js';
import { identifyDrives, type DriveIdentity } from './driveMarker.js';
import { DriveLock } from './driveLock.js';

/** Per-shard block size: a stripe of a 2+2 set holds 128 KiB of the blob. */
export const DEFAULT_BLOCK_SIZE = 64 * 1024;

export interface ErasureOptions {
  /** Drive directories, in order: drive i holds shard i. */
  drives: readonly string[];
  /** m, the parity shards; k = drives - m. */
  parity: number;
  /** Per-shard block size in bytes, a multiple of 8 (for tests: small blocks make many stripes). */
  blockSize?: number;
  /** The file system of every drive (default node:fs; tests inject faults through it). */
  fs?: BlobFs;
}

export class ErasureBlobStore implements BlobStore {
  readonly healQueue: HealQueue;
  private driveLock?: DriveLock;

  private constructor(
    private readonly ctx: ErasureContext,
    /** Id of the erasure set, from the drive markers (driveMarker.ts). */
    readonly setId: string,
    /** What open() found of each drive; `replaced` drives want a refill (a full heal pass). */
    readonly openedDrives: readonly DriveIdentity[],
  ) {
    this.healQueue = ctx.heal;
  }

  /** Drive directories, by index. */
  get driveRoots(): string[] {
    return this.ctx.drives.map((d) => d.root);
  }

  /**
   * Take the drives' lock for `owner` (driveLock.ts): a server, or a heal or
   * scrub run. Throws DrivesLockedError while another process holds it.
   * close() releases it.
   */
  async lock(owner: string): Promise<void> {
    if (this.driveLock) return;
    this.driveLock = await DriveLock.acquire(this.driveRoots, owner);
  }

  async close(): Promise<void> {
    await this.driveLock?.release();
    this.driveLock = undefined;
  }

  /** Look at the drives again: which are there, which are new (and get their marker). */
  async probeDrives(): Promise<DriveIdentity[]> {
    return (await identifyDrives(this.ctx.drives, this.ctx.m, this.setId)).drives;
  }

  get k(): number {
    return this.ctx.k;
  }

  get m(): number {
    return this.ctx.m;
  }

  /**
   * Open the set, creating drive directories that do not exist yet. A drive
   * that cannot be opened (say, its path is a file) does not stop the store: it
   * is missing, and the store runs degraded. Fewer than k usable drives is an
   * error.
   */
  static async open(opts: ErasureOptions): Promise<ErasureBlobStore> {
    const n = opts.drives.length;
    const m = opts.parity;
    const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
    if (!Number.isInteger(m) || m < 0 || m >= n)
      throw new RangeError(`parity must be 0 to ${n - 1} for ${n} drives, got ${m}`);
    if (!Number.isInteger(blockSize) || blockSize < 8 || blockSize % 8 !== 0 || blockSize > 1 << 26) {
      throw new RangeError(`block size must be a multiple of 8 up to 64 MiB, got ${blockSize}`);
    }
    if (new Set(opts.drives).size !== n) throw new RangeError('the same drive is named twice');
    const drives = opts.drives.map((d, i) => new Drive(d, i, opts.fs));
    const k = n - m;
    const failed = (
      await Promise.all(
        drives.map((d) =>
          d.init().then(
            () => undefined,
            (e: unknown) => `${d.root}: ${errText(e)}`,
          ),
        ),
      )
    ).filter(Boolean);
    // Fewer than k usable drives cannot serve a single read: a configuration error, not a degraded set.
    if (n - failed.length < k)
      throw new Error(
        `only ${n - failed.length} of ${n} drives could be opened, ${k} are needed (${failed.join('; ')})`,
      );
    const identity = await identifyDrives(drives, m);
    return new ErasureBlobStore(
      {
        drives,
        k,
        m,
        blockSize,
        rs: new ReedSolomon(k, m),
        sum: await Checksummer.create(),
        heal: new HealQueue(),
      },
      identity.setId,
      identity.drives,
    );
  }

  /**
   * Write `body` as blob `id` (see BlobStore). Rejects with code 'EEXIST' if any
   * drive already holds a shard of `id`, and with InsufficientShardsError when
   * fewer than a write quorum of drives accept it.
   */
  async put(id: string, body: Readable, signal?: AbortSignal): Promise<{ size: number }> {
    assertBlobId(id);
    signal?.throwIfAborted();
    const held = await Promise.all(this.ctx.drives.map((d) => d.hasShard(id).catch(() => false)));
    if (held.some(Boolean)) throw Object.assign(new Error(`blob ${id} already exists`), { code: 'EEXIST' });
    return { size: await writeStriped(this.ctx, id, body, signal) };
  }

  get(id: string, range?: { start: number; end: number }): Readable {
    assertBlobId(id);
    let start = 0;
    let end = Number.MAX_SAFE_INTEGER;
    if (range !== undefined) {
      ({ start, end } = range);
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
        throw new RangeError(`invalid blob range [${start}, ${end}]`);
      }
    }
    const ctx = this.ctx;
    return Readable.from(
      (async function* () {
        const set = await ShardSet.open(ctx, id);
        try {
          yield* set.range(start, end);
        } finally {
          await set.close();
        }
      })(),
      { objectMode: false },
    );
  }

  async read(id: string, offset: number, length: number): Promise<Buffer> {
    assertBlobId(id);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`invalid read offset ${offset} length ${length}`);
    }
    const set = await ShardSet.open(this.ctx, id);
    try {
      const parts: Buffer[] = [];
      if (length > 0) for await (const b of set.range(offset, offset + length - 1)) parts.push(b);
      return Buffer.concat(parts);
    } finally {
      await set.close();
    }
  }

  /** Size from the agreed headers; undefined when no drive has the blob. */
  async stat(id: string): Promise<{ size: number } | undefined> {
    assertBlobId(id);
    let set: ShardSet;
    try {
      set = await ShardSet.open(this.ctx, id);
    } catch (err) {
      if (isErrnoCode(err, 'ENOENT')) return undefined;
      throw err;
    }
    await set.close();
    return { size: set.size };
  }

  /**
   * Remove every shard. A drive that is gone (missing root, a file in its place)
   * is skipped: its shard is unreferenced garbage for a later sweep. Fails only
   * if some drive reports a real error (a DiskFaultError naming the drive).
   */
  async delete(id: string): Promise<void> {
    assertBlobId(id);
    const drives = this.ctx.drives;
    const results = await Promise.allSettled(drives.map((d) => d.unlinkQuiet(d.shardPath(id))));
    this.healQueue.forget(id);
    const i = results.findIndex((r) => r.status === 'rejected' && !isErrnoCode(r.reason, 'ENOTDIR'));
    if (i < 0) return;
    const reason = (results[i] as PromiseRejectedResult).reason;
    throw asDiskFault(reason, drives[i].label) ?? reason;
  }

  /**
   * Every blob id that any drive holds a shard of, once each. Merges the drives
   * one leaf directory at a time, so memory stays bounded by a leaf's size.
   */
  async *list(): AsyncIterable<string> {
    const drives = this.ctx.drives;
    const union = async (f: (d: Drive) => Promise<string[]>) => [
      ...new Set((await Promise.all(drives.map((d) => f(d).catch(() => [])))).flat()),
    ];
    for (const outer of await union((d) => d.shardDirs('.'))) {
      for (const inner of await union((d) => d.shardDirs(outer))) {
        yield* await union((d) => d.idsIn(outer, inner));
      }
    }
  }

  /** Remove temp files older than `olderThanMs` on every drive (see FsBlobStore.sweepTemp). */
  async sweepTemp(olderThanMs: number): Promise<number> {
    const counts = await Promise.all(this.ctx.drives.map((d) => d.sweepTemp(olderThanMs).catch(() => 0)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Milliseconds since the newest of the blob's shard files was modified (Infinity when none is found). */
  async shardAgeMs(id: string): Promise<number> {
    assertBlobId(id);
    const times = await Promise.all(this.ctx.drives.map((d) => d.shardMtimeMs(id).catch(() => undefined)));
    const newest = Math.max(...times.map((t) => t ?? -Infinity));
    return newest === -Infinity ? Infinity : Date.now() - newest;
  }

  /**
   * Verify every block of every shard of `id` and rewrite the shards that are
   * missing or bad from the good ones. Resolves with the shard indexes rewritten.
   */
  async heal(id: string): Promise<number[]> {
    return (await this.check(id, { repair: true })).healed;
  }

  /**
   * Verify every block of every shard of `id`, and with `repair` rewrite the bad
   * ones (shardHealer.ts). Rejects with ENOENT when no drive holds a shard of it.
   */
  async check(id: string, opts: CheckOptions): Promise<BlobCheck> {
    assertBlobId(id);
    const result = await checkShards(this.ctx, id, opts);
    // A scrub's finds stay queued for the healer; a heal settles them (what it could not fix, a later pass retries).
    if (opts.repair) this.healQueue.forget(id);
    return result;
  }
}
