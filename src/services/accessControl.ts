/**
 * The access-control model as the layers above src/services see it (the S3
 * handlers, the composition root): the ACL evaluator and the ACLs in effect
 * under a bucket's ownership rule, canned ACL expansion, and the account
 * directory grants are checked against. The code lives in services/access/.
 */
export {
  ACL_PERMISSIONS,
  ALL_USERS,
  AUTHENTICATED_USERS,
  LOG_DELIVERY,
  aclAllows,
  effectiveBucketAcl,
  effectiveObjectAcl,
  granteeMatches,
  ownerOnlyAcl,
  ownershipOf,
} from './access/acl.js';
export { CANNED_ACLS, expandCannedAcl, isCannedAcl, isOwnerOnly, type CannedAcl } from './access/cannedAcl.js';
export { NO_ACCOUNTS, type AccountDirectory, type AccountInfo } from './access/accounts.js';
export type {
  AccessControlList,
  AclGrant,
  AclGrantee,
  AclPermission,
  ObjectOwnership,
  RequestPrincipal,
} from './access/types.js';
