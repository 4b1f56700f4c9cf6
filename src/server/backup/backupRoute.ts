/**
 * POST /admin/v1/backup on the KMS listener: a consistent snapshot of the
 * metadata, IAM and key stores of the running server, streamed in the backup
 * format (backupFormat.ts) for `coffer backup`. LevelDB lets one process open a
 * store, so the server that holds them takes the snapshot.
 *
 * Every store's snapshot is taken in one synchronous step before the first byte
 * is sent, so the stores are seen at one moment while writes go on. Only the
 * owner of the root (system) account may call it: a backup holds every
 * account's metadata (sealed secrets included).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Router from '@koa/router';
import type { Context } from 'koa';
import { IamError } from '../../iam/errors.js';
import type { IamService } from '../../iam/iamService.js';
import { bearer, renderIamError } from '../../iam/api/http.js';
import type { Logger } from '../../util/logger.js';
import type { RawEntries } from '../../util/levelSnapshot.js';
import type { StoreName } from '../dataDir.js';
import { BACKUP_FILES, BackupWriter } from './backupFormat.js';

/** The stores of this process that go into a backup; the embedded gateway adds its metadata store once open. */
export class BackupSources {
  private readonly stores = new Map<StoreName, () => RawEntries>();

  constructor(
    readonly dataDir: string,
    readonly instanceId: string,
  ) {}

  add(name: StoreName, snapshot: () => RawEntries): void {
    this.stores.set(name, snapshot);
  }

  /** The backup as a byte stream; the snapshots are taken now. */
  stream(now = new Date()): Readable {
    const snaps = [...this.stores].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, take]) => ({ name, it: take() }));
    return Readable.from(this.lines(snaps, now), { objectMode: false });
  }

  private async *lines(snaps: Array<{ name: StoreName; it: RawEntries }>, now: Date): AsyncGenerator<Buffer> {
    const w = new BackupWriter();
    try {
      const files: Array<{ name: string; data: Buffer }> = [];
      for (const name of BACKUP_FILES) {
        const data = await readFile(join(this.dataDir, name)).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return undefined;
          throw e;
        });
        if (data) files.push({ name, data });
      }
      yield w.header({
        createdAt: now.toISOString(),
        instanceId: this.instanceId,
        stores: snaps.map((s) => s.name),
        files: files.map((f) => f.name),
      });
      // Lines go out in ~64 KiB chunks: one write per line would cost a syscall per entry.
      let batch: Buffer[] = [];
      let bytes = 0;
      for (const { name, it } of snaps) {
        for await (const [k, v] of it) {
          const line = w.entry(name, k, v);
          batch.push(line);
          bytes += line.length;
          if (bytes >= 64 << 10) {
            yield Buffer.concat(batch);
            batch = [];
            bytes = 0;
          }
        }
      }
      for (const f of files) batch.push(w.file(f.name, f.data));
      batch.push(w.end());
      yield Buffer.concat(batch);
    } finally {
      for (const s of snaps) await s.it.close().catch(() => undefined);
    }
  }
}

export function backupRouter(d: { iam: IamService; sources: BackupSources; log: Logger }): Router {
  const router = new Router({ prefix: '/admin/v1' });
  router.post('/backup', async (ctx: Context) => {
    try {
      const caller = bearer(ctx, d.iam);
      const account = d.iam.getAccount(caller.identity.accountId);
      if (caller.identity.owner !== true || account?.system !== true)
        throw new IamError(403, 'FORBIDDEN', 'Only the owner of the root account may take a backup');
      const body = d.sources.stream();
      body.on('error', (e: Error) => d.log.error('metadata backup failed', { err: e.message }));
      d.log.info('metadata backup', { identity: caller.identity.id });
      ctx.set('cache-control', 'no-store');
      ctx.type = 'application/x-ndjson';
      ctx.body = body;
    } catch (e) {
      renderIamError(ctx, e, (m, f) => d.log.error(m, f));
    }
  });
  return router;
}
