/**
 * Bucket and object sub-resources that clients touch in passing (s3cmd info,
 * rclone, the AWS CLI): versioning (Enabled / Suspended), ACLs (private, owner
 * FULL_CONTROL), tagging, encryption, and the NoSuch... answers for features
 * Coffer does not keep (policy, lifecycle, website).
 */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { header } from '../headers.js';
import {
  decodeServerSideEncryptionConfiguration,
  decodeTagging,
  decodeVersioningConfiguration,
  parseXml,
} from '../xml/decode.js';
import { versionHeader, versionParam } from '../versions.js';
import type { XmlDoc } from '../xml/encode.js';
import { shownVersion } from '../../services/objectService.js';
import { owner } from './bucket.js';
import { verifySmallBody } from './delete.js';

/** No Status until versioning was first set (S3 then answers an empty configuration). */
export async function handleGetBucketVersioning(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  return { xml: { root: 'VersioningConfiguration', body: b.versioning ? { Status: b.versioning } : {} } };
}

export async function handlePutBucketVersioning(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  const cfg = decodeVersioningConfiguration(text);
  if (cfg.status) await ctx.services.buckets.setVersioning(bucket, ctx.principal.accountId, cfg.status);
  return {};
}

function aclDoc(ctx: S3RequestContext): XmlDoc {
  const o = owner(ctx);
  return {
    root: 'AccessControlPolicy',
    body: {
      Owner: o,
      AccessControlList: {
        Grant: [
          {
            Grantee: {
              '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
              '@_xsi:type': 'CanonicalUser',
              ...o,
            },
            Permission: 'FULL_CONTROL',
          },
        ],
      },
    },
  };
}

/** Only private ownership exists: canned "private" (or the owner's FULL_CONTROL grant) is accepted, anything wider is refused. */
async function checkAclRequest(ctx: S3RequestContext): Promise<void> {
  const canned = header(ctx.headers, 'x-amz-acl');
  if (
    canned !== undefined &&
    canned !== 'private' &&
    canned !== 'bucket-owner-full-control' &&
    canned !== 'bucket-owner-read'
  ) {
    throw new S3Error(
      'NotImplemented',
      `The canned ACL ${canned} is not supported: objects are private to their owner.`,
    );
  }
  for (const h of ['x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp']) {
    if (header(ctx.headers, h) !== undefined)
      throw new S3Error('NotImplemented', 'Grants to other accounts are not supported.');
  }
  const text = await ctx.readText();
  if (text.trim()) {
    const doc = parseXml(text);
    if (!doc.AccessControlPolicy) throw new S3Error('MalformedXML');
    const grants = JSON.stringify(doc.AccessControlPolicy);
    if (/AllUsers|AuthenticatedUsers/.test(grants))
      throw new S3Error('NotImplemented', 'Public grants are not supported.');
  }
}

export async function handleGetBucketAcl(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  return { xml: aclDoc(ctx) };
}

export async function handlePutBucketAcl(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  await checkAclRequest(ctx);
  return {};
}

export async function handleGetObjectAcl(ctx: S3RequestContext, bucket: string, key: string): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const at = await ctx.services.objects.locate(b, key, versionParam(ctx), 'GET');
  return { headers: versionHeader(shownVersion(b, at.record)), xml: aclDoc(ctx) };
}

export async function handlePutObjectAcl(ctx: S3RequestContext, bucket: string, key: string): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const at = await ctx.services.objects.locate(b, key, versionParam(ctx), 'PUT');
  await checkAclRequest(ctx);
  return { headers: versionHeader(shownVersion(b, at.record)) };
}

export async function handleGetObjectTagging(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
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
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const version = await ctx.services.objects.putTagging(b, key, tags, ctx.requestId, versionParam(ctx));
  return { headers: versionHeader(version) };
}

export async function handleDeleteObjectTagging(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const version = await ctx.services.objects.deleteTagging(b, key, ctx.requestId, versionParam(ctx));
  return { status: 204, headers: versionHeader(version) };
}

export async function handleGetBucketEncryption(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
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
  await ctx.services.buckets.setRootKey(bucket, ctx.principal.accountId, undefined, { requestId: ctx.requestId });
  return { status: 204 };
}

/**
 * AWS-style default encryption. SSEAlgorithm aws:kms (or aws:kms:dsse) with a
 * KMSMasterKeyID naming a root key CRN moves the bucket to that key (its DEK is
 * rewrapped, objects are untouched); AES256, or aws:kms without a key id (AWS's
 * "aws/s3" managed key), means the provider-managed default root key.
 */
export async function handlePutBucketEncryption(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
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
  await ctx.services.buckets.setRootKey(bucket, ctx.principal.accountId, rootKeyCrn, {
    requestId: ctx.requestId,
    argumentName: 'KMSMasterKeyID',
  });
  return {};
}

function noSuch(
  code: 'NoSuchBucketPolicy' | 'NoSuchLifecycleConfiguration' | 'NoSuchTagSet' | 'NoSuchWebsiteConfiguration',
) {
  return async (ctx: S3RequestContext, bucket: string): Promise<HandlerResult> => {
    await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
    throw new S3Error(code, undefined, { BucketName: bucket });
  };
}

export const handleGetBucketPolicy = noSuch('NoSuchBucketPolicy');
export const handleGetBucketLifecycleConfiguration = noSuch('NoSuchLifecycleConfiguration');
export const handleGetBucketTagging = noSuch('NoSuchTagSet');
export const handleGetBucketWebsite = noSuch('NoSuchWebsiteConfiguration');
