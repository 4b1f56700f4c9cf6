/**
 * LevelDB's write errors as disk faults. classic-level reports a failed log
 * write or sync as code LEVEL_IO_ERROR with LevelDB's status text, which holds
 * the file path and strerror ("IO error: <path>/000005.log: No space left on
 * device"). The path stays out: the fault names the metadata store and the
 * errno read back from the text, so a full metadata disk answers 507 like a
 * full blob drive, and a failing one 503, never a 500.
 *
 * After a failed sync LevelDB refuses every later write until it is reopened
 * (it cannot know whether the record reached the log), so a metadata disk that
 * filled up keeps answering 507/503 for writes until the server is restarted
 * with space freed; reads keep working.
 */
import { DiskFaultError } from '../util/diskFault.js';

const STRERROR: ReadonlyArray<[RegExp, string]> = [
  [/no space left on device/i, 'ENOSPC'],
  [/disk quota exceeded/i, 'EDQUOT'],
  [/read-only file system/i, 'EROFS'],
  [/input\/output error/i, 'EIO'],
];

/** `err` as a DiskFaultError of the metadata store when LevelDB reports an I/O error; other errors unchanged. */
export function levelWriteFault(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== 'LEVEL_IO_ERROR') return err;
  const text = typeof e.message === 'string' ? e.message : '';
  const errno = STRERROR.find(([re]) => re.test(text))?.[1] ?? 'EIO';
  return new DiskFaultError(errno, 'write', 'metadata', { cause: err });
}
