/**
 * The ACL model: which permissions an ACL gives a principal, and the ACL a
 * bucket or object has in effect once its ownership rule is applied.
 *
 * As S3 reads an ACL: FULL_CONTROL implies the other four permissions; the
 * owner of the resource may always read and write its ACL (READ_ACP and
 * WRITE_ACP), whatever the grants say, so an owner can never lock itself out;
 * AllUsers matches everyone including anonymous requests, AuthenticatedUsers
 * any signed request, a CanonicalUser grant one account. LogDelivery matches
 * no request principal (Coffer has no log-delivery service).
 */
import type { AccessControlList, AclGrantee, AclPermission, ObjectOwnership, RequestPrincipal } from './types.js';

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';

export const ACL_PERMISSIONS: readonly AclPermission[] = ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP'];

/** Does this grantee name `principal` (null: anonymous)? */
export function granteeMatches(grantee: AclGrantee, principal: RequestPrincipal | null): boolean {
  switch (grantee.type) {
    case 'CanonicalUser':
      return principal !== null && principal.accountId === grantee.id;
    case 'Group':
      if (grantee.uri === ALL_USERS) return true;
      if (grantee.uri === AUTHENTICATED_USERS) return principal !== null;
      return false;
  }
}

/**
 * Does `acl` give `principal` (null: anonymous) `permission`? With no ACL
 * stored, only `owner` holds anything (FULL_CONTROL).
 */
export function aclAllows(
  acl: AccessControlList | undefined,
  owner: string,
  principal: RequestPrincipal | null,
  permission: AclPermission,
): boolean {
  const isOwner = principal !== null && principal.accountId === owner;
  if (acl === undefined) return isOwner;
  if (isOwner && (permission === 'READ_ACP' || permission === 'WRITE_ACP')) return true;
  return acl.grants.some(
    (g) => (g.permission === permission || g.permission === 'FULL_CONTROL') && granteeMatches(g.grantee, principal),
  );
}

/** The ownership rule a bucket has in effect (absent: BucketOwnerEnforced, ACLs disabled). */
export function ownershipOf(bucket: { ownership?: ObjectOwnership }): ObjectOwnership {
  return bucket.ownership ?? 'BucketOwnerEnforced';
}

/** The ACL only its owner holds anything in: what S3 shows for a resource without grants. */
export function ownerOnlyAcl(owner: string): AccessControlList {
  return { owner, grants: [{ grantee: { type: 'CanonicalUser', id: owner }, permission: 'FULL_CONTROL' }] };
}

/**
 * The bucket ACL that authorization reads. Under BucketOwnerEnforced ACLs are
 * disabled: whatever ACL is stored (one set before the rule changed) no longer
 * grants anything, and the bucket owner holds everything (undefined here).
 */
export function effectiveBucketAcl(bucket: {
  owner: string;
  acl?: AccessControlList;
  ownership?: ObjectOwnership;
}): AccessControlList | undefined {
  return ownershipOf(bucket) === 'BucketOwnerEnforced' ? undefined : bucket.acl;
}

/**
 * An object's owner and ACL in effect. Under BucketOwnerEnforced the bucket
 * owner owns every object and ACLs grant nothing; otherwise the stored ACL
 * (absent on an object written before ACLs existed: the bucket owner's).
 */
export function effectiveObjectAcl(
  bucket: { owner: string; ownership?: ObjectOwnership },
  stored: AccessControlList | undefined,
): { owner: string; acl: AccessControlList | undefined } {
  if (ownershipOf(bucket) === 'BucketOwnerEnforced' || stored === undefined)
    return { owner: bucket.owner, acl: undefined };
  return { owner: stored.owner, acl: stored };
}
