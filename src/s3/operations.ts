/**
 * S3Operation: one variant per AWS operation, named exactly as AWS names it
 * (Garage's Endpoint enum). The router produces one; the dispatcher switches on
 * `name` exhaustively, so adding an operation fails to compile until handled.
 */
import { MAX_PARTS } from '../services/multipartService.js';
import { S3Error } from './errors.js';

export type BucketOpName =
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'HeadBucket'
  | 'GetBucketLocation'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListObjectVersions'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'GetBucketVersioning'
  | 'PutBucketVersioning'
  | 'GetBucketAcl'
  | 'PutBucketAcl'
  | 'GetBucketEncryption'
  | 'PutBucketEncryption'
  | 'DeleteBucketEncryption'
  | 'GetBucketPolicy'
  | 'GetBucketCors'
  | 'PutBucketCors'
  | 'DeleteBucketCors'
  | 'GetBucketLifecycleConfiguration'
  | 'PutBucketLifecycleConfiguration'
  | 'DeleteBucketLifecycle'
  | 'GetBucketTagging'
  | 'PutBucketTagging'
  | 'DeleteBucketTagging'
  | 'GetBucketOwnershipControls'
  | 'PutBucketOwnershipControls'
  | 'DeleteBucketOwnershipControls'
  | 'GetBucketWebsite'
  | 'GetObjectLockConfiguration'
  | 'PutObjectLockConfiguration';

export type ObjectOpName =
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'GetObjectAttributes'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'GetObjectAcl'
  | 'PutObjectAcl'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'GetObjectRetention'
  | 'PutObjectRetention'
  | 'GetObjectLegalHold'
  | 'PutObjectLegalHold';

/** What the router decides: the operation's name and its target, before any parameter is read. */
export type RoutedOperation =
  | { name: 'ListBuckets' }
  /** A browser form upload: authenticated by its form fields, so it is handled before header auth (postObject.ts). */
  | { name: 'PostObject'; bucket: string }
  | { name: BucketOpName; bucket: string }
  | { name: ObjectOpName; bucket: string; key: string };

/** Operations on one multipart upload (?uploadId=). */
export type UploadOpName = 'CompleteMultipartUpload' | 'AbortMultipartUpload' | 'ListParts';
/** Operations that write one part (?uploadId=&partNumber=). */
export type PartOpName = 'UploadPart' | 'UploadPartCopy';
/** Operations that may read one part (?partNumber=). */
export type ReadOpName = 'GetObject' | 'HeadObject';

/** The operation a handler gets: routed, and its query parameters parsed and validated (see {@link withParams}). */
export type S3Operation =
  | { name: 'ListBuckets' }
  | { name: BucketOpName; bucket: string }
  | { name: Exclude<ObjectOpName, UploadOpName | PartOpName | ReadOpName>; bucket: string; key: string }
  | ReadOperation
  | UploadOperation
  | PartOperation;

export interface ReadOperation {
  name: ReadOpName;
  bucket: string;
  key: string;
  partNumber?: number;
}

export interface UploadOperation {
  name: UploadOpName;
  bucket: string;
  key: string;
  uploadId: string;
}

export interface PartOperation {
  name: PartOpName;
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
}

export type OperationName = S3Operation['name'];

const PART_NUMBER_MESSAGE = `Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`;

/**
 * Parse and validate the query parameters an operation takes (uploadId,
 * partNumber), once, into typed fields. Runs after authentication, so an
 * unsigned or badly signed request is answered as such first.
 *
 * partNumber is read as S3 reads it for each operation: UploadPart(Copy) needs
 * digits (InvalidArgument naming the value) between 1 and 10000; GetObject /
 * HeadObject take any integer, and one outside the object's parts is the
 * service's InvalidRange.
 */
export function withParams(op: Exclude<RoutedOperation, { name: 'PostObject' }>, query: URLSearchParams): S3Operation {
  switch (op.name) {
    case 'GetObject':
    case 'HeadObject': {
      const raw = query.get('partNumber');
      if (raw === null) return { ...op, name: op.name };
      const partNumber = Number(raw);
      if (!Number.isInteger(partNumber))
        throw new S3Error('InvalidArgument', PART_NUMBER_MESSAGE, { ArgumentName: 'partNumber' });
      return { ...op, name: op.name, partNumber };
    }
    case 'CompleteMultipartUpload':
    case 'AbortMultipartUpload':
    case 'ListParts':
      return { ...op, name: op.name, uploadId: query.get('uploadId') ?? '' };
    case 'UploadPart':
    case 'UploadPartCopy': {
      const raw = query.get('partNumber') ?? '';
      if (!/^\d+$/.test(raw))
        throw new S3Error('InvalidArgument', PART_NUMBER_MESSAGE, { ArgumentName: 'partNumber', ArgumentValue: raw });
      const partNumber = Number(raw);
      if (partNumber < 1 || partNumber > MAX_PARTS)
        throw new S3Error('InvalidArgument', PART_NUMBER_MESSAGE, { ArgumentName: 'partNumber' });
      return { ...op, name: op.name, uploadId: query.get('uploadId') ?? '', partNumber };
    }
    default:
      return op as S3Operation;
  }
}
