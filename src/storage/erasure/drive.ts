/**
 * One drive of an erasure set: a directory standing for one disk, with the
 * FsBlobStore layout (see shardFormat.ts). Only file-system mechanics live here;
 * what a failure means (a missing shard, a lost quorum) is the store's call.
 *
 * A drive whose root has gone (unmounted, deleted) is not recreated: writing
 * into the mount point would put shards on the wrong disk. A root that exists
 * but is empty (a replaced disk) gets its tmp/ and shard directories back.
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { nodeBlobFs, type BlobFs } from '../blobFs.js';
import { DIR_MODE, fsyncDir, isErrnoCode, mkdirDurable, unlinkQuiet } from '../durableFs.js';

export { isErrnoCode, unlinkQuiet };

const TMP_DIR = 'tmp';
const FILE_MODE = 0o600;
const SHARD_RE = /^[0-9a-f]{2}$/;
const BLOB_ID_RE = /^[0-9a-f]{32}$/;

export function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(err);
}

export class Drive {
  constructor(
    readonly root: string,
    readonly index: number,
    /** The file system (node:fs unless a test injects faults). */
    readonly fs: BlobFs = nodeBlobFs,
  ) {}

  /** How the log names this drive: its index and directory name, never the whole path. */
  get label(): string {
    return `drive ${this.index} "${basename(this.root)}"`;
  }

  /** unlink through this drive's file system; a file already gone is not an error. */
  unlinkQuiet(path: string): Promise<void> {
    return unlinkQuiet(path, this.fs);
  }

  /** Create the root (first start) and tmp/, durably. Fails for a root that is a file. */
  async init(): Promise<void> {
    await this.fs.mkdir(this.root, { recursive: true, mode: DIR_MODE });
    await mkdirDurable(join(this.root, TMP_DIR), this.fs);
    await fsyncDir(this.root, this.fs);
    await fsyncDir(dirname(this.root), this.fs);
  }

  shardPath(id: string): string {
    return join(this.root, id.slice(0, 2), id.slice(2, 4), id);
  }

  /** A new temp file for a shard of `id`, opened for writing. */
  async createTemp(id: string): Promise<{ fh: FileHandle; path: string }> {
    const path = join(this.root, TMP_DIR, `${id}.${randomBytes(8).toString('hex')}`);
    try {
      return { fh: await this.fs.open(path, 'wx', FILE_MODE), path };
    } catch (err) {
      // A replaced (empty) disk has no tmp/ yet: make it, but only under a root that exists.
      if (!isErrnoCode(err, 'ENOENT') || !(await this.rootExists())) throw err;
      await mkdirDurable(join(this.root, TMP_DIR), this.fs);
      return { fh: await this.fs.open(path, 'wx', FILE_MODE), path };
    }
  }

  /** Move a synced temp file to its final name and make the rename durable. */
  async publish(tmpPath: string, id: string): Promise<void> {
    const outer = join(this.root, id.slice(0, 2));
    await mkdirDurable(outer, this.fs);
    await mkdirDurable(join(outer, id.slice(2, 4)), this.fs);
    const final = this.shardPath(id);
    await this.fs.rename(tmpPath, final);
    await fsyncDir(dirname(final), this.fs);
  }

  /** Open the shard of `id` for reading; undefined when this drive has none. */
  async openShard(id: string): Promise<FileHandle | undefined> {
    try {
      return await this.fs.open(this.shardPath(id), 'r');
    } catch (err) {
      if (isErrnoCode(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async hasShard(id: string): Promise<boolean> {
    try {
      await this.fs.stat(this.shardPath(id));
      return true;
    } catch (err) {
      if (isErrnoCode(err, 'ENOENT') || isErrnoCode(err, 'ENOTDIR')) return false;
      throw err;
    }
  }

  /** Modification time of this drive's shard of `id`; undefined when there is none. */
  async shardMtimeMs(id: string): Promise<number | undefined> {
    try {
      return (await this.fs.stat(this.shardPath(id))).mtimeMs;
    } catch (err) {
      if (isErrnoCode(err, 'ENOENT') || isErrnoCode(err, 'ENOTDIR')) return undefined;
      throw err;
    }
  }

  private async rootExists(): Promise<boolean> {
    try {
      return (await this.fs.stat(this.root)).isDirectory();
    } catch {
      return false;
    }
  }

  /** Names of the two-hex-digit directories under `rel` (empty for a missing drive or directory). */
  async shardDirs(rel: string): Promise<string[]> {
    return (await this.names(join(this.root, rel), (e) => e.isDirectory() && SHARD_RE.test(e.name))) ?? [];
  }

  /** Blob ids in leaf directory `outer/inner`. */
  async idsIn(outer: string, inner: string): Promise<string[]> {
    const prefix = outer + inner;
    return (
      (await this.names(
        join(this.root, outer, inner),
        (e) => e.isFile() && BLOB_ID_RE.test(e.name) && e.name.startsWith(prefix),
      )) ?? []
    );
  }

  private async names(
    dir: string,
    keep: (e: { name: string; isFile(): boolean; isDirectory(): boolean }) => boolean,
  ): Promise<string[] | undefined> {
    let d;
    try {
      d = await this.fs.opendir(dir);
    } catch (err) {
      if (isErrnoCode(err, 'ENOENT') || isErrnoCode(err, 'ENOTDIR')) return undefined;
      throw err;
    }
    const out: string[] = [];
    for await (const e of d) if (keep(e)) out.push(e.name);
    return out;
  }

  /** Remove temp files not modified for `olderThanMs`; a missing drive has none. */
  async sweepTemp(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const tmp = join(this.root, TMP_DIR);
    const names = await this.names(tmp, (e) => e.isFile());
    let removed = 0;
    for (const name of names ?? []) {
      const path = join(tmp, name);
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
