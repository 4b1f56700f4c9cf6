/**
 * Listings of the PostgreSQL MetaStore, as keyset pages: each page is one
 * indexed range query that starts strictly after the last row of the previous
 * one, so nothing is held open between pages (no cursor, no transaction) and a
 * consumer that stops early costs nothing. Each page is one snapshot; a
 * listing as a whole is not, exactly as when a client pages with markers.
 *
 * With a delimiter (ListObjectsQuery.delimiter), a key that rolls up into a
 * common prefix is returned and the rest of that common prefix is skipped in
 * the same pass: rows of it already fetched are dropped, and when a page ends
 * inside it the next query starts at `commonPrefix ‖ 0xFF`, one index seek past
 * the whole "directory" however many keys it holds.
 */
import type pg from 'pg';
import type { ListObjectsQuery, ListUploadsQuery, ListVersionsQuery, VersionEntry } from '../MetaStore.js';
import type { ObjectRecord, UploadRecord } from '../records.js';
import { assertBucketUid, isStorableName } from '../keyCodec.js';

/** First page small (most listings want few rows, or stop at max-keys + 1), later ones bigger. */
const FIRST_PAGE = 100;
const MAX_PAGE = 1000;
const HIGH = Buffer.from([0xff]);

const utf8 = (s: string) => Buffer.from(s, 'utf8');

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer: ${limit}`);
  return limit;
}

/**
 * A prefix no stored name can start with (NUL, a lone surrogate) selects nothing.
 * Otherwise its UTF-8 bytes and `prefix ‖ 0xFF`, an exclusive upper bound for
 * every key that starts with it (valid UTF-8 never contains 0xFF).
 */
function prefixBounds(prefix: string): { lo: Buffer; hi: Buffer } | undefined {
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
  if (prefix !== '' && !isStorableName(prefix)) return undefined;
  const lo = utf8(prefix);
  return { lo, hi: Buffer.concat([lo, HIGH]) };
}

function boundBytes(what: string, s: string | undefined): Buffer {
  if (s === undefined) return Buffer.alloc(0);
  if (typeof s !== 'string') throw new TypeError(`${what} must be a string`);
  // A lone surrogate becomes U+FFFD here: the bound compares as if it were that character, as in the LevelDB store.
  return utf8(s);
}

export async function* listObjectRows(pool: pg.Pool, q: ListObjectsQuery): AsyncGenerator<ObjectRecord> {
  assertBucketUid(q.bucketUid);
  let remaining = checkLimit(q.limit);
  const prefix = q.prefix ?? '';
  const bounds = prefixBounds(prefix);
  if (!bounds || remaining === 0) return;
  const delimiter = q.delimiter ? q.delimiter : undefined;
  // Keys are non-empty, so "after the empty string" is no bound at all.
  let after = boundBytes('after', q.after);
  let page = FIRST_PAGE;
  /** The common prefix of the last key returned, whose other keys are skipped. */
  let rolled: Buffer | undefined;
  for (;;) {
    const limit = Math.min(page, remaining);
    const r = await pool.query<{ key: Buffer; rec: string }>(
      'SELECT key, rec FROM coffer_objects WHERE bucket_uid = $1 AND key >= $2 AND key > $3 AND key < $4 ORDER BY key LIMIT $5',
      [q.bucketUid, bounds.lo, after, bounds.hi, limit],
    );
    for (const row of r.rows) {
      if (rolled && startsWith(row.key, rolled)) continue;
      rolled = undefined;
      const rec = JSON.parse(row.rec) as ObjectRecord;
      // Left out before the roll-up below: a marker must not make the rest of its common prefix skipped.
      if (rec.deleteMarker && !q.deleteMarkers) continue;
      yield rec;
      if (--remaining === 0) return;
      if (delimiter) {
        const at = rec.key.indexOf(delimiter, prefix.length);
        if (at >= 0) rolled = utf8(rec.key.slice(0, at + delimiter.length));
      }
    }
    if (r.rows.length < limit) return;
    const last = r.rows[r.rows.length - 1]!.key;
    // A page that ends inside a rolled-up common prefix: seek past all of it.
    after = rolled && startsWith(last, rolled) ? Buffer.concat([rolled, HIGH]) : last;
    page = Math.min(MAX_PAGE, page * 2);
  }
}

export async function* listUploadRows(pool: pg.Pool, q: ListUploadsQuery): AsyncGenerator<UploadRecord> {
  assertBucketUid(q.bucketUid);
  let remaining = checkLimit(q.limit);
  const bounds = prefixBounds(q.prefix ?? '');
  if (!bounds || remaining === 0) return;
  // (key, uploadId) strictly after the markers. With only a key marker, every
  // upload of that key is passed too: an empty uploadId is below all of them,
  // so that case is "key > afterKey" (see keyCodec.uploadRange).
  let pos: { key: Buffer; uploadId?: Buffer } | undefined;
  if (q.afterKey !== undefined) {
    pos = { key: boundBytes('afterKey', q.afterKey) };
    if (q.afterUploadId !== undefined) pos.uploadId = boundBytes('afterUploadId', q.afterUploadId);
  }
  let page = FIRST_PAGE;
  for (;;) {
    const limit = Math.min(page, remaining);
    const base = 'SELECT key, upload_id, rec FROM coffer_uploads WHERE bucket_uid = $1 AND key >= $2 AND key < $3';
    const order = 'ORDER BY key, upload_id LIMIT $4';
    const args: unknown[] = [q.bucketUid, bounds.lo, bounds.hi, limit];
    let sql: string;
    if (pos === undefined) sql = `${base} ${order}`;
    else if (pos.uploadId === undefined) sql = `${base} AND key > $5 ${order}`;
    else sql = `${base} AND (key, upload_id) > ($5, $6) ${order}`;
    if (pos) args.push(pos.key, ...(pos.uploadId ? [pos.uploadId] : []));
    const r = await pool.query<{ key: Buffer; upload_id: Buffer; rec: string }>(sql, args);
    for (const row of r.rows) {
      yield JSON.parse(row.rec) as UploadRecord;
      if (--remaining === 0) return;
    }
    if (r.rows.length < limit) return;
    const last = r.rows[r.rows.length - 1]!;
    pos = { key: last.key, uploadId: last.upload_id };
    page = Math.min(MAX_PAGE, page * 2);
  }
}

/** The noncurrent versions of one key, newest first, in keyset pages. */
export async function* listVersionRows(pool: pg.Pool, q: ListVersionsQuery): AsyncGenerator<VersionEntry> {
  assertBucketUid(q.bucketUid);
  let remaining = checkLimit(q.limit);
  if (remaining === 0 || !isStorableName(q.key)) return;
  let after = boundBytes('after', q.after);
  let page = FIRST_PAGE;
  for (;;) {
    const limit = Math.min(page, remaining);
    const r = await pool.query<{ history_id: Buffer; rec: string }>(
      'SELECT history_id, rec FROM coffer_object_versions WHERE bucket_uid = $1 AND key = $2 AND history_id > $3 ORDER BY history_id LIMIT $4',
      [q.bucketUid, utf8(q.key), after, limit],
    );
    for (const row of r.rows) {
      yield { historyId: row.history_id.toString('utf8'), record: JSON.parse(row.rec) as ObjectRecord };
      if (--remaining === 0) return;
    }
    if (r.rows.length < limit) return;
    after = r.rows[r.rows.length - 1]!.history_id;
    page = Math.min(MAX_PAGE, page * 2);
  }
}

const SCAN_COLUMNS = {
  coffer_objects: ['bucket_uid', 'key'],
  coffer_object_versions: ['bucket_uid', 'key', 'history_id'],
  coffer_parts: ['upload_id', 'part_number'],
} as const;

/** Every stored record of one table in primary-key order, page by page (for the garbage sweep). */
export async function* scanRecords<T>(pool: pg.Pool, table: keyof typeof SCAN_COLUMNS): AsyncGenerator<T> {
  const cols: readonly string[] = SCAN_COLUMNS[table];
  const list = cols.join(', ');
  let pos: unknown[] | undefined;
  for (;;) {
    const where = pos ? `WHERE (${list}) > (${cols.map((_, i) => `$${i + 1}`).join(', ')})` : '';
    const r = await pool.query<Record<string, unknown> & { rec: string }>(
      `SELECT ${list}, rec FROM ${table} ${where} ORDER BY ${list} LIMIT ${MAX_PAGE}`,
      pos ?? [],
    );
    for (const row of r.rows) yield JSON.parse(row.rec) as T;
    if (r.rows.length < MAX_PAGE) return;
    const last = r.rows[r.rows.length - 1]!;
    pos = cols.map((c) => last[c]);
  }
}

function startsWith(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.subarray(0, prefix.length).equals(prefix);
}
