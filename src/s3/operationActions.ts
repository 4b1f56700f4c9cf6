/**
 * Every routed S3 operation's IAM action (what a bucket policy's Action
 * names), its variant for a request naming a version (?versionId), and the
 * ACL permission that grants it where S3 lets an ACL grant it (S3 user guide,
 * "Mapping of ACL permissions and access policy permissions"). The one table:
 * the record type makes tsc refuse an operation without a row.
 */
import type { AclRule } from '../services/accessControl.js';
import type { RoutedOperation } from './operations.js';

export interface OperationAccess {
  action: string;
  /** The action when the request names a version (s3:GetObjectVersion, ...). */
  versionAction?: string;
  acl?: AclRule;
}

const bucketRead: AclRule = { on: 'bucket', permission: 'READ' };
const bucketWrite: AclRule = { on: 'bucket', permission: 'WRITE' };
const objectRead: AclRule = { on: 'object', permission: 'READ' };

export const OPERATION_ACTIONS: Record<RoutedOperation['name'], OperationAccess> = {
  ListBuckets: { action: 's3:ListAllMyBuckets' },
  CreateBucket: { action: 's3:CreateBucket' },
  DeleteBucket: { action: 's3:DeleteBucket' },
  HeadBucket: { action: 's3:ListBucket', acl: bucketRead },
  GetBucketLocation: { action: 's3:GetBucketLocation' },
  ListObjects: { action: 's3:ListBucket', acl: bucketRead },
  ListObjectsV2: { action: 's3:ListBucket', acl: bucketRead },
  ListObjectVersions: { action: 's3:ListBucketVersions', acl: bucketRead },
  ListMultipartUploads: { action: 's3:ListBucketMultipartUploads', acl: bucketRead },
  // Judged per key, as s3:DeleteObject (handleDeleteObjects): the bucket-level step only loads the bucket.
  DeleteObjects: { action: 's3:DeleteObject', versionAction: 's3:DeleteObjectVersion', acl: bucketWrite },
  GetBucketVersioning: { action: 's3:GetBucketVersioning' },
  PutBucketVersioning: { action: 's3:PutBucketVersioning' },
  GetBucketAcl: { action: 's3:GetBucketAcl', acl: { on: 'bucket', permission: 'READ_ACP' } },
  PutBucketAcl: { action: 's3:PutBucketAcl', acl: { on: 'bucket', permission: 'WRITE_ACP' } },
  GetBucketEncryption: { action: 's3:GetEncryptionConfiguration' },
  PutBucketEncryption: { action: 's3:PutEncryptionConfiguration' },
  DeleteBucketEncryption: { action: 's3:PutEncryptionConfiguration' },
  GetBucketPolicy: { action: 's3:GetBucketPolicy' },
  PutBucketPolicy: { action: 's3:PutBucketPolicy' },
  DeleteBucketPolicy: { action: 's3:DeleteBucketPolicy' },
  GetBucketPolicyStatus: { action: 's3:GetBucketPolicyStatus' },
  GetPublicAccessBlock: { action: 's3:GetBucketPublicAccessBlock' },
  PutPublicAccessBlock: { action: 's3:PutBucketPublicAccessBlock' },
  DeletePublicAccessBlock: { action: 's3:PutBucketPublicAccessBlock' },
  GetBucketCors: { action: 's3:GetBucketCORS' },
  PutBucketCors: { action: 's3:PutBucketCORS' },
  DeleteBucketCors: { action: 's3:PutBucketCORS' },
  GetBucketLifecycleConfiguration: { action: 's3:GetLifecycleConfiguration' },
  PutBucketLifecycleConfiguration: { action: 's3:PutLifecycleConfiguration' },
  DeleteBucketLifecycle: { action: 's3:PutLifecycleConfiguration' },
  GetBucketTagging: { action: 's3:GetBucketTagging' },
  PutBucketTagging: { action: 's3:PutBucketTagging' },
  DeleteBucketTagging: { action: 's3:PutBucketTagging' },
  GetBucketOwnershipControls: { action: 's3:GetBucketOwnershipControls' },
  PutBucketOwnershipControls: { action: 's3:PutBucketOwnershipControls' },
  DeleteBucketOwnershipControls: { action: 's3:PutBucketOwnershipControls' },
  GetBucketWebsite: { action: 's3:GetBucketWebsite' },
  GetObjectLockConfiguration: { action: 's3:GetBucketObjectLockConfiguration' },
  PutObjectLockConfiguration: { action: 's3:PutBucketObjectLockConfiguration' },
  PostObject: { action: 's3:PutObject', acl: bucketWrite },
  PutObject: { action: 's3:PutObject', acl: bucketWrite },
  CopyObject: { action: 's3:PutObject', acl: bucketWrite },
  GetObject: { action: 's3:GetObject', versionAction: 's3:GetObjectVersion', acl: objectRead },
  HeadObject: { action: 's3:GetObject', versionAction: 's3:GetObjectVersion', acl: objectRead },
  GetObjectAttributes: { action: 's3:GetObjectAttributes', versionAction: 's3:GetObjectVersionAttributes' },
  DeleteObject: { action: 's3:DeleteObject', versionAction: 's3:DeleteObjectVersion', acl: bucketWrite },
  CreateMultipartUpload: { action: 's3:PutObject', acl: bucketWrite },
  UploadPart: { action: 's3:PutObject', acl: bucketWrite },
  UploadPartCopy: { action: 's3:PutObject', acl: bucketWrite },
  CompleteMultipartUpload: { action: 's3:PutObject', acl: bucketWrite },
  AbortMultipartUpload: { action: 's3:AbortMultipartUpload', acl: bucketWrite },
  ListParts: { action: 's3:ListMultipartUploadParts', acl: bucketRead },
  GetObjectAcl: {
    action: 's3:GetObjectAcl',
    versionAction: 's3:GetObjectVersionAcl',
    acl: { on: 'object', permission: 'READ_ACP' },
  },
  PutObjectAcl: {
    action: 's3:PutObjectAcl',
    versionAction: 's3:PutObjectVersionAcl',
    acl: { on: 'object', permission: 'WRITE_ACP' },
  },
  GetObjectTagging: { action: 's3:GetObjectTagging', versionAction: 's3:GetObjectVersionTagging' },
  PutObjectTagging: { action: 's3:PutObjectTagging', versionAction: 's3:PutObjectVersionTagging' },
  DeleteObjectTagging: { action: 's3:DeleteObjectTagging', versionAction: 's3:DeleteObjectVersionTagging' },
  GetObjectRetention: { action: 's3:GetObjectRetention' },
  PutObjectRetention: { action: 's3:PutObjectRetention' },
  GetObjectLegalHold: { action: 's3:GetObjectLegalHold' },
  PutObjectLegalHold: { action: 's3:PutObjectLegalHold' },
};

/** The action a request performs: the version variant when it names a version. */
export function actionOf(name: RoutedOperation['name'], versioned: boolean): OperationAccess & { name: string } {
  const row = OPERATION_ACTIONS[name];
  return { ...row, name: versioned && row.versionAction ? row.versionAction : row.action };
}
