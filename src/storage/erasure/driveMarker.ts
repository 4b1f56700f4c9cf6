/**
 * The drive marker: `<drive>/coffer-drive.json`, naming the erasure set a drive
 * belongs to and its place in it. It is how a replaced disk is told from one
 * that simply has no blobs yet: a drive without a marker in a set whose other
 * drives carry one is new (an empty directory where a disk was swapped, or a
 * disk wiped), and the healer refills it. A drive from an older version with no
 * markers anywhere gets one, and counts as replaced only if it holds no shard
 * directories while another drive does.
 *
 * The marker is advisory: shard headers still decide what a shard is. A marker
 * naming another set or position is reported (a drive list reordered or a disk
 * from elsewhere), not acted on.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, isErrnoCode, unlinkQuiet } from '../durableFs.js';
import type { Drive } from './drive.js';

export const MARKER_FILE = 'coffer-drive.json';

export interface DriveMarker {
  format: 1;
  /** Random id of the erasure set, the same on every drive of it. */
  set: string;
  index: number;
  drives: number;
  parity: number;
}

export interface DriveIdentity {
  index: number;
  /** The root is a directory we can use. */
  present: boolean;
  /** Present but new to the set (see the module doc): needs a refill. */
  replaced: boolean;
  /** A marker that names another set or position, or a marker that could not be written. */
  note?: string;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function readMarker(root: string): Promise<DriveMarker | undefined> {
  let text: string;
  try {
    text = await readFile(join(root, MARKER_FILE), 'utf8');
  } catch (err) {
    if (isErrnoCode(err, 'ENOENT') || isErrnoCode(err, 'ENOTDIR')) return undefined;
    throw err;
  }
  try {
    const m = JSON.parse(text) as DriveMarker;
    if (m.format === 1 && typeof m.set === 'string' && Number.isInteger(m.index)) return m;
  } catch {
    /* unreadable: as if absent, it is rewritten */
  }
  return undefined;
}

/** Write the marker durably: a temp file, fsync, rename, fsync of the root. */
export async function writeMarker(root: string, marker: DriveMarker): Promise<void> {
  const tmp = join(root, `.${MARKER_FILE}.${randomBytes(6).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(JSON.stringify(marker) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, join(root, MARKER_FILE));
  } catch (err) {
    await unlinkQuiet(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(root);
}

/**
 * Look at every drive: which are there, which are new to the set (and get
 * their marker now). `setId` is the set's id once known; undefined on first
 * look (taken from the markers found, or made up for a new set).
 */
export async function identifyDrives(
  drives: readonly Drive[],
  parity: number,
  setId?: string,
): Promise<{ setId: string; drives: DriveIdentity[] }> {
  const seen = await Promise.all(
    drives.map(async (d) => {
      const present = await isDir(d.root);
      const marker = present ? await readMarker(d.root).catch(() => undefined) : undefined;
      const hasShards = present && (await d.shardDirs('.').catch(() => [])).length > 0;
      return { d, present, marker, hasShards };
    }),
  );
  if (setId === undefined) {
    const votes = new Map<string, number>();
    for (const s of seen) if (s.marker) votes.set(s.marker.set, (votes.get(s.marker.set) ?? 0) + 1);
    setId = [...votes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? randomBytes(16).toString('hex');
  }
  const anyMarker = seen.some((s) => s.marker?.set === setId);
  const anyShards = seen.some((s) => s.hasShards);
  const out: DriveIdentity[] = [];
  for (const s of seen) {
    const id: DriveIdentity = { index: s.d.index, present: s.present, replaced: false };
    if (s.present && !s.marker) {
      id.replaced = anyMarker || (anyShards && !s.hasShards);
      const marker: DriveMarker = { format: 1, set: setId, index: s.d.index, drives: drives.length, parity };
      try {
        await writeMarker(s.d.root, marker);
      } catch (err) {
        id.note = `cannot write the drive marker: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
      }
    } else if (s.marker && (s.marker.set !== setId || s.marker.index !== s.d.index)) {
      id.note =
        s.marker.set !== setId
          ? `marker names another erasure set (${s.marker.set})`
          : `marker names position ${s.marker.index} of the set, configured at ${s.d.index}`;
    }
    out.push(id);
  }
  return { setId, drives: out };
}
