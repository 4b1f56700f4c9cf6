/**
 * Bucket and object sub-resources that clients touch in passing (s3cmd info,
 * rclone, the AWS CLI): versioning (Enabled / Suspended), tagging, encryption,
 * and the NoSuch... answers for features Coffer does not keep (website).
 * ACLs are in acl.ts, policies and the public access block in policy.ts.
 */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import {
  MAX_BUCKET_TAGS,
  decodeServerSideEncryptionConfiguration,
  decodeTagging,
  decodeVersioningConfiguration,
} from '../xml/decode.js';
import { versionHeader, versionParam } from '../versions.js';
import { verifySmallBody } from './delete.js';

/** No Status until versioning was first set (S3 then answers an empty configuration). */
export async function handleGetBucketVersioning(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  return { xml: { root: 'VersioningConfiguration', body: b.versioning ? { Status: b.versioning } : {} } };
}

export async function handlePutBucketVersioning(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.bucket(bucket);
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  const cfg = decodeVersioningConfiguration(text);
  if (cfg.status) await ctx.services.buckets.setVersioning(bucket, ctx.account, cfg.status);
  return {};
}

export async function handleGetObjectTagging(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const t = await ctx.services.objects.tagging(b, key, versionParam(ctx), ctx.requestId);
  const tags = Object.entries(t.tags).map(([Key, Value]) => ({ Key, Value }));
  return { headers: versionHeader(t.version), xml: { root: 'Tagging', body: { TagSet: { Tag: tags } } } };
}

export async function handlePutObjectTagging(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  const tags = decodeTagging(text);
  const b = await ctx.bucket(bucket);
  const version = await ctx.services.objects.putTagging(b, key, tags, ctx.requestId, versionParam(ctx));
  return { headers: versionHeader(version) };
}

export async function handleDeleteObjectTagging(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const version = await ctx.services.objects.deleteTagging(b, key, ctx.requestId, versionParam(ctx));
  return { status: 204, headers: versionHeader(version) };
}

export async function handleGetBucketEncryption(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const def = b.encryption.customerManaged
    ? { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: b.encryption.rootKeyCrn }
    : { SSEAlgorithm: 'AES256' };
  return {
    xml: {
      root: 'ServerSideEncryptionConfiguration',
      body: { Rule: { ApplyServerSideEncryptionByDefault: def, BucketKeyEnabled: true } },
    },
  };
}

/**
 * As on AWS since 2023, every bucket stays encrypted: deleting the configuration
 * returns the bucket to the default (AES256, the provider-managed root key).
 */
export async function handleDeleteBucketEncryption(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.services.buckets.setRootKey(bucket, ctx.account, undefined, { requestId: ctx.requestId });
  return { status: 204 };
}

/**
 * AWS-style default encryption. SSEAlgorithm aws:kms (or aws:kms:dsse) with a
 * KMSMasterKeyID naming a root key CRN moves the bucket to that key (its DEK is
 * rewrapped, objects are untouched); AES256, or aws:kms without a key id (AWS's
 * "aws/s3" managed key), means the provider-managed default root key.
 */
export async function handlePutBucketEncryption(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.bucket(bucket);
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  const cfg = decodeServerSideEncryptionConfiguration(text);
  let rootKeyCrn: string | undefined;
  if (cfg.algorithm === 'AES256') {
    if (cfg.kmsKeyId !== undefined)
      throw new S3Error(
        'InvalidArgument',
        'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
        { ArgumentName: 'ApplyServerSideEncryptionByDefault' },
      );
  } else if (cfg.algorithm === 'aws:kms' || cfg.algorithm === 'aws:kms:dsse') {
    rootKeyCrn = cfg.kmsKeyId;
  } else {
    throw new S3Error(
      'MalformedXML',
      `Unknown SSEAlgorithm ${cfg.algorithm}: expected AES256, aws:kms or aws:kms:dsse.`,
    );
  }
  await ctx.services.buckets.setRootKey(bucket, ctx.account, rootKeyCrn, {
    requestId: ctx.requestId,
    argumentName: 'KMSMasterKeyID',
  });
  return {};
}

function noSuch(code: 'NoSuchTagSet' | 'NoSuchWebsiteConfiguration') {
  return async (ctx: S3RequestContext, bucket: string): Promise<HandlerResult> => {
    await ctx.bucket(bucket);
    throw new S3Error(code, undefined, { BucketName: bucket });
  };
}

/** GetBucketTagging: NoSuchTagSet until PutBucketTagging (and after DeleteBucketTagging). */
export async function handleGetBucketTagging(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  if (b.tagging === undefined) throw new S3Error('NoSuchTagSet', undefined, { BucketName: bucket });
  const tags = Object.entries(b.tagging).map(([Key, Value]) => ({ Key, Value }));
  return { xml: { root: 'Tagging', body: { TagSet: { Tag: tags } } } };
}

/** PutBucketTagging: the whole tag set, replaced (AWS's limits: 50 tags, keys 128 and values 256 characters). */
export async function handlePutBucketTagging(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  const tags = decodeTagging(text, MAX_BUCKET_TAGS);
  // aws: is AWS's own prefix (its system tags): a requester may not set one.
  if (Object.keys(tags).some((k) => k.toLowerCase().startsWith('aws:')))
    throw new S3Error('InvalidTag', 'System tags cannot be added/updated by requester');
  await ctx.services.buckets.updateAccess(bucket, (cur) => {
    if (cur.uid !== b.uid) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
    return { ...cur, tagging: tags };
  });
  return { status: 204 };
}

export async function handleDeleteBucketTagging(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  await ctx.services.buckets.updateAccess(bucket, (cur) => {
    if (cur.uid !== b.uid) throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
    const next = { ...cur };
    delete next.tagging;
    return next;
  });
  return { status: 204 };
}
export const handleGetBucketWebsite = noSuch('NoSuchWebsiteConfiguration');
