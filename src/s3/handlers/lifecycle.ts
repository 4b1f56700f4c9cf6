/**
 * GetBucketLifecycleConfiguration, PutBucketLifecycleConfiguration,
 * DeleteBucketLifecycle: the bucket's lifecycle rules (applied by the
 * background worker, services/lifecycleWorker.ts, and announced in
 * x-amz-expiration). Bodies: Content-MD5 or a flexible checksum, verified when present.
 */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { decodeLifecycleConfiguration, lifecycleConfigurationDoc } from '../xml/lifecycleXml.js';
import { verifySmallBody } from './delete.js';

export async function handleGetBucketLifecycleConfiguration(
  ctx: S3RequestContext,
  bucket: string,
): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  if (!b.lifecycle || b.lifecycle.length === 0)
    throw new S3Error('NoSuchLifecycleConfiguration', undefined, { BucketName: bucket });
  return { xml: lifecycleConfigurationDoc(b.lifecycle) };
}

export async function handlePutBucketLifecycleConfiguration(
  ctx: S3RequestContext,
  bucket: string,
): Promise<HandlerResult> {
  await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  await ctx.services.buckets.setLifecycle(bucket, ctx.principal.accountId, decodeLifecycleConfiguration(text));
  return {};
}

export async function handleDeleteBucketLifecycle(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.services.buckets.setLifecycle(bucket, ctx.principal.accountId, undefined);
  return { status: 204 };
}
