/**
 * Stored access-control records of buckets and objects: ACLs, the public
 * access block and object ownership (S3's vocabulary, as PutBucketAcl,
 * PutPublicAccessBlock and PutBucketOwnershipControls take it).
 */

/** ACL permissions, as S3 names them. FULL_CONTROL implies the other four. */
export type AclPermission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';

/** A grantee: a Coffer account by canonical id, or one of S3's two groups. */
export type AclGrantee =
  | { type: 'CanonicalUser'; id: string; displayName?: string }
  | { type: 'Group'; uri: 'http://acs.amazonaws.com/groups/global/AllUsers' }
  | { type: 'Group'; uri: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers' }
  | { type: 'Group'; uri: 'http://acs.amazonaws.com/groups/s3/LogDelivery' };

export interface AclGrant {
  grantee: AclGrantee;
  permission: AclPermission;
}

/** An access control list: its owner (an account id) and its grants, in order. */
export interface AccessControlList {
  owner: string;
  grants: AclGrant[];
}

/** PutPublicAccessBlock's four switches; absent ones are false. */
export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

/** PutBucketOwnershipControls' rule. Absent on a bucket: BucketOwnerEnforced (AWS's default since 2023). */
export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
