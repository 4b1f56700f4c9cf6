/**
 * GetObjectAttributes: an object's ETag, checksum, parts, storage class and
 * size without its body. The part list of a multipart object comes from the
 * object record (each part's sealed ETag and checksums), paged by part number.
 */
import type { BucketRecord, ObjectRecord, SealedMeta } from '../meta/records.js';
import { checkPreconditions, type Preconditions } from './conditions.js';
import type { ObjectService } from './objectService.js';
import { openPartSecrets } from './partSecrets.js';

export interface AttributesInput {
  bucket: BucketRecord;
  key: string;
  /** ?versionId= (absent: the current version). */
  versionId?: string;
  conditions: Preconditions;
  /** Parts after this part number (x-amz-part-number-marker). */
  partNumberMarker: number;
  /** At most this many parts (x-amz-max-parts). */
  maxParts: number;
  requestId?: string;
}

export interface AttributePart {
  partNumber: number;
  size: number;
  checksums: Record<string, string>;
}

export interface AttributesResult {
  record: ObjectRecord;
  meta: SealedMeta;
  /** Multipart objects only. */
  parts?: { total: number; page: AttributePart[]; truncated: boolean };
}

export async function objectAttributes(objects: ObjectService, input: AttributesInput): Promise<AttributesResult> {
  const rec = (await objects.locate(input.bucket, input.key, input.versionId, 'GET')).record;
  const { dek, meta } = await objects.unseal(input.bucket, input.key, rec, input.requestId);
  checkPreconditions(input.conditions, meta.etag, rec.lastModified);
  if (!rec.parts) return { record: rec, meta };
  const after = rec.parts.filter((p) => p.partNumber > input.partNumberMarker);
  const page = after.slice(0, input.maxParts).map((p) => ({
    partNumber: p.partNumber,
    size: p.size,
    checksums: openPartSecrets(dek, input.bucket.uid, rec.key, p).checksums,
  }));
  return { record: rec, meta, parts: { total: rec.parts.length, page, truncated: after.length > input.maxParts } };
}
