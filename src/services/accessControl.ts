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
export { authorize, bucketPolicyOf, type AclRule, type BucketAccess } from './access/authorize.js';
export { MAX_POLICY_BYTES, parsePolicy, policyPrincipals, type BucketPolicy } from './access/policyDocument.js';
export { evaluateBucketPolicy, evaluatePolicy } from './access/policyEval.js';
export { isPublicAcl, isPublicPolicy, publicAccessBlockOf } from './access/publicAccess.js';
export { knownAction } from './access/s3Actions.js';
export { NO_ACCOUNTS, type AccountDirectory, type AccountInfo } from './access/accounts.js';
export type {
  AccessControlList,
  AclGrant,
  AclGrantee,
  AclPermission,
  ObjectOwnership,
  AccessRequest,
  PublicAccessBlock,
  RequestPrincipal,
} from './access/types.js';
