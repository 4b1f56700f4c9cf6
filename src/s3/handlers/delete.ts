/** DeleteObject, DeleteObjects. */
import { createHash } from 'node:crypto';
import type { HandlerResult, S3RequestContext } from '../context.js';
import { S3Error, toS3Error } from '../errors.js';
import { header, uploadExpectations } from '../headers.js';
import { decodeDelete } from '../xml/decode.js';
import { createChecksum } from '../../util/checksums.js';
import type { XmlNode } from '../xml/encode.js';
import { versionHeader, versionParam } from '../versions.js';
import { bypassGovernance } from '../objectLockHeaders.js';
import { authorizeKey, denied } from '../authorizeRequest.js';

export async function handleDeleteObject(ctx: S3RequestContext, bucket: string, key: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  // Missing keys are not an error: S3 answers 204 either way (unless If-Match asks for the object).
  const res = await ctx.services.objects.remove({
    bucket: b,
    key,
    versionId: versionParam(ctx),
    ifMatch: header(ctx.headers, 'if-match'),
    bypassGovernance: bypassGovernance(ctx.headers),
    requestId: ctx.requestId,
  });
  const headers = versionHeader(res.version);
  if (res.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  return { status: 204, headers };
}

/**
 * DeleteObjects accepts Content-MD5 or any flexible checksum (the SDKs since
 * 2025 send CRC32 instead of MD5); whichever is present is verified.
 */
export async function handleDeleteObjects(ctx: S3RequestContext, bucket: string): Promise<HandlerResult> {
  const b = await ctx.bucket(bucket);
  const text = await ctx.readText();
  verifySmallBody(ctx, Buffer.from(text, 'utf8'));
  const req = decodeDelete(text);
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  for (const o of req.objects) {
    try {
      // Each key is its own s3:DeleteObject (s3:DeleteObjectVersion) request to access control.
      if (!(await authorizeKey(ctx, b, o.key, o.versionId))) throw denied();
      const res = await ctx.services.objects.remove({
        bucket: b,
        key: o.key,
        versionId: o.versionId,
        bypassGovernance: bypassGovernance(ctx.headers),
      });
      // A marker made (no VersionId asked) or removed (one asked) is named as AWS names it.
      if (!req.quiet)
        deleted.push({
          Key: o.key,
          VersionId: o.versionId,
          DeleteMarker: res.deleteMarker ? true : undefined,
          DeleteMarkerVersionId: res.deleteMarker ? res.version : undefined,
        });
    } catch (e) {
      const s3e = toS3Error(e);
      if (s3e.code === 'InternalError') ctx.log.error('delete failed', { key: o.key, err: (e as Error).message });
      errors.push({ Key: o.key, VersionId: o.versionId, Code: s3e.code, Message: s3e.message });
    }
  }
  return { xml: { root: 'DeleteResult', body: { Deleted: deleted, Error: errors } } };
}

/** Verify Content-MD5 / x-amz-checksum-* of a body already read whole (XML requests). */
export function verifySmallBody(ctx: S3RequestContext, body: Buffer): void {
  const { expect } = uploadExpectations(ctx.headers, undefined);
  if (expect.contentMd5 && createHash('md5').update(body).digest('base64') !== expect.contentMd5)
    throw new S3Error('BadDigest');
  for (const [alg, want] of Object.entries(expect.checksums ?? {})) {
    const c = createChecksum(alg as Parameters<typeof createChecksum>[0]);
    c.update(body);
    if (c.digest().toString('base64') !== want) throw new S3Error('XAmzContentChecksumMismatch');
  }
}
