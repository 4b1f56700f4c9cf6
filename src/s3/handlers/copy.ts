/** CopyObject, UploadPartCopy. */
import { Transform } from 'node:stream';
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { checkSseRequest, header, sseHeaders, standardHeaders, taggingHeader, userMetadata, checkWriteAcl } from '../headers.js';
import { isoDate, quoteEtag } from '../xml/encode.js';
import { copyObject, openCopySource, parseCopySource, sourceStream, type OpenedSource } from '../../services/copyService.js';
import type { BucketRecord } from '../../meta/records.js';
import type { Preconditions } from '../../services/conditions.js';
import { storageClass } from './put.js';

function copyConditions(ctx: S3RequestContext): Preconditions {
  return {
    ifMatch: header(ctx.headers, 'x-amz-copy-source-if-match'),
    ifNoneMatch: header(ctx.headers, 'x-amz-copy-source-if-none-match'),
    ifModifiedSince: header(ctx.headers, 'x-amz-copy-source-if-modified-since'),
    ifUnmodifiedSince: header(ctx.headers, 'x-amz-copy-source-if-unmodified-since'),
  };
}

async function source(ctx: S3RequestContext) {
  const spec = parseCopySource(header(ctx.headers, 'x-amz-copy-source') ?? '');
  const srcBucket = await ctx.services.buckets.resolve(spec.bucket, ctx.principal.accountId);
  const src = await openCopySource(ctx.services.objects, srcBucket, spec.key, spec.versionId, copyConditions(ctx), ctx.requestId);
  return { srcBucket, src };
}

export async function handleCopyObject(ctx: S3RequestContext, bucket: string, key: string): Promise<HandlerResult> {
  const target = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  checkSseRequest(ctx.headers, target);
  checkWriteAcl(ctx.headers);
  const directive = (header(ctx.headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') throw new S3Error('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive' });
  const tagDirective = (header(ctx.headers, 'x-amz-tagging-directive') ?? 'COPY').toUpperCase();
  const { srcBucket, src } = await source(ctx);
  let res;
  try {
    res = await copyObject(ctx.services.objects, ctx.services.blobs, {
      source: src,
      sourceBucket: srcBucket,
      target,
      key,
      replace: directive === 'REPLACE',
      headers: standardHeaders(ctx.headers),
      userMeta: userMetadata(ctx.headers),
      tags: tagDirective === 'REPLACE' ? (taggingHeader(ctx.headers) ?? {}) : undefined,
      storageClass: storageClass(ctx),
      requestId: ctx.requestId,
    });
  } finally {
    src.release();
  }
  return {
    headers: sseHeaders(target),
    xml: { root: 'CopyObjectResult', body: { LastModified: isoDate(res.lastModified), ETag: quoteEtag(res.etag) } },
  };
}

export async function handleUploadPartCopy(ctx: S3RequestContext, bucket: string, key: string): Promise<HandlerResult> {
  const target = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const uploadId = ctx.query.get('uploadId') ?? '';
  const partNumber = Number(ctx.query.get('partNumber'));
  await ctx.services.multipart.upload(target, key, uploadId);
  const { srcBucket, src } = await source(ctx);
  try {
    return await uploadPartFromSource(ctx, target, key, uploadId, partNumber, srcBucket, src);
  } finally {
    src.release();
  }
}

async function uploadPartFromSource(ctx: S3RequestContext, target: BucketRecord, key: string, uploadId: string, partNumber: number, srcBucket: BucketRecord, src: OpenedSource): Promise<HandlerResult> {
  const size = src.record.size;
  let start = 0;
  let end = size - 1;
  const rangeHeader = header(ctx.headers, 'x-amz-copy-source-range');
  if (rangeHeader !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader.trim());
    if (!m) throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', { ArgumentName: 'x-amz-copy-source-range' });
    start = Number(m[1]);
    end = Number(m[2]);
    if (start > end || end >= size) throw new S3Error('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: size });
  }
  const body = size === 0 ? emptyStream() : sourceStream(ctx.services.blobs, src, srcBucket.uid, start, end);
  const res = await ctx.services.multipart.uploadPart(target, key, uploadId, partNumber, body, { length: end - start + 1 }, ctx.requestId);
  return {
    headers: sseHeaders(target),
    xml: { root: 'CopyPartResult', body: { LastModified: isoDate(Date.now()), ETag: quoteEtag(res.etag) } },
  };
}

function emptyStream(): Transform {
  const t = new Transform({ transform: (c, _e, cb) => cb(null, c) });
  t.end();
  return t;
}
