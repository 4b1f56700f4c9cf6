/** GetObject, HeadObject: ranges, preconditions, response-* overrides, checksum mode. GetObjectAttributes. */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import { header, objectHeaders, responseOverrides } from '../headers.js';
import { httpDate } from '../xml/encode.js';
import type { ReadOperation } from '../operations.js';
import type { ReadResult } from '../../services/objectService.js';
import type { BucketRecord } from '../../services/types.js';
import { shownVersion } from '../../services/objectService.js';
import { versionHeader, versionParam } from '../versions.js';
import { expirationHeader } from '../../services/lifecycleRules.js';
import { dayMs } from './put.js';
import { lockHeaders } from '../objectLockHeaders.js';
import { customerKey, objectSseHeaders, refuseReadSse, type CustomerKey } from '../sseHeaders.js';

const readConditions = (ctx: S3RequestContext) => ({
  ifMatch: header(ctx.headers, 'if-match'),
  ifNoneMatch: header(ctx.headers, 'if-none-match'),
  ifModifiedSince: header(ctx.headers, 'if-modified-since'),
  ifUnmodifiedSince: header(ctx.headers, 'if-unmodified-since'),
});

async function read(
  ctx: S3RequestContext,
  op: ReadOperation,
  withBody: boolean,
): Promise<{ b: BucketRecord; r: ReadResult; customer?: CustomerKey }> {
  const b = await ctx.services.buckets.resolve(op.bucket, ctx.principal.accountId);
  refuseReadSse(ctx.headers);
  const customer = customerKey(ctx);
  const { partNumber } = op;
  if (partNumber !== undefined && header(ctx.headers, 'range') !== undefined)
    throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  const r = await ctx.services.objects.read(
    {
      bucket: b,
      key: op.key,
      versionId: versionParam(ctx),
      range: header(ctx.headers, 'range'),
      partNumber,
      conditions: readConditions(ctx),
      requestId: ctx.requestId,
      customerKey: customer?.key,
    },
    withBody,
  );
  return { b, r, customer };
}

function headersFor(
  ctx: S3RequestContext,
  b: BucketRecord,
  r: ReadResult,
  customer?: CustomerKey,
): { status: number; headers: Record<string, string> } {
  // A whole-object checksum must never accompany a partial body: SDKs validate it against the bytes received.
  const withChecksums =
    header(ctx.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' && r.range === undefined;
  const headers = {
    ...objectHeaders(b, r.record, r.meta, withChecksums),
    ...versionHeader(shownVersion(b, r.record)),
    ...lockHeaders(r.meta),
    // The current version's expiration (a version asked for by id is not announced).
    ...(versionParam(ctx) === undefined
      ? expirationHeader(
          b.lifecycle,
          { key: r.record.key, size: r.record.size, tags: r.meta.tags ?? {} },
          r.record.lastModified,
          dayMs(ctx),
        )
      : {}),
    ...responseOverrides(ctx.query),
  };
  if (customer) headers['x-amz-server-side-encryption-customer-key-md5'] = customer.md5;
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
  const { b, r, customer } = await read(ctx, op, true);
  return { ...headersFor(ctx, b, r, customer), body: r.body };
}

export async function handleHeadObject(ctx: S3RequestContext, op: ReadOperation): Promise<HandlerResult> {
  const { b, r, customer } = await read(ctx, op, false);
  return headersFor(ctx, b, r, customer);
}

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;

/** x-amz-object-attributes: a comma-separated list of ATTRIBUTES (S3 refuses an empty list or an unknown name). */
function requestedAttributes(ctx: S3RequestContext): Set<string> {
  const raw = (ctx.req.headersDistinct['x-amz-object-attributes'] ?? []).join(',');
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0)
    throw new S3Error(
      'InvalidArgument',
      'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
      { ArgumentName: 'x-amz-object-attributes' },
    );
  for (const n of names)
    if (!(ATTRIBUTES as readonly string[]).includes(n))
      throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', {
        ArgumentName: 'x-amz-object-attributes',
        ArgumentValue: n,
      });
  return new Set(names);
}

function intHeader(ctx: S3RequestContext, name: string, def: number, max: number): number {
  const raw = header(ctx.headers, name);
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw))
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  return Math.min(Number(raw), max);
}

const checksumFields = (checksums: Record<string, string>) =>
  Object.fromEntries(Object.entries(checksums).map(([a, v]) => [`Checksum${a}`, v]));

export async function handleGetObjectAttributes(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const want = requestedAttributes(ctx);
  const maxParts = intHeader(ctx, 'x-amz-max-parts', 1000, 1000);
  const marker = intHeader(ctx, 'x-amz-part-number-marker', 0, 10000);
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const r = await ctx.services.objects.attributes({
    bucket: b,
    key,
    versionId: versionParam(ctx),
    conditions: readConditions(ctx),
    partNumberMarker: marker,
    maxParts,
    requestId: ctx.requestId,
  });
  const sums = Object.values(r.meta.checksums);
  const parts = r.parts;
  const last = parts?.page[parts.page.length - 1];
  return {
    headers: {
      'last-modified': httpDate(r.record.lastModified),
      ...objectSseHeaders(b, r.record.sse, r.meta.sseContext),
      ...versionHeader(shownVersion(b, r.record)),
    },
    xml: {
      root: 'GetObjectAttributesResponse',
      body: {
        // Unquoted here, unlike every other ETag S3 sends.
        ETag: want.has('ETag') ? r.meta.etag : undefined,
        Checksum:
          want.has('Checksum') && sums.length
            ? { ...checksumFields(r.meta.checksums), ChecksumType: /-\d+$/.test(sums[0]) ? 'COMPOSITE' : 'FULL_OBJECT' }
            : undefined,
        ObjectParts:
          want.has('ObjectParts') && parts
            ? {
                // The SDKs' TotalPartsCount is <PartsCount> on the wire.
                PartsCount: parts.total,
                PartNumberMarker: marker,
                NextPartNumberMarker: last?.partNumber ?? marker,
                MaxParts: maxParts,
                IsTruncated: parts.truncated,
                Part: parts.page.map((p) => ({
                  PartNumber: p.partNumber,
                  Size: p.size,
                  ...checksumFields(p.checksums),
                })),
              }
            : undefined,
        StorageClass: want.has('StorageClass') ? (r.record.storageClass ?? 'STANDARD') : undefined,
        ObjectSize: want.has('ObjectSize') ? r.record.size : undefined,
      },
    },
  };
}
