/**
 * A BlobFs that fails chosen calls, for disk-fault tests: inject a fault (an
 * operation, an errno code, optionally a path pattern, after N calls or N
 * bytes, for a number of times) and every matching call rejects with an error
 * shaped like node's own (code, errno, syscall, path). Everything else goes to
 * the real file system.
 *
 * File handles are proxies over real ones: write, writev, sync, datasync,
 * read and close can fail; `afterBytes` lets that many bytes reach matching
 * files and cuts the write that crosses the limit short, as a disk that fills
 * up does (a short write, then ENOSPC on the next).
 */
import { constants } from 'node:os';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { nodeBlobFs, type BlobFs } from '../../src/storage/blobFs.js';

export type FaultOp =
  'open' | 'write' | 'fsync' | 'read' | 'close' | 'rename' | 'mkdir' | 'unlink' | 'stat' | 'opendir';

export interface Fault {
  op: FaultOp;
  /** Errno code to fail with: ENOSPC, EIO, EROFS, EDQUOT, ... */
  code: string;
  /** Only calls on matching paths (a substring or a RegExp; rename: its source or target). */
  path?: string | RegExp;
  /** open only: only opens whose flags start with this ('w' for writes, 'r' for reads). */
  flags?: string;
  /** Let this many matching calls through before failing. */
  afterCalls?: number;
  /** write only: let this many bytes reach matching files first (the crossing write is cut short). */
  afterBytes?: number;
  /** Fail at most this many times (default: every matching call). */
  times?: number;
}

interface ActiveFault extends Fault {
  calls: number;
  bytes: number;
  failed: number;
}

const DESCRIPTIONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'i/o error',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
};

/** An error as node's fs rejects with. */
export function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const errno = (constants.errno as Record<string, number | undefined>)[code];
  return Object.assign(new Error(`${code}: ${DESCRIPTIONS[code] ?? 'error'}, ${syscall} '${path}'`), {
    code,
    errno: errno === undefined ? undefined : -errno,
    syscall,
    path,
  });
}

const SYSCALL: Record<FaultOp, string> = {
  open: 'open',
  write: 'write',
  fsync: 'fsync',
  read: 'read',
  close: 'close',
  rename: 'rename',
  mkdir: 'mkdir',
  unlink: 'unlink',
  stat: 'stat',
  opendir: 'opendir',
};

export class FaultyFs implements BlobFs {
  private faults: ActiveFault[] = [];
  /** Failures raised so far, as `op path code`. */
  readonly raised: string[] = [];

  constructor(private readonly inner: BlobFs = nodeBlobFs) {}

  /** Add a fault; returns a function that removes it. */
  inject(fault: Fault): () => void {
    const f: ActiveFault = { ...fault, calls: 0, bytes: 0, failed: 0 };
    this.faults.push(f);
    return () => {
      this.faults = this.faults.filter((x) => x !== f);
    };
  }

  /** Remove every fault (the disk is healthy again). */
  clear(): void {
    this.faults = [];
  }

  private matching(op: FaultOp, paths: string[], flags?: string): ActiveFault[] {
    return this.faults.filter(
      (f) =>
        f.op === op &&
        (f.times === undefined || f.failed < f.times) &&
        (f.flags === undefined || (flags ?? '').startsWith(f.flags)) &&
        (f.path === undefined ||
          paths.some((p) => (typeof f.path === 'string' ? p.includes(f.path) : f.path!.test(p)))),
    );
  }

  private fail(f: ActiveFault, op: FaultOp, path: string): NodeJS.ErrnoException {
    f.failed++;
    this.raised.push(`${op} ${path} ${f.code}`);
    return errnoError(f.code, SYSCALL[op], path);
  }

  /** Throws when a (non-byte) fault matches this call and its call allowance is used up. */
  private check(op: FaultOp, paths: string[], flags?: string): void {
    for (const f of this.matching(op, paths, flags)) {
      if (f.afterBytes !== undefined) continue;
      f.calls++;
      if (f.calls > (f.afterCalls ?? 0)) throw this.fail(f, op, paths[0]);
    }
  }

  /** How many of `length` bytes a write to `path` may still put on disk (throws when none). */
  private allowance(path: string, length: number): number {
    let allowed = length;
    for (const f of this.matching('write', [path])) {
      if (f.afterBytes === undefined) continue;
      const room = f.afterBytes - f.bytes;
      if (room <= 0) throw this.fail(f, 'write', path);
      allowed = Math.min(allowed, room);
    }
    return allowed;
  }

  private account(path: string, n: number): void {
    for (const f of this.matching('write', [path])) if (f.afterBytes !== undefined) f.bytes += n;
  }

  async open(path: string, flags: string, mode?: number): Promise<FileHandle> {
    this.check('open', [path], flags);
    return this.wrap(await this.inner.open(path, flags, mode), path);
  }

  async mkdir(path: string, options: { recursive?: boolean; mode?: number }): Promise<string | undefined> {
    this.check('mkdir', [path]);
    return this.inner.mkdir(path, options);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', [from, to]);
    return this.inner.rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    this.check('unlink', [path]);
    return this.inner.unlink(path);
  }

  async stat(path: string): ReturnType<BlobFs['stat']> {
    this.check('stat', [path]);
    return this.inner.stat(path);
  }

  async opendir(path: string): ReturnType<BlobFs['opendir']> {
    this.check('opendir', [path]);
    return this.inner.opendir(path);
  }

  createReadStream(path: string, options: { start?: number; end?: number; highWaterMark?: number }): Readable {
    try {
      this.check('open', [path], 'r');
      this.check('read', [path]);
    } catch (err) {
      return new Readable({
        read() {
          this.destroy(err as Error);
        },
      });
    }
    return this.inner.createReadStream(path, options);
  }

  /** A proxy of `fh` whose write, writev, sync, datasync, read and close go through the faults. */
  private wrap(fh: FileHandle, path: string): FileHandle {
    const write = async (buf: Buffer, offset = 0, length = buf.length - offset, position?: number | null) => {
      this.check('write', [path]);
      const n = this.allowance(path, length);
      const res = await fh.write(buf, offset, n, position);
      this.account(path, res.bytesWritten);
      return res;
    };
    const writev = async (buffers: Buffer[], position?: number | null) => {
      this.check('write', [path]);
      const total = buffers.reduce((s, b) => s + b.length, 0);
      const n = this.allowance(path, total);
      if (n === total) {
        const res = await fh.writev(buffers, position ?? undefined);
        this.account(path, res.bytesWritten);
        return res;
      }
      const res = await fh.write(Buffer.concat(buffers).subarray(0, n), 0, n, position);
      this.account(path, res.bytesWritten);
      return { bytesWritten: res.bytesWritten, buffers };
    };
    const sync = async () => {
      this.check('fsync', [path]);
      return fh.sync();
    };
    const datasync = async () => {
      this.check('fsync', [path]);
      return fh.datasync();
    };
    const read = async (...args: Parameters<FileHandle['read']>) => {
      this.check('read', [path]);
      return (fh.read as (...a: unknown[]) => ReturnType<FileHandle['read']>)(...args);
    };
    const close = async () => {
      // The descriptor is released even when the close "fails", as close(2) does.
      await fh.close();
      this.check('close', [path]);
    };
    const overrides: Record<string | symbol, unknown> = { write, writev, sync, datasync, read, close };
    return new Proxy(fh, {
      get(target, prop) {
        if (prop in overrides) return overrides[prop];
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }
}
