/**
 * AccessControlPolicy (PutBucketAcl / PutObjectAcl bodies, GetBucketAcl /
 * GetObjectAcl answers) and OwnershipControls documents.
 *
 * A decoded grantee is what the client named (an id, a group URI, an e-mail
 * address), not yet checked against the accounts: s3/aclRequest.ts resolves it.
 */
import {
  ACL_PERMISSIONS,
  type AccessControlList,
  type AclGrantee,
  type AclPermission,
  type ObjectOwnership,
} from '../../services/accessControl.js';
import { S3Error } from '../errors.js';
import { parseXml, parseXmlWithAttributes } from './decode.js';
import type { XmlDoc, XmlNode } from './encode.js';

/** A grantee as a request names it. */
export type RequestedGrantee =
  | { type: 'CanonicalUser'; id: string }
  | { type: 'Group'; uri: string }
  | { type: 'AmazonCustomerByEmail'; email: string };

export interface RequestedGrant {
  grantee: RequestedGrantee;
  permission: AclPermission;
}

/** AWS's limit on the grants of one ACL. */
export const MAX_GRANTS = 100;

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

type Node = Record<string, unknown>;

function malformedAcl(message?: string): S3Error {
  return new S3Error(
    'MalformedACLError',
    message ?? 'The XML you provided was not well-formed or did not validate against our published schema',
  );
}

function textOf(n: unknown): string | undefined {
  if (n === undefined || n === null) return undefined;
  if (typeof n === 'string') return n.trim();
  if (typeof n === 'object' && Object.keys(n as Node).length === 0) return '';
  throw malformedAcl();
}

function childOf(n: unknown, name: string): unknown {
  return n && typeof n === 'object' ? (n as Node)[name] : undefined;
}

function decodeGrantee(g: unknown): RequestedGrantee {
  if (!g || typeof g !== 'object') throw malformedAcl('A Grant must name a Grantee.');
  const type = textOf((g as Node)['@_type']);
  switch (type) {
    case 'CanonicalUser': {
      const id = textOf(childOf(g, 'ID'));
      if (!id) throw malformedAcl('A CanonicalUser Grantee must have an ID.');
      return { type, id };
    }
    case 'Group': {
      const uri = textOf(childOf(g, 'URI'));
      if (!uri) throw malformedAcl('A Group Grantee must have a URI.');
      return { type, uri };
    }
    case 'AmazonCustomerByEmail': {
      const email = textOf(childOf(g, 'EmailAddress'));
      if (!email) throw malformedAcl('An AmazonCustomerByEmail Grantee must have an EmailAddress.');
      return { type, email };
    }
    default:
      throw malformedAcl('A Grantee must have xsi:type CanonicalUser, Group or AmazonCustomerByEmail.');
  }
}

/** PutBucketAcl / PutObjectAcl body: the Owner ID it names and its grants, in order. */
export function decodeAccessControlPolicy(text: string): { ownerId?: string; grants: RequestedGrant[] } {
  const doc = parseXmlWithAttributes(text);
  const r = doc.AccessControlPolicy;
  if (r === undefined) throw new S3Error('MalformedXML', 'The XML root element must be AccessControlPolicy.');
  const ownerId = textOf(childOf(childOf(r, 'Owner'), 'ID')) || undefined;
  const list = childOf(r, 'AccessControlList');
  const raw = (childOf(list, 'Grant') as unknown[] | undefined) ?? [];
  if (raw.length > MAX_GRANTS) throw malformedAcl(`An ACL may hold at most ${MAX_GRANTS} grants.`);
  const grants = raw.map((g) => {
    const permission = textOf(childOf(g, 'Permission'));
    if (!permission || !(ACL_PERMISSIONS as readonly string[]).includes(permission))
      throw malformedAcl('A Grant Permission must be FULL_CONTROL, WRITE, WRITE_ACP, READ or READ_ACP.');
    return { grantee: decodeGrantee(childOf(g, 'Grantee')), permission: permission as AclPermission };
  });
  return { ownerId, grants };
}

function encodeGrantee(g: AclGrantee, displayName: (id: string) => string): XmlNode {
  const ns = { '@_xmlns:xsi': XSI, '@_xsi:type': g.type };
  if (g.type === 'CanonicalUser') return { ...ns, ID: g.id, DisplayName: displayName(g.id) };
  return { ...ns, URI: g.uri };
}

/** GetBucketAcl / GetObjectAcl answer. `displayName` names an account (its id when unknown). */
export function encodeAccessControlPolicy(acl: AccessControlList, displayName: (id: string) => string): XmlDoc {
  return {
    root: 'AccessControlPolicy',
    body: {
      Owner: { ID: acl.owner, DisplayName: displayName(acl.owner) },
      AccessControlList: {
        Grant: acl.grants.map((g) => ({ Grantee: encodeGrantee(g.grantee, displayName), Permission: g.permission })),
      },
    },
  };
}

const OWNERSHIPS: readonly ObjectOwnership[] = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

export function isObjectOwnership(v: string): v is ObjectOwnership {
  return (OWNERSHIPS as readonly string[]).includes(v);
}

/** PutBucketOwnershipControls body: exactly one Rule with a known ObjectOwnership. */
export function decodeOwnershipControls(text: string): ObjectOwnership {
  const doc = parseXml(text);
  const r = doc.OwnershipControls;
  if (r === undefined) throw new S3Error('MalformedXML', 'The XML root element must be OwnershipControls.');
  const rules = (childOf(r, 'Rule') as unknown[] | undefined) ?? [];
  if (rules.length !== 1) throw new S3Error('MalformedXML', 'OwnershipControls must hold exactly one Rule.');
  const v = childOf(rules[0], 'ObjectOwnership');
  const o = typeof v === 'string' ? v.trim() : '';
  if (!isObjectOwnership(o))
    throw new S3Error(
      'MalformedXML',
      'ObjectOwnership must be BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter.',
    );
  return o;
}

export function encodeOwnershipControls(o: ObjectOwnership): XmlDoc {
  return { root: 'OwnershipControls', body: { Rule: { ObjectOwnership: o } } };
}
