/** CopyObject, UploadPartCopy. */
import { objectLockRequest } from '../objectLockHeaders.js';
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import type { PartOperation } from '../operations.js';
import { header, standardHeaders, taggingHeader, userMetadata } from '../headers.js';
import { objectAclForWrite } from '../aclRequest.js';
import { isoDate, quoteEtag } from '../xml/encode.js';
import type { CopySource } from '../../services/copyService.js';
import { dayMs, storageClass, writeSseHeaders } from './put.js';
import { expirationHeader } from '../../services/lifecycleRules.js';
import { customerKey, objectSseHeaders, writeSse } from '../sseHeaders.js';
import { versionHeader } from '../versions.js';

/** x-amz-copy-source (parsed by the service) and its x-amz-copy-source-if-* conditions. */
function source(ctx: S3RequestContext): CopySource {
  return {
    customerKey: customerKey(ctx, true)?.key,
    copySource: header(ctx.headers, 'x-amz-copy-source') ?? '',
    owner: ctx.principal.accountId,
    conditions: {
      ifMatch: header(ctx.headers, 'x-amz-copy-source-if-match'),
      ifNoneMatch: header(ctx.headers, 'x-amz-copy-source-if-none-match'),
      ifModifiedSince: header(ctx.headers, 'x-amz-copy-source-if-modified-since'),
      ifUnmodifiedSince: header(ctx.headers, 'x-amz-copy-source-if-unmodified-since'),
    },
  };
}

export async function handleCopyObject(ctx: S3RequestContext, bucket: string, key: string): Promise<HandlerResult> {
  const target = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const sse = writeSse(ctx, target);
  const acl = await objectAclForWrite(ctx.headers, target, ctx.principal.accountId, ctx.services.accounts);
  const directive = (header(ctx.headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive' });
  const tagDirective = (header(ctx.headers, 'x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  const res = await ctx.services.objects.copy({
    source: source(ctx),
    target,
    key,
    replace: directive === 'REPLACE',
    headers: standardHeaders(ctx.headers),
    userMeta: userMetadata(ctx.headers),
    tags: tagDirective === 'REPLACE' ? (taggingHeader(ctx.headers) ?? {}) : undefined,
    storageClass: storageClass(ctx),
    objectLock: objectLockRequest(ctx.headers),
    acl,
    requestId: ctx.requestId,
    sse: sse.spec,
  });
  return {
    headers: {
      ...writeSseHeaders(target, res, sse),
      ...versionHeader(res.version),
      ...(res.sourceVersion !== undefined ? { 'x-amz-copy-source-version-id': res.sourceVersion } : {}),
      ...expirationHeader(
        target.lifecycle,
        { key, size: res.size, tags: res.tags ?? {} },
        res.lastModified,
        dayMs(ctx),
      ),
    },
    xml: { root: 'CopyObjectResult', body: { LastModified: isoDate(res.lastModified), ETag: quoteEtag(res.etag) } },
  };
}

export async function handleUploadPartCopy(ctx: S3RequestContext, op: PartOperation): Promise<HandlerResult> {
  const target = await ctx.services.buckets.resolve(op.bucket, ctx.principal.accountId);
  const customer = customerKey(ctx);
  const res = await ctx.services.multipart.uploadPartCopy(
    target,
    op.key,
    op.uploadId,
    op.partNumber,
    { ...source(ctx), range: header(ctx.headers, 'x-amz-copy-source-range') },
    ctx.requestId,
    customer?.key,
  );
  return {
    headers: {
      ...objectSseHeaders(target, res.sse, res.sseContext, customer),
      ...(res.sourceVersion !== undefined ? { 'x-amz-copy-source-version-id': res.sourceVersion } : {}),
    },
    xml: { root: 'CopyPartResult', body: { LastModified: isoDate(Date.now()), ETag: quoteEtag(res.etag) } },
  };
}
