/**
 * The file-system steps every on-disk blob store shares: directories created
 * 0700 and made durable (the parent fsynced when an entry is new), directory
 * fsync after renames, quiet unlink, and writing a file through its handle.
 * One copy, so the plain store and the erasure-coded drives cannot drift apart
 * on what "durable" means. Every step goes through a BlobFs (node:fs unless
 * the caller passes another, see blobFs.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { nodeBlobFs, type BlobFs } from './blobFs.js';

export const DIR_MODE = 0o700;

export function isErrnoCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** fsync a directory so that entries created, renamed or removed in it are on stable storage. */
export async function fsyncDir(dir: string, fs: BlobFs = nodeBlobFs): Promise<void> {
  const fh = await fs.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `dir` if missing; when it was created, fsyncs the parent so the new entry survives a crash. */
export async function mkdirDurable(dir: string, fs: BlobFs = nodeBlobFs): Promise<void> {
  try {
    await fs.mkdir(dir, { mode: DIR_MODE });
  } catch (err) {
    if (isErrnoCode(err, 'EEXIST')) return;
    throw err;
  }
  await fsyncDir(dirname(dir), fs);
}

/** unlink; a file already gone is not an error. */
export async function unlinkQuiet(path: string, fs: BlobFs = nodeBlobFs): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (err) {
    if (!isErrnoCode(err, 'ENOENT')) throw err;
  }
}

/**
 * Write all of `buffers` at `position`, however the kernel splits it. A disk
 * that fills up answers a short write first and the error on the next call, so
 * a short write is continued, never taken for success.
 */
export async function writeFully(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  const total = buffers.reduce((n, b) => n + b.length, 0);
  let done = (await fh.writev(buffers, position)).bytesWritten;
  if (done === total) return;
  const all = Buffer.concat(buffers);
  while (done < total) {
    const { bytesWritten } = await fh.write(all, done, total - done, position + done);
    if (bytesWritten === 0) throw new Error('short write');
    done += bytesWritten;
  }
}

/**
 * A Writable that appends to an open file from offset 0 through the handle's
 * own write calls (batched with writev when chunks queue up), and never closes
 * the handle: the owner fsyncs and closes it. Used instead of
 * fh.createWriteStream, whose writes bypass a wrapped handle (see blobFs.ts).
 */
export class FileSink extends Writable {
  bytesWritten = 0;

  constructor(
    private readonly fh: FileHandle,
    highWaterMark?: number,
  ) {
    super(highWaterMark !== undefined ? { highWaterMark } : {});
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.append([chunk], cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.append(
      chunks.map((c) => c.chunk),
      cb,
    );
  }

  private append(buffers: Buffer[], cb: (err?: Error | null) => void): void {
    const n = buffers.reduce((s, b) => s + b.length, 0);
    writeFully(this.fh, buffers, this.bytesWritten).then(
      () => {
        this.bytesWritten += n;
        cb();
      },
      (err: Error) => cb(err),
    );
  }
}
