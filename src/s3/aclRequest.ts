/**
 * The ACL a request asks for: x-amz-acl (a canned ACL) or the
 * x-amz-grant-* headers (never both, as S3), or an AccessControlPolicy body
 * (PutBucketAcl / PutObjectAcl), resolved against the accounts and the
 * bucket's ownership rule (S3's rules, "Controlling ownership of objects"):
 *
 * - BucketOwnerEnforced: ACLs are disabled. A write may only ask for private,
 *   bucket-owner-full-control, or grants that name the bucket owner alone;
 *   anything else is AccessControlListNotSupported. The bucket owner owns the
 *   object and no ACL is stored.
 * - BucketOwnerPreferred: a write with bucket-owner-full-control gives the
 *   object to the bucket owner; any other write is owned by the writer.
 * - ObjectWriter: the writer owns what it writes.
 *
 * A grantee id must be an existing account (InvalidArgument "Invalid id"), an
 * e-mail grantee is UnresolvableGrantByEmailAddress (Coffer accounts have no
 * e-mail address), a group must be one of S3's three: nothing asked for is
 * ever stored as less than it says.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  ALL_USERS,
  AUTHENTICATED_USERS,
  LOG_DELIVERY,
  expandCannedAcl,
  isCannedAcl,
  isOwnerOnly,
  isPublicAcl,
  ownershipOf,
  publicAccessBlockOf,
  type AccessControlList,
  type AccountDirectory,
  type AclGrant,
  type AclGrantee,
  type AclPermission,
  type CannedAcl,
  type ObjectOwnership,
  type PublicAccessBlock,
} from '../services/accessControl.js';
import { S3Error } from './errors.js';
import { header } from './headers.js';
import { MAX_GRANTS, type RequestedGrant, type RequestedGrantee } from './xml/aclXml.js';

export const GRANT_HEADERS: ReadonlyArray<[string, AclPermission]> = [
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
];

/** What the headers of a request ask for: nothing, a canned ACL, or a grant list. */
export type RequestedAcl = { canned: CannedAcl } | { grants: RequestedGrant[] };

function invalidGrant(headerName: string, value: string): S3Error {
  return new S3Error('InvalidArgument', `The ${headerName} header is not a valid grant list.`, {
    ArgumentName: headerName,
    ArgumentValue: value,
  });
}

/**
 * One x-amz-grant-* value: `type="value"` pairs separated by commas, type one
 * of id, uri, emailAddress (S3's syntax; the quotes are optional).
 */
export function parseGrantHeader(headerName: string, value: string): RequestedGrantee[] {
  const out: RequestedGrantee[] = [];
  const item = /\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^,"\s]+))\s*(,|$)/y;
  let pos = 0;
  while (pos < value.length) {
    item.lastIndex = pos;
    const m = item.exec(value);
    if (!m) throw invalidGrant(headerName, value);
    const type = m[1]!;
    const v = (m[2] ?? m[3] ?? '').trim();
    if (v === '') throw invalidGrant(headerName, value);
    if (type === 'id') out.push({ type: 'CanonicalUser', id: v });
    else if (type === 'uri') out.push({ type: 'Group', uri: v });
    else if (type === 'emailAddress') out.push({ type: 'AmazonCustomerByEmail', email: v });
    else throw invalidGrant(headerName, value);
    pos = item.lastIndex;
    if (m[4] === '' || pos >= value.length) break;
  }
  if (out.length === 0) throw invalidGrant(headerName, value);
  return out;
}

/** x-amz-acl / x-amz-grant-* of a request; undefined when it has none. */
export function requestedAclHeaders(h: IncomingHttpHeaders): RequestedAcl | undefined {
  const canned = header(h, 'x-amz-acl');
  const grants: RequestedGrant[] = [];
  let anyGrant = false;
  for (const [name, permission] of GRANT_HEADERS) {
    const v = header(h, name);
    if (v === undefined) continue;
    anyGrant = true;
    for (const grantee of parseGrantHeader(name, v)) grants.push({ grantee, permission });
  }
  if (canned !== undefined && anyGrant)
    throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned !== undefined) {
    const c = canned.trim();
    if (!isCannedAcl(c))
      throw new S3Error('InvalidArgument', `${canned} is not a canned ACL.`, {
        ArgumentName: 'x-amz-acl',
        ArgumentValue: canned,
      });
    return { canned: c };
  }
  if (!anyGrant) return undefined;
  if (grants.length > MAX_GRANTS)
    throw new S3Error('InvalidArgument', `An ACL may hold at most ${MAX_GRANTS} grants.`, {
      ArgumentName: 'x-amz-grant-*',
    });
  return { grants };
}

const GROUPS: readonly string[] = [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY];

/**
 * Check every grantee: ids against the accounts (`known` are ids already known
 * to exist: the caller's and the owners'), groups against S3's three.
 */
export async function resolveGrants(
  grants: RequestedGrant[],
  accounts: AccountDirectory,
  known: readonly string[],
): Promise<AclGrant[]> {
  const out: AclGrant[] = [];
  const checked = new Set(known);
  for (const g of grants) {
    out.push({ grantee: await resolveGrantee(g.grantee, accounts, checked), permission: g.permission });
  }
  return out;
}

async function resolveGrantee(
  g: RequestedGrantee,
  accounts: AccountDirectory,
  checked: Set<string>,
): Promise<AclGrantee> {
  switch (g.type) {
    case 'AmazonCustomerByEmail':
      throw new S3Error('UnresolvableGrantByEmailAddress', undefined, { EmailAddress: g.email });
    case 'Group':
      if (!GROUPS.includes(g.uri))
        throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'uri', ArgumentValue: g.uri });
      return { type: 'Group', uri: g.uri as typeof ALL_USERS };
    case 'CanonicalUser':
      if (!checked.has(g.id)) {
        if (!(await accounts.account(g.id)))
          throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'id', ArgumentValue: g.id });
        checked.add(g.id);
      }
      return { type: 'CanonicalUser', id: g.id };
  }
}

/** The ACL `req` asks for on a resource owned by `owner` in a bucket owned by `bucketOwner`. */
export async function aclOf(
  req: RequestedAcl | undefined,
  owner: string,
  bucketOwner: string,
  accounts: AccountDirectory,
  known: readonly string[],
): Promise<AccessControlList> {
  if (req === undefined) return expandCannedAcl('private', owner, bucketOwner);
  if ('canned' in req) return expandCannedAcl(req.canned, owner, bucketOwner);
  return { owner, grants: await resolveGrants(req.grants, accounts, [owner, bucketOwner, ...known]) };
}

function aclsDisabled(what: string): S3Error {
  return new S3Error(
    'AccessControlListNotSupported',
    `The bucket does not allow ACLs (its object ownership is BucketOwnerEnforced): ${what}`,
  );
}

/**
 * The owner and ACL of an object a write (PutObject, CopyObject,
 * CreateMultipartUpload, PostObject) creates in `bucket` for `writer`.
 * `acl` undefined: nothing to store (the bucket owner's FULL_CONTROL alone).
 */
export async function objectAclForWrite(
  h: IncomingHttpHeaders,
  bucket: { owner: string; ownership?: ObjectOwnership; publicAccessBlock?: PublicAccessBlock },
  writer: string,
  accounts: AccountDirectory,
): Promise<AccessControlList | undefined> {
  const req = requestedAclHeaders(h);
  const rule = ownershipOf(bucket);
  if (rule === 'BucketOwnerEnforced') {
    if (
      req === undefined ||
      ('canned' in req && (req.canned === 'private' || req.canned === 'bucket-owner-full-control'))
    )
      return undefined;
    const acl = await aclOf(req, bucket.owner, bucket.owner, accounts, [writer]);
    if (!('canned' in req) && isOwnerOnly(acl)) return undefined;
    throw aclsDisabled('only bucket-owner-full-control is accepted.');
  }
  const owner =
    rule === 'BucketOwnerPreferred' &&
    req !== undefined &&
    'canned' in req &&
    req.canned === 'bucket-owner-full-control'
      ? bucket.owner
      : writer;
  const acl = await aclOf(req, owner, bucket.owner, accounts, [writer]);
  // BlockPublicAcls: S3 refuses the write itself (AccessDenied), not just the grant.
  if (publicAccessBlockOf(bucket).BlockPublicAcls && isPublicAcl(acl))
    throw new S3Error('AccessDenied', 'Access Denied');
  return storedObjectAcl(acl, bucket.owner);
}

/** What an object record keeps of `acl`: nothing when it is the default (the bucket owner's FULL_CONTROL alone). */
export function storedObjectAcl(acl: AccessControlList, bucketOwner: string): AccessControlList | undefined {
  return acl.owner === bucketOwner && isOwnerOnly(acl) ? undefined : acl;
}

/** CreateBucket's x-amz-object-ownership (absent: BucketOwnerEnforced, AWS's default). */
export function objectOwnershipHeader(h: IncomingHttpHeaders): ObjectOwnership | undefined {
  const v = header(h, 'x-amz-object-ownership');
  if (v === undefined) return undefined;
  const o = v.trim();
  if (o !== 'BucketOwnerEnforced' && o !== 'BucketOwnerPreferred' && o !== 'ObjectWriter')
    throw new S3Error('InvalidArgument', 'Invalid x-amz-object-ownership header', {
      ArgumentName: 'x-amz-object-ownership',
      ArgumentValue: v,
    });
  return o;
}

/**
 * CreateBucket: the new bucket's ownership rule and ACL. As AWS: without
 * x-amz-object-ownership the bucket is BucketOwnerEnforced, and then any ACL
 * wider than private is InvalidBucketAclWithObjectOwnership.
 */
export async function bucketAclForCreate(
  h: IncomingHttpHeaders,
  owner: string,
  accounts: AccountDirectory,
): Promise<{ ownership: ObjectOwnership; acl?: AccessControlList }> {
  const ownership = objectOwnershipHeader(h) ?? 'BucketOwnerEnforced';
  const req = requestedAclHeaders(h);
  const acl = await aclOf(req, owner, owner, accounts, []);
  const ownerOnly = isOwnerOnly(acl);
  if (ownership === 'BucketOwnerEnforced') {
    if (!ownerOnly) throw new S3Error('InvalidBucketAclWithObjectOwnership');
    return { ownership };
  }
  return ownerOnly && req === undefined ? { ownership } : { ownership, acl };
}
