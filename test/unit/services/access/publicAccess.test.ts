import { describe, expect, it } from 'vitest';
import { ALL_USERS, AUTHENTICATED_USERS } from '../../../../src/services/access/acl.js';
import { parsePolicy } from '../../../../src/services/access/policyDocument.js';
import { isPublicAcl, isPublicPolicy, withoutPublicGrants } from '../../../../src/services/access/publicAccess.js';
import type { AccessControlList } from '../../../../src/services/access/types.js';

const B = 'bkt';
const pub = (over: Record<string, unknown> = {}) =>
  isPublicPolicy(
    parsePolicy(
      JSON.stringify({
        Statement: {
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${B}/*`,
          ...over,
        },
      }),
      B,
    ),
  );

describe('isPublicPolicy (AWS: "The meaning of public")', () => {
  it('an Allow to * is public; to an account, or a Deny, is not', () => {
    expect(pub()).toBe(true);
    expect(pub({ Principal: { AWS: '*' } })).toBe(true);
    expect(pub({ Principal: { AWS: 'acct-1' } })).toBe(false);
    expect(pub({ Effect: 'Deny' })).toBe(false);
    expect(isPublicPolicy(undefined)).toBe(false);
  });
  it('aws:SourceIp CIDRs pin it down, unless they cover every address or only IfExists', () => {
    expect(pub({ Condition: { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32'] } } })).toBe(false);
    expect(pub({ Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } })).toBe(true);
    expect(pub({ Condition: { IpAddressIfExists: { 'aws:SourceIp': '192.0.2.0/24' } } })).toBe(true);
    expect(pub({ Condition: { NotIpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } })).toBe(true);
  });
  it('a fixed value of aws:SourceAccount, aws:PrincipalAccount or the KMS key id pins it; a wildcard does not', () => {
    expect(pub({ Condition: { StringEquals: { 'aws:SourceAccount': 'acct-1' } } })).toBe(false);
    expect(pub({ Condition: { StringEquals: { 'aws:PrincipalAccount': 'acct-1' } } })).toBe(false);
    expect(pub({ Condition: { StringEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'k' } } })).toBe(false);
    expect(pub({ Condition: { StringLike: { 'aws:PrincipalAccount': 'acct-*' } } })).toBe(true);
    expect(pub({ Condition: { StringNotEquals: { 'aws:PrincipalAccount': 'acct-1' } } })).toBe(true);
    expect(pub({ Condition: { StringEquals: { 's3:prefix': 'a' } } })).toBe(true);
  });
});

describe('public ACLs', () => {
  const acl: AccessControlList = {
    owner: 'o',
    grants: [
      { grantee: { type: 'CanonicalUser', id: 'o' }, permission: 'FULL_CONTROL' },
      { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' },
      { grantee: { type: 'Group', uri: AUTHENTICATED_USERS }, permission: 'WRITE' },
    ],
  };
  it('AllUsers and AuthenticatedUsers grants are public, and IgnorePublicAcls drops them', () => {
    expect(isPublicAcl(acl)).toBe(true);
    expect(withoutPublicGrants(acl)).toEqual({ owner: 'o', grants: [acl.grants[0]] });
    expect(isPublicAcl(withoutPublicGrants(acl))).toBe(false);
    expect(isPublicAcl(undefined)).toBe(false);
  });
});
