/**
 * The access check every S3 request passes before its handler runs: the
 * operation's IAM action (operationActions.ts), the request's condition keys,
 * the bucket's policy and public access block, the bucket ACL and, for the
 * operations an object ACL governs, the object's ACL, decided by authorize()
 * (services/access/authorize.ts). Allowed, the handler acts on the bucket
 * owner's behalf (ctx.account); refused, 403 AccessDenied.
 *
 * DeleteObjects is judged key by key in its handler (authorizeKey).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import {
  authorize,
  type AccessControlList,
  type AccessRequest,
  type RequestPrincipal,
} from '../services/accessControl.js';
import type { BucketRecord } from '../services/types.js';
import type { S3RequestContext } from './context.js';
import { S3Error } from './errors.js';
import { header, taggingHeader } from './headers.js';
import { actionOf } from './operationActions.js';
import type { RoutedOperation } from './operations.js';

/** The canonical id S3 shows for anonymous requesters (the owner of what an anonymous PUT wrote). */
export const ANONYMOUS_ACCOUNT = '65a011a29cdf8ec533ec3d1ccaae921c';

export const ANONYMOUS_PRINCIPAL = { accountId: ANONYMOUS_ACCOUNT, accessKeyId: '', displayName: 'anonymous' };

export function denied(): S3Error {
  return new S3Error('AccessDenied', 'Access Denied');
}

export function requestPrincipal(ctx: Pick<S3RequestContext, 'anonymous' | 'principal'>): RequestPrincipal | null {
  return ctx.anonymous ? null : { accountId: ctx.principal.accountId };
}

function sourceIp(req: IncomingMessage): string {
  const addr = req.socket.remoteAddress ?? '';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

const LIST_KEYS = ['prefix', 'max-keys', 'delimiter'] as const;
const WRITE_HEADERS = [
  'x-amz-acl',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-grant-read',
  'x-amz-grant-write',
  'x-amz-grant-read-acp',
  'x-amz-grant-write-acp',
  'x-amz-grant-full-control',
  'x-amz-copy-source',
  'x-amz-metadata-directive',
  'x-amz-storage-class',
  'x-amz-content-sha256',
];

/**
 * The condition keys of a request, each as the list of values it has (a key
 * the request does not carry is absent). Tag values come from x-amz-tagging
 * (s3:RequestObjectTag/<key>) and the stored object (s3:ExistingObjectTag/<key>).
 */
export function conditionKeys(
  ctx: Pick<S3RequestContext, 'req' | 'headers' | 'query' | 'anonymous' | 'principal'>,
  op: RoutedOperation['name'],
  existingTags: Record<string, string> | undefined,
  now: Date = new Date(),
): Record<string, string[]> {
  const c: Record<string, string[]> = {
    'aws:SourceIp': [sourceIp(ctx.req)],
    'aws:SecureTransport': [String((ctx.req.socket as Partial<TLSSocket>).encrypted === true)],
    'aws:CurrentTime': [now.toISOString()],
    'aws:EpochTime': [String(Math.floor(now.getTime() / 1000))],
    'aws:PrincipalType': [ctx.anonymous ? 'Anonymous' : 'Account'],
  };
  if (!ctx.anonymous) {
    c['aws:PrincipalAccount'] = [ctx.principal.accountId];
    c['aws:userid'] = [ctx.principal.accountId];
    c['aws:PrincipalArn'] = [`arn:aws:iam::${ctx.principal.accountId}:root`];
  }
  if (op === 'ListObjects' || op === 'ListObjectsV2' || op === 'ListObjectVersions' || op === 'ListMultipartUploads')
    for (const k of LIST_KEYS) {
      const v = ctx.query.get(k);
      if (v !== null) c[`s3:${k}`] = [v];
    }
  const versionId = ctx.query.get('versionId');
  if (versionId !== null) c['s3:VersionId'] = [versionId];
  addHeaderKeys(c, ctx.headers);
  let requestTags: Record<string, string> | undefined;
  try {
    requestTags = taggingHeader(ctx.headers);
  } catch {
    // A malformed x-amz-tagging is the handler's InvalidTag; for access control it carries no tags.
  }
  if (requestTags) {
    for (const [k, v] of Object.entries(requestTags)) c[`s3:RequestObjectTag/${k}`] = [v];
    c['s3:RequestObjectTagKeys'] = Object.keys(requestTags);
  }
  if (existingTags) for (const [k, v] of Object.entries(existingTags)) c[`s3:ExistingObjectTag/${k}`] = [v];
  return c;
}

function addHeaderKeys(c: Record<string, string[]>, headers: IncomingHttpHeaders): void {
  for (const h of WRITE_HEADERS) {
    const v = header(headers, h);
    if (v !== undefined) c[`s3:${h}`] = [v];
  }
}

/** Does the bucket's policy read s3:ExistingObjectTag (then the object's tags must be loaded first)? */
function policyReadsObjectTags(b: BucketRecord): boolean {
  return b.policy !== undefined && /s3:ExistingObjectTag\//i.test(b.policy);
}

/** Decide one request on bucket `b` (and key, for object operations). */
export function decide(
  ctx: Pick<S3RequestContext, 'req' | 'headers' | 'query' | 'anonymous' | 'principal'>,
  b: BucketRecord,
  op: RoutedOperation['name'],
  key: string | undefined,
  facts: { acl?: AccessControlList; tags: Record<string, string> } | undefined,
  versioned: boolean,
): boolean {
  const access = actionOf(op, versioned);
  const req: AccessRequest = {
    principal: requestPrincipal(ctx),
    action: access.name,
    bucket: b.name,
    ...(key !== undefined ? { key } : {}),
    conditions: conditionKeys(ctx, op, facts?.tags),
  };
  return authorize(b, req, access.acl, facts?.acl);
}

/**
 * The stored object's ACL and tags, read only when the decision needs them:
 * an operation an object ACL governs in a bucket where ACLs are enabled, or a
 * policy that reads s3:ExistingObjectTag.
 */
export async function objectFacts(
  ctx: S3RequestContext,
  b: BucketRecord,
  op: RoutedOperation['name'],
  key: string,
  versionId: string | undefined,
) {
  const needsAcl =
    actionOf(op, false).acl?.on === 'object' && (b.ownership ?? 'BucketOwnerEnforced') !== 'BucketOwnerEnforced';
  if (!needsAcl && !policyReadsObjectTags(b)) return undefined;
  return ctx.services.objects.accessFacts(b, key, versionId, ctx.requestId);
}

/**
 * Authorize the request in `ctx` (its operation already parsed). Sets
 * ctx.account to the bucket owner when allowed.
 * @throws S3Error AccessDenied; NoSuchBucket for a bucket that does not exist
 */
export async function authorizeRequest(ctx: S3RequestContext): Promise<void> {
  const op = ctx.op;
  if (op.name === 'ListBuckets' || op.name === 'CreateBucket') {
    // Nothing to consult but who asks: an anonymous requester owns nothing and may create nothing.
    if (ctx.anonymous) throw denied();
    return;
  }
  const b = await ctx.bucketRecord(op.bucket);
  if (op.name === 'DeleteObjects') {
    ctx.account = b.owner;
    return;
  }
  const key = 'key' in op ? op.key : undefined;
  const versionId = ctx.query.get('versionId') ?? undefined;
  const facts = key !== undefined ? await objectFacts(ctx, b, op.name, key, versionId) : undefined;
  if (facts) factsSeen.set(ctx, facts);
  if (!decide(ctx, b, op.name, key, facts, ctx.query.has('versionId'))) throw denied();
  ctx.account = b.owner;
}

/** DeleteObjects, per key: may the requester delete `key` (or that version of it)? */
export async function authorizeKey(
  ctx: S3RequestContext,
  b: BucketRecord,
  key: string,
  versionId: string | undefined,
): Promise<boolean> {
  const facts = await objectFacts(ctx, b, 'DeleteObject', key, versionId);
  return decide(ctx, b, 'DeleteObject', key, facts, versionId !== undefined);
}

/** The object facts the request was judged on (PutObjectAcl judges again with the ACL as stored then, the same tags). */
const factsSeen = new WeakMap<S3RequestContext, { tags: Record<string, string> }>();

/** PutObjectAcl, again under the version's lock with the ACL as stored now. */
export function authorizeObjectAcl(
  ctx: S3RequestContext,
  b: BucketRecord,
  key: string,
  stored: AccessControlList | undefined,
): void {
  const facts = { ...(stored ? { acl: stored } : {}), tags: factsSeen.get(ctx)?.tags ?? {} };
  if (!decide(ctx, b, 'PutObjectAcl', key, facts, ctx.query.has('versionId'))) throw denied();
}
