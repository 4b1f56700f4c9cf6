/**
 * CopyObject and UploadPartCopy sources. A copy re-encrypts: the source is
 * decrypted and streamed through the normal write path under a fresh salt and
 * the target bucket's DEK. Copy onto itself with REPLACE rewrites metadata only.
 * The source's DEK stays in here: ObjectService.copy and
 * MultipartService.uploadPartCopy are the entry points.
 */
import { lockForNewVersion, type ObjectLockRequest } from './objectLock.js';
import type { Readable } from 'node:stream';
import type { BucketRecord, ObjectRecord, SealedMeta, StandardHeaders } from '../meta/records.js';
import type { AccessControlList } from '../meta/accessRecords.js';
import { checkPreconditions, type Preconditions } from './conditions.js';
import { DomainError } from './errors.js';
import { dataIds } from './blobLeases.js';
import type { BucketService } from './bucketService.js';
import type { ObjectService, WriteResult } from './objectService.js';
import { shownVersion, type Located } from './objectVersions.js';
import { concatDecrypted, piecesFor } from './streamIO.js';
import type { BlobStore } from '../storage/BlobStore.js';
import type { SseSpec } from './objectSseKeys.js';
import { parseChecksumAlgorithm, type ChecksumAlgorithm } from '../util/checksums.js';

export interface CopySourceSpec {
  bucket: string;
  key: string;
  versionId?: string;
}

/** Parse x-amz-copy-source: "/bucket/key", "bucket/key", URL-encoded, optional ?versionId=. */
export function parseCopySource(raw: string): CopySourceSpec {
  let s = raw;
  let versionId: string | undefined;
  const q = s.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(s.slice(q + 1));
    versionId = params.get('versionId') ?? undefined;
    s = s.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(s);
  } catch {
    throw new DomainError('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' });
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new DomainError(
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      { ArgumentName: 'x-amz-copy-source' },
    );
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
}

/** The source of a copy, as the request names it. */
export interface CopySource {
  /** x-amz-copy-source as sent ("/bucket/key", URL-encoded, optional ?versionId=). */
  copySource: string;
  /** The account the source bucket must belong to. */
  owner: string;
  /** x-amz-copy-source-if-* */
  conditions: Preconditions;
  /** x-amz-copy-source-server-side-encryption-customer-key: an SSE-C source needs it. */
  customerKey?: Buffer;
}

/** An opened source: services only (it holds the source's DEK). */
export interface OpenedSource {
  bucket: BucketRecord;
  /** The source key as x-amz-copy-source named it (the record was found, and its seal opened, under it). */
  key: string;
  record: ObjectRecord;
  /** Where the source version lives (current or noncurrent). */
  at: Located;
  /** x-amz-copy-source-version-id (absent for a source bucket never versioned). */
  version?: string;
  meta: SealedMeta;
  dek: Buffer;
  /** The key of the source's data: its bucket DEK or its per-object key (SSE-KMS, SSE-C). */
  dataDek: Buffer;
  /** Releases the source's blob lease (idempotent); call when the copy is done. */
  release: () => void;
}

/** Parse x-amz-copy-source, resolve its bucket, load and unseal the object, check the copy conditions. */
export async function openCopySource(
  objects: ObjectService,
  buckets: BucketService,
  source: CopySource,
  requestId?: string,
): Promise<OpenedSource> {
  const { key, versionId, bucket: bucketName } = parseCopySource(source.copySource);
  const bucket = await buckets.resolve(bucketName, source.owner);
  let at: Located;
  try {
    at = await objects.locate(bucket, key, versionId, 'GET');
  } catch (e) {
    if (e instanceof DomainError && e.code === 'MethodNotAllowed')
      throw new DomainError(
        'InvalidRequest',
        'The source of a copy request may not specifically refer to a delete marker by version id.',
      );
    throw e;
  }
  const record = at.record;
  const release = objects.leases.acquire(dataIds(record));
  try {
    const { dek, meta } = await objects.unseal(bucket, key, record, requestId);
    const dataDek = await objects.dataKey(bucket, dek, record.sse, meta.sseContext, source.customerKey, requestId);
    checkPreconditions(source.conditions, meta.etag, record.lastModified, true);
    return { bucket, key, record, at, version: shownVersion(bucket, record), meta, dek, dataDek, release };
  } catch (e) {
    release();
    throw e;
  }
}

/** Decrypted bytes [start, end] of the source. */
export function sourceStream(
  blobs: BlobStore,
  src: OpenedSource,
  bucketUid: string,
  start: number,
  end: number,
): Readable {
  return concatDecrypted(blobs, src.dataDek, bucketUid, piecesFor(src.record.stream, src.record.parts, start, end));
}

/**
 * x-amz-copy-source-range (UploadPartCopy) against the source's size: the
 * inclusive byte range to copy, the whole source when no range is given.
 */
export function copySourceRange(raw: string | undefined, size: number): { start: number; end: number } {
  if (raw === undefined) return { start: 0, end: size - 1 };
  const m = /^bytes=(\d+)-(\d+)$/.exec(raw.trim());
  if (!m)
    throw new DomainError(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      { ArgumentName: 'x-amz-copy-source-range' },
    );
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end || end >= size)
    throw new DomainError('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: size });
  return { start, end };
}

export interface CopyInput {
  source: CopySource;
  target: BucketRecord;
  key: string;
  replace: boolean;
  headers: StandardHeaders;
  userMeta: Record<string, string>;
  tags?: Record<string, string>;
  storageClass?: string;
  /** x-amz-object-lock-* for the new version; a source's lock is never copied (AWS's rule). */
  objectLock?: ObjectLockRequest;
  /** The copy's owner and ACL, from the copy request: a source's ACL is never copied (AWS's rule). */
  acl?: AccessControlList;
  requestId?: string;
  /** The target's encryption (x-amz-server-side-encryption*, SSE-C): a source's per-object key is never carried over. */
  sse?: SseSpec;
}

/** CopyObject (ObjectService.copy): open the source, copy, release the source's lease. */
export async function copyObject(
  objects: ObjectService,
  buckets: BucketService,
  blobs: BlobStore,
  c: CopyInput,
): Promise<WriteResult> {
  const source = await openCopySource(objects, buckets, c.source, c.requestId);
  try {
    return { ...(await copyOpened(objects, blobs, source, c)), sourceVersion: source.version };
  } finally {
    source.release();
  }
}

async function copyOpened(
  objects: ObjectService,
  blobs: BlobStore,
  source: OpenedSource,
  c: CopyInput,
): Promise<WriteResult> {
  const sourceBucket = source.bucket;
  // Onto its own current version: in a bucket never versioned that rewrites the
  // record in place; in a versioned one it makes a new version like any copy.
  const self = sourceBucket.uid === c.target.uid && source.key === c.key && source.at.historyId === undefined;
  const { retention: _r, legalHold: _h, acl: _a, sseContext: _c, ...sourceMeta } = source.meta;
  const meta: SealedMeta = {
    ...sourceMeta,
    userMeta: c.replace ? c.userMeta : source.meta.userMeta,
    tags: c.tags ?? source.meta.tags,
    ...lockForNewVersion(c.target, c.objectLock),
    ...(c.acl ? { acl: c.acl } : {}),
  };
  const encryptionChanges = !!source.record.sse || hasObjectKey(c.sse);
  if (self && !c.replace && c.storageClass === undefined && !encryptionChanges) {
    throw new DomainError(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  // In place only when the encryption stays the bucket's: any per-object key, old or new, means new data.
  if (self && c.target.versioning === undefined && !encryptionChanges) {
    const next = await objects.rewriteMeta(
      c.target,
      c.key,
      source.at,
      source.dek,
      meta,
      c.replace ? c.headers : { ...source.record.headers },
    );
    return {
      etag: meta.etag,
      checksums: meta.checksums,
      versionId: next.versionId,
      version: shownVersion(c.target, next),
      lastModified: next.lastModified,
      size: next.size,
      tags: meta.tags,
    };
  }
  const body = sourceStream(blobs, source, sourceBucket.uid, 0, source.record.size - 1);
  // The source's flexible checksums are computed again over the copied bytes
  // (a multipart source's composite value becomes a whole-object one).
  const algorithms = Object.keys(source.meta.checksums)
    .map(parseChecksumAlgorithm)
    .filter((a): a is ChecksumAlgorithm => a !== undefined);
  const res = await objects.put({
    bucket: c.target,
    key: c.key,
    body,
    headers: c.replace ? c.headers : { ...source.record.headers },
    userMeta: meta.userMeta,
    tags: meta.tags,
    storageClass: c.storageClass ?? source.record.storageClass,
    expect: { length: source.record.size, compute: algorithms },
    checksumAlgorithm: algorithms[0],
    acl: c.acl,
    requestId: c.requestId,
    sse: c.sse,
  });
  // A copied multipart object becomes one stream whose ETag is the MD5 of the
  // whole content, as AWS reports for a copy made in one request.
  return res;
}

/** True when `sse` asks for a per-object key (SSE-C, a KMS key, a context), not just the bucket's DEK. */
function hasObjectKey(sse: SseSpec | undefined): boolean {
  return !!sse && (!!sse.customerKey || sse.kms?.keyId !== undefined || sse.kms?.context !== undefined);
}
