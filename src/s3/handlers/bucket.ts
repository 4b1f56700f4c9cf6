/** ListBuckets, CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation. */
import { header, KP_ALGORITHM, KP_CRK_ID, KP_ENABLED, KP_ROOT_KEY_CRN } from '../headers.js';
import { bucketAclForCreate } from '../aclRequest.js';
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { decodeCreateBucketConfiguration } from '../xml/decode.js';
import { isoDate } from '../xml/encode.js';
import type { BucketRecord } from '../../services/types.js';

export function owner(ctx: S3RequestContext) {
  return { ID: ctx.principal.accountId, DisplayName: ctx.principal.displayName };
}

export async function handleListBuckets(ctx: S3RequestContext): Promise<HandlerResult> {
  const buckets = await ctx.services.buckets.list(ctx.principal.accountId);
  return {
    xml: {
      root: 'ListAllMyBucketsResult',
      body: {
        Owner: owner(ctx),
        Buckets: {
          Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: isoDate(b.createdAt), BucketRegion: b.region })),
        },
      },
    },
  };
}

export async function handleCreateBucket(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const access = await bucketAclForCreate(ctx.headers, ctx.principal.accountId, ctx.services.accounts);
  const cfg = decodeCreateBucketConfiguration(await ctx.readText());
  const alg = header(ctx.headers, KP_ALGORITHM);
  const crn = header(ctx.headers, KP_ROOT_KEY_CRN);
  if (crn !== undefined && alg === undefined) {
    throw new S3Error('InvalidArgument', `${KP_ROOT_KEY_CRN} requires ${KP_ALGORITHM}: AES256`, {
      ArgumentName: KP_ALGORITHM,
    });
  }
  if (alg !== undefined) {
    if (alg !== 'AES256')
      throw new S3Error('InvalidArgument', `${KP_ALGORITHM} must be AES256`, {
        ArgumentName: KP_ALGORITHM,
        ArgumentValue: alg,
      });
    if (crn === undefined || crn.trim() === '')
      throw new S3Error('InvalidArgument', `${KP_ALGORITHM} requires ${KP_ROOT_KEY_CRN}`, {
        ArgumentName: KP_ROOT_KEY_CRN,
      });
  }
  await ctx.services.buckets.create({
    owner: ctx.principal.accountId,
    name: bucket,
    locationConstraint: cfg.locationConstraint,
    rootKeyCrn: crn?.trim(),
    objectLock: objectLockEnabled(ctx),
    ...access,
    requestId: ctx.requestId,
  });
  return { headers: { location: `/${bucket}` } };
}

/** x-amz-bucket-object-lock-enabled: true / false (anything else is AWS's 400). */
function objectLockEnabled(ctx: S3RequestContext): boolean {
  const v = header(ctx.headers, 'x-amz-bucket-object-lock-enabled');
  if (v === undefined || v.toLowerCase() === 'false') return false;
  if (v.toLowerCase() === 'true') return true;
  throw new S3Error('InvalidArgument', 'x-amz-bucket-object-lock-enabled must be true or false', {
    ArgumentName: 'x-amz-bucket-object-lock-enabled',
    ArgumentValue: v,
  });
}

export async function handleDeleteBucket(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  await ctx.services.buckets.delete(bucket, ctx.account, ctx.requestId, (b) => ctx.services.multipart.abortAll(b));
  return { status: 204 };
}

/** ibm-sse-kp-* headers for HeadBucket and ListObjects v1 (both names: SDKs disagree, key-protect.md 1.2). */
export function kpHeaders(b: BucketRecord): Record<string, string> {
  if (!b.encryption.customerManaged) return {};
  return { [KP_ENABLED]: 'true', [KP_ROOT_KEY_CRN]: b.encryption.rootKeyCrn, [KP_CRK_ID]: b.encryption.rootKeyCrn };
}

export async function handleHeadBucket(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  return { headers: { 'x-amz-bucket-region': b.region, ...kpHeaders(b) } };
}

export async function handleGetBucketLocation(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  // us-east-1 is reported as an empty LocationConstraint (s3cmd and the SDKs expect that).
  return { xml: { root: 'LocationConstraint', body: { '#text': b.region === 'us-east-1' ? '' : b.region } } };
}
