/**
 * Canned ACLs (x-amz-acl) expanded into grants exactly as S3 expands them
 * (S3 user guide, "Canned ACL"). The resource's owner always gets
 * FULL_CONTROL first. bucket-owner-read and bucket-owner-full-control name the
 * bucket's owner as a second grantee on an object; on a bucket S3 ignores them
 * (the bucket owner is the owner), so they mean private there.
 */
import { ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY } from './acl.js';
import type { AccessControlList, AclGrant, AclPermission } from './types.js';

export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

export function isCannedAcl(v: string): v is CannedAcl {
  return (CANNED_ACLS as readonly string[]).includes(v);
}

const user = (id: string, permission: AclPermission): AclGrant => ({
  grantee: { type: 'CanonicalUser', id },
  permission,
});
const group = (uri: typeof ALL_USERS | typeof AUTHENTICATED_USERS | typeof LOG_DELIVERY, permission: AclPermission) =>
  ({ grantee: { type: 'Group', uri }, permission }) as AclGrant;

/**
 * The ACL `canned` gives a resource owned by `owner` in a bucket owned by
 * `bucketOwner` (for a bucket: the same account).
 */
export function expandCannedAcl(canned: CannedAcl, owner: string, bucketOwner: string): AccessControlList {
  const grants: AclGrant[] = [user(owner, 'FULL_CONTROL')];
  switch (canned) {
    case 'private':
      break;
    case 'public-read':
      grants.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== owner) grants.push(user(bucketOwner, 'READ'));
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) grants.push(user(bucketOwner, 'FULL_CONTROL'));
      break;
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
  }
  return { owner, grants };
}

/** Only the owner holds anything, and FULL_CONTROL: the ACL that is no ACL (what BucketOwnerEnforced allows). */
export function isOwnerOnly(acl: AccessControlList): boolean {
  const toOwner = (g: AclGrant) => g.grantee.type === 'CanonicalUser' && g.grantee.id === acl.owner;
  return acl.grants.every(toOwner) && acl.grants.some((g) => toOwner(g) && g.permission === 'FULL_CONTROL');
}
