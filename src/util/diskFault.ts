/**
 * A local disk that refused a write or a read: full (ENOSPC, EDQUOT),
 * read-only (EROFS), or failing (EIO and other system errors). Not the
 * client's fault and not damaged data, so the S3 layer answers 507
 * InsufficientStorage for a full disk and 503 ServiceUnavailable otherwise,
 * and nothing of the request is kept.
 *
 * The message names the operation, the drive (a short label, never a machine
 * path) and the errno, for the server log; the client gets a short reason only.
 * The original error is the `cause`.
 */
export type DiskFaultKind = 'full' | 'readonly' | 'io';

const FULL = new Set(['ENOSPC', 'EDQUOT']);

export function diskFaultKind(errno: string): DiskFaultKind {
  if (FULL.has(errno)) return 'full';
  return errno === 'EROFS' ? 'readonly' : 'io';
}

export class DiskFaultError extends Error {
  readonly kind: DiskFaultKind;

  constructor(
    /** The errno code, e.g. ENOSPC. */
    readonly errno: string,
    /** What was being done: the syscall (open, write, fsync, rename, mkdir, unlink...) or a store step. */
    readonly op: string,
    /** Which drive or store, as a label for the log (e.g. `drive 1 "disk2"`, `metadata`). */
    readonly drive: string,
    options?: { cause?: unknown },
  ) {
    super(`${op} on ${drive} failed: ${errno}`, options);
    this.name = 'DiskFaultError';
    this.kind = diskFaultKind(errno);
  }
}

interface SystemError {
  code: string;
  syscall: string;
}

/** A node system error (what fs calls reject with): an errno code and the syscall that failed. */
export function isSystemError(err: unknown): err is SystemError {
  const e = err as Partial<SystemError> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.code === 'string' &&
    /^E[A-Z0-9]+$/.test(e.code) &&
    typeof e.syscall === 'string'
  );
}

/**
 * `err` as a DiskFaultError of `drive` when it is a system error (or already
 * a DiskFaultError), else undefined: errors of the request itself (a body that
 * failed, an abort, a blob id taken) pass through unchanged.
 */
export function asDiskFault(err: unknown, drive: string): DiskFaultError | undefined {
  if (err instanceof DiskFaultError) return err;
  if (!isSystemError(err)) return undefined;
  return new DiskFaultError(err.code, err.syscall, drive, { cause: err });
}
