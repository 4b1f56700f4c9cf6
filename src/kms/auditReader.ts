/**
 * Reads the audit log for `coffer kms audit` (GET /iam/v1/audit): the newest
 * `limit` entries that match, oldest first, across the live file and the
 * rotated ones. Files are scanned newest first, each streamed line by line
 * into a ring of at most the entries still wanted, so memory is bounded by
 * the limit, not by the log; older files are not opened once enough entries
 * (or only entries older than `since`) were found.
 */
import type { AuditEntry } from './auditEntry.js';
import { parseAuditLine } from './auditChain.js';
import { logFiles, readLines } from './auditFiles.js';

export interface AuditQuery {
  /** Only entries at or after this time (ms or RFC 3339). */
  since?: number | string;
  key?: string;
  instance?: string;
  identity?: string;
  action?: string;
  outcome?: 'success' | 'failure';
  /** Only what an account's owner may see: entries on its instances or in its account. */
  visibleTo?: { account: string; instances: ReadonlySet<string> };
  /** The newest `limit` matching entries (all when absent). */
  limit?: number;
}

function matcher(q: AuditQuery): (e: AuditEntry) => boolean {
  const since = q.since === undefined ? undefined : typeof q.since === 'number' ? q.since : Date.parse(q.since);
  return (e) =>
    !(since !== undefined && !(Date.parse(e.time) >= since)) &&
    !(q.key !== undefined && e.key !== q.key) &&
    !(q.instance !== undefined && e.instance !== q.instance) &&
    !(q.identity !== undefined && e.identity !== q.identity) &&
    !(q.action !== undefined && e.action !== q.action) &&
    !(q.outcome !== undefined && e.outcome !== q.outcome) &&
    !(
      q.visibleTo !== undefined &&
      !(e.instance !== undefined && q.visibleTo.instances.has(e.instance)) &&
      !(e.account !== undefined && e.account === q.visibleTo.account)
    );
}

/** The newest `keep` matches of one file, oldest first, and whether its first entry is older than `since`. */
async function scanFile(
  path: string,
  match: (e: AuditEntry) => boolean,
  keep: number,
  since: number | undefined,
): Promise<{ entries: AuditEntry[]; olderThanSince: boolean }> {
  const ring: AuditEntry[] = [];
  let next = 0;
  let first = true;
  let olderThanSince = false;
  for await (const line of readLines(path)) {
    if (!line.terminated || line.overlong || line.text === '') continue;
    const p = parseAuditLine(line.text);
    if (p.kind === 'invalid') continue;
    if (first) {
      first = false;
      olderThanSince = since !== undefined && Date.parse(p.entry.time) < since;
    }
    if (!match(p.entry)) continue;
    if (ring.length < keep) ring.push(p.entry);
    else {
      ring[next] = p.entry;
      next = (next + 1) % keep;
    }
  }
  return { entries: [...ring.slice(next), ...ring.slice(0, next)], olderThanSince };
}

/** Reads the log (the live file and its rotated predecessors); lines that are not entries are skipped. */
export async function readAuditLog(path: string, q: AuditQuery = {}): Promise<AuditEntry[]> {
  const limit = q.limit !== undefined && q.limit >= 0 ? q.limit : Infinity;
  if (limit === 0) return [];
  const since = q.since === undefined ? undefined : typeof q.since === 'number' ? q.since : Date.parse(q.since);
  const match = matcher(q);
  const files = (await logFiles(path)).reverse();
  const parts: AuditEntry[][] = [];
  let have = 0;
  for (const f of files) {
    const { entries, olderThanSince } = await scanFile(f, match, limit - have, since);
    parts.unshift(entries);
    have += entries.length;
    if (have >= limit || olderThanSince) break;
  }
  return parts.flat();
}
