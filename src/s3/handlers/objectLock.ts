/**
 * Object Lock: Get/PutObjectLockConfiguration on a bucket, Get/PutObjectRetention
 * and Get/PutObjectLegalHold on a version (services/objectLock.ts has the rules).
 * Bodies need Content-MD5 or a flexible checksum, verified when present.
 */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { bypassGovernance } from '../objectLockHeaders.js';
import { versionHeader, versionParam } from '../versions.js';
import {
  decodeLegalHold,
  decodeObjectLockConfiguration,
  decodeRetention,
  legalHoldDoc,
  objectLockConfigurationDoc,
  retentionDoc,
} from '../xml/objectLockXml.js';
import { verifySmallBody } from './delete.js';

async function body(ctx: S3RequestContext): Promise<string> {
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  return text;
}

export async function handleGetObjectLockConfiguration(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  return { xml: objectLockConfigurationDoc(await ctx.services.buckets.objectLock(bucket, ctx.account)) };
}

export async function handlePutObjectLockConfiguration(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.bucket(bucket);
  const rule = decodeObjectLockConfiguration(await body(ctx));
  await ctx.services.buckets.setObjectLock(bucket, ctx.account, rule, ctx.requestId);
  return {};
}

async function target(ctx: S3RequestContext, bucket: string, key: string) {
  const b = await ctx.bucket(bucket);
  return { bucket: b, key, versionId: versionParam(ctx), requestId: ctx.requestId };
}

export async function handleGetObjectRetention(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const r = await ctx.services.objects.retention(await target(ctx, bucket, key));
  return { headers: versionHeader(r.version), xml: retentionDoc(r.retention) };
}

export async function handlePutObjectRetention(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const retention = decodeRetention(await body(ctx));
  const t = await target(ctx, bucket, key);
  const version = await ctx.services.objects.putRetention(t, retention, bypassGovernance(ctx.headers));
  return { headers: versionHeader(version) };
}

export async function handleGetObjectLegalHold(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const h = await ctx.services.objects.legalHold(await target(ctx, bucket, key));
  return { headers: versionHeader(h.version), xml: legalHoldDoc(h.on) };
}

export async function handlePutObjectLegalHold(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const on = decodeLegalHold(await body(ctx));
  const version = await ctx.services.objects.putLegalHold(await target(ctx, bucket, key), on);
  return { headers: versionHeader(version) };
}
