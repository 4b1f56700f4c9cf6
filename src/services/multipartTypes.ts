/**
 * The multipart service's limits and the shapes of CompleteMultipartUpload's
 * input and result, apart from the service so that its file holds behaviour.
 * Imported through multipartService.ts, which re-exports them.
 */
import type { ChecksumAlgorithm } from '../util/checksums.js';
import type { ObjectSse } from '../meta/records.js';
import type { WriteConditions } from './conditions.js';
import type { CompleteChecksumRequest } from './multipartChecksum.js';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
export const MAX_PARTS = 10000;

export interface CompletedPartInput {
  partNumber: number;
  etag: string;
  /** Checksum<alg> elements of the part in the Complete body, if any. */
  checksums?: Partial<Record<ChecksumAlgorithm, string>>;
}

export interface CompleteOptions extends CompleteChecksumRequest {
  /** If-Match / If-None-Match: checked before the parts are assembled and again at the commit point. */
  conditions?: WriteConditions;
  /** x-amz-mp-object-size: the size the client expects the object to have. */
  objectSize?: number;
  requestId?: string;
}

export interface CompleteResult {
  etag: string;
  checksums: Record<string, string>;
  /** The record's own random id. */
  versionId: string;
  /** x-amz-version-id (objectVersions.shownVersion). */
  version?: string;
  /** The object's per-object key, for the SSE response headers. */
  sse?: ObjectSse;
  sseContext?: string;
  /** What x-amz-expiration is judged on: the object's size, creation time and tags. */
  size: number;
  lastModified: number;
  tags?: Record<string, string>;
}
