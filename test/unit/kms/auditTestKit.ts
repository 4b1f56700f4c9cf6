/** Shared by the audit log's unit tests: a temp dir, entries, and a file system whose syncs a test can hold. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeAuditFs, type AuditFs } from '../../../src/kms/auditLog.js';
import type { AuditInput } from '../../../src/kms/auditEntry.js';

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'coffer-audit-'));
}

export function entry(i: number, over: Partial<AuditInput> = {}): AuditInput {
  return { identity: `iam:u${i}`, action: 'disable', key: `k${i}`, outcome: 'success', via: 'api', ...over };
}

/** What the log did, in order: `write:<entries>` and `sync`, plus the ability to hold syncs. */
export interface SpyFs {
  fs: Partial<AuditFs>;
  events: string[];
  /** While true, each datasync waits until release(). */
  hold: boolean;
  release(): void;
  /** Makes the next datasync (or append) fail once with EIO. */
  failNext?: 'append' | 'datasync';
}

export function spyFs(): SpyFs {
  let waiting: Array<() => void> = [];
  const spy: SpyFs = {
    events: [],
    hold: false,
    release() {
      const w = waiting;
      waiting = [];
      for (const r of w) r();
    },
    fs: {
      async openAppend(path) {
        const f = await nodeAuditFs.openAppend(path);
        return {
          async append(data) {
            if (spy.failNext === 'append') {
              spy.failNext = undefined;
              // Half the batch reaches the file before the failure, as a short write would leave it.
              await f.append(data.subarray(0, Math.floor(data.length / 2)));
              throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
            }
            spy.events.push(`write:${data.toString('utf8').split('\n').length - 1}`);
            return f.append(data);
          },
          async datasync() {
            if (spy.hold) await new Promise<void>((r) => waiting.push(r));
            if (spy.failNext === 'datasync') {
              spy.failNext = undefined;
              throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
            }
            await f.datasync();
            spy.events.push('sync');
          },
          truncate: (n) => f.truncate(n),
          close: () => f.close(),
        };
      },
    },
  };
  return spy;
}
