/**
 * The hash chain of the audit log. Each line is one JSON object whose last
 * field is `"hash"`; the rest of the line (the body, closed with `}`) carries
 * `seq` and `prev`, the previous entry's hash. The hash is
 *
 *   SHA-256( prev as 64 lowercase hex characters || the body's UTF-8 bytes )
 *
 * over the exact bytes written, so verifying needs no re-serialization: the
 * body is the line with its `,"hash":"..."` suffix cut off. JSON escaping keeps
 * that suffix unambiguous (a string value cannot contain an unescaped quote).
 * Editing, deleting, inserting or reordering a line breaks the hash or the
 * prev/seq link of the line after it.
 */
import { createHash } from 'node:crypto';
import { formatAuditBody, isAuditEntry, type AuditEntry } from './auditEntry.js';

/** `prev` of the first entry ever. */
export const GENESIS = '0'.repeat(64);

/** Where the chain stands: the last entry's seq and hash (seq 0 and GENESIS before any entry). */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS };

const SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export function chainHash(prev: string, body: string): string {
  return createHash('sha256').update(prev, 'utf8').update(body, 'utf8').digest('hex');
}

/** The next line (with its newline) after `head`, and the head it makes. */
export function chainLine(e: AuditEntry, head: ChainHead): { line: string; head: ChainHead } {
  const seq = head.seq + 1;
  const body = formatAuditBody({ ...e, seq, prev: head.hash });
  const hash = chainHash(head.hash, body);
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}\n`, head: { seq, hash } };
}

export type ParsedLine =
  | { kind: 'chained'; entry: AuditEntry; seq: number; prev: string; hash: string; hashOk: boolean }
  /** An entry written before the log was chained. */
  | { kind: 'plain'; entry: AuditEntry }
  | { kind: 'invalid'; why: string };

/** Parses one line (without its newline). */
export function parseAuditLine(line: string): ParsedLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: 'invalid', why: 'not JSON' };
  }
  if (!isAuditEntry(v)) return { kind: 'invalid', why: 'not an audit entry' };
  const m = SUFFIX.exec(line);
  const e = v as AuditEntry;
  if (!m) {
    if (e.hash !== undefined || e.prev !== undefined) return { kind: 'invalid', why: 'the hash is not the last field' };
    return { kind: 'plain', entry: e };
  }
  if (typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq < 1)
    return { kind: 'invalid', why: 'no sequence number' };
  if (typeof e.prev !== 'string' || !HEX64.test(e.prev)) return { kind: 'invalid', why: 'no previous hash' };
  const hash = m[1]!;
  const body = line.slice(0, m.index) + '}';
  return { kind: 'chained', entry: e, seq: e.seq, prev: e.prev, hash, hashOk: chainHash(e.prev, body) === hash };
}
