/**
 * What is on disk while the server is down (right after a kill, or after the
 * final clean stop): the metadata store opens (on a copy, so the server still
 * recovers the crashed original itself), every blob a record names has its
 * file (a shard on at least k drives when erasure-coded), and the blob and temp
 * files no record names. The orphans of one crash must be gone by the next
 * inspection: the start-up sweep in between has to remove them.
 */
import { cp, mkdtemp, opendir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LevelMetaStore } from '../../src/meta/levelMetaStore.js';
import type { ServerLayout } from './serverProcess.js';

const HEX2 = /^[0-9a-f]{2}$/;
const BLOB_ID = /^[0-9a-f]{32}$/;

export interface DiskState {
  /** Blob id -> drives holding a file for it. */
  blobs: Map<string, number>;
  /** Paths of temp files (writes in progress when the process died). */
  temps: string[];
  /** Blob ids no record names. */
  orphans: string[];
  /** Problems found: a record naming a missing blob, a torn audit line, a store that does not open. */
  problems: string[];
  /** Parsed audit log entries. */
  audit: Array<Record<string, unknown>>;
}

async function entries(dir: string): Promise<Array<{ name: string; dir: boolean }>> {
  const out: Array<{ name: string; dir: boolean }> = [];
  try {
    for await (const e of await opendir(dir)) out.push({ name: e.name, dir: e.isDirectory() });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return out;
}

async function scanDrive(root: string, blobs: Map<string, number>, temps: string[]): Promise<void> {
  for (const t of await entries(join(root, 'tmp'))) temps.push(join(root, 'tmp', t.name));
  for (const a of await entries(root)) {
    if (!a.dir || !HEX2.test(a.name)) continue;
    for (const b of await entries(join(root, a.name))) {
      if (!b.dir || !HEX2.test(b.name)) continue;
      for (const f of await entries(join(root, a.name, b.name))) {
        if (BLOB_ID.test(f.name)) blobs.set(f.name, (blobs.get(f.name) ?? 0) + 1);
      }
    }
  }
}

async function referencedIds(metaDir: string, scratch: string, problems: string[]): Promise<Set<string>> {
  const copy = await mkdtemp(join(scratch, 'meta-'));
  const ids = new Set<string>();
  try {
    await cp(metaDir, copy, { recursive: true });
    await rm(join(copy, 'LOCK'), { force: true });
    const meta = await LevelMetaStore.open(copy);
    try {
      for await (const id of meta.referencedDataIds()) ids.add(id);
    } finally {
      await meta.close();
    }
  } catch (e) {
    problems.push(`the metadata store does not open after the crash: ${(e as Error).message}`);
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
  return ids;
}

/** Every line of the audit log must be a whole JSON entry: a torn line means an append was cut. */
async function readAudit(path: string, problems: string[]): Promise<Array<Record<string, unknown>>> {
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const out: Array<Record<string, unknown>> = [];
  const lines = text.split('\n');
  if (lines.at(-1) !== '') problems.push(`the audit log ends in a torn line: ${JSON.stringify(lines.at(-1))}`);
  for (const line of lines.slice(0, -1)) {
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      problems.push(`the audit log has a line that is not an entry: ${JSON.stringify(line.slice(0, 200))}`);
    }
  }
  return out;
}

/** Inspect the data dir of a stopped server. `quorum`: drives a referenced blob needs (k of the erasure set, else 1). */
export async function inspectDisk(layout: ServerLayout, quorum: number, scratch: string): Promise<DiskState> {
  const problems: string[] = [];
  const blobs = new Map<string, number>();
  const temps: string[] = [];
  for (const root of layout.drives ?? [join(layout.dataDir, 'blobs')]) await scanDrive(root, blobs, temps);
  const referenced = await referencedIds(join(layout.dataDir, 'meta'), scratch, problems);
  for (const id of referenced) {
    const n = blobs.get(id) ?? 0;
    if (n < quorum) problems.push(`blob ${id} is named by a record but has ${n} of ${quorum} needed files`);
  }
  const orphans = [...blobs.keys()].filter((id) => !referenced.has(id));
  const audit = await readAudit(join(layout.dataDir, 'kms-audit.log'), problems);
  return { blobs, temps, orphans, problems, audit };
}
