/**
 * `coffer restore`: a backup (backupFormat.ts) back into an empty data dir,
 * with the server stopped. The backup is read twice: once to check it whole
 * (checksum, counts, trailer) before anything is written, then to write the
 * stores (raw LevelDB entries, synced) and files (0600, fsynced), and last the
 * data dir marker, so a restore cut short is refused at the next start rather
 * than served half.
 *
 * The data dir must be empty, except for blobs/ (the blob drive copied in
 * beforehand). Blob data and the master key are not in a backup: copy the
 * drives, and bring the master key from where it is backed up apart.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { ensurePrivateDir } from '../../util/privateDir.js';
import { DataDirError, MARKER_FORMAT, writeMarker, type StoreName } from '../dataDir.js';
import { BackupReader, type BackupHeader, type BackupRecord } from './backupFormat.js';

/** Entries per LevelDB batch while restoring. */
const BATCH = 1000;

export interface RestoreResult {
  header: BackupHeader;
  entries: Record<string, number>;
  files: string[];
}

/** Reads and checks the whole backup file; calls `each` for every record (after the header). */
export async function readBackup(
  path: string,
  each?: (r: BackupRecord) => Promise<void> | void,
): Promise<BackupHeader> {
  const reader = new BackupReader();
  for await (const chunk of createReadStream(path)) {
    for (const r of reader.push(chunk as Buffer)) if (each) await each(r);
  }
  return reader.finish();
}

async function assertEmptyDataDir(dataDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dataDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const other = names.filter((n) => n !== 'blobs');
  if (other.length)
    throw new DataDirError(
      `refusing to restore into ${dataDir}: it is not empty (${other.slice(0, 5).join(', ')}${other.length > 5 ? ', ...' : ''}). ` +
        'Restore into a new, empty data dir (a copied blobs/ drive may already be in it).',
    );
}

export async function restoreBackup(backupFile: string, dataDir: string): Promise<RestoreResult> {
  const header = await readBackup(backupFile);
  await assertEmptyDataDir(dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const dbs = new Map<StoreName, Level<Buffer, Buffer>>();
  const pending = new Map<StoreName, Array<{ type: 'put'; key: Buffer; value: Buffer }>>();
  const entries: Record<string, number> = {};
  const files: string[] = [];
  try {
    for (const s of header.stores) {
      const dir = join(dataDir, s);
      await ensurePrivateDir(dir);
      const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
      await db.open();
      dbs.set(s, db);
      pending.set(s, []);
      entries[s] = 0;
    }
    const flush = async (s: StoreName, sync: boolean) => {
      const ops = pending.get(s)!;
      pending.set(s, []);
      if (ops.length || sync) await dbs.get(s)!.batch(ops, { sync });
    };
    await readBackup(backupFile, async (r) => {
      if (r.kind === 'entry') {
        const ops = pending.get(r.store)!;
        ops.push({ type: 'put', key: r.key, value: r.value });
        entries[r.store]!++;
        if (ops.length >= BATCH) await flush(r.store, false);
        return;
      }
      await writeFileDurable(join(dataDir, r.name), r.data);
      files.push(r.name);
    });
    // The last batch of each store is synced: LevelDB's log then holds everything before it.
    for (const s of header.stores) await flush(s, true);
  } finally {
    for (const db of dbs.values()) await db.close().catch(() => undefined);
  }
  await writeMarker(dataDir, {
    format: MARKER_FORMAT,
    instanceId: header.instanceId,
    createdAt: new Date().toISOString(),
    initialized: true,
    stores: [...header.stores].sort(),
  });
  return { header, entries, files };
}

async function writeFileDurable(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
