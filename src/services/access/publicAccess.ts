/**
 * What S3 calls public, and the public access block's four switches.
 *
 * An ACL is public when it grants anything to AllUsers or AuthenticatedUsers.
 * A policy is public when one of its Allow statements reaches a principal
 * that is not fixed (`*`, or a NotPrincipal) without a condition that pins it
 * down: a set of CIDR blocks in aws:SourceIp (not all addresses), or a fixed
 * value (no wildcard, an equality operator) of aws:SourceArn, aws:SourceVpc,
 * aws:SourceVpce, aws:SourceOwner, aws:SourceAccount, aws:PrincipalAccount,
 * aws:PrincipalArn, aws:PrincipalOrgID, aws:userid or
 * s3:x-amz-server-side-encryption-aws-kms-key-id (the PublicAccessBlock
 * documentation, "The meaning of public").
 */
import { ALL_USERS, AUTHENTICATED_USERS } from './acl.js';
import { cidrBits } from './ipMatch.js';
import { parseConditionOperator } from './conditions.js';
import type { BucketPolicy, ConditionClause, PolicyStatement } from './policyDocument.js';
import type { AccessControlList, AclGrant, PublicAccessBlock } from './types.js';
import { hasWildcard } from './wildcard.js';

export function isPublicGrant(g: AclGrant): boolean {
  return g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS);
}

export function isPublicAcl(acl: AccessControlList | undefined): boolean {
  return acl !== undefined && acl.grants.some(isPublicGrant);
}

/** The ACL evaluation reads under IgnorePublicAcls: its public grants dropped. */
export function withoutPublicGrants(acl: AccessControlList | undefined): AccessControlList | undefined {
  if (acl === undefined || !isPublicAcl(acl)) return acl;
  return { owner: acl.owner, grants: acl.grants.filter((g) => !isPublicGrant(g)) };
}

const FIXING_KEYS = new Set(
  [
    'aws:SourceArn',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:SourceOwner',
    'aws:SourceAccount',
    'aws:PrincipalAccount',
    'aws:PrincipalArn',
    'aws:PrincipalOrgID',
    'aws:userid',
    's3:x-amz-server-side-encryption-aws-kms-key-id',
  ].map((k) => k.toLowerCase()),
);

const EQUALITY = new Set(['StringEquals', 'StringEqualsIgnoreCase', 'ArnEquals', 'StringLike', 'ArnLike']);

/** Does this clause limit who the statement reaches to fixed values? */
function clauseFixes(c: ConditionClause): boolean {
  const op = parseConditionOperator(c.operator);
  // ...IfExists lets a request without the key through, and ForAllValues holds for an absent key: neither fixes anything.
  if (!op || op.ifExists || op.set === 'ForAllValues') return false;
  const key = c.key.toLowerCase();
  if (key === 'aws:sourceip') return op.base === 'IpAddress' && c.values.every((v) => (cidrBits(v)?.bits ?? 0) > 0);
  if (!FIXING_KEYS.has(key)) return false;
  return EQUALITY.has(op.base) && c.values.every((v) => !hasWildcard(v));
}

function statementIsPublic(s: PolicyStatement): boolean {
  if (s.effect !== 'Allow') return false;
  const open = s.principal === '*' || s.notPrincipal !== undefined;
  if (!open) return false;
  return !s.conditions.some(clauseFixes);
}

export function isPublicPolicy(p: BucketPolicy | undefined): boolean {
  return p !== undefined && p.statements.some(statementIsPublic);
}

/** A bucket's block, every switch off when it has none. */
export function publicAccessBlockOf(bucket: { publicAccessBlock?: PublicAccessBlock }): PublicAccessBlock {
  return (
    bucket.publicAccessBlock ?? {
      BlockPublicAcls: false,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    }
  );
}
