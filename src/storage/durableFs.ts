/**
 * The file-system steps every on-disk blob store shares: directories created
 * 0700 and made durable (the parent fsynced when an entry is new), directory
 * fsync after renames, quiet unlink. One copy, so the plain store and the
 * erasure-coded drives cannot drift apart on what "durable" means.
 */
import { mkdir, open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export const DIR_MODE = 0o700;

export function isErrnoCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** fsync a directory so that entries created, renamed or removed in it are on stable storage. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates `dir` if missing; when it was created, fsyncs the parent so the new entry survives a crash. */
export async function mkdirDurable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: DIR_MODE });
  } catch (err) {
    if (isErrnoCode(err, 'EEXIST')) return;
    throw err;
  }
  await fsyncDir(dirname(dir));
}

/** unlink; a file already gone is not an error. */
export async function unlinkQuiet(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isErrnoCode(err, 'ENOENT')) throw err;
  }
}
