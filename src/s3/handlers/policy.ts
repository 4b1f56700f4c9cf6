/**
 * Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus and
 * Put/Get/DeletePublicAccessBlock. Who may call them is decided before the
 * handler runs (authorizeRequest.ts: the bucket owner, or a policy Allow).
 *
 * PutBucketPolicy validates the document as S3 does (MalformedPolicy), checks
 * that every account it names exists (Coffer's accounts, through the
 * directory), and under BlockPublicPolicy refuses a public one (AccessDenied).
 */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import {
  MAX_POLICY_BYTES,
  isPublicPolicy,
  parsePolicy,
  policyPrincipals,
  publicAccessBlockOf,
} from '../../services/accessControl.js';
import type { BucketRecord } from '../../services/types.js';
import { decodePublicAccessBlock, encodePolicyStatus, encodePublicAccessBlock } from '../xml/publicAccessXml.js';
import { verifySmallBody } from './delete.js';

async function readPolicyText(ctx: S3RequestContext): Promise<string> {
  // The policy limit is S3's 20 KB, below the XML body limit: answered as MalformedPolicy before reading on.
  const declared = Number(ctx.headers['content-length'] ?? 0);
  if (declared > MAX_POLICY_BYTES)
    throw new S3Error('MalformedPolicy', 'Policies must be less than 20 KB (20480 bytes).');
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  return text;
}

export async function handlePutBucketPolicy(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const text = await readPolicyText(ctx);
  if (text.trim() === '')
    throw new S3Error('MalformedPolicy', "Policies must be valid JSON and the first byte must be '{'");
  const policy = parsePolicy(text, bucket);
  for (const id of policyPrincipals(policy)) {
    if (id === b.owner || id === ctx.principal.accountId) continue;
    if ((await ctx.services.accounts.account(id)) === undefined)
      throw new S3Error('MalformedPolicy', 'Invalid principal in policy');
  }
  if (publicAccessBlockOf(b).BlockPublicPolicy && isPublicPolicy(policy))
    throw new S3Error('AccessDenied', 'Access Denied');
  await update(ctx, b, (cur) => ({ ...cur, policy: text }));
  return { status: 204 };
}

export async function handleGetBucketPolicy(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  if (b.policy === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: bucket });
  return { headers: { 'content-type': 'application/json' }, body: b.policy };
}

export async function handleDeleteBucketPolicy(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  await update(ctx, b, (cur) => {
    const next = { ...cur };
    delete next.policy;
    return next;
  });
  return { status: 204 };
}

/** IsPublic as S3 defines a public policy (services/access/publicAccess.ts); NoSuchBucketPolicy without one. */
export async function handleGetBucketPolicyStatus(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  if (b.policy === undefined) throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: bucket });
  return { xml: encodePolicyStatus(isPublicPolicy(parsePolicy(b.policy, bucket))) };
}

export async function handlePutPublicAccessBlock(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  const pab = decodePublicAccessBlock(text);
  await update(ctx, b, (cur) => ({ ...cur, publicAccessBlock: pab }));
  return {};
}

export async function handleGetPublicAccessBlock(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  if (b.publicAccessBlock === undefined)
    throw new S3Error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: bucket });
  return { xml: encodePublicAccessBlock(b.publicAccessBlock) };
}

export async function handleDeletePublicAccessBlock(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  await update(ctx, b, (cur) => {
    const next = { ...cur };
    delete next.publicAccessBlock;
    return next;
  });
  return { status: 204 };
}

/** A change to the bucket record under its lock, on a fresh read of the same bucket (not one re-created meanwhile). */
async function update(ctx: S3RequestContext, b: BucketRecord, change: (cur: BucketRecord) => BucketRecord) {
  await ctx.services.buckets.updateAccess(b.name, (cur) => {
    if (cur.uid !== b.uid) throw new S3Error('NoSuchBucket', undefined, { BucketName: b.name });
    return change(cur);
  });
}
