/**
 * Test data on disk for the client suite: trees of small files with awkward
 * names (spaces, '+', '%', unicode, nested folders), large files from the
 * seeded generator, and manifests (relative path -> size, MD5) to compare a
 * tree that went through a client with the original, byte for byte.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SeededData } from '../../helpers/seeded.js';

/** Names every client must carry through unchanged (spaces, '+', '%', unicode). */
export const AWKWARD_NAMES = [
  'with space.txt',
  'plus+sign.bin',
  'per%25cent%.dat',
  'ünïcödé-日本語.txt',
  'a b+c%d é.txt',
  "quote's & amp=1;.txt",
];

export interface TreeSpec {
  /** Number of files. */
  files: number;
  seed: string;
  /** Largest file size (bytes); sizes are seeded in [1, maxSize], file 0 is empty. */
  maxSize?: number;
  /** Fixed modification times (ms, whole milliseconds) so clients that keep mtimes can be checked. */
  mtimes?: boolean;
}

export interface TreeFile {
  rel: string;
  size: number;
  md5: string;
  mtimeMs?: number;
  /** The file's modification time as the file system keeps it, in ns since the epoch (decimal string). */
  mtimeNs?: string;
}

/** A temporary directory under the OS tmp dir; remove it with `rm(dir, { recursive: true })`. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `coffer-clients-${prefix}-`));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Relative path of file i: nested folders (some with awkward names) and awkward file names. */
function pathFor(i: number): string {
  const top = ['alpha', 'beta dir', 'gämma+', 'delta%41'][i % 4];
  const mid = i % 3 === 0 ? '' : `sub ${i % 5}/`;
  const deep = i % 11 === 0 ? 'deep/er/' : '';
  const name =
    i < AWKWARD_NAMES.length ? AWKWARD_NAMES[i] : `file-${String(i).padStart(4, '0')}${i % 7 === 0 ? ' +%ü' : ''}.bin`;
  return `${top}/${mid}${deep}${name}`;
}

/** Small deterministic 32-bit generator for sizes and times. */
function lcg(seed: string): () => number {
  let s = createHash('sha256').update(seed).digest().readUInt32BE(0) || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

/** Write a tree of `spec.files` files under `dir`; every file has distinct content (except the one empty file). */
export async function makeTree(dir: string, spec: TreeSpec): Promise<TreeFile[]> {
  const rnd = lcg(spec.seed);
  const max = spec.maxSize ?? 8192;
  const out: TreeFile[] = [];
  for (let i = 0; i < spec.files; i++) {
    const rel = pathFor(i);
    const size = i === 0 ? 0 : 1 + (rnd() % max);
    const data = size === 0 ? Buffer.alloc(0) : new SeededData(`${spec.seed}/${i}`, size).bytes();
    const abs = join(dir, ...rel.split('/'));
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, data);
    const f: TreeFile = { rel, size, md5: createHash('md5').update(data).digest('hex') };
    if (spec.mtimes) {
      // 2021-2023, whole milliseconds.
      const ms = 1_609_459_200_000 + (rnd() % 94_608_000) * 1000 + (rnd() % 1000);
      await utimes(abs, ms / 1000, ms / 1000);
      f.mtimeMs = ms;
      f.mtimeNs = (await stat(abs, { bigint: true })).mtimeNs.toString();
    }
    out.push(f);
  }
  return out;
}

/** Every regular file under `dir` as relative path (with '/') -> size and MD5, sorted by path. */
export async function manifest(dir: string): Promise<TreeFile[]> {
  const out: TreeFile[] = [];
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await stat(p);
        out.push({ rel: relative(dir, p).split(sep).join('/'), size: st.size, md5: await md5File(p) });
      }
    }
  }
  await walk(dir);
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** The parts of a manifest that must survive a round trip (no mtimes), sorted. */
export function contentOf(files: TreeFile[]): Array<{ rel: string; size: number; md5: string }> {
  return files
    .map(({ rel, size, md5 }) => ({ rel, size, md5 }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

export async function md5File(p: string): Promise<string> {
  const h = createHash('md5');
  for await (const c of createReadStream(p)) h.update(c as Buffer);
  return h.digest('hex');
}

/** A large file of seeded pseudo-random bytes (streamed, never held in memory); returns its MD5. */
export async function writeSeededFile(path: string, size: number, seed: string): Promise<string> {
  const data = new SeededData(seed, size);
  const h = createHash('md5');
  await mkdir(dirname(path), { recursive: true });
  await pipeline(
    data.stream(),
    async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) {
        h.update(c);
        yield c;
      }
    },
    createWriteStream(path),
  );
  return h.digest('hex');
}

/** MD5 of a stream of bytes (e.g. a client writing a download to stdout). */
export function md5Sink(): { update(c: Buffer): void; size(): number; hex(): string } {
  const h = createHash('md5');
  let n = 0;
  return {
    update: (c) => {
      h.update(c);
      n += c.length;
    },
    size: () => n,
    hex: () => h.digest('hex'),
  };
}

/** An RFC 3339 time with up to 9 fractional digits ("2021-11-07T18:54:30.500999000Z") in ns since the epoch (decimal string). */
export function isoToNs(iso: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) throw new Error(`not an RFC 3339 time: ${iso}`);
  const secs = BigInt(Date.parse(`${m[1]}${m[3]}`) / 1000);
  return (secs * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))).toString();
}
