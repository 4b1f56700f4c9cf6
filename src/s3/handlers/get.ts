/** GetObject, HeadObject: ranges, preconditions, response-* overrides, checksum mode. */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { header, objectHeaders, responseOverrides } from '../headers.js';
import type { ReadOperation } from '../operations.js';
import type { ReadResult } from '../../services/objectService.js';
import type { BucketRecord } from '../../services/types.js';

async function read(ctx: S3RequestContext, op: ReadOperation, withBody: boolean): Promise<{ b: BucketRecord; r: ReadResult }> {
  const b = await ctx.services.buckets.resolve(op.bucket, ctx.principal.accountId);
  const { partNumber } = op;
  if (partNumber !== undefined && header(ctx.headers, 'range') !== undefined) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  const r = await ctx.services.objects.read(
    {
      bucket: b,
      key: op.key,
      range: header(ctx.headers, 'range'),
      partNumber,
      conditions: {
        ifMatch: header(ctx.headers, 'if-match'),
        ifNoneMatch: header(ctx.headers, 'if-none-match'),
        ifModifiedSince: header(ctx.headers, 'if-modified-since'),
        ifUnmodifiedSince: header(ctx.headers, 'if-unmodified-since'),
      },
      requestId: ctx.requestId,
    },
    withBody,
  );
  return { b, r };
}

function headersFor(ctx: S3RequestContext, b: BucketRecord, r: ReadResult): { status: number; headers: Record<string, string> } {
  // A whole-object checksum must never accompany a partial body: SDKs validate it against the bytes received.
  const withChecksums = header(ctx.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' && r.range === undefined;
  const headers = { ...objectHeaders(b, r.record, r.meta, withChecksums), ...responseOverrides(ctx.query) };
  if (r.partsCount !== undefined) headers['x-amz-mp-parts-count'] = String(r.partsCount);
  // Any satisfiable Range (even one covering the whole object) is answered 206, as S3 does;
  // partNumber on a single-part object is the whole object, 200.
  const partial = r.range !== undefined && (r.partsCount === undefined || !!r.record.parts);
  if (partial && r.range) {
    headers['content-range'] = `bytes ${r.range.start}-${r.range.end}/${r.record.size}`;
    headers['content-length'] = String(r.range.end - r.range.start + 1);
  } else {
    headers['content-length'] = String(r.record.size);
  }
  return { status: partial ? 206 : 200, headers };
}

export async function handleGetObject(ctx: S3RequestContext, op: ReadOperation): Promise<HandlerResult> {
  const { b, r } = await read(ctx, op, true);
  return { ...headersFor(ctx, b, r), body: r.body };
}

export async function handleHeadObject(ctx: S3RequestContext, op: ReadOperation): Promise<HandlerResult> {
  const { b, r } = await read(ctx, op, false);
  return headersFor(ctx, b, r);
}
