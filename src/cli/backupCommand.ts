/**
 * `coffer backup <dir>` and `coffer restore <dir>`: the metadata safety of a
 * data dir (README "Backup and restore").
 *
 * backup asks the running server (POST /admin/v1/backup on the KMS API, as the
 * root account's owner) for a consistent snapshot of its metadata, IAM and key
 * stores, checks it as it arrives and writes it to <dir>/coffer-backup.jsonl
 * (fsynced, renamed into place only once complete). restore writes one back
 * into an empty data dir with the server stopped.
 *
 * Neither touches blob data (copy the drives) or the master key (backed up
 * apart): a backup alone decrypts nothing.
 */
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { ConfigError, loadClientConfig, loadConfig } from '../config.js';
import { ServiceAuthError, ServiceClient, ServiceUnavailableError } from '../keys/serviceClient.js';
import { BACKUP_FILE, BackupReader } from '../server/backup/backupFormat.js';
import { CliError, flag, parse, str, UsageError } from './args.js';
import type { Io } from './output.js';

export const BACKUP_USAGE = `coffer backup <dir> [--url URL] [--apikey KEY]

  Snapshot of the running server's metadata, IAM and key stores into <dir>/${BACKUP_FILE},
  taken by the server while it serves (root account owner's API key). Blob data and the
  master key are not in it: copy the blob drives, and back the master key up apart.

coffer restore <dir> [--data-dir DIR]

  Writes the backup in <dir> into an empty data dir (COFFER_DATA_DIR or --data-dir), the
  server stopped. Copy the blob drives back, provide the master key, then start the server.`;

const BACKUP_OPTIONS = {
  url: { type: 'string' as const },
  apikey: { type: 'string' as const },
  help: { type: 'boolean' as const, short: 'h' },
};

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

export async function runBackup(argv: string[], io: Io): Promise<number> {
  const p = parse(argv, BACKUP_OPTIONS, { min: 1, max: 1, usage: BACKUP_USAGE });
  if (flag(p, 'help')) {
    io.out(BACKUP_USAGE + '\n');
    return 0;
  }
  const dir = p.positionals[0]!;
  let cfg;
  try {
    const flags: { url?: string; apiKey?: string } = {};
    const url = str(p, 'url');
    const apiKey = str(p, 'apikey');
    if (url !== undefined) flags.url = url;
    if (apiKey !== undefined) flags.apiKey = apiKey;
    cfg = loadClientConfig(io.env, flags);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  if (!cfg.apiKey) throw new UsageError('an API key is needed: pass --apikey or set COFFER_API_KEY');
  const target = join(dir, BACKUP_FILE);
  if (await exists(target)) throw new CliError(`${target} already exists: back up into a new directory`);
  await mkdir(dir, { recursive: true, mode: 0o700 });

  const client = new ServiceClient({ url: cfg.url, apiKey: cfg.apiKey, retries: 2 });
  let res: Response;
  try {
    const token = await client.token();
    res = await fetch(`${cfg.url}/admin/v1/backup`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  } catch (e) {
    if (e instanceof ServiceAuthError) throw new CliError(`${cfg.url} refused the API key (--apikey / COFFER_API_KEY)`);
    if (e instanceof ServiceUnavailableError) throw new CliError(`cannot reach the KMS API: ${e.message}`);
    throw new CliError(`cannot reach the KMS API at ${cfg.url}: ${(e as Error).message}`);
  }
  if (res.status !== 200 || !res.body) {
    const text = await res.text().catch(() => '');
    let msg = text.slice(0, 300);
    try {
      const j = JSON.parse(text) as { errorMessage?: string; message?: string };
      msg = j.errorMessage ?? j.message ?? msg;
    } catch {
      /* not JSON: the text as it is */
    }
    throw new CliError(`the server refused the backup: ${res.status} ${msg}`);
  }

  const partial = `${target}.partial`;
  const reader = new BackupReader();
  const counts: Record<string, number> = {};
  const fh = await open(partial, 'w', 0o600);
  try {
    for await (const chunk of Readable.fromWeb(res.body as ReadableStream<Uint8Array>)) {
      const buf = Buffer.from(chunk as Uint8Array);
      for (const r of reader.push(buf)) if (r.kind === 'entry') counts[r.store] = (counts[r.store] ?? 0) + 1;
      await fh.write(buf);
    }
    reader.finish();
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw new CliError(`the backup failed, ${partial} is incomplete: ${(e as Error).message}`);
  }
  await fh.close();
  await rename(partial, target);
  await fsyncDir(dir);
  const h = reader.header!;
  io.out(
    `Backup written: ${target}\n` +
      `  instance ${h.instanceId}, taken ${h.createdAt}\n` +
      h.stores.map((s) => `  ${s}: ${counts[s] ?? 0} entries\n`).join('') +
      (h.files.length ? `  files: ${h.files.join(', ')}\n` : '') +
      '  Not in it: blob data (copy the drives) and the master key (keep its own backup).\n',
  );
  return 0;
}

export async function runRestore(argv: string[], io: Io): Promise<number> {
  const options = { 'data-dir': { type: 'string' as const }, help: { type: 'boolean' as const, short: 'h' } };
  const p = parse(argv, options, { min: 1, max: 1, usage: BACKUP_USAGE });
  if (flag(p, 'help')) {
    io.out(BACKUP_USAGE + '\n');
    return 0;
  }
  const dataDirFlag = str(p, 'data-dir');
  let dataDir: string;
  try {
    dataDir = loadConfig(io.env, dataDirFlag !== undefined ? { dataDir: dataDirFlag } : {}).dataDir;
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`invalid configuration: ${e.message}`);
    throw e;
  }
  const file = join(p.positionals[0]!, BACKUP_FILE);
  if (!(await exists(file))) throw new CliError(`${file} does not exist: name the directory \`coffer backup\` wrote`);
  const { restoreBackup } = await import('../server/backup/restore.js');
  const r = await restoreBackup(file, dataDir);
  io.out(
    `Restored into ${dataDir}: instance ${r.header.instanceId}, backup of ${r.header.createdAt}\n` +
      Object.entries(r.entries)
        .map(([s, n]) => `  ${s}: ${n} entries\n`)
        .join('') +
      (r.files.length ? `  files: ${r.files.join(', ')}\n` : '') +
      '  Next: copy the blob drives back (blobs/ or COFFER_DRIVES), provide the master key, start the server.\n',
  );
  return 0;
}
