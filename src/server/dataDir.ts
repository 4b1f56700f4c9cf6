/**
 * The data dir's own record of what it holds, so that a lost or damaged store
 * makes the server refuse to start instead of creating an empty one and
 * serving empty buckets (or, for the key store, new root keys that unwrap
 * nothing).
 *
 * `coffer-data.json` (the marker) is written when a data dir is first set up:
 * format version, instance id, the stores it holds, and whether the first
 * start completed. At every start, for each LevelDB store the process is about
 * to open (meta/, kms/, iam/, kms-instance/; present = its CURRENT file exists):
 *
 *   present                               -> fine
 *   missing, the marker lists it          -> refuse: the store was lost
 *   missing, first start not completed    -> fine (an interrupted first start)
 *   missing, no marker or not listed, but another store of this process is
 *   present or the blob drives hold data  -> refuse: lost metadata
 *   missing, nothing else there           -> fresh: create it
 *
 * Installs from before the marker get one at their next successful start.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, opendir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';

export const DATA_DIR_MARKER = 'coffer-data.json';
export const MARKER_FORMAT = 1;

/** Which stores a process opens in its data dir, from its configuration and role. */
export function storesOf(config: Config, role: { kms: boolean; s3: boolean }): GuardOptions {
  // A shared KMS store (COFFER_KMS_STORE_URL) keeps none of them in the data dir.
  const stores: StoreName[] = role.kms && !config.kmsStoreUrl ? ['kms', 'iam', 'kms-instance'] : [];
  if (role.s3 && !config.metaUrl) stores.push('meta');
  const blobDirs = role.s3 && !config.dataS3Endpoint ? (config.drives ?? [join(config.dataDir, 'blobs')]) : [];
  return { stores, blobDirs };
}

/** The LevelDB stores a data dir may hold, by directory name. */
export const STORE_NAMES = ['meta', 'kms', 'iam', 'kms-instance'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

const STORE_WHAT: Record<StoreName, string> = {
  meta: 'metadata store (buckets and objects)',
  kms: 'KMS key store (sealed root keys)',
  iam: 'IAM store (accounts, API keys, access keys)',
  'kms-instance': 'KMS instance store (key rings, instance policies)',
};

export interface DataDirMarker {
  format: number;
  instanceId: string;
  createdAt: string;
  /** False from the first start until it has opened every store. */
  initialized: boolean;
  stores: StoreName[];
}

/** The data dir cannot be used as it is; the message says what is missing and what to do. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

export interface DataDirGuard {
  marker: DataDirMarker;
  /** Stores found present before anything was opened. */
  present: ReadonlySet<StoreName>;
  /** Record that every store opened: from now on a missing one is refused. */
  ready(): Promise<void>;
}

export interface GuardOptions {
  /** The LevelDB stores this process opens in the data dir. */
  stores: readonly StoreName[];
  /** Directories of local blob data (blobs/ or the drives); data there with no metadata is lost metadata. */
  blobDirs?: readonly string[];
}

export async function guardDataDir(dataDir: string, o: GuardOptions): Promise<DataDirGuard> {
  const marker = await readMarker(dataDir);
  const present = new Set<StoreName>();
  for (const s of o.stores) if (await storePresent(dataDir, s)) present.add(s);
  const missing = o.stores.filter((s) => !present.has(s));
  const lost: StoreName[] = [];
  if (missing.length && !(marker && !marker.initialized)) {
    const blobData = missing.includes('meta') && (await anyBlobData(o.blobDirs ?? []));
    for (const s of missing) {
      if (marker?.stores.includes(s) || present.size > 0 || (s === 'meta' && blobData)) lost.push(s);
    }
    if (lost.length) throw new DataDirError(lostMessage(dataDir, lost, marker, blobData && present.size === 0));
  }
  const now: DataDirMarker = marker ?? {
    format: MARKER_FORMAT,
    instanceId: randomUUID(),
    createdAt: new Date().toISOString(),
    initialized: missing.length === 0,
    stores: [],
  };
  const stores = [...new Set([...now.stores, ...o.stores])].sort() as StoreName[];
  // A fresh dir gets its marker before the stores, so an interrupted first start is told apart from a lost store.
  if (!marker) await writeMarker(dataDir, { ...now, stores: [...present].sort() });
  return {
    marker: now,
    present,
    async ready() {
      await writeMarker(dataDir, { ...now, initialized: true, stores });
    },
  };
}

function lostMessage(
  dataDir: string,
  lost: StoreName[],
  marker: DataDirMarker | undefined,
  blobsOnly: boolean,
): string {
  const what = lost.map((s) => `the ${STORE_WHAT[s]} ${join(dataDir, s)}`).join(', ');
  const why = marker
    ? `${join(dataDir, DATA_DIR_MARKER)} records that it was created`
    : blobsOnly
      ? 'the blob drives hold object data'
      : 'other stores of this data dir exist';
  return (
    `refusing to start: ${what} is missing or incomplete, but ${why}. Starting would serve empty buckets ` +
    '(or new keys that unwrap nothing). Stop, and restore the metadata into an empty data dir: ' +
    '`coffer restore <backup dir> --data-dir <new dir>`, copy the blob drives next to it, and start on the new dir.'
  );
}

/** LevelDB writes CURRENT when it creates a database; a directory without it would silently become a new, empty one. */
async function storePresent(dataDir: string, s: StoreName): Promise<boolean> {
  try {
    return (await stat(join(dataDir, s, 'CURRENT'))).isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw e;
  }
}

/** Any file under a blob dir other than its tmp/ (blob files and shards sit in 2-character subdirectories). */
async function anyBlobData(dirs: readonly string[]): Promise<boolean> {
  const walk = async (dir: string, depth: number): Promise<boolean> => {
    let d;
    try {
      d = await opendir(dir);
    } catch {
      return false;
    }
    for await (const e of d) {
      if (depth === 0 && e.name === 'tmp') continue;
      if (e.isFile()) return true;
      if (e.isDirectory() && depth < 4 && (await walk(join(dir, e.name), depth + 1))) return true;
    }
    return false;
  };
  for (const d of dirs) if (await walk(d, 0)) return true;
  return false;
}

export async function readMarker(dataDir: string): Promise<DataDirMarker | undefined> {
  const path = join(dataDir, DATA_DIR_MARKER);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let m: Partial<DataDirMarker>;
  try {
    m = JSON.parse(text) as Partial<DataDirMarker>;
  } catch {
    throw new DataDirError(`refusing to start: ${path} is not valid JSON (the data dir's marker is damaged)`);
  }
  if (typeof m.format !== 'number' || m.format > MARKER_FORMAT)
    throw new DataDirError(
      `refusing to start: ${path} has format ${String(m.format)}; this Coffer knows format ${MARKER_FORMAT} (a newer version wrote it)`,
    );
  if (typeof m.instanceId !== 'string' || !Array.isArray(m.stores) || typeof m.initialized !== 'boolean')
    throw new DataDirError(`refusing to start: ${path} is damaged (instanceId, stores or initialized missing)`);
  return {
    format: m.format,
    instanceId: m.instanceId,
    createdAt: typeof m.createdAt === 'string' ? m.createdAt : '',
    initialized: m.initialized,
    stores: m.stores.filter((s): s is StoreName => (STORE_NAMES as readonly string[]).includes(s)),
  };
}

/** Temp file -> fsync -> rename -> fsync the dir: a torn marker would refuse the next start. */
export async function writeMarker(dataDir: string, m: DataDirMarker): Promise<void> {
  // Not chmod: the data dir may be a mount point the service user does not own.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, DATA_DIR_MARKER);
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(m, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dh = await open(dataDir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/**
 * Opens one LevelDB store, turning LevelDB's open failures into a DataDirError
 * that says what happened: held by another process, or damaged (then restore
 * from a backup). Other errors pass through unchanged.
 */
export async function openingStore<T>(dir: string, store: StoreName, openIt: () => Promise<T>): Promise<T> {
  try {
    return await openIt();
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'LEVEL_DATABASE_NOT_OPEN') throw e;
    const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (cause?.code === 'LEVEL_LOCKED')
      throw new DataDirError(
        `refusing to start: the ${STORE_WHAT[store]} ${dir} is in use by another process (its LevelDB lock is held); stop that process first`,
      );
    const detail = typeof cause?.message === 'string' ? cause.message : (e as Error).message;
    throw new DataDirError(
      `refusing to start: the ${STORE_WHAT[store]} ${dir} cannot be opened, it is damaged (${detail}). ` +
        'Restore the metadata from a backup into an empty data dir: `coffer restore <backup dir> --data-dir <new dir>`, ' +
        'copy the blob drives next to it, and start on the new dir.',
    );
  }
}
