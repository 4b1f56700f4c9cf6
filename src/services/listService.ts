/**
 * Listing with prefix / delimiter / marker semantics shared by ListObjects v1,
 * ListObjectsV2 and ListObjectVersions. Keys come from the MetaStore in UTF-8
 * byte order; common prefixes are rolled up as they stream past, so memory is
 * bounded by max-keys, not by the bucket size.
 */
import type { MetaStore } from '../meta/MetaStore.js';
import type { BucketRecord, ObjectRecord } from '../meta/records.js';
import type { BucketService } from './bucketService.js';
import { addressOf, openObject } from './sealedMeta.js';
import { versionOf } from './objectVersions.js';
import { isCommonPrefix } from './commonPrefix.js';
import { listObjectVersions, type VersionListInput, type VersionListOutput } from './versionListing.js';

export type { ListedVersion, VersionListInput, VersionListOutput } from './versionListing.js';

export interface ListInput {
  bucket: BucketRecord;
  prefix: string;
  delimiter: string;
  /** Exclusive start (marker, start-after, or decoded continuation token). */
  after: string;
  maxKeys: number;
  requestId?: string;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModified: number;
  /** Hex ETag, or undefined when the bucket's key is unavailable (listing still works after crypto-shredding). */
  etag?: string;
  storageClass: string;
}

export interface ListOutput {
  objects: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Last key or common prefix returned (NextMarker / continuation). */
  last?: string;
}

export interface ListServiceDeps {
  meta: MetaStore;
  buckets: BucketService;
}

export class ListService {
  constructor(private readonly d: ListServiceDeps) {}

  /** One page of ListObjectVersions (versionListing.ts). */
  versions(input: VersionListInput): Promise<VersionListOutput> {
    return listObjectVersions(this.d.meta, this.d.buckets, input);
  }

  /** One page of the bucket's keys and common prefixes after `input.after`. */
  async list(input: ListInput): Promise<ListOutput> {
    const { bucket, prefix, delimiter, maxKeys } = input;
    const out: ListOutput = { objects: [], commonPrefixes: [], isTruncated: false };
    if (maxKeys <= 0) return out;
    let dek: Buffer | undefined;
    try {
      dek = await this.d.buckets.dek(bucket, input.requestId);
    } catch {
      dek = undefined;
    }
    // When resuming after a common prefix, every key under it was already rolled up.
    const afterIsPrefix = delimiter !== '' && isCommonPrefix(input.after, prefix, delimiter);
    let count = 0;
    let lastPrefix: string | undefined;
    // The delimiter lets a store that supports it skip each common prefix with one seek instead of reading every key under it.
    const it = this.d.meta.listObjects({
      bucketUid: bucket.uid,
      prefix,
      after: input.after || undefined,
      limit: Number.MAX_SAFE_INTEGER,
      ...(delimiter ? { delimiter } : {}),
    });
    for await (const rec of it) {
      if (afterIsPrefix && rec.key.startsWith(input.after)) continue;
      let cp: string | undefined;
      if (delimiter) {
        const idx = rec.key.indexOf(delimiter, prefix.length);
        if (idx >= 0) cp = rec.key.slice(0, idx + delimiter.length);
      }
      if (cp !== undefined && cp === lastPrefix) continue;
      if (count === maxKeys) {
        out.isTruncated = true;
        break;
      }
      count++;
      if (cp !== undefined) {
        lastPrefix = cp;
        out.commonPrefixes.push(cp);
        out.last = cp;
      } else {
        out.objects.push(toListed(rec, bucket, dek));
        out.last = rec.key;
      }
    }
    return out;
  }
}

function toListed(rec: ObjectRecord, bucket: BucketRecord, dek: Buffer | undefined): ListedObject {
  let etag: string | undefined;
  if (dek) {
    try {
      // A listing has no name to look up but the record's own: the entry is shown
      // under rec.key, and its seal must open under that name.
      etag = openObject(dek, addressOf(bucket, rec.key, versionOf(rec)), rec).etag;
    } catch {
      etag = undefined;
    }
  }
  return {
    key: rec.key,
    size: rec.size,
    lastModified: rec.lastModified,
    etag,
    storageClass: rec.storageClass ?? 'STANDARD',
  };
}
