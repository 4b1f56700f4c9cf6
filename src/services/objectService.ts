/**
 * Objects: put, get/head, copy, delete, tagging. Meta + KMS + crypto + storage;
 * no HTTP. Every write follows one order: blob durable -> one metadata batch
 * (the commit point) -> replaced blobs deleted. A crash before the commit
 * leaves the old object and an orphan blob (swept later), never a mix.
 */
import { randomBytes } from 'node:crypto';
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
  parseRange,
  type Preconditions,
  type WriteConditions,
} from './conditions.js';
import { copyObject, type CopyInput } from './copyService.js';
import { objectAttributes, type AttributesInput, type AttributesResult } from './objectAttributes.js';
import { DomainError } from './errors.js';
import { addressOf, openObject, sealObject } from './sealedMeta.js';
import { newId, openConcatDecrypted, piecesFor, writeEncryptedStream } from './streamIO.js';
import { UploadHasher, type UploadExpectations } from './uploadHasher.js';

/** Conditional writes, as callers outside src/services name them. */
export type { WriteConditions } from './conditions.js';

export const MAX_KEY_BYTES = 1024;
export const MAX_SINGLE_PUT = 5 * 1024 ** 3;

export interface ObjectServiceDeps {
  meta: MetaStore;
  blobs: BlobStore;
  buckets: BucketService;
  segmentLog2: number;
  log: Logger;
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
  requestId?: string;
  signal?: AbortSignal;
}

/** Runs inside the key's lock, on the record about to be replaced (undefined: none); throws to refuse the commit. */
export type CommitGuard = (prev: ObjectRecord | undefined) => Promise<void>;

export interface WriteResult {
  etag: string;
  checksums: Record<string, string>;
  versionId: string;
  lastModified: number;
  size: number;
}

export interface ReadInput {
  bucket: BucketRecord;
  key: string;
  range?: string;
  partNumber?: number;
  conditions: Preconditions;
  requestId?: string;
}

export interface ReadResult {
  record: ObjectRecord;
  meta: SealedMeta;
  /** Inclusive range served, when partial. */
  range?: { start: number; end: number };
  partsCount?: number;
  body?: Readable;
}

export function validateKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES)
    throw new DomainError('KeyTooLongError', 'Your key is too long', { Size: Buffer.byteLength(key) });
  if (key.length === 0) throw new DomainError('InvalidArgument', 'The object key must not be empty.');
  // NUL separates fields in the metadata keys; refuse it here, as a client error, before any store sees it.
  if (key.includes('\u0000'))
    throw new DomainError('InvalidArgument', 'Object key contains a NUL character, which is not supported.', {
      ArgumentName: 'key',
    });
}

export class ObjectService {
  readonly locks = new KeyedMutex();
  /** Readers hold the blobs of the record they loaded; replaced blobs are deleted when free. */
  readonly leases = new BlobLeases();
  constructor(private readonly d: ObjectServiceDeps) {}

  async put(input: PutInput): Promise<WriteResult> {
    validateKey(input.key);
    const { bucket } = input;
    const guard = await this.writeGuard(bucket, input.key, input.conditions, input.requestId);
    const dek = await this.d.buckets.dek(bucket, input.requestId);
    const hasher = new UploadHasher({ ...input.expect, maxSize: MAX_SINGLE_PUT });
    const stream = await writeEncryptedStream({
      blobs: this.d.blobs,
      dek,
      bucketUid: bucket.uid,
      segmentLog2: this.d.segmentLog2,
      body: input.body,
      hasher,
      signal: input.signal,
    });
    const versionId = newId();
    const sealedMeta: SealedMeta = {
      etag: hasher.etag,
      checksums: { ...hasher.checksums },
      userMeta: input.userMeta,
      tags: input.tags,
    };
    const record: ObjectRecord = sealObject(
      dek,
      addressOf(bucket, input.key),
      {
        bucketUid: bucket.uid,
        key: input.key,
        versionId,
        size: hasher.size,
        lastModified: Date.now(),
        headers: input.headers,
        storageClass: input.storageClass,
        dekGeneration: bucket.encryption.dekGeneration,
        stream,
        checksumAlgorithm: input.checksumAlgorithm,
      },
      sealedMeta,
    );
    try {
      await this.commit(record, undefined, guard);
    } catch (e) {
      await this.d.blobs.delete(stream.dataId).catch(() => undefined);
      throw e;
    }
    return {
      etag: hasher.etag,
      checksums: sealedMeta.checksums,
      versionId,
      lastModified: record.lastModified,
      size: record.size,
    };
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
    const etagOf = async (rec: ObjectRecord | undefined) =>
      rec ? (await this.unseal(bucket, key, rec, requestId)).meta.etag : undefined;
    checkWriteConditions(conditions, await etagOf(await this.d.meta.getObject(bucket.uid, key)), false);
    return async (prev) => checkWriteConditions(conditions, await etagOf(prev), true);
  }

  /** Make `record` the current version of its key; delete the blobs it replaces. `guard` may refuse, seeing the record replaced. */
  async commit(
    record: ObjectRecord,
    extra?: (b: ReturnType<MetaStore['batch']>) => void,
    guard?: CommitGuard,
  ): Promise<void> {
    const lockKey = `${record.bucketUid}/${record.key}`;
    const old = await this.locks.run(lockKey, async () => {
      const prev = await this.d.meta.getObject(record.bucketUid, record.key);
      await guard?.(prev);
      const batch = this.d.meta.batch().putObject(record);
      extra?.(batch);
      await batch.commit();
      return prev;
    });
    if (old) await this.deleteBlobsNotIn(old, record);
  }

  private async deleteBlobsNotIn(old: ObjectRecord, keep?: ObjectRecord): Promise<void> {
    const keepIds = new Set(dataIds(keep));
    for (const id of dataIds(old)) {
      if (keepIds.has(id)) continue;
      await this.leases
        .deleteWhenFree(id, () => this.d.blobs.delete(id))
        .catch((e: unknown) =>
          this.d.log.warn('blob delete failed; left for the sweep', { dataId: id, err: (e as Error).message }),
        );
    }
  }

  async load(bucket: BucketRecord, key: string): Promise<ObjectRecord> {
    const rec = await this.d.meta.getObject(bucket.uid, key);
    if (!rec) throw new DomainError('NoSuchKey', 'The specified key does not exist.', { Key: key });
    return rec;
  }

  /**
   * The record's DEK and opened metadata. `key` is the name the record was
   * looked up under (never rec.key): the seal binds it, and with it the record's
   * stream reference, so a moved or edited record fails here, before any data.
   * Services only: a DEK never leaves src/services/.
   */
  async unseal(
    bucket: BucketRecord,
    key: string,
    rec: ObjectRecord,
    requestId?: string,
  ): Promise<{ dek: Buffer; meta: SealedMeta }> {
    const dek = await this.d.buckets.dek(bucket, requestId);
    const meta = openObject(dek, addressOf(bucket, key), rec);
    return { dek, meta };
  }

  /** HEAD (withBody=false) and GET. */
  async read(input: ReadInput, withBody: boolean): Promise<ReadResult> {
    validateKey(input.key);
    const rec = await this.load(input.bucket, input.key);
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
    checkPreconditions(input.conditions, meta.etag, rec.lastModified);
    let range: { start: number; end: number } | undefined;
    let partsCount: number | undefined;
    if (input.partNumber !== undefined) {
      partsCount = rec.parts?.length ?? 1;
      if (input.partNumber < 1 || input.partNumber > partsCount)
        throw new DomainError('InvalidRange', 'The requested partnumber is not satisfiable', {
          ActualObjectSize: rec.size,
        });
      if (rec.parts) {
        let off = 0;
        for (let i = 0; i < input.partNumber - 1; i++) off += rec.parts[i].size;
        const sz = rec.parts[input.partNumber - 1].size;
        range = { start: off, end: off + sz - 1 };
      } else if (rec.size > 0) {
        range = { start: 0, end: rec.size - 1 };
      }
    } else {
      range = parseRange(input.range, rec.size);
    }
    const result: ReadResult = { record: rec, meta, range, partsCount };
    if (withBody) {
      const start = range?.start ?? 0;
      const end = range?.end ?? rec.size - 1;
      result.body = await openConcatDecrypted(
        this.d.blobs,
        dek,
        input.bucket.uid,
        piecesFor(rec.stream, rec.parts, start, end),
        release,
      );
    } else {
      release();
    }
    return result;
  }

  /** DeleteObject; `ifMatch` (conditional delete) is checked under the key's lock against the object it would delete. */
  async delete(bucket: BucketRecord, key: string, ifMatch?: string, requestId?: string): Promise<void> {
    validateKey(key);
    const old = await this.locks.run(`${bucket.uid}/${key}`, async () => {
      const prev = await this.d.meta.getObject(bucket.uid, key);
      if (ifMatch !== undefined)
        checkWriteConditions({ ifMatch }, prev && (await this.unseal(bucket, key, prev, requestId)).meta.etag, false);
      if (prev) await this.d.meta.batch().deleteObject(bucket.uid, key).commit();
      return prev;
    });
    if (old) await this.deleteBlobsNotIn(old);
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

  /** The object's tags (GetObjectTagging). */
  async getTagging(bucket: BucketRecord, key: string, requestId?: string): Promise<Record<string, string>> {
    const rec = await this.load(bucket, key);
    const { meta } = await this.unseal(bucket, key, rec, requestId);
    return meta.tags ?? {};
  }

  /** Replace the object's tags (PutObjectTagging; DeleteObjectTagging puts none). */
  async putTagging(bucket: BucketRecord, key: string, tags: Record<string, string>, requestId?: string): Promise<void> {
    const rec = await this.load(bucket, key);
    const { dek, meta } = await this.unseal(bucket, key, rec, requestId);
    await this.rewriteMeta(bucket, key, rec, dek, { ...meta, tags });
  }

  async deleteTagging(bucket: BucketRecord, key: string, requestId?: string): Promise<void> {
    await this.putTagging(bucket, key, {}, requestId);
  }

  /**
   * Replace sealed metadata only (copy onto itself with REPLACE, tagging). Streams
   * are kept (and sealed again, in format 2, whatever format `rec` had). `key` is
   * the name `rec` was opened under. Services only (takes the DEK).
   */
  async rewriteMeta(
    bucket: BucketRecord,
    key: string,
    rec: ObjectRecord,
    dek: Buffer,
    meta: SealedMeta,
    headers?: StandardHeaders,
  ): Promise<ObjectRecord> {
    const { metaSalt: _salt, sealed: _sealed, sealFormat: _format, ...clear } = rec;
    const next = sealObject(
      dek,
      addressOf(bucket, key),
      {
        ...clear,
        key,
        versionId: newId(),
        headers: headers ?? rec.headers,
        lastModified: headers ? Date.now() : rec.lastModified,
      },
      meta,
      randomBytes(32),
    );
    await this.locks.run(`${bucket.uid}/${key}`, async () => {
      const cur = await this.d.meta.getObject(bucket.uid, key);
      if (!cur || cur.versionId !== rec.versionId)
        throw new DomainError('PreconditionFailed', 'The object changed during the request; retry.');
      await this.d.meta.batch().putObject(next).commit();
    });
    return next;
  }
}
