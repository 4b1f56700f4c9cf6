/**
 * The record types the S3 layer renders, as services hand them out. Handlers
 * import them from here, never from meta/: what a record looks like on disk is
 * the services' business, and this is the one seam that exposes it.
 */
export type {
  BucketObjectLock,
  BucketRecord,
  CorsRule,
  LifecycleRule,
  LifecycleTag,
  ObjectRecord,
  ObjectRetention,
  ObjectSse,
  RetentionMode,
  SealedMeta,
  StandardHeaders,
  UploadRecord,
  VersioningStatus,
} from '../meta/records.js';
export type { UploadExpectations } from './uploadHasher.js';
