import { describe, expect, it } from 'vitest';
import { ALL_USERS } from '../../../../src/services/access/acl.js';
import { authorize, type AclRule, type BucketAccess } from '../../../../src/services/access/authorize.js';
import type { AccessControlList, AccessRequest, PublicAccessBlock } from '../../../../src/services/access/types.js';

const OWNER = 'acct-owner';
const OTHER = 'acct-other';
const B = 'bkt';
const READ_OBJECT: AclRule = { on: 'object', permission: 'READ' };
const READ_BUCKET: AclRule = { on: 'bucket', permission: 'READ' };

/** A request on key `key` (null: on the bucket). */
const req = (principal: string | null, action = 's3:GetObject', key: string | null = 'k'): AccessRequest => ({
  principal: principal === null ? null : { accountId: principal },
  action,
  bucket: B,
  ...(key !== null ? { key } : {}),
  conditions: {},
});
const policy = (...Statement: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const st = (Effect: string, Principal: unknown, Action = 's3:GetObject', Resource = `arn:aws:s3:::${B}/*`) => ({
  Effect,
  Principal,
  Action,
  Resource,
});
const publicRead: AccessControlList = {
  owner: OWNER,
  grants: [{ grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' }],
};
const pab = (p: Partial<PublicAccessBlock>): PublicAccessBlock => ({
  BlockPublicAcls: false,
  IgnorePublicAcls: false,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
  ...p,
});
const bucket = (over: Partial<BucketAccess> = {}): BucketAccess => ({ name: B, owner: OWNER, ...over });

describe('authorize', () => {
  it('the owner is allowed, nobody else, without policy or ACL', () => {
    expect(authorize(bucket(), req(OWNER), READ_OBJECT)).toBe(true);
    expect(authorize(bucket(), req(OTHER), READ_OBJECT)).toBe(false);
    expect(authorize(bucket(), req(null), READ_OBJECT)).toBe(false);
  });

  it('an explicit Deny refuses the owner too, except for the policy operations', () => {
    const b = bucket({ policy: policy(st('Deny', '*', 's3:*', '*')) });
    expect(authorize(b, req(OWNER), READ_OBJECT)).toBe(false);
    for (const a of ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'])
      expect(authorize(b, req(OWNER, a, null), undefined)).toBe(true);
    expect(authorize(b, req(OTHER, 's3:DeleteBucketPolicy', null), undefined)).toBe(false);
  });

  it('a policy Allow admits another account and anonymous (*); a Deny beats an ACL grant', () => {
    expect(authorize(bucket({ policy: policy(st('Allow', { AWS: OTHER })) }), req(OTHER), READ_OBJECT)).toBe(true);
    expect(authorize(bucket({ policy: policy(st('Allow', '*')) }), req(null), READ_OBJECT)).toBe(true);
    const aclBucket = bucket({ ownership: 'ObjectWriter', acl: publicRead });
    expect(authorize(aclBucket, req(null, 's3:ListBucket', null), READ_BUCKET)).toBe(true);
    const denied = { ...aclBucket, policy: policy(st('Deny', '*', 's3:ListBucket', `arn:aws:s3:::${B}`)) };
    expect(authorize(denied, req(null, 's3:ListBucket', null), READ_BUCKET)).toBe(false);
  });

  it('the object ACL decides reads of an object another account owns; a policy Allow does not reach it', () => {
    const b = bucket({ ownership: 'ObjectWriter', policy: policy(st('Allow', '*')) });
    const theirs: AccessControlList = { owner: OTHER, grants: [] };
    expect(authorize(b, req(OTHER), READ_OBJECT, theirs)).toBe(true);
    expect(authorize(b, req(OWNER), READ_OBJECT, theirs)).toBe(false);
    expect(authorize(b, req(null), READ_OBJECT, theirs)).toBe(false);
    const shared: AccessControlList = {
      owner: OTHER,
      grants: [{ grantee: { type: 'CanonicalUser', id: OWNER }, permission: 'READ' }],
    };
    expect(authorize(b, req(OWNER), READ_OBJECT, shared)).toBe(true);
    // Under BucketOwnerEnforced the stored ACL is void: the bucket owner owns everything.
    expect(authorize(bucket(), req(OWNER), READ_OBJECT, theirs)).toBe(true);
  });

  it('IgnorePublicAcls drops public grants from the decision', () => {
    const b = bucket({ ownership: 'ObjectWriter' });
    expect(authorize(b, req(null), READ_OBJECT, publicRead)).toBe(true);
    expect(
      authorize({ ...b, publicAccessBlock: pab({ IgnorePublicAcls: true }) }, req(null), READ_OBJECT, publicRead),
    ).toBe(false);
  });

  it('RestrictPublicBuckets with a public policy: only the bucket owner; with a non-public policy it changes nothing', () => {
    const open = bucket({
      policy: policy(st('Allow', '*'), st('Allow', { AWS: OTHER })),
      publicAccessBlock: pab({ RestrictPublicBuckets: true }),
    });
    expect(authorize(open, req(null), READ_OBJECT)).toBe(false);
    expect(authorize(open, req(OTHER), READ_OBJECT)).toBe(false);
    expect(authorize(open, req(OWNER), READ_OBJECT)).toBe(true);
    const closed = { ...open, policy: policy(st('Allow', { AWS: OTHER })) };
    expect(authorize(closed, req(OTHER), READ_OBJECT)).toBe(true);
  });

  it('an operation without an ACL mapping needs the policy', () => {
    const b = bucket({ ownership: 'ObjectWriter', acl: publicRead });
    expect(authorize(b, req(null, 's3:GetObjectTagging'), undefined)).toBe(false);
    const p = { ...b, policy: policy(st('Allow', { AWS: OTHER }, 's3:GetObjectTagging')) };
    expect(authorize(p, req(OTHER, 's3:GetObjectTagging'), undefined)).toBe(true);
  });
});
