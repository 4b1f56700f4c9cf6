import { describe, expect, it } from 'vitest';
import {
  ALL_USERS,
  AUTHENTICATED_USERS,
  LOG_DELIVERY,
  aclAllows,
  effectiveBucketAcl,
  effectiveObjectAcl,
} from '../../../../src/services/access/acl.js';
import { CANNED_ACLS, expandCannedAcl, isOwnerOnly } from '../../../../src/services/access/cannedAcl.js';
import type { AccessControlList, AclPermission } from '../../../../src/services/access/types.js';

const OWNER = 'acct-owner';
const OTHER = 'acct-other';
const THIRD = 'acct-third';
const who = (accountId: string) => ({ accountId });
const PERMS: AclPermission[] = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'];

/** Every permission `principal` holds under `acl`, in PERMS order. */
function held(acl: AccessControlList | undefined, principal: { accountId: string } | null, owner = OWNER) {
  return PERMS.filter((p) => aclAllows(acl, owner, principal, p));
}

describe('aclAllows', () => {
  it('without an ACL only the owner holds anything, and everything', () => {
    expect(held(undefined, who(OWNER))).toEqual(PERMS);
    expect(held(undefined, who(OTHER))).toEqual([]);
    expect(held(undefined, null)).toEqual([]);
  });

  it('FULL_CONTROL implies the four others', () => {
    const acl: AccessControlList = {
      owner: OWNER,
      grants: [{ grantee: { type: 'CanonicalUser', id: OTHER }, permission: 'FULL_CONTROL' }],
    };
    expect(held(acl, who(OTHER))).toEqual(PERMS);
    expect(held(acl, who(THIRD))).toEqual([]);
  });

  it('a single permission gives that one only, to that account only', () => {
    for (const p of PERMS.filter((x) => x !== 'FULL_CONTROL')) {
      const acl: AccessControlList = {
        owner: OWNER,
        grants: [{ grantee: { type: 'CanonicalUser', id: OTHER }, permission: p }],
      };
      expect(held(acl, who(OTHER)), p).toEqual([p]);
      expect(held(acl, who(THIRD)), p).toEqual([]);
    }
  });

  it('the owner keeps READ_ACP and WRITE_ACP whatever the grants say, and nothing else it was not granted', () => {
    const acl: AccessControlList = {
      owner: OWNER,
      grants: [{ grantee: { type: 'CanonicalUser', id: OTHER }, permission: 'READ' }],
    };
    expect(held(acl, who(OWNER))).toEqual(['READ_ACP', 'WRITE_ACP']);
  });

  it('AllUsers matches everyone including anonymous; AuthenticatedUsers only signed principals', () => {
    const all: AccessControlList = {
      owner: OWNER,
      grants: [{ grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' }],
    };
    expect(held(all, null)).toEqual(['READ']);
    expect(held(all, who(THIRD))).toEqual(['READ']);
    const auth: AccessControlList = {
      owner: OWNER,
      grants: [{ grantee: { type: 'Group', uri: AUTHENTICATED_USERS }, permission: 'WRITE' }],
    };
    expect(held(auth, null)).toEqual([]);
    expect(held(auth, who(THIRD))).toEqual(['WRITE']);
  });

  it('LogDelivery matches no request principal', () => {
    const acl: AccessControlList = {
      owner: OWNER,
      grants: [{ grantee: { type: 'Group', uri: LOG_DELIVERY }, permission: 'WRITE' }],
    };
    expect(held(acl, null)).toEqual([]);
    expect(held(acl, who(THIRD))).toEqual([]);
  });
});

describe('expandCannedAcl', () => {
  const owner = { grantee: { type: 'CanonicalUser', id: OTHER }, permission: 'FULL_CONTROL' };
  it('expands each canned ACL of an object written by OTHER into a bucket of OWNER as S3 does', () => {
    const grants = Object.fromEntries(CANNED_ACLS.map((c) => [c, expandCannedAcl(c, OTHER, OWNER).grants]));
    expect(grants).toEqual({
      private: [owner],
      'public-read': [owner, { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' }],
      'public-read-write': [
        owner,
        { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' },
        { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'WRITE' },
      ],
      'authenticated-read': [owner, { grantee: { type: 'Group', uri: AUTHENTICATED_USERS }, permission: 'READ' }],
      'bucket-owner-read': [owner, { grantee: { type: 'CanonicalUser', id: OWNER }, permission: 'READ' }],
      'bucket-owner-full-control': [
        owner,
        { grantee: { type: 'CanonicalUser', id: OWNER }, permission: 'FULL_CONTROL' },
      ],
      'log-delivery-write': [
        owner,
        { grantee: { type: 'Group', uri: LOG_DELIVERY }, permission: 'WRITE' },
        { grantee: { type: 'Group', uri: LOG_DELIVERY }, permission: 'READ_ACP' },
      ],
    });
    for (const c of CANNED_ACLS) expect(expandCannedAcl(c, OTHER, OWNER).owner).toBe(OTHER);
  });

  it('bucket-owner-* add nothing when the owner is the bucket owner (a bucket, or the bucket owner writing)', () => {
    expect(expandCannedAcl('bucket-owner-read', OWNER, OWNER)).toEqual(expandCannedAcl('private', OWNER, OWNER));
    expect(expandCannedAcl('bucket-owner-full-control', OWNER, OWNER)).toEqual(
      expandCannedAcl('private', OWNER, OWNER),
    );
  });

  it('isOwnerOnly: true for private, false for every ACL that grants anyone else', () => {
    const only = CANNED_ACLS.filter((c) => isOwnerOnly(expandCannedAcl(c, OWNER, OWNER)));
    expect(only).toEqual(['private', 'bucket-owner-read', 'bucket-owner-full-control']);
    expect(isOwnerOnly({ owner: OWNER, grants: [] })).toBe(false);
    expect(
      isOwnerOnly({ owner: OWNER, grants: [{ grantee: { type: 'CanonicalUser', id: OWNER }, permission: 'READ' }] }),
    ).toBe(false);
  });
});

describe('effective ACLs under the ownership rule', () => {
  const publicAcl = expandCannedAcl('public-read', OWNER, OWNER);
  it('BucketOwnerEnforced (also when absent) disables a stored bucket ACL', () => {
    expect(effectiveBucketAcl({ owner: OWNER, acl: publicAcl })).toBeUndefined();
    expect(effectiveBucketAcl({ owner: OWNER, acl: publicAcl, ownership: 'BucketOwnerEnforced' })).toBeUndefined();
    expect(effectiveBucketAcl({ owner: OWNER, acl: publicAcl, ownership: 'ObjectWriter' })).toBe(publicAcl);
  });
  it('objects: the bucket owner owns everything under BucketOwnerEnforced; else the stored owner', () => {
    const written = expandCannedAcl('public-read', OTHER, OWNER);
    expect(effectiveObjectAcl({ owner: OWNER, ownership: 'BucketOwnerEnforced' }, written)).toEqual({
      owner: OWNER,
      acl: undefined,
    });
    expect(effectiveObjectAcl({ owner: OWNER, ownership: 'ObjectWriter' }, written)).toEqual({
      owner: OTHER,
      acl: written,
    });
    expect(effectiveObjectAcl({ owner: OWNER, ownership: 'BucketOwnerPreferred' }, undefined)).toEqual({
      owner: OWNER,
      acl: undefined,
    });
  });
});
