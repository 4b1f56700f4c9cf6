/**
 * DomainError: what services throw. A closed code union; src/s3/errors.ts is the
 * only place that maps it to the wire (status, XML). Codes are S3 error codes
 * where S3 has one, so the mapping stays a table and not a pile of ifs.
 */
export type DomainCode =
  | 'NoSuchBucket'
  | 'NoSuchKey'
  | 'NoSuchVersion'
  | 'MethodNotAllowed'
  | 'NoSuchUpload'
  | 'BucketAlreadyExists'
  | 'BucketAlreadyOwnedByYou'
  | 'BucketNotEmpty'
  | 'InvalidBucketName'
  | 'KeyTooLongError'
  | 'InvalidArgument'
  | 'InvalidRequest'
  | 'InvalidPart'
  | 'InvalidPartOrder'
  | 'EntityTooSmall'
  | 'EntityTooLarge'
  | 'BadDigest'
  | 'InvalidDigest'
  | 'XAmzContentChecksumMismatch'
  | 'IncompleteBody'
  | 'PreconditionFailed'
  | 'ConditionalRequestConflict'
  | 'NotModified'
  | 'InvalidRange'
  | 'AccessDenied'
  | 'KeyNotActive'
  | 'KeyNotFound'
  | 'KMS.NotFoundException'
  | 'ServerSideEncryptionConfigurationNotFoundError'
  | 'NoSuchTagSet'
  | 'InvalidTag'
  | 'MalformedXML'
  | 'IntegrityError'
  | 'ServiceUnavailable'
  | 'NotImplemented'
  | 'InvalidBucketState'
  | 'ObjectLockConfigurationNotFoundError'
  | 'NoSuchObjectLockConfiguration'
  | 'MalformedPolicy'
  | 'NoSuchBucketPolicy'
  | 'NoSuchPublicAccessBlockConfiguration';

/** The delete marker a request ran into (S3 says so in x-amz-delete-marker / x-amz-version-id). */
export interface DeleteMarkerHit {
  version: string;
  lastModified: number;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainCode,
    message: string,
    readonly detail: Record<string, string | number> = {},
    readonly deleteMarker?: DeleteMarkerHit,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * Failures of the stores that are not the request's fault and not damaged data:
 * a data tier that throttles or cannot be reached, a metadata database that is
 * down, a local disk that is full or failing. The services let them through unchanged; they are re-exported here so
 * the S3 error table can map them (503) without reaching into the stores.
 */
export { BlobBackendError } from '../storage/blobBackendError.js';
export { MetaStoreUnavailableError } from '../meta/metaStoreErrors.js';
/** A local disk (blob drive or metadata) that is full, read-only or failing: 507 or 503. */
export { DiskFaultError } from '../util/diskFault.js';
