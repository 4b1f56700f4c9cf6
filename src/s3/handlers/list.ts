/** ListObjects (v1), ListObjectsV2, ListObjectVersions. */
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error } from '../errors.js';
import type { ListedVersion, ListOutput } from '../../services/listService.js';
import type { BucketRecord } from '../../services/types.js';
import { isoDate, quoteEtag, urlEncodeKey, type XmlNode } from '../xml/encode.js';
import { kpHeaders, owner } from './bucket.js';

function maxKeys(ctx: S3RequestContext): number {
  const raw = ctx.query.get('max-keys');
  if (raw === null) return 1000;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n))
    throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', {
      ArgumentName: 'max-keys',
      ArgumentValue: raw,
    });
  return Math.min(n, 1000);
}

function encoder(ctx: S3RequestContext): (s: string) => string {
  const et = ctx.query.get('encoding-type');
  if (et !== null && et !== 'url')
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
    });
  return et === 'url' ? urlEncodeKey : (s) => s;
}

function contents(ctx: S3RequestContext, out: ListOutput, enc: (s: string) => string, withOwner: boolean): XmlNode[] {
  return out.objects.map((o) => ({
    Key: enc(o.key),
    LastModified: isoDate(o.lastModified),
    ETag: o.etag !== undefined ? quoteEtag(o.etag) : undefined,
    Size: o.size,
    Owner: withOwner ? owner(ctx) : undefined,
    StorageClass: o.storageClass,
  }));
}

interface ListRun {
  b: BucketRecord;
  enc: (s: string) => string;
  prefix: string;
  delimiter: string;
  mk: number;
  out: ListOutput;
}

/** The part every listing flavour shares: bucket, encoding, prefix, delimiter, max-keys, the listing itself. */
async function runList(ctx: S3RequestContext, bucket: string, after: string): Promise<ListRun> {
  const b = await ctx.bucket(bucket);
  const enc = encoder(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const mk = maxKeys(ctx);
  const out = await ctx.services.lists.list({
    bucket: b,
    prefix,
    delimiter,
    after,
    maxKeys: mk,
    requestId: ctx.requestId,
  });
  return { b, enc, prefix, delimiter, mk, out };
}

export async function handleListObjects(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const marker = ctx.query.get('marker') ?? '';
  const { b, enc, prefix, delimiter, mk, out } = await runList(ctx, bucket, marker);
  return {
    headers: kpHeaders(b),
    xml: {
      root: 'ListBucketResult',
      body: {
        Name: b.name,
        // Version 1 echoes Prefix as sent even with encoding-type=url (SDKs decode only
        // Delimiter, Marker, NextMarker, Key and CommonPrefixes there; V2 encodes Prefix).
        Prefix: prefix,
        Marker: enc(marker),
        // NextMarker is only defined when a delimiter is given, but clients (s3cmd) use it when present.
        NextMarker: out.isTruncated && out.last !== undefined ? enc(out.last) : undefined,
        MaxKeys: mk,
        Delimiter: delimiter ? enc(delimiter) : undefined,
        IsTruncated: out.isTruncated,
        EncodingType: ctx.query.get('encoding-type') ?? undefined,
        Contents: contents(ctx, out, enc, true),
        CommonPrefixes: out.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
      },
    },
  };
}

export async function handleListObjectsV2(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after') ?? '';
  let after = startAfter;
  if (token !== null) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith('1:'))
      throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
        ArgumentName: 'continuation-token',
      });
    after = decoded.slice(2);
  }
  const { b, enc, prefix, delimiter, mk, out } = await runList(ctx, bucket, after);
  return {
    xml: {
      root: 'ListBucketResult',
      body: {
        Name: b.name,
        Prefix: enc(prefix),
        StartAfter: startAfter ? enc(startAfter) : undefined,
        ContinuationToken: token ?? undefined,
        NextContinuationToken:
          out.isTruncated && out.last !== undefined
            ? Buffer.from('1:' + out.last, 'utf8').toString('base64url')
            : undefined,
        KeyCount: out.objects.length + out.commonPrefixes.length,
        MaxKeys: mk,
        Delimiter: delimiter ? enc(delimiter) : undefined,
        IsTruncated: out.isTruncated,
        EncodingType: ctx.query.get('encoding-type') ?? undefined,
        Contents: contents(ctx, out, enc, ctx.query.get('fetch-owner') === 'true'),
        CommonPrefixes: out.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
      },
    },
  };
}

/**
 * Every version of every key, delete markers as <DeleteMarker> entries; in a
 * bucket never versioned each object is its one "null" version.
 */
export async function handleListObjectVersions(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const enc = encoder(ctx);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionIdMarker = ctx.query.get('version-id-marker') ?? '';
  const mk = maxKeys(ctx);
  const out = await ctx.services.lists.versions({
    bucket: b,
    prefix,
    delimiter,
    keyMarker,
    versionIdMarker,
    maxKeys: mk,
    requestId: ctx.requestId,
  });
  const entry = (v: ListedVersion): XmlNode => ({
    Key: enc(v.key),
    VersionId: v.version,
    IsLatest: v.isLatest,
    LastModified: isoDate(v.lastModified),
    ...(v.deleteMarker
      ? { Owner: owner(ctx) }
      : {
          ETag: v.etag !== undefined ? quoteEtag(v.etag) : undefined,
          Size: v.size,
          Owner: owner(ctx),
          StorageClass: v.storageClass,
        }),
  });
  return {
    xml: {
      root: 'ListVersionsResult',
      body: {
        Name: b.name,
        Prefix: enc(prefix),
        KeyMarker: enc(keyMarker),
        VersionIdMarker: versionIdMarker,
        NextKeyMarker: out.nextKeyMarker !== undefined ? enc(out.nextKeyMarker) : undefined,
        NextVersionIdMarker: out.nextVersionIdMarker,
        MaxKeys: mk,
        Delimiter: delimiter ? enc(delimiter) : undefined,
        IsTruncated: out.isTruncated,
        EncodingType: ctx.query.get('encoding-type') ?? undefined,
        Version: out.versions.filter((v) => !v.deleteMarker).map(entry),
        DeleteMarker: out.versions.filter((v) => v.deleteMarker).map(entry),
        CommonPrefixes: out.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
      },
    },
  };
}
