import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from './BlobStore.js';
import { nodeBlobFs, type BlobFs } from './blobFs.js';
import { asDiskFault } from '../util/diskFault.js';
import { GroupCommit } from '../util/groupCommit.js';
import { DIR_MODE, FileSink, fsyncDir, isErrnoCode, mkdirDurable, unlinkQuiet } from './durableFs.js';

/**
 * Blob ids are 16 random bytes in lowercase hex. Anything else is refused before
 * it reaches a path, so no caller-supplied text (least of all an object name) can
 * ever name a file outside the store.
 */
const BLOB_ID_RE = /^[0-9a-f]{32}$/;
const SHARD_RE = /^[0-9a-f]{2}$/;
const TMP_DIR = 'tmp';
const FILE_MODE = 0o600;

/** Throws unless `id` is a valid blob id (see {@link BLOB_ID_RE}). */
export function assertBlobId(id: string): void {
  if (typeof id !== 'string' || !BLOB_ID_RE.test(id)) {
    throw Object.assign(new TypeError(`invalid blob id: ${JSON.stringify(id)}`), { code: 'ERR_INVALID_BLOB_ID' });
  }
}

/**
 * How a store reads and writes its files. The creator knows what the blobs hold
 * (the crypto format's segment size) and sizes them to it; the store does not.
 */
export interface FsBlobStoreOptions {
  /** Bytes per chunk of a blob read stream (default: Node's, 64 KiB). */
  readChunkBytes?: number;
  /** Bytes a blob write may have queued before back-pressure stops the writer (default: Node's, 16 KiB). */
  writeBufferBytes?: number;
  /** The file system (default node:fs; tests inject faults through it). */
  fs?: BlobFs;
}

/**
 * Stream `body` into a new file at `path` and fsync it; resolves with the byte
 * count. The file is closed on every path; removing it on failure is the caller's.
 */
async function writeDurably(
  fs: BlobFs,
  path: string,
  body: Readable,
  writeBufferBytes: number | undefined,
  signal?: AbortSignal,
): Promise<number> {
  const fh = await fs.open(path, 'wx', FILE_MODE);
  // The sink writes through the handle and leaves it open, so it can be fsynced.
  const out = new FileSink(fh, writeBufferBytes);
  try {
    // pipeline gives back-pressure and, on a body error or abort, destroys both
    // streams and rejects.
    await pipeline(body, out, signal ? { signal } : {});
    // Data must be on disk before the rename publishes it, or a crash could leave
    // a complete-looking name over missing or zero-filled blocks.
    await fh.sync();
    return out.bytesWritten;
  } finally {
    // A close error after a successful fsync loses nothing, so it is not allowed
    // to fail the put; after a failed write the write's own error is the one to report.
    await fh.close().catch(() => undefined);
  }
}

/**
 * BlobStore on a local filesystem.
 *
 * Layout: `<dir>/<id[0..2]>/<id[2..4]>/<id>`, plus `<dir>/tmp/` for writes in
 * progress. Two levels of 256 shards keep directories small (a million blobs is
 * about 15 per leaf directory) without needing a manifest.
 *
 * A blob appears under its final name only by `rename(2)` from `tmp/` after the
 * file was fsynced, so a reader (or a restart after a crash) sees either no blob
 * or the complete one. Temp files left by a crash are removed by {@link sweepTemp}.
 */
export class FsBlobStore implements BlobStore {
  /** Shard directories created (or found) durably by this instance. */
  private readonly dirs = new Map<string, Promise<void>>();
  /** Per directory with renames waiting to be made durable: one fsync covers every rename done before it starts. */
  private readonly dirSyncs = new Map<string, GroupCommit<void>>();

  private readonly fs: BlobFs;
  /** How the log names this store's disk: its directory's name, never the whole path. */
  readonly label: string;

  private constructor(
    readonly dir: string,
    private readonly opts: FsBlobStoreOptions,
  ) {
    this.fs = opts.fs ?? nodeBlobFs;
    this.label = `drive "${basename(dir)}"`;
  }

  /** Open (creating if needed, mode 0700) a store rooted at `dir`. */
  static async open(dir: string, opts: FsBlobStoreOptions = {}): Promise<FsBlobStore> {
    const fs = opts.fs ?? nodeBlobFs;
    await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
    await mkdirDurable(join(dir, TMP_DIR), fs);
    // The root's own entry must be durable before the first put is acknowledged.
    await fsyncDir(dir, fs);
    await fsyncDir(dirname(dir), fs);
    return new FsBlobStore(dir, { ...opts });
  }

  private shardDir(id: string): string {
    return join(this.dir, id.slice(0, 2), id.slice(2, 4));
  }

  private blobPath(id: string): string {
    return join(this.shardDir(id), id);
  }

  /**
   * mkdir + fsync(parent), once per directory. The promise is shared so that a
   * concurrent put into the same new directory also waits for the parent's fsync
   * instead of seeing EEXIST and racing ahead of it.
   */
  private ensureDir(path: string): Promise<void> {
    let p = this.dirs.get(path);
    if (p === undefined) {
      p = mkdirDurable(path, this.fs);
      // A failed mkdir (ENOSPC, EIO) must be retried by the next put, not cached.
      p.catch(() => this.dirs.delete(path));
      this.dirs.set(path, p);
    }
    return p;
  }

  private async ensureShard(id: string): Promise<void> {
    const outer = join(this.dir, id.slice(0, 2));
    await this.ensureDir(outer);
    await this.ensureDir(join(outer, id.slice(2, 4)));
  }

  /**
   * Write `body` as blob `id` and resolve once it is durable (see BlobStore).
   * Rejects with code 'EEXIST' if the id is already taken: blobs are immutable,
   * and a reused id would mean a reused encryption context, so that is a bug to
   * surface, not to paper over by overwriting. A file-system error (disk full,
   * read-only, I/O error) rejects as a DiskFaultError naming this drive, after
   * whatever the put had written is removed (or, if that fails too, left in
   * tmp/ for the start-up sweep).
   */
  async put(id: string, body: Readable, signal?: AbortSignal): Promise<{ size: number }> {
    assertBlobId(id);
    signal?.throwIfAborted();
    try {
      return await this.write(id, body, signal);
    } catch (err) {
      throw asDiskFault(err, this.label) ?? err;
    }
  }

  private async write(id: string, body: Readable, signal?: AbortSignal): Promise<{ size: number }> {
    const tmpPath = join(this.dir, TMP_DIR, `${id}.${randomBytes(8).toString('hex')}`);
    const finalPath = this.blobPath(id);
    // The id check and the shard directories (a new one costs a mkdir and an
    // fsync of its parent) do not touch the temp file, so they run while the
    // body is written and synced instead of before it: a small PUT waits for the
    // slower of the two, not their sum. Nothing is renamed until all are done.
    const free = (async () => {
      if ((await this.stat(id)) !== undefined) {
        throw Object.assign(new Error(`blob ${id} already exists`), { code: 'EEXIST' });
      }
      await this.ensureShard(id);
    })();
    let renamed = false;
    try {
      const written = writeDurably(this.fs, tmpPath, body, this.opts.writeBufferBytes, signal);
      const [checked, size] = await Promise.allSettled([free, written]);
      // Either failure is the put's; the body's own error first, as before (a taken id is a bug, never the body's fault).
      if (checked.status === 'rejected' && (checked.reason as { code?: string }).code === 'EEXIST')
        throw checked.reason;
      if (size.status === 'rejected') throw size.reason;
      if (checked.status === 'rejected') throw checked.reason;
      signal?.throwIfAborted();
      await this.fs.rename(tmpPath, finalPath);
      renamed = true;
      // The rename itself is only durable once the directory holding it is synced.
      await this.syncDir(dirname(finalPath));
      return { size: size.value };
    } catch (err) {
      await unlinkQuiet(tmpPath, this.fs).catch(() => undefined);
      // We checked the id was free above, so a file under it now is ours; the caller
      // was told the put failed and will not reference it. If this unlink fails too,
      // no record names the blob and the start-up garbage sweep removes it.
      if (renamed) await unlinkQuiet(finalPath, this.fs).catch(() => undefined);
      throw err;
    }
  }

  /**
   * fsync `dir` after a rename into it. Concurrent callers share fsyncs: while
   * one is in flight, later callers (whose renames it may not cover) wait for the
   * next one, which then covers them all.
   */
  private syncDir(dir: string): Promise<void> {
    let g = this.dirSyncs.get(dir);
    if (g === undefined) {
      const group = new GroupCommit<void>(() => fsyncDir(dir, this.fs));
      this.dirSyncs.set(dir, (g = group));
    }
    const group = g;
    const done = group.submit(undefined);
    // Forget idle directories, so the map holds only those being written to now.
    const forget = () => {
      if (group.idle && this.dirSyncs.get(dir) === group) this.dirSyncs.delete(dir);
    };
    done.then(forget, forget);
    return done;
  }

  /**
   * Stream the blob, or bytes [start, end] inclusive of it. A range past the end
   * yields the bytes that exist. A missing blob makes the stream emit an error with
   * code 'ENOENT'. An invalid id or range throws synchronously.
   */
  get(id: string, range?: { start: number; end: number }): Readable {
    assertBlobId(id);
    const chunk = this.opts.readChunkBytes !== undefined ? { highWaterMark: this.opts.readChunkBytes } : {};
    if (range === undefined) return this.fs.createReadStream(this.blobPath(id), chunk);
    const { start, end } = range;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new RangeError(`invalid blob range [${start}, ${end}]`);
    }
    return this.fs.createReadStream(this.blobPath(id), { start, end, ...chunk });
  }

  /** Read up to `length` bytes at `offset`; shorter at the end of the blob. Missing blob: ENOENT. */
  async read(id: string, offset: number, length: number): Promise<Buffer> {
    assertBlobId(id);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`invalid read offset ${offset} length ${length}`);
    }
    const fh = await this.fs.open(this.blobPath(id), 'r').catch((err: unknown) => {
      throw this.readFault(err);
    });
    try {
      const buf = Buffer.alloc(length);
      let filled = 0;
      // read(2) may return fewer bytes than asked even before EOF; loop until 0.
      while (filled < length) {
        const { bytesRead } = await fh.read(buf, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === length ? buf : buf.subarray(0, filled);
    } catch (err) {
      throw this.readFault(err);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** One open, fstat and read: the whole blob if it is at most `maxBytes`, else undefined. */
  async readSmall(id: string, maxBytes: number): Promise<Buffer | undefined> {
    assertBlobId(id);
    const fh = await this.fs.open(this.blobPath(id), 'r').catch((err: unknown) => {
      throw this.readFault(err);
    });
    try {
      const { size } = await fh.stat();
      if (size > maxBytes) return undefined;
      const buf = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await fh.read(buf, filled, size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      // Shorter than its size said (cut while being read): what is there, which the caller's size check refuses.
      return filled === size ? buf : buf.subarray(0, filled);
    } catch (err) {
      throw this.readFault(err);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** Size of the blob, or undefined when it does not exist. */
  async stat(id: string): Promise<{ size: number } | undefined> {
    assertBlobId(id);
    try {
      const st = await this.fs.stat(this.blobPath(id));
      return { size: st.size };
    } catch (err) {
      if (isErrnoCode(err, 'ENOENT')) return undefined;
      throw this.readFault(err);
    }
  }

  /** A missing file stays ENOENT (missing data); any other file-system error is this drive failing. */
  private readFault(err: unknown): unknown {
    if (isErrnoCode(err, 'ENOENT')) return err;
    return asDiskFault(err, this.label) ?? err;
  }

  /**
   * Remove the blob; a missing blob is fine. The directory is not fsynced: if the
   * unlink is lost in a crash the blob is merely unreferenced again and the next
   * garbage sweep removes it. Shard directories are never removed, because a
   * concurrent put may be about to rename into one.
   */
  async delete(id: string): Promise<void> {
    assertBlobId(id);
    try {
      await unlinkQuiet(this.blobPath(id), this.fs);
    } catch (err) {
      throw asDiskFault(err, this.label) ?? err;
    }
  }

  /**
   * Every blob id on disk, shard by shard (not sorted). Reads directories as
   * streams so memory stays flat however many blobs there are. Temp files and
   * stray names are skipped. Does not sweep temp files: see {@link sweepTemp}.
   */
  async *list(): AsyncIterable<string> {
    for await (const outer of await this.fs.opendir(this.dir)) {
      if (!outer.isDirectory() || !SHARD_RE.test(outer.name)) continue;
      const outerPath = join(this.dir, outer.name);
      for await (const inner of await this.fs.opendir(outerPath)) {
        if (!inner.isDirectory() || !SHARD_RE.test(inner.name)) continue;
        const prefix = outer.name + inner.name;
        for await (const entry of await this.fs.opendir(join(outerPath, inner.name))) {
          if (entry.isFile() && BLOB_ID_RE.test(entry.name) && entry.name.startsWith(prefix)) {
            yield entry.name;
          }
        }
      }
    }
  }

  /**
   * Remove temp files not modified for `olderThanMs` (leftovers of a crash or a
   * killed process) and resolve with how many were removed. A put in progress
   * touches its temp file on every write, so choose `olderThanMs` well above the
   * longest stall a request may have; if a live put's file is removed anyway, its
   * rename fails and the put rejects, so nothing is published half-written.
   */
  async sweepTemp(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const tmp = join(this.dir, TMP_DIR);
    let removed = 0;
    for await (const entry of await this.fs.opendir(tmp)) {
      if (!entry.isFile()) continue;
      const path = join(tmp, entry.name);
      try {
        if ((await this.fs.stat(path)).mtimeMs > cutoff) continue;
        await this.fs.unlink(path);
        removed++;
      } catch (err) {
        if (!isErrnoCode(err, 'ENOENT')) throw err;
      }
    }
    return removed;
  }
}
