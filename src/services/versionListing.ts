/**
 * ListObjectVersions: every version of every key, keys in UTF-8 order and each
 * key's versions newest first (the current one, then its history), with S3's
 * prefix, delimiter, key-marker / version-id-marker and max-keys rules. The
 * current versions come from the same indexed scan as a plain listing (delete
 * markers included), and each key's history from its own range, so memory is
 * bounded by max-keys. A bucket never versioned has no history and lists each
 * object once, as its "null" version.
 */
import type { MetaStore } from '../meta/MetaStore.js';
import type { BucketRecord, ObjectRecord } from '../meta/records.js';
import type { BucketService } from './bucketService.js';
import { DomainError } from './errors.js';
import { isCommonPrefix } from './commonPrefix.js';
import { versionOf } from './objectVersions.js';
import { addressOf, openObject } from './sealedMeta.js';
import { checkVersionId, NULL_VERSION } from './versionIds.js';

export interface VersionListInput {
  bucket: BucketRecord;
  prefix: string;
  delimiter: string;
  /** key-marker: start after this key (or inside it, with versionIdMarker). */
  keyMarker: string;
  /** version-id-marker: with keyMarker, resume after this version of that key. */
  versionIdMarker: string;
  maxKeys: number;
  requestId?: string;
}

export interface ListedVersion {
  key: string;
  version: string;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  lastModified: number;
  /** Hex ETag; undefined for delete markers and when the bucket's key is unavailable. */
  etag?: string;
  storageClass: string;
}

export interface VersionListOutput {
  versions: ListedVersion[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

const ALL = Number.MAX_SAFE_INTEGER;

export async function listObjectVersions(
  meta: MetaStore,
  buckets: BucketService,
  input: VersionListInput,
): Promise<VersionListOutput> {
  const { bucket: b, prefix, delimiter, keyMarker, versionIdMarker, maxKeys } = input;
  if (versionIdMarker !== '' && keyMarker === '')
    throw new DomainError('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', {
      ArgumentName: 'version-id-marker',
      ArgumentValue: versionIdMarker,
    });
  if (versionIdMarker !== '') checkVersionId(versionIdMarker);
  const out: VersionListOutput = { versions: [], commonPrefixes: [], isTruncated: false };
  if (maxKeys <= 0) return out;
  let dek: Buffer | undefined;
  try {
    dek = await buckets.dek(b, input.requestId);
  } catch {
    dek = undefined;
  }
  const versioned = b.versioning !== undefined;
  let count = 0;
  let last: { key: string; version?: string } | undefined;
  /** Add one entry; false (and truncated) when the page is already full. */
  const emit = (rec: ObjectRecord, isLatest: boolean): boolean => {
    if (count === maxKeys) {
      out.isTruncated = true;
      return false;
    }
    count++;
    out.versions.push(listed(b, rec, isLatest, dek));
    last = { key: rec.key, version: versionOf(rec) };
    return true;
  };
  const history = (key: string, after?: string) =>
    meta.listVersions({ bucketUid: b.uid, key, limit: ALL, ...(after !== undefined ? { after } : {}) });

  done: {
    if (versionIdMarker !== '' && keyMarker.startsWith(prefix)) {
      // Resume inside key-marker: the versions after version-id-marker, then the keys after it.
      const cur = versioned ? await meta.getObject(b.uid, keyMarker) : undefined;
      const after = cur && (await historyBound(meta, b, cur, versionIdMarker));
      if (cur && after !== null)
        for await (const e of history(keyMarker, after)) if (!emit(e.record, false)) break done;
    }
    const afterIsPrefix = delimiter !== '' && isCommonPrefix(keyMarker, prefix, delimiter);
    let lastPrefix: string | undefined;
    const it = meta.listObjects({
      bucketUid: b.uid,
      prefix,
      after: keyMarker || undefined,
      limit: ALL,
      deleteMarkers: true,
      ...(delimiter ? { delimiter } : {}),
    });
    for await (const rec of it) {
      if (afterIsPrefix && rec.key.startsWith(keyMarker)) continue;
      let cp: string | undefined;
      if (delimiter) {
        const idx = rec.key.indexOf(delimiter, prefix.length);
        if (idx >= 0) cp = rec.key.slice(0, idx + delimiter.length);
      }
      if (cp !== undefined) {
        if (cp === lastPrefix) continue;
        if (count === maxKeys) {
          out.isTruncated = true;
          break;
        }
        count++;
        lastPrefix = cp;
        out.commonPrefixes.push(cp);
        last = { key: cp };
        continue;
      }
      if (!emit(rec, true)) break;
      if (versioned) for await (const e of history(rec.key)) if (!emit(e.record, false)) break done;
    }
  }
  if (out.isTruncated && last) {
    out.nextKeyMarker = last.key;
    out.nextVersionIdMarker = last.version;
  }
  return out;
}

/**
 * The history id to resume after, for `marker` of the key whose current version
 * is `cur`: undefined for the whole history (the marker is the current
 * version), null when none of it is left (a null marker no longer there).
 * Version ids are history ids, so a marker whose version was deleted meanwhile
 * still resumes at its place.
 */
async function historyBound(
  meta: MetaStore,
  b: BucketRecord,
  cur: ObjectRecord,
  marker: string,
): Promise<string | undefined | null> {
  if (marker === versionOf(cur)) return undefined;
  if (marker !== NULL_VERSION) return marker;
  for await (const e of meta.listVersions({ bucketUid: b.uid, key: cur.key, limit: ALL }))
    if (e.record.version === undefined) return e.historyId;
  return null;
}

function listed(b: BucketRecord, rec: ObjectRecord, isLatest: boolean, dek: Buffer | undefined): ListedVersion {
  let etag: string | undefined;
  if (dek && !rec.deleteMarker) {
    try {
      // As in a plain listing, the entry's own name and version are all there is to look it up under.
      etag = openObject(dek, addressOf(b, rec.key, versionOf(rec)), rec).etag;
    } catch {
      etag = undefined;
    }
  }
  return {
    key: rec.key,
    version: versionOf(rec),
    isLatest,
    deleteMarker: !!rec.deleteMarker,
    size: rec.size,
    lastModified: rec.lastModified,
    etag,
    storageClass: rec.storageClass ?? 'STANDARD',
  };
}
