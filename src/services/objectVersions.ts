/**
 * How the versions of one key change, as MetaStore batch steps. The current
 * version (which may be a delete marker) is the key's record in the object
 * index; noncurrent versions are in the history index under their history id
 * (versionIds.ts). Invariant: a key has history only while it has a current
 * version, so a listing of versions walks the current records and, per key, its
 * history. Callers hold the key's lock (ObjectService.locks) around the read
 * and the commit of the batch these stage.
 *
 * S3's rules, in one place:
 *  - a new current version with an id (versioning Enabled) pushes the previous
 *    current one, whatever it is, into the history;
 *  - a new null version (Suspended, or a bucket never versioned) replaces the
 *    null version wherever it is, current or noncurrent, and pushes a previous
 *    current version that has an id into the history;
 *  - removing a version by id deletes it; when it was the current one, the
 *    newest noncurrent version (a delete marker too) becomes current.
 */
import type { MetaBatch, MetaStore } from '../meta/MetaStore.js';
import type { BucketRecord, ObjectRecord } from '../meta/records.js';
import { DomainError } from './errors.js';
import { checkVersionId, NULL_VERSION, nullHistoryId } from './versionIds.js';

/** A key's number of noncurrent versions is unbounded; scans for the null one read them all. */
const ALL = Number.MAX_SAFE_INTEGER;

/** The S3 version id of a record: its own, or "null". */
export function versionOf(rec: ObjectRecord): string {
  return rec.version ?? NULL_VERSION;
}

/**
 * The x-amz-version-id to answer with: none in a bucket never versioned (as
 * AWS), else the record's version ("null" included).
 */
export function shownVersion(bucket: BucketRecord, rec: ObjectRecord): string | undefined {
  return bucket.versioning === undefined && rec.version === undefined ? undefined : versionOf(rec);
}

/** Where the history keeps a record when it is not current. */
export function historyIdFor(rec: ObjectRecord): string {
  return rec.version ?? nullHistoryId(rec.lastModified);
}

/** A version and where it lives: current, or in the history under `historyId`. */
export interface Located {
  record: ObjectRecord;
  historyId?: string;
}

async function nullInHistory(meta: MetaStore, b: BucketRecord, key: string): Promise<Located | undefined> {
  for await (const e of meta.listVersions({ bucketUid: b.uid, key, limit: ALL }))
    if (e.record.version === undefined) return { record: e.record, historyId: e.historyId };
  return undefined;
}

/**
 * The version `version` ("null" or an id) of `key`, current or not. A record is
 * only ever answered under the version it carries, so the version a read binds
 * into the seal is the one it asked for.
 */
export async function findVersion(
  meta: MetaStore,
  b: BucketRecord,
  key: string,
  version: string,
): Promise<Located | undefined> {
  checkVersionId(version);
  const cur = await meta.getObject(b.uid, key);
  if (cur && versionOf(cur) === version) return { record: cur };
  // A bucket never versioned has no history.
  if (b.versioning === undefined || !cur) return undefined;
  if (version === NULL_VERSION) return nullInHistory(meta, b, key);
  const rec = await meta.getVersion(b.uid, key, version);
  return rec && rec.version === version ? { record: rec, historyId: version } : undefined;
}

/** `found`, or the error S3 gives for a missing version or (by id) a delete marker. */
export function requireVersion(found: Located | undefined, key: string, version: string, method: string): Located {
  if (!found)
    throw new DomainError('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: version });
  if (found.record.deleteMarker)
    throw new DomainError(
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
      { Method: method, ResourceType: 'DeleteMarker' },
      { version, lastModified: found.record.lastModified },
    );
  return found;
}

/** The current version, or S3's 404 (which says so when it is a delete marker). */
export function requireCurrent(b: BucketRecord, key: string, cur: ObjectRecord | undefined): ObjectRecord {
  if (!cur) throw new DomainError('NoSuchKey', 'The specified key does not exist.', { Key: key });
  if (cur.deleteMarker)
    throw new DomainError(
      'NoSuchKey',
      'The specified key does not exist.',
      { Key: key },
      {
        version: versionOf(cur),
        lastModified: cur.lastModified,
      },
    );
  return cur;
}

/**
 * Stage `record` as the key's new current version over `prev` (the current one
 * read under the lock). Returns the versions it replaces for good, whose blobs
 * the caller deletes after the commit.
 */
export async function stageCurrent(
  meta: MetaStore,
  b: BucketRecord,
  record: ObjectRecord,
  prev: ObjectRecord | undefined,
  batch: MetaBatch,
): Promise<ObjectRecord[]> {
  batch.putObject(record);
  const gone: ObjectRecord[] = [];
  const isNull = record.version === undefined;
  if (prev) {
    if (isNull && prev.version === undefined) gone.push(prev);
    else batch.putVersion(historyIdFor(prev), prev);
  }
  if (isNull && b.versioning !== undefined) {
    const old = await nullInHistory(meta, b, record.key);
    if (old) {
      batch.deleteVersion(b.uid, record.key, old.historyId!);
      gone.push(old.record);
    }
  }
  return gone;
}

/** Stage the removal of the located version of `key`; the newest noncurrent one takes over as current. */
export async function stageRemoval(meta: MetaStore, b: BucketRecord, key: string, at: Located, batch: MetaBatch) {
  if (at.historyId !== undefined) {
    batch.deleteVersion(b.uid, key, at.historyId);
    return;
  }
  let next: { historyId: string; record: ObjectRecord } | undefined;
  if (b.versioning !== undefined)
    for await (const e of meta.listVersions({ bucketUid: b.uid, key, limit: 1 })) next = e;
  if (next) batch.putObject(next.record).deleteVersion(b.uid, key, next.historyId);
  else batch.deleteObject(b.uid, key);
}

/** Stage `next` in the place of the located version (a rewrite of its metadata: tags, a copy onto itself). */
export function stageRewrite(b: BucketRecord, at: Located, next: ObjectRecord, batch: MetaBatch): void {
  if (at.historyId !== undefined) batch.putVersion(at.historyId, next);
  else batch.putObject(next);
}

/** Read again the record at `at` (under the lock) to check nobody changed it meanwhile. */
export async function reread(meta: MetaStore, b: BucketRecord, key: string, at: Located) {
  return at.historyId !== undefined ? meta.getVersion(b.uid, key, at.historyId) : meta.getObject(b.uid, key);
}
