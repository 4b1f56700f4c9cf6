/**
 * Multipart uploads. Each UploadPart attempt is its own encrypted stream (fresh
 * salt, AAD bound to uploadId and part number), so a retried part never reuses a
 * key/nonce pair. CompleteMultipartUpload never re-encrypts: it records the part
 * list in the object record, in the same batch that drops the upload.
 */
import type { AccessControlList } from '../meta/accessRecords.js';
import { lockForNewVersion, type ObjectLockRequest } from './objectLock.js';
import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { MetaStore } from '../meta/MetaStore.js';
import type {
  BucketRecord,
  ObjectRecord,
  PartRecord,
  PartRef,
  SealedMeta,
  StandardHeaders,
  UploadRecord,
} from '../meta/records.js';
import type { BlobStore } from '../storage/BlobStore.js';
import type { ObjectSse } from '../meta/records.js';
import type { SseSpec } from './objectSseKeys.js';
import type { ChecksumAlgorithm } from '../util/checksums.js';
import { KeyedMutex } from '../util/keyedMutex.js';
import type { BucketService } from './bucketService.js';
import { copySourceRange, openCopySource, sourceStream, type CopySource } from './copyService.js';
import { DomainError } from './errors.js';
import { completeChecksums, type ChecksumType } from './multipartChecksum.js';
import { validateKey, type ObjectService } from './objectService.js';
import { shownVersion } from './objectVersions.js';
import { addressOf, openJson, sealJson, sealObject } from './sealedMeta.js';
import { openPartSecrets, partSealIdentity, type PartSecrets } from './partSecrets.js';
import { newId, writeEncryptedStream } from './streamIO.js';
import { UploadHasher, type UploadExpectations } from './uploadHasher.js';

/** CreateMultipartUpload's checksum type rules, for the handler that parses its headers. */
export { uploadChecksumType, type ChecksumType } from './multipartChecksum.js';

export {
  MAX_PART_SIZE,
  MAX_PARTS,
  MIN_PART_SIZE,
  type CompletedPartInput,
  type CompleteOptions,
  type CompleteResult,
} from './multipartTypes.js';
import {
  MAX_PART_SIZE,
  MAX_PARTS,
  MIN_PART_SIZE,
  type CompletedPartInput,
  type CompleteOptions,
  type CompleteResult,
} from './multipartTypes.js';

interface UploadSecrets {
  userMeta: Record<string, string>;
  tags?: Record<string, string>;
  /** x-amz-object-lock-* of CreateMultipartUpload, applied (or the bucket's default) at Complete. */
  objectLock?: ObjectLockRequest;
  /** The object's owner and ACL asked for at CreateMultipartUpload, given to it at Complete. */
  acl?: AccessControlList;
  /** x-amz-server-side-encryption-context of an SSE-KMS upload (bound into its DEK's wrap). */
  sseContext?: string;
}

/** An upload's per-object key, for the SSE response headers. */
export interface UploadSse {
  sse?: ObjectSse;
  sseContext?: string;
}

export interface CreateUploadOptions {
  storageClass?: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  tags?: Record<string, string>;
  objectLock?: ObjectLockRequest;
  requestId?: string;
  /** The upload's encryption: SSE-KMS under a key of the request's choosing, or SSE-C. */
  sse?: SseSpec;
  /** The object's owner and ACL asked for at CreateMultipartUpload. */
  acl?: AccessControlList;
}

export interface MultipartDeps {
  meta: MetaStore;
  blobs: BlobStore;
  buckets: BucketService;
  objects: ObjectService;
  segmentLog2: number;
}

export class MultipartService {
  /**
   * One lock per upload around every change of its part list: a part's record
   * swap, Complete and Abort. Without it, Complete racing Abort could commit an
   * object whose part blobs Abort then deletes, and a part replaced during
   * Complete could delete a blob the new object names. Part data streams in
   * outside the lock; only the short metadata step is serialized.
   */
  private readonly uploadLocks = new KeyedMutex();
  constructor(private readonly d: MultipartDeps) {}

  private partId(bucket: BucketRecord, key: string, uploadId: string, partNumber: number) {
    return partSealIdentity(bucket.uid, key, uploadId, partNumber);
  }

  async create(
    bucket: BucketRecord,
    key: string,
    headers: StandardHeaders,
    userMeta: Record<string, string>,
    opts: CreateUploadOptions,
  ): Promise<string> {
    return (await this.createUpload(bucket, key, headers, userMeta, opts)).uploadId;
  }

  /** CreateMultipartUpload, with the upload's per-object key (opts.sse) if any: every part is written under it. */
  async createUpload(
    bucket: BucketRecord,
    key: string,
    headers: StandardHeaders,
    userMeta: Record<string, string>,
    opts: CreateUploadOptions,
  ): Promise<{ uploadId: string } & UploadSse> {
    validateKey(key);
    lockForNewVersion(bucket, opts.objectLock);
    const dek = await this.d.buckets.dek(bucket, opts.requestId);
    const objectKey = await this.d.objects.newObjectKey(bucket, dek, opts.sse, opts.requestId);
    objectKey.dataDek.fill(0);
    const uploadId = newId();
    const secrets: UploadSecrets = {
      userMeta,
      tags: opts.tags,
      ...(opts.objectLock ? { objectLock: opts.objectLock } : {}),
      ...(opts.acl ? { acl: opts.acl } : {}),
      ...(objectKey.sseContext !== undefined ? { sseContext: objectKey.sseContext } : {}),
    };
    const sealed = sealJson(dek, { bucketUid: bucket.uid, key, versionId: uploadId }, secrets);
    const rec: UploadRecord = {
      bucketUid: bucket.uid,
      key,
      uploadId,
      initiated: Date.now(),
      headers,
      storageClass: opts.storageClass,
      metaSalt: sealed.metaSalt,
      sealed: sealed.sealed,
      checksumAlgorithm: opts.checksumAlgorithm,
      checksumType: opts.checksumType,
      ...(objectKey.sse ? { sse: objectKey.sse } : {}),
    };
    await this.d.meta.batch().putUpload(rec).commit();
    return { uploadId, sse: objectKey.sse, sseContext: objectKey.sseContext };
  }

  /** The data key of an upload's parts (its bucket DEK, or its per-object key; SSE-C needs `customerKey`). */
  private async partKey(
    bucket: BucketRecord,
    up: UploadRecord,
    dek: Buffer,
    customerKey: Buffer | undefined,
    requestId?: string,
  ): Promise<{ dataDek: Buffer; sseContext?: string }> {
    const sseContext =
      up.sse?.type === 'aws:kms'
        ? openJson<UploadSecrets>(
            dek,
            { bucketUid: bucket.uid, key: up.key, versionId: up.uploadId },
            up.metaSalt,
            up.sealed,
          ).sseContext
        : undefined;
    const dataDek = await this.d.objects.dataKey(bucket, dek, up.sse, sseContext, customerKey, requestId);
    return { dataDek, sseContext };
  }

  async upload(bucket: BucketRecord, key: string, uploadId: string): Promise<UploadRecord> {
    const u = await this.d.meta.getUpload(bucket.uid, key, uploadId);
    if (!u)
      throw new DomainError(
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        { UploadId: uploadId },
      );
    return u;
  }

  async uploadPart(
    bucket: BucketRecord,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    expect: UploadExpectations,
    requestId?: string,
    customerKey?: Buffer,
  ): Promise<PartSecrets & UploadSse> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new DomainError('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
        ArgumentName: 'partNumber',
      });
    }
    const up = await this.upload(bucket, key, uploadId);
    const dek = await this.d.buckets.dek(bucket, requestId);
    const { dataDek, sseContext } = await this.partKey(bucket, up, dek, customerKey, requestId);
    const compute = up.checksumAlgorithm ? [up.checksumAlgorithm as ChecksumAlgorithm] : [];
    const hasher = new UploadHasher({
      ...expect,
      compute: [...(expect.compute ?? []), ...compute],
      maxSize: MAX_PART_SIZE,
    });
    let stream;
    try {
      stream = await writeEncryptedStream({
        blobs: this.d.blobs,
        dek: dataDek,
        bucketUid: bucket.uid,
        uploadId,
        partNumber,
        segmentLog2: this.d.segmentLog2,
        body,
        hasher,
      });
    } finally {
      dataDek.fill(0);
    }
    const secrets: PartSecrets = { etag: hasher.etag, checksums: { ...hasher.checksums } };
    const sealed = sealJson(dek, this.partId(bucket, key, uploadId, partNumber), secrets);
    const part: PartRecord & { bucketUid: string } = {
      ...stream,
      bucketUid: bucket.uid,
      partNumber,
      uploadId,
      sealedEtag: sealed.sealed + '.' + sealed.metaSalt,
      lastModified: Date.now(),
    };
    await this.uploadLocks.run(uploadId, async () => {
      // The upload may have been completed or aborted while the part streamed in.
      if (!(await this.d.meta.getUpload(bucket.uid, key, uploadId))) {
        await this.d.blobs.delete(stream.dataId).catch(() => undefined);
        throw new DomainError('NoSuchUpload', 'The specified upload does not exist.', { UploadId: uploadId });
      }
      const prev = await this.d.meta.getPart(uploadId, partNumber);
      await this.d.meta.batch().putPart(part).commit();
      if (prev && prev.dataId !== stream.dataId) await this.d.blobs.delete(prev.dataId).catch(() => undefined);
    });
    return { ...secrets, sse: up.sse, sseContext };
  }

  /**
   * UploadPartCopy: bytes `range` (x-amz-copy-source-range, as sent; the whole
   * source when absent) of the source become part `partNumber`. The upload is
   * checked before the source is even parsed, the range against the source's size.
   */
  async uploadPartCopy(
    bucket: BucketRecord,
    key: string,
    uploadId: string,
    partNumber: number,
    source: CopySource & { range?: string },
    requestId?: string,
    customerKey?: Buffer,
  ): Promise<PartSecrets & UploadSse & { sourceVersion?: string }> {
    await this.upload(bucket, key, uploadId);
    const src = await openCopySource(this.d.objects, this.d.buckets, source, requestId);
    try {
      const size = src.record.size;
      const { start, end } = copySourceRange(source.range, size);
      const body = size === 0 ? new PassThrough().end() : sourceStream(this.d.blobs, src, src.bucket.uid, start, end);
      const part = await this.uploadPart(
        bucket,
        key,
        uploadId,
        partNumber,
        body,
        { length: end - start + 1 },
        requestId,
        customerKey,
      );
      return { ...part, sourceVersion: src.version };
    } finally {
      src.release();
    }
  }

  /** Open a part record listed under `uploadId` (the caller's, not the record's copy). */
  openPart(dek: Buffer, bucket: BucketRecord, key: string, uploadId: string, p: PartRecord): PartSecrets {
    return openPartSecrets(dek, bucket.uid, key, { ...p, uploadId });
  }

  async listParts(bucket: BucketRecord, key: string, uploadId: string, after: number, max: number, requestId?: string) {
    const up = await this.upload(bucket, key, uploadId);
    const dek = await this.d.buckets.dek(bucket, requestId);
    const parts = await this.d.meta.listParts(uploadId, after, max + 1);
    const truncated = parts.length > max;
    const page = parts.slice(0, max).map((p) => ({ record: p, ...this.openPart(dek, bucket, key, uploadId, p) }));
    return { upload: up, parts: page, truncated };
  }

  async complete(
    bucket: BucketRecord,
    key: string,
    uploadId: string,
    requested: CompletedPartInput[],
    opts: CompleteOptions = {},
  ): Promise<CompleteResult> {
    return this.uploadLocks.run(uploadId, () => this.completeLocked(bucket, key, uploadId, requested, opts));
  }

  /**
   * A Complete retried after it succeeded (the answer was lost): the upload is
   * gone, but if the key's current object is the one it made, S3 answers 200
   * with the same ETag again instead of NoSuchUpload.
   */
  private async completedBefore(
    bucket: BucketRecord,
    key: string,
    uploadId: string,
    requestId?: string,
  ): Promise<CompleteResult> {
    const rec = await this.d.meta.getObject(bucket.uid, key);
    if (!rec?.parts?.length || rec.parts[0].uploadId !== uploadId) {
      throw new DomainError(
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        { UploadId: uploadId },
      );
    }
    const { meta } = await this.d.objects.unseal(bucket, key, rec, requestId);
    return {
      etag: meta.etag,
      checksums: meta.checksums,
      versionId: rec.versionId,
      version: shownVersion(bucket, rec),
      sse: rec.sse,
      sseContext: meta.sseContext,
      size: rec.size,
      lastModified: rec.lastModified,
      tags: meta.tags,
    };
  }

  private async completeLocked(
    bucket: BucketRecord,
    key: string,
    uploadId: string,
    requested: CompletedPartInput[],
    opts: CompleteOptions,
  ): Promise<CompleteResult> {
    const { requestId } = opts;
    const up = await this.d.meta.getUpload(bucket.uid, key, uploadId);
    if (!up) return this.completedBefore(bucket, key, uploadId, requestId);
    if (requested.length === 0) throw new DomainError('MalformedXML', 'You must specify at least one part');
    const guard = await this.d.objects.writeGuard(bucket, key, opts.conditions, requestId);
    const dek = await this.d.buckets.dek(bucket, requestId);
    const all = await this.d.meta.listParts(uploadId, 0, MAX_PARTS + 1);
    const byNumber = new Map(all.map((p) => [p.partNumber, p]));
    const chosen: Array<{ rec: PartRecord; secrets: PartSecrets; sent: Partial<Record<ChecksumAlgorithm, string>> }> =
      [];
    let prev = 0;
    for (const r of requested) {
      if (r.partNumber <= prev)
        throw new DomainError(
          'InvalidPartOrder',
          'The list of parts was not in ascending order. Parts must be ordered by part number.',
          { UploadId: uploadId },
        );
      prev = r.partNumber;
      const rec = byNumber.get(r.partNumber);
      const secrets = rec && this.openPart(dek, bucket, key, uploadId, rec);
      if (!rec || !secrets || normEtag(r.etag) !== secrets.etag) {
        throw new DomainError(
          'InvalidPart',
          "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
          { UploadId: uploadId, PartNumber: r.partNumber },
        );
      }
      chosen.push({ rec, secrets, sent: r.checksums ?? {} });
    }
    chosen.forEach(({ rec }, i) => {
      if (i < chosen.length - 1 && rec.size < MIN_PART_SIZE) {
        throw new DomainError(
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed object size.',
          { ProposedSize: rec.size, MinSizeAllowed: MIN_PART_SIZE, PartNumber: rec.partNumber },
        );
      }
    });
    const md5 = createHash('md5');
    for (const c of chosen) md5.update(Buffer.from(c.secrets.etag, 'hex'));
    const etag = `${md5.digest('hex')}-${chosen.length}`;
    const size = chosen.reduce((a, c) => a + c.rec.size, 0);
    if (opts.objectSize !== undefined && opts.objectSize !== size)
      throw new DomainError(
        'InvalidRequest',
        `The provided 'x-amz-mp-object-size' header value ${opts.objectSize} does not match the object size ${size}.`,
      );
    const checksums = completeChecksums(
      {
        algorithm: up.checksumAlgorithm as ChecksumAlgorithm | undefined,
        type: up.checksumType as ChecksumType | undefined,
      },
      chosen.map((c) => ({
        partNumber: c.rec.partNumber,
        size: c.rec.size,
        stored: c.secrets.checksums,
        sent: c.sent,
      })),
      opts,
    );
    const secrets = openJson<UploadSecrets>(
      dek,
      { bucketUid: bucket.uid, key, versionId: uploadId },
      up.metaSalt,
      up.sealed,
    );
    const versionId = newId();
    const version = this.d.objects.versionForNew(bucket);
    const meta: SealedMeta = {
      etag,
      checksums,
      userMeta: secrets.userMeta,
      tags: secrets.tags,
      ...lockForNewVersion(bucket, secrets.objectLock),
      ...(secrets.acl ? { acl: secrets.acl } : {}),
      ...(secrets.sseContext !== undefined ? { sseContext: secrets.sseContext } : {}),
    };
    // uploadId is the one this request names (and the part records were listed
    // under), not a copy from the part record: the object seal binds the list.
    const parts: PartRef[] = chosen.map(({ rec }) => ({
      dataId: rec.dataId,
      salt: rec.salt,
      headerDigest: rec.headerDigest,
      size: rec.size,
      segmentLog2: rec.segmentLog2,
      partNumber: rec.partNumber,
      uploadId,
      sealedEtag: rec.sealedEtag,
    }));
    const record: ObjectRecord = sealObject(
      dek,
      addressOf(bucket, key, version),
      {
        bucketUid: bucket.uid,
        key,
        versionId,
        ...(version !== undefined ? { version } : {}),
        size: parts.reduce((a, p) => a + p.size, 0),
        lastModified: Date.now(),
        headers: up.headers,
        storageClass: up.storageClass,
        dekGeneration: bucket.encryption.dekGeneration,
        parts,
        checksumAlgorithm: up.checksumAlgorithm,
        ...(up.sse ? { sse: up.sse } : {}),
      },
      meta,
    );
    const used = new Set(parts.map((p) => p.dataId));
    await this.d.objects.commit(
      bucket,
      record,
      (b) => {
        b.deleteUpload(bucket.uid, key, uploadId);
        for (const p of all) b.deletePart(uploadId, p.partNumber);
      },
      guard,
    );
    for (const p of all) if (!used.has(p.dataId)) await this.d.blobs.delete(p.dataId).catch(() => undefined);
    return {
      etag,
      checksums,
      versionId,
      version: shownVersion(bucket, record),
      sse: record.sse,
      sseContext: meta.sseContext,
      size: record.size,
      lastModified: record.lastModified,
      tags: meta.tags,
    };
  }

  async abort(bucket: BucketRecord, key: string, uploadId: string): Promise<void> {
    return this.uploadLocks.run(uploadId, () => this.abortLocked(bucket, key, uploadId));
  }

  private async abortLocked(bucket: BucketRecord, key: string, uploadId: string): Promise<void> {
    await this.upload(bucket, key, uploadId);
    const all = await this.d.meta.listParts(uploadId, 0, MAX_PARTS + 1);
    const b = this.d.meta.batch().deleteUpload(bucket.uid, key, uploadId);
    for (const p of all) b.deletePart(uploadId, p.partNumber);
    await b.commit();
    for (const p of all) await this.d.blobs.delete(p.dataId).catch(() => undefined);
  }

  /** Abort every upload in progress in the bucket (DeleteBucket). */
  async abortAll(bucket: BucketRecord): Promise<void> {
    for (;;) {
      const { uploads } = await this.listUploads(bucket, '', undefined, undefined, 1000);
      if (uploads.length === 0) return;
      for (const u of uploads)
        await this.abort(bucket, u.key, u.uploadId).catch((e: unknown) => {
          if (!(e instanceof DomainError && e.code === 'NoSuchUpload')) throw e;
        });
    }
  }

  async listUploads(
    bucket: BucketRecord,
    prefix: string,
    afterKey: string | undefined,
    afterUploadId: string | undefined,
    max: number,
  ) {
    const out: UploadRecord[] = [];
    for await (const u of this.d.meta.listUploads({
      bucketUid: bucket.uid,
      prefix,
      afterKey,
      afterUploadId,
      limit: max + 1,
    }))
      out.push(u);
    return { uploads: out.slice(0, max), truncated: out.length > max };
  }
}

function normEtag(s: string): string {
  return s.trim().replace(/^"|"$/g, '').toLowerCase();
}
