/**
 * The files of the audit log: the live file (`kms-audit.log`), the rotated
 * ones (`kms-audit.log.1`, `.2`, ... oldest first: a rotation renames the live
 * file to the next number, so no file is ever renamed twice), and the head
 * (`kms-audit.log.head`: the seq and hash of the newest durable entry, which
 * is what lets verify notice whole lines cut off the end). Reading is line by
 * line from a stream, so no file is ever held whole in memory.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseAuditLine, type ChainHead } from './auditChain.js';

/** Longer lines are not entries (ours are a few hundred bytes); they are skipped, not buffered. */
export const MAX_LINE_BYTES = 64 * 1024;
/** The head file's fixed size: one write of it replaces it whole. */
export const HEAD_BYTES = 128;

export function headPath(path: string): string {
  return `${path}.head`;
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The numbers of the rotated files of `path`, ascending. */
export async function rotatedNumbers(path: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
  const prefix = `${basename(path)}.`;
  return names
    .filter((n) => n.startsWith(prefix) && /^[1-9]\d{0,8}$/.test(n.slice(prefix.length)))
    .map((n) => Number(n.slice(prefix.length)))
    .sort((a, b) => a - b);
}

/** Every file of the log, oldest first: the rotated ones, then the live one (which may not exist). */
export async function logFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const nums = await rotatedNumbers(path);
  return [...nums.map((n) => join(dir, `${basename(path)}.${n}`)), path];
}

export interface Line {
  text: string;
  /** 1-based. */
  lineNo: number;
  /** False for a last line with no newline (a write cut short). */
  terminated: boolean;
  /** The line was longer than MAX_LINE_BYTES: `text` is empty. */
  overlong: boolean;
}

/** The lines of a file, streamed; a missing file has none. */
export async function* readLines(path: string): AsyncGenerator<Line> {
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  let carry: Buffer[] = [];
  let carried = 0;
  let overlong = false;
  let lineNo = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
        const piece = chunk.subarray(from, nl);
        from = nl + 1;
        lineNo++;
        const long = overlong || carried + piece.length > MAX_LINE_BYTES;
        const text = long ? '' : Buffer.concat([...carry, piece]).toString('utf8');
        carry = [];
        carried = 0;
        overlong = false;
        yield { text, lineNo, terminated: true, overlong: long };
      }
      const rest = chunk.subarray(from);
      if (rest.length === 0) continue;
      if (overlong || carried + rest.length > MAX_LINE_BYTES) {
        overlong = true;
        carry = [];
        carried = 0;
      } else {
        carry.push(Buffer.from(rest));
        carried += rest.length;
      }
    }
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  } finally {
    stream.destroy();
  }
  if (carried > 0 || overlong) {
    lineNo++;
    yield { text: overlong ? '' : Buffer.concat(carry).toString('utf8'), lineNo, terminated: false, overlong };
  }
}

export interface Tail {
  size: number;
  /** Where the last complete line ends: bytes after it are a write cut short. */
  end: number;
  /** The newest chained entry in the file, if any. */
  head?: ChainHead;
}

/** Reads a file backwards, a chunk at a time, to its newest chained entry. A missing file is empty. */
export async function readTail(path: string): Promise<Tail> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if (isMissing(e)) return { size: 0, end: 0 };
    throw e;
  }
  try {
    const size = (await fh.stat()).size;
    const CHUNK = 64 * 1024;
    let pos = size;
    let end: number | undefined;
    // The start of a line that began before `pos` (its rest was in the chunk read before).
    let carry = Buffer.alloc(0);
    let junk = false;
    while (pos > 0) {
      const start = Math.max(0, pos - CHUNK);
      const buf = Buffer.alloc(pos - start);
      await fh.read(buf, 0, buf.length, start);
      const all = Buffer.concat([buf, carry]);
      let stop = all.length;
      if (end === undefined) {
        const nl = all.lastIndexOf(0x0a);
        if (nl === -1) {
          // All of this chunk is a write cut short: where it starts is all that matters.
          if (start === 0) return { size, end: 0 };
          pos = start;
          continue;
        }
        end = start + nl + 1;
        stop = nl;
      }
      for (;;) {
        const nl = stop > 0 ? all.lastIndexOf(0x0a, stop - 1) : -1;
        if (nl === -1 && start > 0) break;
        const text = junk ? '' : all.subarray(nl + 1, stop).toString('utf8');
        junk = false;
        const p = parseAuditLine(text);
        if (p.kind === 'chained') return { size, end, head: { seq: p.seq, hash: p.hash } };
        if (nl === -1) return { size, end };
        stop = nl;
      }
      // A line longer than any entry is skipped rather than carried on.
      junk = stop > MAX_LINE_BYTES;
      carry = junk ? Buffer.alloc(0) : all.subarray(0, stop);
      pos = start;
    }
    return { size, end: end ?? 0 };
  } finally {
    await fh.close();
  }
}

/** The head file, or undefined when it is missing or unreadable (it is written without fsync, so it may lag). */
export async function readHead(path: string): Promise<ChainHead | undefined> {
  let text: string;
  try {
    text = await readFile(headPath(path), 'utf8');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
  try {
    const v = JSON.parse(text) as { seq?: unknown; hash?: unknown };
    if (typeof v.seq === 'number' && Number.isSafeInteger(v.seq) && typeof v.hash === 'string')
      return { seq: v.seq, hash: v.hash };
  } catch {
    // A torn or foreign head: treated as absent.
  }
  return undefined;
}

export function formatHead(h: ChainHead): Buffer {
  const text = JSON.stringify({ seq: h.seq, hash: h.hash });
  return Buffer.from(text.padEnd(HEAD_BYTES - 1, ' ') + '\n', 'utf8');
}
