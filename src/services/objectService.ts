/**
 * Objects: put, get/head, copy, delete, tagging. Meta + KMS + crypto + storage;
 * no HTTP. Every write follows one order: blob durable -> one metadata batch
 * (the commit point) -> replaced blobs deleted. A crash before the commit
 * leaves the old object and an orphan blob (swept later), never a mix.
 */
import { MetaConflictError, MetaStoreUnavailableError } from '../meta/metaStoreErrors.js';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../storage/BlobStore.js';
import type { MetaStore } from '../meta/MetaStore.js';
import type { BucketRecord, ObjectRecord, SealedMeta, StandardHeaders } from '../meta/records.js';
import type { ChecksumAlgorithm } from '../util/checksums.js';
import { KeyedMutex } from '../util/keyedMutex.js';
import { BlobLeases, dataIds } from './blobLeases.js';
import type { Logger } from '../util/logger.js';
import type { BucketService } from './bucketService.js';
import {
  checkPreconditions,
  checkWriteConditions,
  hasWriteConditions,
  type Preconditions,
  type WriteConditions,
} from './conditions.js';
import { copyObject, type CopyInput } from './copyService.js';
import { objectAttributes, type AttributesInput, type AttributesResult } from './objectAttributes.js';
import { addressOf, openObject, sealObject } from './sealedMeta.js';
import { newId, openConcatDecrypted, piecesFor, writeEncryptedStream } from './streamIO.js';
import { UploadHasher, type UploadExpectations } from './uploadHasher.js';
import { MAX_SINGLE_PUT, validateKey } from './objectKeys.js';
import { servedRange } from './readRange.js';
import { removeObject, type DeleteInput, type DeleteResult } from './objectDelete.js';
import { rewriteRecord } from './objectRewrite.js';
import {
  findVersion,
  requireCurrent,
  requireVersion,
  shownVersion,
  stageCurrent,
  versionOf,
  type Located,
} from './objectVersions.js';
import { newVersionId } from './versionIds.js';
import { DomainError } from './errors.js';
import { lockForNewVersion, type ObjectLockRequest } from './objectLock.js';
import { legalHoldOf, retentionOf, setLegalHold, setRetention, type LockTarget } from './objectLockOps.js';
import type { ObjectRetention, ObjectSse } from '../meta/records.js';
import type { AccessControlList } from '../meta/accessRecords.js';
import type { ObjectSseKeys, SseSpec } from './objectSseKeys.js';

/** Conditional writes, as callers outside src/services name them. */
export type { WriteConditions } from './conditions.js';
export type { DeleteInput, DeleteResult } from './objectDelete.js';
export type { ObjectLockRequest } from './objectLock.js';
export type { LockTarget } from './objectLockOps.js';
/** The x-amz-version-id of a record in a bucket, for handlers (none in a bucket never versioned). */
export { shownVersion } from './objectVersions.js';

export { MAX_KEY_BYTES, MAX_SINGLE_PUT, validateKey } from './objectKeys.js';
export type { SseSpec } from './objectSseKeys.js';
/** Per-object keys, built by the server beside the object service. */
export { ObjectSseKeys } from './objectSseKeys.js';

export interface ObjectServiceDeps {
  meta: MetaStore;
  blobs: BlobStore;
  buckets: BucketService;
  segmentLog2: number;
  log: Logger;
  /**
   * On a data tier other gateways share: queue replaced blobs instead of
   * deleting them, so GETs on those gateways can finish (sharedGarbage.ts).
   */
  deferDelete?: (ids: readonly string[]) => Promise<void>;
  /** Per-object keys (SSE-KMS, SSE-C); without it a request for one is refused. */
  sse?: ObjectSseKeys;
}

export interface PutInput {
  bucket: BucketRecord;
  key: string;
  body: Readable;
  headers: StandardHeaders;
  userMeta: Record<string, string>;
  tags?: Record<string, string>;
  storageClass?: string;
  expect: UploadExpectations;
  checksumAlgorithm?: ChecksumAlgorithm;
  /** If-Match / If-None-Match: checked before the body is read and again at the commit point. */
  conditions?: WriteConditions;
  /** x-amz-object-lock-*: the new version's lock (else the bucket's default retention). */
  objectLock?: ObjectLockRequest;
  /** The new version's owner and ACL (absent: the bucket owner's alone). */
  acl?: AccessControlList;
  requestId?: string;
  signal?: AbortSignal;
  /** SSE-KMS under a key of the request's choosing, or SSE-C (absent: the bucket's DEK). */
  sse?: SseSpec;
}

/** Runs inside the key's lock, on the record about to be replaced (undefined: none); throws to refuse the commit. */
export type CommitGuard = (prev: ObjectRecord | undefined) => Promise<void>;

export interface WriteResult {
  etag: string;
  checksums: Record<string, string>;
  /** The record's own random id (not the S3 version id). */
  versionId: string;
  /** x-amz-version-id: the new version's id, "null" when suspended, absent in a bucket never versioned. */
  version?: string;
  /** CopyObject: x-amz-copy-source-version-id. */
  sourceVersion?: string;
  lastModified: number;
  size: number;
  /** The new object's per-object key (for the SSE response headers). */
  sse?: ObjectSse;
  sseContext?: string;
  /** The new version's tags (what x-amz-expiration is judged on, with size and lastModified). */
  tags?: Record<string, string>;
}

export interface ReadInput {
  bucket: BucketRecord;
  key: string;
  /** ?versionId= (absent: the current version). */
  versionId?: string;
  range?: string;
  partNumber?: number;
  conditions: Preconditions;
  requestId?: string;
  /** x-amz-server-side-encryption-customer-key (SSE-C objects need it for GET and HEAD). */
  customerKey?: Buffer;
}

export interface ReadResult {
  record: ObjectRecord;
  meta: SealedMeta;
  /** Inclusive range served, when partial. */
  range?: { start: number; end: number };
  partsCount?: number;
  body?: Readable;
}

export class ObjectService {
  readonly locks = new KeyedMutex();
  /** Readers hold the blobs of the record they loaded; replaced blobs are deleted when free. */
  readonly leases = new BlobLeases();
  constructor(private readonly d: ObjectServiceDeps) {}

  async put(input: PutInput): Promise<WriteResult> {
    validateKey(input.key);
    const { bucket } = input;
    const lock = lockForNewVersion(bucket, input.objectLock);
    const guard = await this.writeGuard(bucket, input.key, input.conditions, input.requestId);
    const dek = await this.d.buckets.dek(bucket, input.requestId);
    const objectKey = await this.newObjectKey(bucket, dek, input.sse, input.requestId);
    const hasher = new UploadHasher({ ...input.expect, maxSize: MAX_SINGLE_PUT });
    let stream;
    try {
      stream = await writeEncryptedStream({
        blobs: this.d.blobs,
        dek: objectKey.dataDek,
        bucketUid: bucket.uid,
        segmentLog2: this.d.segmentLog2,
        body: input.body,
        hasher,
        signal: input.signal,
      });
    } finally {
      objectKey.dataDek.fill(0);
    }
    const versionId = newId();
    const version = this.versionForNew(bucket);
    const sealedMeta: SealedMeta = {
      etag: hasher.etag,
      checksums: { ...hasher.checksums },
      userMeta: input.userMeta,
      tags: input.tags,
      ...lock,
      ...(input.acl ? { acl: input.acl } : {}),
      ...(objectKey.sseContext !== undefined ? { sseContext: objectKey.sseContext } : {}),
    };
    const record: ObjectRecord = sealObject(
      dek,
      addressOf(bucket, input.key, version),
      {
        bucketUid: bucket.uid,
        key: input.key,
        versionId,
        ...(version !== undefined ? { version } : {}),
        size: hasher.size,
        lastModified: Date.now(),
        headers: input.headers,
        storageClass: input.storageClass,
        dekGeneration: bucket.encryption.dekGeneration,
        stream,
        checksumAlgorithm: input.checksumAlgorithm,
        ...(objectKey.sse ? { sse: objectKey.sse } : {}),
      },
      sealedMeta,
    );
    try {
      await this.commit(bucket, record, undefined, guard);
    } catch (e) {
      await this.d.blobs.delete(stream.dataId).catch(() => undefined);
      throw e;
    }
    return {
      etag: hasher.etag,
      checksums: sealedMeta.checksums,
      versionId,
      version: shownVersion(bucket, record),
      lastModified: record.lastModified,
      size: record.size,
      sse: record.sse,
      sseContext: sealedMeta.sseContext,
      tags: sealedMeta.tags,
    };
  }

  /** The data key of a new object or upload: the bucket DEK, or a per-object key (objectSseKeys.ts). */
  async newObjectKey(bucket: BucketRecord, dek: Buffer, sse: SseSpec | undefined, requestId?: string) {
    if (!this.d.sse) {
      if (sse?.customerKey || sse?.kms?.keyId !== undefined || sse?.kms?.context !== undefined)
        throw new DomainError('NotImplemented', 'Per-object keys are not available on this server.');
      return { dataDek: Buffer.from(dek) };
    }
    return this.d.sse.forNew(bucket, dek, sse, requestId);
  }

  /**
   * The data key of a stored record (or upload, `sse` its descriptor) whose
   * metadata opened under `dek`. Refuses a missing or wrong SSE-C key as AWS does.
   * Services only: the caller zeroes the key.
   */
  async dataKey(
    bucket: BucketRecord,
    dek: Buffer,
    sse: ObjectSse | undefined,
    sseContext: string | undefined,
    customerKey: Buffer | undefined,
    requestId?: string,
  ): Promise<Buffer> {
    if (!this.d.sse) {
      if (sse) throw new DomainError('NotImplemented', 'Per-object keys are not available on this server.');
      if (customerKey)
        throw new DomainError('InvalidRequest', 'The encryption parameters are not applicable to this object.');
      return Buffer.from(dek);
    }
    return this.d.sse.forStored(bucket, dek, sse, sseContext, customerKey, requestId);
  }

  /**
   * Conditional writes: check `conditions` against the key's current object now
   * (412 / 404 before any byte is read) and return the guard that checks them
   * again under the key's lock at the commit point (409 if another writer got
   * in between). Undefined when the request has no conditions.
   */
  async writeGuard(
    bucket: BucketRecord,
    key: string,
    conditions: WriteConditions | undefined,
    requestId?: string,
  ): Promise<CommitGuard | undefined> {
    if (!hasWriteConditions(conditions)) return undefined;
    // A delete marker as the current version is "no object" to a condition.
    const etagOf = async (rec: ObjectRecord | undefined) =>
      rec && !rec.deleteMarker ? (await this.unseal(bucket, key, rec, requestId)).meta.etag : undefined;
    checkWriteConditions(conditions, await etagOf(await this.d.meta.getObject(bucket.uid, key)), false);
    return async (prev) => checkWriteConditions(conditions, await etagOf(prev), true);
  }

  /** The S3 version id a new version written in `bucket` gets now: an id when Enabled, else none (null). */
  versionForNew(bucket: BucketRecord): string | undefined {
    return bucket.versioning === 'Enabled' ? newVersionId() : undefined;
  }

  /**
   * Make `record` the current version of its key in `bucket`: the previous one
   * goes to the history or, when both are the null version, away with its blobs
   * (objectVersions.stageCurrent). `guard` may refuse, seeing the current record.
   */
  async commit(
    bucket: BucketRecord,
    record: ObjectRecord,
    extra?: (b: ReturnType<MetaStore['batch']>) => void,
    guard?: CommitGuard,
  ): Promise<void> {
    const lockKey = `${record.bucketUid}/${record.key}`;
    const gone = await this.locks.run(lockKey, async () => {
      // The lock holds the key in this process; another gateway on the same
      // database may still commit in between, which expectObject catches: then
      // read again (the guard sees the winner) and stage anew.
      for (let attempt = 1; ; attempt++) {
        const prev = await this.d.meta.getObject(record.bucketUid, record.key);
        await guard?.(prev);
        const batch = this.d.meta.batch();
        batch.expectObject?.(record.bucketUid, record.key, prev);
        const replaced = await stageCurrent(this.d.meta, bucket, record, prev, batch);
        extra?.(batch);
        try {
          await batch.commit();
          return replaced;
        } catch (e) {
          if (!(e instanceof MetaConflictError)) throw e;
          // 503: S3 clients retry with backoff.
          if (attempt >= 8) throw new MetaStoreUnavailableError('the object kept changing under concurrent writers');
        }
      }
    });
    for (const old of gone) await this.deleteBlobsNotIn(old, record);
  }

  /** Delete the blobs of `old` that `keep` does not name, each once no reader holds it. */
  async deleteBlobsNotIn(old: ObjectRecord, keep?: ObjectRecord): Promise<void> {
    const keepIds = new Set(dataIds(keep));
    for (const id of dataIds(old)) {
      if (keepIds.has(id)) continue;
      const deferred = this.d.deferDelete;
      await this.leases
        .deleteWhenFree(id, () => (deferred ? deferred([id]) : this.d.blobs.delete(id)))
        .catch((e: unknown) =>
          this.d.log.warn('blob delete failed; left for the sweep', { dataId: id, err: (e as Error).message }),
        );
    }
  }

  /** The current version of `key`; NoSuchKey when there is none or it is a delete marker. */
  async load(bucket: BucketRecord, key: string): Promise<ObjectRecord> {
    return requireCurrent(bucket, key, await this.d.meta.getObject(bucket.uid, key));
  }

  /**
   * The version a request names (`versionId`, or the current one when absent)
   * and where it lives. NoSuchKey / NoSuchVersion when missing; a delete marker
   * is NoSuchKey as the current version and MethodNotAllowed (for `method`) by id.
   */
  async locate(bucket: BucketRecord, key: string, versionId: string | undefined, method: string): Promise<Located> {
    validateKey(key);
    if (versionId === undefined) return { record: await this.load(bucket, key) };
    return requireVersion(await findVersion(this.d.meta, bucket, key, versionId), key, versionId, method);
  }

  /**
   * The record's DEK and opened metadata. `key` is the name the record was
   * looked up under (never rec.key): the seal binds it, and with it the record's
   * stream reference, so a moved or edited record fails here, before any data.
   * The version bound is the record's, which locate() only answers under the
   * version the request asked for (crypto/index.ts, "Versions").
   * Services only: a DEK never leaves src/services/.
   */
  async unseal(
    bucket: BucketRecord,
    key: string,
    rec: ObjectRecord,
    requestId?: string,
  ): Promise<{ dek: Buffer; meta: SealedMeta }> {
    const dek = await this.d.buckets.dek(bucket, requestId);
    const meta = openObject(dek, addressOf(bucket, key, versionOf(rec)), rec);
    return { dek, meta };
  }

  /** HEAD (withBody=false) and GET. */
  async read(input: ReadInput, withBody: boolean): Promise<ReadResult> {
    validateKey(input.key);
    const rec = (await this.locate(input.bucket, input.key, input.versionId, withBody ? 'GET' : 'HEAD')).record;
    // Hold the blobs from the moment the record is loaded: an overwrite that
    // commits meanwhile defers deleting them until this read is done.
    const release = this.leases.acquire(dataIds(rec));
    try {
      return await this.readLoaded(input, rec, withBody, release);
    } catch (e) {
      release();
      throw e;
    }
  }

  private async readLoaded(
    input: ReadInput,
    rec: ObjectRecord,
    withBody: boolean,
    release: () => void,
  ): Promise<ReadResult> {
    const { dek, meta } = await this.unseal(input.bucket, input.key, rec, input.requestId);
    // HEAD too: an SSE-C object needs its key, a per-object KMS key must be usable.
    const dataDek = await this.dataKey(input.bucket, dek, rec.sse, meta.sseContext, input.customerKey, input.requestId);
    try {
      checkPreconditions(input.conditions, meta.etag, rec.lastModified);
    } catch (e) {
      dataDek.fill(0);
      throw e;
    }
    const { range, partsCount } = servedRange(rec, input.partNumber, input.range);
    const result: ReadResult = { record: rec, meta, range, partsCount };
    if (withBody) {
      const start = range?.start ?? 0;
      const end = range?.end ?? rec.size - 1;
      // Not zeroed here: later parts derive their keys from it as the body streams.
      result.body = await openConcatDecrypted(
        this.d.blobs,
        dataDek,
        input.bucket.uid,
        piecesFor(rec.stream, rec.parts, start, end),
        release,
      );
    } else {
      dataDek.fill(0);
      release();
    }
    return result;
  }

  /** DeleteObject; `ifMatch` (conditional delete) is checked under the key's lock against the object it would delete. */
  async delete(bucket: BucketRecord, key: string, ifMatch?: string, requestId?: string): Promise<void> {
    await this.remove({ bucket, key, ifMatch, requestId });
  }

  /** DeleteObject with versions: a delete marker, or one version for good (objectDelete.ts). */
  remove(input: DeleteInput): Promise<DeleteResult> {
    return removeObject(this, this.d.meta, input);
  }

  /** CopyObject: the source is opened (and its DEK used) here, never by the caller. */
  copy(input: CopyInput): Promise<WriteResult> {
    return copyObject(this, this.d.buckets, this.d.blobs, input);
  }

  /** GetObjectAttributes: metadata and the part list, no body. */
  attributes(input: AttributesInput): Promise<AttributesResult> {
    validateKey(input.key);
    return objectAttributes(this, input);
  }

  /** The tags of a version (GetObjectTagging), and its x-amz-version-id. */
  async tagging(
    bucket: BucketRecord,
    key: string,
    versionId?: string,
    requestId?: string,
  ): Promise<{ tags: Record<string, string>; version?: string }> {
    const { record } = await this.locate(bucket, key, versionId, 'GET');
    const { meta } = await this.unseal(bucket, key, record, requestId);
    return { tags: meta.tags ?? {}, version: shownVersion(bucket, record) };
  }

  async getTagging(bucket: BucketRecord, key: string, requestId?: string): Promise<Record<string, string>> {
    return (await this.tagging(bucket, key, undefined, requestId)).tags;
  }

  /** Replace a version's tags in place (PutObjectTagging; DeleteObjectTagging puts none); its x-amz-version-id. */
  async putTagging(
    bucket: BucketRecord,
    key: string,
    tags: Record<string, string>,
    requestId?: string,
    versionId?: string,
  ): Promise<string | undefined> {
    const at = await this.locate(bucket, key, versionId, 'PUT');
    const { dek, meta } = await this.unseal(bucket, key, at.record, requestId);
    await this.rewriteMeta(bucket, key, at, dek, { ...meta, tags });
    return shownVersion(bucket, at.record);
  }

  async deleteTagging(
    bucket: BucketRecord,
    key: string,
    requestId?: string,
    versionId?: string,
  ): Promise<string | undefined> {
    return this.putTagging(bucket, key, {}, requestId, versionId);
  }

  /** The stored owner and ACL of a version (GetObjectAcl; absent: the bucket owner's alone), and its x-amz-version-id. */
  async objectAcl(
    bucket: BucketRecord,
    key: string,
    versionId?: string,
    requestId?: string,
  ): Promise<{ acl?: AccessControlList; version?: string }> {
    const { record } = await this.locate(bucket, key, versionId, 'GET');
    const { meta } = await this.unseal(bucket, key, record, requestId);
    return { acl: meta.acl, version: shownVersion(bucket, record) };
  }

  /**
   * Replace a version's ACL in place (PutObjectAcl; undefined: back to the
   * default). `next` gets the stored ACL (under which the caller judges the
   * request) and returns the new one, or throws to refuse. Its x-amz-version-id.
   */
  async putObjectAcl(
    bucket: BucketRecord,
    key: string,
    versionId: string | undefined,
    next: (stored: AccessControlList | undefined) => Promise<AccessControlList | undefined>,
    requestId?: string,
  ): Promise<string | undefined> {
    const at = await this.locate(bucket, key, versionId, 'PUT');
    const { dek, meta } = await this.unseal(bucket, key, at.record, requestId);
    const { acl: stored, ...rest } = meta;
    const acl = await next(stored);
    await this.rewriteMeta(bucket, key, at, dek, acl ? { ...rest, acl } : rest);
    return shownVersion(bucket, at.record);
  }

  /** GetObjectRetention: the version's retention (NoSuchObjectLockConfiguration when none). */
  retention(t: LockTarget): Promise<{ retention: ObjectRetention; version?: string }> {
    return retentionOf(this, t);
  }

  /** PutObjectRetention (`retention` undefined removes it, which needs the bypass under GOVERNANCE). */
  putRetention(t: LockTarget, retention: ObjectRetention | undefined, bypassGovernance: boolean) {
    return setRetention(this, t, retention, bypassGovernance);
  }

  /** GetObjectLegalHold. */
  legalHold(t: LockTarget): Promise<{ on: boolean; version?: string }> {
    return legalHoldOf(this, t);
  }

  /** PutObjectLegalHold. */
  putLegalHold(t: LockTarget, on: boolean) {
    return setLegalHold(this, t, on);
  }

  /**
   * Replace sealed metadata only, in place (objectRewrite.ts): the version keeps
   * its id and its place. Services only (takes the DEK).
   */
  rewriteMeta(
    bucket: BucketRecord,
    key: string,
    at: Located,
    dek: Buffer,
    meta: SealedMeta,
    headers?: StandardHeaders,
  ): Promise<ObjectRecord> {
    return rewriteRecord(this.locks, this.d.meta, { bucket, key, at, dek, meta, headers });
  }
}
