/**
 * The access decision for one S3 request: the bucket policy, the public access
 * block and the ACLs combined as S3 combines them.
 *
 * 1. An explicit Deny in the bucket policy refuses, whoever asks - except that
 *    the bucket owner may always read, replace and delete the policy (S3's
 *    protection against locking the owner out).
 * 2. RestrictPublicBuckets on a bucket whose policy is public: only the bucket
 *    owner gets in (no other account, no anonymous request).
 * 3. The owner of the resource is allowed (Coffer accounts are their own
 *    root users; there are no identity policies to deny them). For the
 *    operations an object ACL governs (reading the object, its ACL) that is the
 *    object's owner, which under ObjectWriter may be another account than the
 *    bucket's.
 * 4. Otherwise a policy Allow or an ACL grant of the operation's permission
 *    allows; a policy Allow reaches only objects the bucket owner owns, as in
 *    S3. IgnorePublicAcls drops the AllUsers/AuthenticatedUsers grants first.
 * 5. Nothing else is allowed.
 */
import { aclAllows, effectiveBucketAcl, effectiveObjectAcl } from './acl.js';
import { evaluatePolicy } from './policyEval.js';
import { parsePolicy, type BucketPolicy } from './policyDocument.js';
import { isPublicPolicy, publicAccessBlockOf, withoutPublicGrants } from './publicAccess.js';
import type { AccessControlList, AccessRequest, AclPermission, ObjectOwnership, PublicAccessBlock } from './types.js';

/** The bucket facts a decision reads. */
export interface BucketAccess {
  name: string;
  owner: string;
  policy?: string;
  publicAccessBlock?: PublicAccessBlock;
  acl?: AccessControlList;
  ownership?: ObjectOwnership;
}

/** Which ACL permission grants an operation (S3's mapping of ACL permissions to actions), if any does. */
export interface AclRule {
  on: 'bucket' | 'object';
  permission: AclPermission;
}

const POLICY_ACTIONS = new Set(['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']);

/**
 * Parsed policies by bucket and text. Parsing is pure, so a policy text seen
 * before gives the same result; bounded, oldest first out.
 */
const parsed = new Map<string, BucketPolicy>();
const PARSED_MAX = 512;

/** The bucket's policy, parsed (it was validated when stored). */
export function bucketPolicyOf(bucket: BucketAccess): BucketPolicy | undefined {
  if (bucket.policy === undefined) return undefined;
  const id = `${bucket.name}\n${bucket.policy}`;
  let p = parsed.get(id);
  if (p === undefined) {
    p = parsePolicy(bucket.policy, bucket.name);
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
    parsed.set(id, p);
  }
  return p;
}

export function authorize(
  bucket: BucketAccess,
  req: AccessRequest,
  aclRule: AclRule | undefined,
  objectAcl?: AccessControlList,
): boolean {
  const policy = bucketPolicyOf(bucket);
  const verdict = policy ? evaluatePolicy(policy, req) : 'None';
  const who = req.principal;
  const isBucketOwner = who !== null && who.accountId === bucket.owner;
  if (verdict === 'Deny') return isBucketOwner && POLICY_ACTIONS.has(req.action);
  const pab = publicAccessBlockOf(bucket);
  if (pab.RestrictPublicBuckets && isPublicPolicy(policy) && !isBucketOwner) return false;

  let owner = bucket.owner;
  let acl: AccessControlList | undefined;
  if (aclRule?.on === 'object') {
    ({ owner, acl } = effectiveObjectAcl(bucket, objectAcl));
  } else {
    acl = effectiveBucketAcl(bucket);
  }
  if (who !== null && who.accountId === owner) return true;
  if (verdict === 'Allow' && owner === bucket.owner) return true;
  if (aclRule === undefined) return false;
  return aclAllows(pab.IgnorePublicAcls ? withoutPublicGrants(acl) : acl, owner, who, aclRule.permission);
}
