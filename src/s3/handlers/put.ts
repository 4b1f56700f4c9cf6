/** PutObject. */
import type { HandlerResult, S3RequestContext } from '../context.js';
import type { BucketRecord, ObjectSse } from '../../services/types.js';
import { S3Error } from '../errors.js';
import {
  checksumHeaders,
  header,
  standardHeaders,
  taggingHeader,
  uploadExpectations,
  userMetadata,
  writeConditions,
} from '../headers.js';
import { objectAclForWrite } from '../aclRequest.js';
import { quoteEtag } from '../xml/encode.js';
import { objectSseHeaders, writeSse } from '../sseHeaders.js';
import { versionHeader } from '../versions.js';
import { expirationHeader } from '../../services/lifecycleRules.js';
import { objectLockRequest, requireIntegrityForLock } from '../objectLockHeaders.js';

export const storageClass = (ctx: S3RequestContext) => {
  const sc = header(ctx.headers, 'x-amz-storage-class');
  if (
    sc !== undefined &&
    ![
      'STANDARD',
      'REDUCED_REDUNDANCY',
      'STANDARD_IA',
      'ONEZONE_IA',
      'INTELLIGENT_TIERING',
      'GLACIER',
      'DEEP_ARCHIVE',
      'GLACIER_IR',
      'OUTPOSTS',
      'SNOW',
      'EXPRESS_ONEZONE',
    ].includes(sc)
  ) {
    throw new S3Error('InvalidArgument', 'Invalid storage class.', {
      ArgumentName: 'x-amz-storage-class',
      ArgumentValue: sc,
    });
  }
  return sc;
};

export function requireLength(ctx: S3RequestContext): number {
  const n = ctx.bodyLength();
  if (n === undefined) throw new S3Error('MissingContentLength');
  return n;
}

export async function handlePutObject(ctx: S3RequestContext, bucket: string, key: string): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const sse = writeSse(ctx, b);
  const acl = await objectAclForWrite(ctx.headers, b, ctx.principal.accountId, ctx.services.accounts);
  const length = requireLength(ctx);
  const { expect, algorithm } = uploadExpectations(ctx.headers, length);
  const conditions = writeConditions(ctx.headers);
  const objectLock = objectLockRequest(ctx.headers);
  if (objectLock) requireIntegrityForLock(ctx.headers);
  const tags = taggingHeader(ctx.headers);
  const res = await ctx.services.objects.put({
    bucket: b,
    key,
    body: ctx.body(),
    headers: standardHeaders(ctx.headers),
    userMeta: userMetadata(ctx.headers),
    tags,
    storageClass: storageClass(ctx),
    expect,
    checksumAlgorithm: algorithm,
    conditions,
    objectLock,
    acl,
    requestId: ctx.requestId,
    signal: ctx.signal,
    sse: sse.spec,
  });
  return {
    headers: {
      etag: quoteEtag(res.etag),
      ...writeSseHeaders(b, res, sse),
      ...checksumHeaders(res.checksums, false),
      ...versionHeader(res.version),
      ...expirationHeader(b.lifecycle, { key, size: res.size, tags: res.tags ?? {} }, res.lastModified, dayMs(ctx)),
    },
  };
}

/** A lifecycle rule's day, as configured (COFFER_LIFECYCLE_DAY_SECONDS). */
export const dayMs = (ctx: S3RequestContext) => ctx.config.lifecycleDaySeconds * 1000;

/** SSE response headers of a write: the new object's key, the SSE-C key's MD5, bucket-key-enabled as asked. */
export function writeSseHeaders(
  b: BucketRecord,
  res: { sse?: ObjectSse; sseContext?: string },
  req: ReturnType<typeof writeSse>,
): Record<string, string> {
  const h = objectSseHeaders(b, res.sse, res.sseContext, req.customer);
  if (req.spec?.kms?.bucketKeyEnabled) h['x-amz-server-side-encryption-bucket-key-enabled'] = 'true';
  return h;
}
