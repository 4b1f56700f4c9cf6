/**
 * The IAM action names of S3 that a bucket policy may name, and the resource
 * each applies to (AWS's Service Authorization Reference for Amazon S3): a
 * bucket action needs arn:aws:s3:::bucket, an object action
 * arn:aws:s3:::bucket/key. The policy validator refuses a statement none of
 * whose actions applies to any of its resources, as S3 does.
 */
export type ActionResource = 'bucket' | 'object' | 'service';

const BUCKET_ACTIONS = [
  'CreateBucket',
  'DeleteBucket',
  'ListBucket',
  'ListBucketVersions',
  'ListBucketMultipartUploads',
  'GetBucketLocation',
  'GetBucketVersioning',
  'PutBucketVersioning',
  'GetBucketAcl',
  'PutBucketAcl',
  'GetEncryptionConfiguration',
  'PutEncryptionConfiguration',
  'GetBucketPolicy',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'GetBucketPolicyStatus',
  'GetBucketPublicAccessBlock',
  'PutBucketPublicAccessBlock',
  'GetBucketCORS',
  'PutBucketCORS',
  'GetLifecycleConfiguration',
  'PutLifecycleConfiguration',
  'GetBucketTagging',
  'PutBucketTagging',
  'GetBucketOwnershipControls',
  'PutBucketOwnershipControls',
  'GetBucketWebsite',
  'PutBucketWebsite',
  'DeleteBucketWebsite',
  'GetBucketObjectLockConfiguration',
  'PutBucketObjectLockConfiguration',
  'GetBucketLogging',
  'PutBucketLogging',
  'GetBucketNotification',
  'PutBucketNotification',
  'GetReplicationConfiguration',
  'PutReplicationConfiguration',
  'GetAccelerateConfiguration',
  'PutAccelerateConfiguration',
  'GetBucketRequestPayment',
  'PutBucketRequestPayment',
];

const OBJECT_ACTIONS = [
  'GetObject',
  'GetObjectVersion',
  'GetObjectAttributes',
  'GetObjectVersionAttributes',
  'PutObject',
  'DeleteObject',
  'DeleteObjectVersion',
  'AbortMultipartUpload',
  'ListMultipartUploadParts',
  'GetObjectAcl',
  'GetObjectVersionAcl',
  'PutObjectAcl',
  'PutObjectVersionAcl',
  'GetObjectTagging',
  'GetObjectVersionTagging',
  'PutObjectTagging',
  'PutObjectVersionTagging',
  'DeleteObjectTagging',
  'DeleteObjectVersionTagging',
  'GetObjectRetention',
  'PutObjectRetention',
  'GetObjectLegalHold',
  'PutObjectLegalHold',
  'BypassGovernanceRetention',
  'RestoreObject',
  'GetObjectTorrent',
  'GetObjectVersionTorrent',
];

const SERVICE_ACTIONS = ['ListAllMyBuckets'];

export const S3_ACTIONS: ReadonlyMap<string, ActionResource> = new Map<string, ActionResource>([
  ...BUCKET_ACTIONS.map((a) => [`s3:${a}`, 'bucket'] as const),
  ...OBJECT_ACTIONS.map((a) => [`s3:${a}`, 'object'] as const),
  ...SERVICE_ACTIONS.map((a) => [`s3:${a}`, 'service'] as const),
]);

const BY_LOWER = new Map([...S3_ACTIONS].map(([n, resource]) => [n.toLowerCase(), { name: n, resource }]));

/** The known action with this name, compared as IAM compares action names (case-insensitively). */
export function knownAction(name: string): { name: string; resource: ActionResource } | undefined {
  return BY_LOWER.get(name.toLowerCase());
}
