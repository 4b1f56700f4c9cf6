import { describe, expect, it } from 'vitest';
import {
  bucketAclForCreate,
  objectAclForWrite,
  parseGrantHeader,
  requestedAclHeaders,
} from '../../../src/s3/aclRequest.js';
import { S3Error } from '../../../src/s3/errors.js';
import { ALL_USERS, type AccountDirectory } from '../../../src/services/accessControl.js';

const OWNER = 'acct-owner';
const WRITER = 'acct-writer';
const FRIEND = 'acct-friend';
/** Only FRIEND is an account besides the ones the request itself proves (owner, writer). */
const accounts: AccountDirectory = {
  account: async (id) => (id === FRIEND ? { id, displayName: 'friend' } : undefined),
};

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (e) {
    return e instanceof S3Error ? `${e.status} ${e.code}` : String(e);
  }
}

describe('parseGrantHeader', () => {
  it('reads id, uri and emailAddress grantees, quoted or not, comma separated', () => {
    expect(
      parseGrantHeader('x-amz-grant-read', `id="${FRIEND}", uri="${ALL_USERS}",emailAddress=a@example.com`),
    ).toEqual([
      { type: 'CanonicalUser', id: FRIEND },
      { type: 'Group', uri: ALL_USERS },
      { type: 'AmazonCustomerByEmail', email: 'a@example.com' },
    ]);
  });
  it('refuses what is not a grant list (InvalidArgument naming the header)', async () => {
    for (const bad of ['', 'id=', 'nobody="x"', 'id="a" uri="b"', '"abc"', 'id="a",,']) {
      const code = await codeOf(() => parseGrantHeader('x-amz-grant-write', bad));
      expect(code, bad).toBe('400 InvalidArgument');
    }
  });
});

describe('requestedAclHeaders', () => {
  it('none, a canned ACL, or the grants of every x-amz-grant-* header with its permission', () => {
    expect(requestedAclHeaders({})).toBeUndefined();
    expect(requestedAclHeaders({ 'x-amz-acl': 'public-read' })).toEqual({ canned: 'public-read' });
    expect(
      requestedAclHeaders({ 'x-amz-grant-read': `id="${FRIEND}"`, 'x-amz-grant-write-acp': `uri="${ALL_USERS}"` }),
    ).toEqual({
      grants: [
        { grantee: { type: 'CanonicalUser', id: FRIEND }, permission: 'READ' },
        { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'WRITE_ACP' },
      ],
    });
  });
  it('x-amz-acl with grant headers is InvalidRequest; an unknown canned ACL InvalidArgument', async () => {
    expect(
      await codeOf(() => requestedAclHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-read': `id="${FRIEND}"` })),
    ).toBe('400 InvalidRequest');
    expect(await codeOf(() => requestedAclHeaders({ 'x-amz-acl': 'world-writable' }))).toBe('400 InvalidArgument');
  });
});

describe('objectAclForWrite', () => {
  const enforced = { owner: OWNER, ownership: 'BucketOwnerEnforced' as const };
  const writer = { owner: OWNER, ownership: 'ObjectWriter' as const };
  const preferred = { owner: OWNER, ownership: 'BucketOwnerPreferred' as const };

  it('BucketOwnerEnforced (and a bucket without a rule): private and bucket-owner-full-control only, nothing stored', async () => {
    for (const b of [enforced, { owner: OWNER }]) {
      expect(await objectAclForWrite({}, b, WRITER, accounts)).toBeUndefined();
      expect(await objectAclForWrite({ 'x-amz-acl': 'private' }, b, WRITER, accounts)).toBeUndefined();
      expect(
        await objectAclForWrite({ 'x-amz-acl': 'bucket-owner-full-control' }, b, WRITER, accounts),
      ).toBeUndefined();
      expect(
        await objectAclForWrite({ 'x-amz-grant-full-control': `id="${OWNER}"` }, b, WRITER, accounts),
      ).toBeUndefined();
      for (const h of [{ 'x-amz-acl': 'public-read' }, { 'x-amz-grant-read': `id="${FRIEND}"` }])
        expect(await codeOf(objectAclForWrite(h, b, WRITER, accounts))).toBe('400 AccessControlListNotSupported');
    }
  });

  it('ObjectWriter: the writer owns the object and its ACL is what it asked for', async () => {
    expect(await objectAclForWrite({ 'x-amz-acl': 'public-read' }, writer, WRITER, accounts)).toEqual({
      owner: WRITER,
      grants: [
        { grantee: { type: 'CanonicalUser', id: WRITER }, permission: 'FULL_CONTROL' },
        { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'READ' },
      ],
    });
    // The bucket owner writing a private object: the default, nothing to store.
    expect(await objectAclForWrite({}, writer, OWNER, accounts)).toBeUndefined();
    expect(await objectAclForWrite({}, writer, WRITER, accounts)).toEqual({
      owner: WRITER,
      grants: [{ grantee: { type: 'CanonicalUser', id: WRITER }, permission: 'FULL_CONTROL' }],
    });
  });

  it('BucketOwnerPreferred: bucket-owner-full-control hands the object to the bucket owner', async () => {
    expect(
      await objectAclForWrite({ 'x-amz-acl': 'bucket-owner-full-control' }, preferred, WRITER, accounts),
    ).toBeUndefined();
    expect((await objectAclForWrite({ 'x-amz-acl': 'bucket-owner-read' }, preferred, WRITER, accounts))?.owner).toBe(
      WRITER,
    );
  });

  it('a grant to an id that is no account is InvalidArgument, an e-mail grantee UnresolvableGrantByEmailAddress, an unknown group InvalidArgument', async () => {
    expect(await codeOf(objectAclForWrite({ 'x-amz-grant-read': 'id="nobody"' }, writer, WRITER, accounts))).toBe(
      '400 InvalidArgument',
    );
    expect(
      await codeOf(objectAclForWrite({ 'x-amz-grant-read': 'emailAddress="a@example.com"' }, writer, WRITER, accounts)),
    ).toBe('400 UnresolvableGrantByEmailAddress');
    expect(
      await codeOf(
        objectAclForWrite({ 'x-amz-grant-read': 'uri="http://example.com/group"' }, writer, WRITER, accounts),
      ),
    ).toBe('400 InvalidArgument');
    const ok = await objectAclForWrite({ 'x-amz-grant-read': `id="${FRIEND}"` }, writer, WRITER, accounts);
    expect(ok).toEqual({
      owner: WRITER,
      grants: [{ grantee: { type: 'CanonicalUser', id: FRIEND }, permission: 'READ' }],
    });
  });
});

describe('bucketAclForCreate', () => {
  it('no x-amz-object-ownership: BucketOwnerEnforced, and an ACL wider than private is InvalidBucketAclWithObjectOwnership', async () => {
    expect(await bucketAclForCreate({}, OWNER, accounts)).toEqual({ ownership: 'BucketOwnerEnforced' });
    expect(await bucketAclForCreate({ 'x-amz-acl': 'private' }, OWNER, accounts)).toEqual({
      ownership: 'BucketOwnerEnforced',
    });
    expect(await codeOf(bucketAclForCreate({ 'x-amz-acl': 'public-read' }, OWNER, accounts))).toBe(
      '400 InvalidBucketAclWithObjectOwnership',
    );
  });
  it('with ObjectWriter or BucketOwnerPreferred the ACL is kept', async () => {
    for (const o of ['ObjectWriter', 'BucketOwnerPreferred'] as const) {
      const r = await bucketAclForCreate({ 'x-amz-object-ownership': o, 'x-amz-acl': 'public-read' }, OWNER, accounts);
      expect(r.ownership).toBe(o);
      expect(r.acl?.grants.map((g) => g.permission)).toEqual(['FULL_CONTROL', 'READ']);
    }
  });
  it('an unknown x-amz-object-ownership is InvalidArgument', async () => {
    expect(await codeOf(bucketAclForCreate({ 'x-amz-object-ownership': 'Anyone' }, OWNER, accounts))).toBe(
      '400 InvalidArgument',
    );
  });
});
