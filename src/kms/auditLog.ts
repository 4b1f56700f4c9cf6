/**
 * The audit log writer: hash-chained JSON lines (auditChain.ts) appended to
 * `<dataDir>/kms-audit.log` (0600), fsynced before the call they record is
 * answered. record() resolves only once its line is durable; concurrent calls
 * share one write and one fdatasync (util/groupCommit.ts), so the cost is
 * about two disk flushes however many calls are in flight.
 *
 * Rotation: when a batch would take the live file past `maxBytes`, the file is
 * renamed to the next numbered suffix and a new one started; the chain carries
 * on (the new file's first entry names the previous file's last hash as prev).
 *
 * Failures: a batch whose write or sync fails rejects every call in it, and
 * what it may have left in the file is cut off before the next batch, so the
 * file never holds an entry the chain in memory does not follow. A write cut
 * short by a crash (a last line with no newline) is cut off when the log is
 * opened again: it was never acknowledged.
 */
import { constants } from 'node:fs';
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { GroupCommit } from '../util/groupCommit.js';
import { chainLine, EMPTY_CHAIN, type ChainHead } from './auditChain.js';
import type { AuditEntry, AuditInput, AuditSink } from './auditEntry.js';
import { formatHead, headPath, readHead, readTail, rotatedNumbers } from './auditFiles.js';

export const DEFAULT_AUDIT_MAX_BYTES = 64 * 1024 * 1024;

/** The live file as the log uses it. */
export interface AuditFile {
  append(data: Buffer): Promise<void>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** The file system calls the log makes; tests inject a wrapper to see (and hold) each sync. */
export interface AuditFs {
  /** Opens (creating, 0600) for appending. */
  openAppend(path: string): Promise<AuditFile>;
  rename(from: string, to: string): Promise<void>;
  syncDir(dir: string): Promise<void>;
}

export const nodeAuditFs: AuditFs = {
  async openAppend(path) {
    const fh = await open(path, 'a', 0o600);
    // An existing file keeps its mode on open: tighten it.
    await fh.chmod(0o600);
    return {
      append: (data) => fh.appendFile(data),
      datasync: () => fh.datasync(),
      truncate: (n) => fh.truncate(n),
      close: () => fh.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  async syncDir(dir) {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  },
};

export interface AuditLogOptions {
  now?: () => number;
  /** A batch failed (its callers get the error too): for the server log. */
  onError?: (e: Error) => void;
  /** Something found on open that an operator should know (a cut-short write, a log behind its head). */
  onWarn?: (msg: string) => void;
  /** Rotate before the live file would pass this size (COFFER_AUDIT_MAX_BYTES). */
  maxBytes?: number;
  fs?: Partial<AuditFs>;
}

export class AuditLog implements AuditSink {
  private readonly commit = new GroupCommit<AuditEntry>((items) => this.write(items));
  private last: Promise<void> = Promise.resolve();
  private closed = false;
  /** The live file is known to hold bytes past `size` (a failed batch): cut them before writing. */
  private dirty = false;

  private constructor(
    private readonly path: string,
    private readonly fs: AuditFs,
    private file: AuditFile | undefined,
    private readonly headFh: FileHandle,
    private size: number,
    private head: ChainHead,
    private nextNumber: number,
    private readonly maxBytes: number,
    private readonly now: () => number,
    private readonly onError: (e: Error) => void,
  ) {}

  static async open(path: string, opts: AuditLogOptions = {}): Promise<AuditLog> {
    const fs = { ...nodeAuditFs, ...opts.fs };
    const warn = opts.onWarn ?? (() => undefined);
    const dir = dirname(path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const nums = await rotatedNumbers(path);
    const tail = await readTail(path);
    let head = tail.head;
    for (let i = nums.length - 1; head === undefined && i >= 0; i--)
      head = (await readTail(join(dir, `${basename(path)}.${nums[i]}`))).head;
    const file = await fs.openAppend(path);
    try {
      if (tail.end < tail.size) {
        await file.truncate(tail.end);
        await file.datasync();
        warn(`audit log: cut off ${tail.size - tail.end} bytes of a write a crash interrupted (never acknowledged)`);
      }
      await fs.syncDir(dir);
    } catch (e) {
      await file.close();
      throw e;
    }
    const chain = head ?? EMPTY_CHAIN;
    const stored = await readHead(path);
    if (stored !== undefined && stored.seq > chain.seq)
      warn(
        `audit log: entries are missing - the head file records seq ${stored.seq}, the log ends at seq ${chain.seq}`,
      );
    const headFh = await open(headPath(path), constants.O_RDWR | constants.O_CREAT, 0o600);
    return new AuditLog(
      path,
      fs,
      file,
      headFh,
      tail.end,
      chain,
      (nums[nums.length - 1] ?? 0) + 1,
      opts.maxBytes ?? DEFAULT_AUDIT_MAX_BYTES,
      opts.now ?? Date.now,
      opts.onError ?? (() => undefined),
    );
  }

  /** Resolves once the entry is durable; rejects if it could not be made so (the call must then fail). */
  record(e: AuditInput): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the audit log is closed'));
    const p = this.commit.submit({ time: new Date(this.now()).toISOString(), ...e });
    this.last = p.catch(() => undefined);
    return p;
  }

  /** Waits for every entry recorded so far to be written (or to have failed). */
  flush(): Promise<void> {
    return this.last;
  }

  /** The newest durable entry's seq and hash. */
  get chainHead(): ChainHead {
    return { ...this.head };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.last;
    await this.file?.close();
    this.file = undefined;
    await this.headFh.close();
  }

  private async write(items: AuditEntry[]): Promise<void> {
    try {
      await this.writeBatch(items);
    } catch (e) {
      this.onError(e as Error);
      throw e;
    }
  }

  private async writeBatch(items: AuditEntry[]): Promise<void> {
    let head = this.head;
    const lines: string[] = [];
    for (const e of items) {
      const c = chainLine(e, head);
      lines.push(c.line);
      head = c.head;
    }
    const data = Buffer.from(lines.join(''), 'utf8');
    if (this.dirty) await this.repair();
    if (this.size > 0 && this.size + data.length > this.maxBytes) await this.rotate();
    const file = await this.liveFile();
    try {
      await file.append(data);
      await file.datasync();
    } catch (e) {
      this.dirty = true;
      throw e;
    }
    this.size += data.length;
    this.head = head;
    // Without fsync: the head may lag the log after a power loss, never lead it.
    await this.headFh.write(formatHead(head), 0, undefined, 0).catch((e: unknown) => this.onError(e as Error));
  }

  private async liveFile(): Promise<AuditFile> {
    this.file ??= await this.fs.openAppend(this.path);
    return this.file;
  }

  private async repair(): Promise<void> {
    const file = await this.liveFile();
    await file.truncate(this.size);
    await file.datasync();
    this.dirty = false;
  }

  private async rotate(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
    const to = join(dirname(this.path), `${basename(this.path)}.${this.nextNumber}`);
    try {
      await this.fs.rename(this.path, to);
      this.nextNumber++;
    } catch (e) {
      // The live file gone from under us (removed by hand): there is nothing to rotate, so start a new one.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.size = 0;
    await this.liveFile();
    // The rename and the new file must both survive a crash before entries go into it.
    await this.fs.syncDir(dirname(this.path));
  }
}
