/**
 * The lock that keeps `coffer heal` / `coffer scrub` and a server off the same
 * drives: `<drive>/coffer.lock` on every drive that is there, holding who took
 * it (pid, host, what for). The heal and scrub commands run offline, against a
 * stopped server's drives, so they need no admin endpoint and no credentials;
 * the lock is what makes "offline" enforced rather than hoped for. The server
 * takes it at start and refuses to start while a heal holds it, and the
 * commands refuse while a server holds it.
 *
 * A lock left by a process that is gone (a crash, kill -9) is taken over: on
 * this host the pid is checked. A lock from another host is never taken over
 * (its pid means nothing here); removing the file is then the operator's call.
 * A drive that is missing cannot be locked and is skipped: with it gone,
 * nothing writes to it anyway.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isErrnoCode, unlinkQuiet } from '../durableFs.js';

export const LOCK_FILE = 'coffer.lock';

interface LockRecord {
  pid: number;
  host: string;
  owner: string;
  since: string;
  token: string;
}

export class DrivesLockedError extends Error {
  readonly code = 'EDRIVESLOCKED';

  constructor(
    readonly path: string,
    readonly holder: Partial<LockRecord>,
  ) {
    super(
      `${path} is held by ${holder.owner ?? 'another process'} (pid ${holder.pid ?? '?'} on ${holder.host ?? '?'}, since ${holder.since ?? '?'})`,
    );
    this.name = 'DrivesLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return isErrnoCode(err, 'EPERM');
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function readRecord(path: string): Promise<Partial<LockRecord> | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Partial<LockRecord>;
  } catch (err) {
    if (isErrnoCode(err, 'ENOENT')) return undefined;
    return {}; // half-written or garbage: held by someone we cannot name
  }
}

export class DriveLock {
  private constructor(
    private readonly paths: string[],
    private readonly token: string,
  ) {}

  /** Lock every present drive of `roots` for `owner` ("server", "heal", "scrub"), or throw DrivesLockedError. */
  static async acquire(roots: readonly string[], owner: string): Promise<DriveLock> {
    const token = randomBytes(12).toString('hex');
    const record: LockRecord = { pid: process.pid, host: hostname(), owner, since: new Date().toISOString(), token };
    const taken: string[] = [];
    try {
      for (const root of roots) {
        if (!(await isDir(root))) continue;
        const path = join(root, LOCK_FILE);
        if (await take(path, record)) taken.push(path);
      }
    } catch (err) {
      await new DriveLock(taken, token).release();
      throw err;
    }
    return new DriveLock(taken, token);
  }

  /** Remove the lock files that are still ours. */
  async release(): Promise<void> {
    for (const path of this.paths) {
      const r = await readRecord(path).catch(() => undefined);
      if (r?.token === this.token) await unlinkQuiet(path).catch(() => undefined);
    }
    this.paths.length = 0;
  }
}

/** True when taken; false when the drive vanished meanwhile. */
async function take(path: string, record: LockRecord): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify(record) + '\n');
        await fh.sync();
      } finally {
        await fh.close();
      }
      return true;
    } catch (err) {
      if (isErrnoCode(err, 'ENOENT') || isErrnoCode(err, 'ENOTDIR')) return false;
      if (!isErrnoCode(err, 'EEXIST')) throw err;
    }
    const holder = await readRecord(path);
    if (holder === undefined) continue; // released meanwhile
    const stale =
      holder.host === record.host && typeof holder.pid === 'number' && holder.pid !== process.pid && !alive(holder.pid);
    if (!stale) throw new DrivesLockedError(path, holder);
    await unlinkQuiet(path);
  }
  throw new DrivesLockedError(path, (await readRecord(path)) ?? {});
}
