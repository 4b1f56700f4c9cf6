/**
 * GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl and the bucket's
 * ownership controls (Get/Put/DeleteBucketOwnershipControls).
 *
 * Who may read or replace an ACL is decided before the handler runs
 * (authorizeRequest.ts): READ_ACP / WRITE_ACP in the ACL itself (the owner
 * always holds both), or s3:GetBucketAcl, s3:PutObjectAcl, ... in the bucket
 * policy. PutObjectAcl decides again under the version's lock, on the ACL as
 * stored then. BlockPublicAcls refuses a public ACL.
 */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { aclOf, requestedAclHeaders, resolveGrants, storedObjectAcl, type RequestedAcl } from '../aclRequest.js';
import {
  decodeAccessControlPolicy,
  decodeOwnershipControls,
  encodeAccessControlPolicy,
  encodeOwnershipControls,
} from '../xml/aclXml.js';
import { versionHeader, versionParam } from '../versions.js';
import { verifySmallBody } from './delete.js';
import {
  effectiveBucketAcl,
  effectiveObjectAcl,
  isOwnerOnly,
  isPublicAcl,
  ownerOnlyAcl,
  ownershipOf,
  publicAccessBlockOf,
  type AccessControlList,
} from '../../services/accessControl.js';
import { authorizeObjectAcl } from '../authorizeRequest.js';
import type { BucketRecord } from '../../services/types.js';

/** BlockPublicAcls: a request that would store a public ACL is refused (S3: AccessDenied). */
function refusePublicAcl(b: BucketRecord, acl: AccessControlList | undefined): void {
  if (publicAccessBlockOf(b).BlockPublicAcls && isPublicAcl(acl)) throw new S3Error('AccessDenied', 'Access Denied');
}

/** The display name of every account an ACL names (its id when the account is unknown). */
async function displayNames(ctx: S3RequestContext, acl: AccessControlList): Promise<(id: string) => string> {
  const ids = new Set([acl.owner]);
  for (const g of acl.grants) if (g.grantee.type === 'CanonicalUser') ids.add(g.grantee.id);
  const names = new Map<string, string>();
  for (const id of ids) {
    // The account's name, the same whoever asks (the requester's identity name only when no directory knows it).
    const own = id === ctx.principal.accountId ? ctx.principal.displayName : undefined;
    names.set(id, (await ctx.services.accounts.account(id))?.displayName ?? (own || id));
  }
  return (id) => names.get(id) ?? id;
}

async function render(ctx: S3RequestContext, acl: AccessControlList) {
  return encodeAccessControlPolicy(acl, await displayNames(ctx, acl));
}

/**
 * What a PutBucketAcl / PutObjectAcl asks for: the headers or the body, never
 * both and never neither (S3's MissingSecurityHeader). The body's Owner must
 * be the resource's owner: an ACL cannot give the resource away.
 */
async function requestedAcl(
  ctx: S3RequestContext,
  owner: string,
): Promise<{ headers: RequestedAcl } | { body: AccessControlList }> {
  const fromHeaders = requestedAclHeaders(ctx.headers);
  const text = await ctx.readText();
  const hasBody = text.trim() !== '';
  if (hasBody) verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  if (fromHeaders && hasBody)
    throw new S3Error('InvalidRequest', 'Specifying both an AccessControlPolicy body and ACL headers is not allowed');
  if (fromHeaders) return { headers: fromHeaders };
  if (!hasBody)
    throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', {
      MissingHeaderName: 'x-amz-acl',
    });
  const doc = decodeAccessControlPolicy(text);
  if (doc.ownerId !== undefined && doc.ownerId !== owner)
    throw new S3Error('AccessDenied', 'The Owner of an AccessControlPolicy must be the owner of the resource.');
  const grants = await resolveGrants(doc.grants, ctx.services.accounts, [owner, ctx.principal.accountId]);
  return { body: { owner, grants } };
}

function aclsDisabled(): S3Error {
  return new S3Error(
    'AccessControlListNotSupported',
    'The bucket does not allow ACLs (its object ownership is BucketOwnerEnforced).',
  );
}

export async function handleGetBucketAcl(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const acl = effectiveBucketAcl(b);
  return { xml: await render(ctx, acl ?? ownerOnlyAcl(b.owner)) };
}

export async function handlePutBucketAcl(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const req = await requestedAcl(ctx, b.owner);
  const acl =
    'body' in req
      ? req.body
      : await aclOf(req.headers, b.owner, b.owner, ctx.services.accounts, [ctx.principal.accountId]);
  refusePublicAcl(b, acl);
  const ownerOnly = isOwnerOnly(acl);
  await ctx.services.buckets.updateAccess(bucket, (cur) => {
    if (cur.uid !== b.uid) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
    if (ownershipOf(cur) === 'BucketOwnerEnforced') {
      if (!ownerOnly) throw aclsDisabled();
      return cur;
    }
    const next: BucketRecord = { ...cur };
    if (ownerOnly) delete next.acl;
    else next.acl = acl;
    return next;
  });
  return {};
}

export async function handleGetObjectAcl(ctx: S3RequestContext, bucket: string, key: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const stored = await ctx.services.objects.objectAcl(b, key, versionParam(ctx), ctx.requestId);
  const { owner, acl } = effectiveObjectAcl(b, stored.acl);
  return { headers: versionHeader(stored.version), xml: await render(ctx, acl ?? ownerOnlyAcl(owner)) };
}

export async function handlePutObjectAcl(ctx: S3RequestContext, bucket: string, key: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const version = await ctx.services.objects.putObjectAcl(
    b,
    key,
    versionParam(ctx),
    async (stored) => {
      const { owner } = effectiveObjectAcl(b, stored);
      authorizeObjectAcl(ctx, b, key, stored);
      const req = await requestedAcl(ctx, owner);
      const acl =
        'body' in req
          ? req.body
          : await aclOf(req.headers, owner, b.owner, ctx.services.accounts, [ctx.principal.accountId]);
      refusePublicAcl(b, acl);
      if (ownershipOf(b) === 'BucketOwnerEnforced') {
        if (!isOwnerOnly(acl)) throw aclsDisabled();
        // ACLs are disabled: the stored one (from before) stays as it was, granting nothing.
        return stored;
      }
      return storedObjectAcl(acl, b.owner);
    },
    ctx.requestId,
  );
  return { headers: versionHeader(version) };
}

export async function handleGetBucketOwnershipControls(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  if (b.ownership === undefined) throw new S3Error('OwnershipControlsNotFoundError', undefined, { BucketName: bucket });
  return { xml: encodeOwnershipControls(b.ownership) };
}

/**
 * PutBucketOwnershipControls. Moving to BucketOwnerEnforced disables ACLs, so
 * (as AWS) a bucket whose ACL grants anyone but its owner must drop those
 * grants first: InvalidBucketAclWithObjectOwnership.
 */
export async function handlePutBucketOwnershipControls(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  const ownership = decodeOwnershipControls(text);
  await ctx.services.buckets.updateAccess(bucket, (cur) => {
    if (cur.uid !== b.uid) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
    if (ownership === 'BucketOwnerEnforced' && cur.acl !== undefined && !isOwnerOnly(cur.acl))
      throw new S3Error('InvalidBucketAclWithObjectOwnership');
    const next: BucketRecord = { ...cur, ownership };
    if (ownership === 'BucketOwnerEnforced') delete next.acl;
    return next;
  });
  return {};
}

/**
 * DeleteBucketOwnershipControls. The bucket is then without controls
 * (GetBucketOwnershipControls: OwnershipControlsNotFoundError) and, unlike
 * AWS (which falls back to ObjectWriter), read as BucketOwnerEnforced: the
 * safe reading, the one every bucket made before ownership existed has.
 */
export async function handleDeleteBucketOwnershipControls(
  ctx: S3RequestContext,
  bucket: string,
): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  await ctx.services.buckets.updateAccess(bucket, (cur) => {
    if (cur.uid !== b.uid) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
    if (cur.acl !== undefined && !isOwnerOnly(cur.acl)) throw new S3Error('InvalidBucketAclWithObjectOwnership');
    const next: BucketRecord = { ...cur };
    delete next.ownership;
    delete next.acl;
    return next;
  });
  return { status: 204 };
}
