/**
 * The file-system calls the on-disk blob stores make, as one injectable seam.
 * FsBlobStore and the erasure drives (and durableFs under them) reach the disk
 * only through a BlobFs, which the composition root passes in and which is
 * node:fs everywhere outside tests. Tests pass a wrapper that fails chosen
 * calls with chosen errno codes (disk full, I/O error, read-only), so every
 * failure path of a write can be exercised without a broken disk.
 *
 * Handles are node's FileHandle: the stores use write, writev, read, sync and
 * close on them, and a wrapper may intercept those (see durableFs.FileSink,
 * which writes through them instead of a file stream, so it can).
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, opendir, rename, stat, unlink } from 'node:fs/promises';
import type { Dir, Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

export interface BlobFs {
  open(path: string, flags: string, mode?: number): Promise<FileHandle>;
  mkdir(path: string, options: { recursive?: boolean; mode?: number }): Promise<string | undefined>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  stat(path: string): Promise<Stats>;
  opendir(path: string): Promise<Dir>;
  /** A read stream of the file, or of bytes [start, end] inclusive of it. */
  createReadStream(path: string, options: { start?: number; end?: number; highWaterMark?: number }): Readable;
}

/** The real file system. */
export const nodeBlobFs: BlobFs = {
  open: (path, flags, mode) => open(path, flags, mode),
  mkdir: (path, options) => mkdir(path, options),
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  stat: (path) => stat(path),
  opendir: (path) => opendir(path),
  createReadStream: (path, options) => createReadStream(path, options),
};
