/** CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads. */
import { objectLockRequest } from '../objectLockHeaders.js';
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import type { PartOperation, UploadOperation } from '../operations.js';
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
import { decodeCompleteMultipartUpload } from '../xml/decode.js';
import { isoDate, quoteEtag, urlEncodeKey } from '../xml/encode.js';
import { checksumAlgorithmFromHeaderName, parseChecksumAlgorithm } from '../../util/checksums.js';
import { uploadChecksumType, type CompleteOptions } from '../../services/multipartService.js';
import { owner } from './bucket.js';
import { dayMs, requireLength, storageClass, writeSseHeaders } from './put.js';
import { expirationHeader } from '../../services/lifecycleRules.js';
import { customerKey, objectSseHeaders, writeSse } from '../sseHeaders.js';
import { versionHeader } from '../versions.js';

export async function handleCreateMultipartUpload(
  ctx: S3RequestContext,
  bucket: string,
  key: string,
): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const sse = writeSse(ctx, b);
  const acl = await objectAclForWrite(ctx.headers, b, ctx.principal.accountId, ctx.services.accounts);
  const algHeader = header(ctx.headers, 'x-amz-checksum-algorithm');
  const alg = algHeader ? parseChecksumAlgorithm(algHeader) : undefined;
  if (algHeader && !alg) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported.');
  const checksumType = uploadChecksumType(alg, header(ctx.headers, 'x-amz-checksum-type')?.toUpperCase());
  const created = await ctx.services.multipart.createUpload(
    b,
    key,
    standardHeaders(ctx.headers),
    userMetadata(ctx.headers),
    {
      storageClass: storageClass(ctx),
      checksumAlgorithm: alg,
      checksumType,
      tags: taggingHeader(ctx.headers),
      objectLock: objectLockRequest(ctx.headers),
      acl,
      requestId: ctx.requestId,
      sse: sse.spec,
    },
  );
  const { uploadId } = created;
  const headers: Record<string, string> = { ...writeSseHeaders(b, created, sse) };
  if (alg && checksumType) {
    headers['x-amz-checksum-algorithm'] = alg;
    headers['x-amz-checksum-type'] = checksumType;
  }
  return {
    headers,
    xml: { root: 'InitiateMultipartUploadResult', body: { Bucket: bucket, Key: key, UploadId: uploadId } },
  };
}

export async function handleUploadPart(ctx: S3RequestContext, op: PartOperation): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(op.bucket, ctx.principal.accountId);
  const length = requireLength(ctx);
  const { expect } = uploadExpectations(ctx.headers, length);
  const customer = customerKey(ctx);
  const res = await ctx.services.multipart.uploadPart(
    b,
    op.key,
    op.uploadId,
    op.partNumber,
    ctx.body(),
    expect,
    ctx.requestId,
    customer?.key,
  );
  return {
    headers: {
      etag: quoteEtag(res.etag),
      ...objectSseHeaders(b, res.sse, res.sseContext, customer),
      ...checksumHeaders(res.checksums, false),
    },
  };
}

export async function handleCompleteMultipartUpload(
  ctx: S3RequestContext,
  op: UploadOperation,
): Promise<HandlerResult> {
  const { bucket, key } = op;
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const opts = completeOptions(ctx);
  const parts = decodeCompleteMultipartUpload(await ctx.readText());
  const res = await ctx.services.multipart.complete(b, key, op.uploadId, parts, opts);
  const cs: Record<string, string> = {};
  for (const [alg, v] of Object.entries(res.checksums)) {
    cs[`Checksum${alg}`] = v;
    cs.ChecksumType = /-\d+$/.test(v) ? 'COMPOSITE' : 'FULL_OBJECT';
  }
  return {
    headers: {
      ...objectSseHeaders(b, res.sse, res.sseContext),
      ...checksumHeaders(res.checksums, true),
      ...versionHeader(res.version),
      ...expirationHeader(b.lifecycle, { key, size: res.size, tags: res.tags ?? {} }, res.lastModified, dayMs(ctx)),
    },
    xml: {
      root: 'CompleteMultipartUploadResult',
      body: { Location: objectUrl(ctx, bucket, key), Bucket: bucket, Key: key, ETag: quoteEtag(res.etag), ...cs },
    },
  };
}

/** CompleteMultipartUpload's headers: conditions, the whole-object checksum and its type, x-amz-mp-object-size. */
function completeOptions(ctx: S3RequestContext): CompleteOptions {
  const opts: CompleteOptions = { conditions: writeConditions(ctx.headers), requestId: ctx.requestId };
  const sums = Object.keys(ctx.headers).filter((n) => checksumAlgorithmFromHeaderName(n) !== undefined);
  if (sums.length > 1)
    throw new S3Error(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  if (sums.length === 1)
    opts.checksum = {
      algorithm: checksumAlgorithmFromHeaderName(sums[0])!,
      value: header(ctx.headers, sums[0])!.trim(),
    };
  const type = header(ctx.headers, 'x-amz-checksum-type');
  if (type !== undefined) opts.type = type.toUpperCase();
  const size = header(ctx.headers, 'x-amz-mp-object-size');
  if (size !== undefined) {
    if (!/^\d+$/.test(size))
      throw new S3Error('InvalidArgument', 'x-amz-mp-object-size must be a non-negative integer.', {
        ArgumentName: 'x-amz-mp-object-size',
        ArgumentValue: size,
      });
    opts.objectSize = Number(size);
  }
  return opts;
}

/**
 * The object's URL, as AWS gives it in CompleteMultipartUploadResult/Location
 * (SDKs hand it to the caller, e.g. the v2-style ManagedUpload's `Location`):
 * the address the client used (Host and path, so either addressing style), no query.
 */
function objectUrl(ctx: S3RequestContext, bucket: string, key: string): string {
  const host = header(ctx.headers, 'host');
  const url = ctx.req.url ?? '';
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  if (!host || !path.startsWith('/')) return `/${bucket}/${urlEncodeKey(key)}`;
  return `http://${host}${path}`;
}

export async function handleAbortMultipartUpload(ctx: S3RequestContext, op: UploadOperation): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(op.bucket, ctx.principal.accountId);
  await ctx.services.multipart.abort(b, op.key, op.uploadId);
  return { status: 204 };
}

function intParam(ctx: S3RequestContext, name: string, def: number, max: number): number {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return def;
  if (!/^\d+$/.test(raw))
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  return Math.min(Number(raw), max);
}

export async function handleListParts(ctx: S3RequestContext, op: UploadOperation): Promise<HandlerResult> {
  const { bucket, key } = op;
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const after = intParam(ctx, 'part-number-marker', 0, 10000);
  const max = intParam(ctx, 'max-parts', 1000, 1000);
  const res = await ctx.services.multipart.listParts(b, key, op.uploadId, after, max, ctx.requestId);
  const last = res.parts[res.parts.length - 1];
  return {
    xml: {
      root: 'ListPartsResult',
      body: {
        Bucket: bucket,
        Key: key,
        UploadId: res.upload.uploadId,
        Initiator: owner(ctx),
        Owner: owner(ctx),
        StorageClass: res.upload.storageClass ?? 'STANDARD',
        PartNumberMarker: after,
        NextPartNumberMarker: last ? last.record.partNumber : undefined,
        MaxParts: max,
        IsTruncated: res.truncated,
        ChecksumAlgorithm: res.upload.checksumAlgorithm,
        Part: res.parts.map((p) => ({
          PartNumber: p.record.partNumber,
          LastModified: isoDate(p.record.lastModified),
          ETag: quoteEtag(p.etag),
          Size: p.record.size,
          ...Object.fromEntries(Object.entries(p.checksums).map(([a, v]) => [`Checksum${a}`, v])),
        })),
      },
    },
  };
}

export async function handleListMultipartUploads(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.services.buckets.resolve(bucket, ctx.principal.accountId);
  const prefix = ctx.query.get('prefix') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const uploadIdMarker = ctx.query.get('upload-id-marker') ?? '';
  const max = intParam(ctx, 'max-uploads', 1000, 1000);
  const enc = ctx.query.get('encoding-type') === 'url' ? urlEncodeKey : (s: string) => s;
  const res = await ctx.services.multipart.listUploads(
    b,
    prefix,
    keyMarker || undefined,
    uploadIdMarker || undefined,
    max,
  );
  const last = res.uploads[res.uploads.length - 1];
  return {
    xml: {
      root: 'ListMultipartUploadsResult',
      body: {
        Bucket: bucket,
        KeyMarker: enc(keyMarker),
        UploadIdMarker: uploadIdMarker,
        NextKeyMarker: res.truncated && last ? enc(last.key) : undefined,
        NextUploadIdMarker: res.truncated && last ? last.uploadId : undefined,
        Prefix: enc(prefix),
        MaxUploads: max,
        IsTruncated: res.truncated,
        EncodingType: ctx.query.get('encoding-type') ?? undefined,
        Upload: res.uploads.map((u) => ({
          Key: enc(u.key),
          UploadId: u.uploadId,
          Initiator: owner(ctx),
          Owner: owner(ctx),
          StorageClass: u.storageClass ?? 'STANDARD',
          Initiated: isoDate(u.initiated),
          ChecksumAlgorithm: u.checksumAlgorithm,
        })),
      },
    },
  };
}
