import { describe, expect, it } from 'vitest';
import { S3Error } from '../../../../src/s3/errors.js';
import {
  decodeAccessControlPolicy,
  decodeOwnershipControls,
  encodeAccessControlPolicy,
  encodeOwnershipControls,
} from '../../../../src/s3/xml/aclXml.js';
import { renderXml } from '../../../../src/s3/xml/encode.js';
import { ALL_USERS, type AccessControlList } from '../../../../src/services/accessControl.js';

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
const policy = (grants: string, owner = '<Owner><ID>acct-a</ID></Owner>') =>
  `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${owner}<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
const grant = (grantee: string, permission: string) =>
  `<Grant>${grantee}<Permission>${permission}</Permission></Grant>`;

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e instanceof S3Error ? e.code : String(e);
  }
}

describe('decodeAccessControlPolicy', () => {
  it('reads the owner and each grantee by its xsi:type', () => {
    const doc = decodeAccessControlPolicy(
      policy(
        grant(
          `<Grantee ${XSI} xsi:type="CanonicalUser"><ID>acct-b</ID><DisplayName>b</DisplayName></Grantee>`,
          'READ',
        ) +
          grant(`<Grantee ${XSI} xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee>`, 'WRITE') +
          grant(
            `<Grantee ${XSI} xsi:type="AmazonCustomerByEmail"><EmailAddress>x@y</EmailAddress></Grantee>`,
            'READ_ACP',
          ),
      ),
    );
    expect(doc).toEqual({
      ownerId: 'acct-a',
      grants: [
        { grantee: { type: 'CanonicalUser', id: 'acct-b' }, permission: 'READ' },
        { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'WRITE' },
        { grantee: { type: 'AmazonCustomerByEmail', email: 'x@y' }, permission: 'READ_ACP' },
      ],
    });
  });
  it('refuses an unknown permission or grantee type, a grantee without its id, and a wrong root', () => {
    const user = `<Grantee ${XSI} xsi:type="CanonicalUser"><ID>acct-b</ID></Grantee>`;
    expect(codeOf(() => decodeAccessControlPolicy(policy(grant(user, 'ALL'))))).toBe('MalformedACLError');
    expect(
      codeOf(() =>
        decodeAccessControlPolicy(policy(grant(`<Grantee ${XSI} xsi:type="Role"><ID>x</ID></Grantee>`, 'READ'))),
      ),
    ).toBe('MalformedACLError');
    expect(codeOf(() => decodeAccessControlPolicy(policy(grant(`<Grantee><ID>x</ID></Grantee>`, 'READ'))))).toBe(
      'MalformedACLError',
    );
    expect(
      codeOf(() =>
        decodeAccessControlPolicy(policy(grant(`<Grantee ${XSI} xsi:type="CanonicalUser"></Grantee>`, 'READ'))),
      ),
    ).toBe('MalformedACLError');
    expect(codeOf(() => decodeAccessControlPolicy('<Tagging/>'))).toBe('MalformedXML');
    expect(codeOf(() => decodeAccessControlPolicy('<AccessControlPolicy>'))).toBe('MalformedXML');
  });
  it('refuses more than 100 grants', () => {
    const user = `<Grantee ${XSI} xsi:type="CanonicalUser"><ID>acct-b</ID></Grantee>`;
    expect(codeOf(() => decodeAccessControlPolicy(policy(grant(user, 'READ').repeat(100))))).toBe('ok');
    expect(codeOf(() => decodeAccessControlPolicy(policy(grant(user, 'READ').repeat(101))))).toBe('MalformedACLError');
  });
});

describe('encodeAccessControlPolicy', () => {
  it('renders what decode reads back', () => {
    const acl: AccessControlList = {
      owner: 'acct-a',
      grants: [
        { grantee: { type: 'CanonicalUser', id: 'acct-b' }, permission: 'READ' },
        { grantee: { type: 'Group', uri: ALL_USERS }, permission: 'WRITE' },
      ],
    };
    const xml = renderXml(encodeAccessControlPolicy(acl, (id) => `name of ${id}`));
    expect(xml).toContain('<DisplayName>name of acct-b</DisplayName>');
    expect(xml).toContain('xsi:type="Group"');
    expect(decodeAccessControlPolicy(xml)).toEqual({ ownerId: 'acct-a', grants: acl.grants });
  });
});

describe('OwnershipControls', () => {
  it('round-trips the three rules; exactly one Rule with a known value', () => {
    for (const o of ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'] as const)
      expect(decodeOwnershipControls(renderXml(encodeOwnershipControls(o)))).toBe(o);
    expect(
      codeOf(() =>
        decodeOwnershipControls(
          '<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>',
        ),
      ),
    ).toBe('MalformedXML');
    expect(codeOf(() => decodeOwnershipControls('<OwnershipControls></OwnershipControls>'))).toBe('MalformedXML');
    const two = '<Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule>'.repeat(2);
    expect(codeOf(() => decodeOwnershipControls(`<OwnershipControls>${two}</OwnershipControls>`))).toBe('MalformedXML');
  });
});
