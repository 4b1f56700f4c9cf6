/**
 * S3Operation: one variant per AWS operation, named exactly as AWS names it
 * (Garage's Endpoint enum). The router produces one; the dispatcher switches on
 * `name` exhaustively, so adding an operation fails to compile until handled.
 */
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
  | 'GetBucketLifecycleConfiguration'
  | 'GetBucketTagging'
  | 'GetBucketWebsite';

export type ObjectOpName =
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
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
  | 'DeleteObjectTagging';

export type S3Operation =
  | { name: 'ListBuckets' }
  | { name: BucketOpName; bucket: string }
  | { name: ObjectOpName; bucket: string; key: string };

export type OperationName = S3Operation['name'];

export type Permission = 'Read' | 'Write' | 'Owner' | 'Authenticated';

/** Permission an operation needs on its bucket (authorization as data, not scattered ifs). */
export function requiredPermission(name: OperationName): Permission {
  switch (name) {
    case 'ListBuckets':
    case 'CreateBucket':
      return 'Authenticated';
    case 'HeadBucket':
    case 'GetBucketLocation':
    case 'ListObjects':
    case 'ListObjectsV2':
    case 'ListObjectVersions':
    case 'ListMultipartUploads':
    case 'GetObject':
    case 'HeadObject':
    case 'ListParts':
    case 'GetObjectAcl':
    case 'GetObjectTagging':
    case 'GetBucketVersioning':
      return 'Read';
    case 'PutObject':
    case 'CopyObject':
    case 'DeleteObject':
    case 'DeleteObjects':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'UploadPartCopy':
    case 'CompleteMultipartUpload':
    case 'AbortMultipartUpload':
    case 'PutObjectAcl':
    case 'PutObjectTagging':
    case 'DeleteObjectTagging':
      return 'Write';
    case 'DeleteBucket':
    case 'PutBucketVersioning':
    case 'GetBucketAcl':
    case 'PutBucketAcl':
    case 'GetBucketEncryption':
    case 'PutBucketEncryption':
    case 'DeleteBucketEncryption':
    case 'GetBucketPolicy':
    case 'GetBucketCors':
    case 'GetBucketLifecycleConfiguration':
    case 'GetBucketTagging':
    case 'GetBucketWebsite':
      return 'Owner';
  }
}
