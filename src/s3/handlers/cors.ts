/** GetBucketCors, PutBucketCors, DeleteBucketCors: the bucket's CORS rules (applied by middleware/cors.ts). */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { corsConfigurationDoc, decodeCorsConfiguration } from '../xml/corsXml.js';
import { verifySmallBody } from './delete.js';

export async function handleGetBucketCors(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  if (!b.cors || b.cors.length === 0) throw new S3Error('NoSuchCORSConfiguration', undefined, { BucketName: bucket });
  return { xml: corsConfigurationDoc(b.cors) };
}

export async function handlePutBucketCors(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.bucket(bucket);
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  await ctx.services.buckets.setCors(bucket, ctx.account, decodeCorsConfiguration(text));
  return {};
}

export async function handleDeleteBucketCors(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.services.buckets.setCors(bucket, ctx.account, undefined);
  return { status: 204 };
}
