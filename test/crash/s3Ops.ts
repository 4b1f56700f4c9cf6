/** The S3 calls of the crash workload and its checks, raw (aws4 over node:http, no retries). */
import { createHash } from 'node:crypto';
import { encodeKey, objectPath, parseXml, type RawEndpoint } from '../helpers/rawS3.js';
import { s3Call, type Outcome } from './outcome.js';

const etagOf = (h: Record<string, unknown>) => String(h['etag'] ?? '').replace(/"/g, '');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const xmlEtag = (v: unknown) => String(v ?? '').replace(/"|&quot;/g, '');

export function putObject(ep: RawEndpoint, bucket: string, key: string, body: Buffer): Promise<Outcome<string>> {
  return s3Call(ep, { method: 'PUT', path: objectPath(bucket, key), body }, (r) => etagOf(r.headers));
}

export interface GotObject {
  status: number;
  md5: string;
  size: number;
  etag: string;
}

/** GET, whole body hashed; a 404 is a value too (the object is absent). */
export async function getObject(ep: RawEndpoint, bucket: string, key: string): Promise<Outcome<GotObject>> {
  const o = await s3Call(ep, { method: 'GET', path: objectPath(bucket, key) }, (r) => ({
    status: r.status,
    md5: md5(r.body),
    size: r.body.length,
    etag: etagOf(r.headers),
  }));
  if (o.kind === 'failed' && o.status === 404 && o.body.includes('<Code>NoSuchKey</Code>')) {
    return { kind: 'ok', value: { status: 404, md5: '', size: 0, etag: '' } };
  }
  return o;
}

export function deleteObject(ep: RawEndpoint, bucket: string, key: string): Promise<Outcome<void>> {
  return s3Call(ep, { method: 'DELETE', path: objectPath(bucket, key) }, () => undefined);
}

/** DeleteObjects; ok only when every key is reported Deleted. */
export async function deleteObjects(ep: RawEndpoint, bucket: string, keys: string[]): Promise<Outcome<void>> {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?><Delete>' +
    keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('') +
    '</Delete>';
  const body = Buffer.from(xml);
  const o = await s3Call(
    ep,
    {
      method: 'POST',
      path: `/${bucket}?delete`,
      body,
      headers: { 'Content-MD5': createHash('md5').update(body).digest('base64') },
    },
    (r) => parseXml(r.body).DeleteResult as { Deleted?: unknown[]; Error?: unknown[] } | undefined,
  );
  if (o.kind !== 'ok') return o;
  const errors = asArray(o.value?.Error);
  if (errors.length) return { kind: 'failed', status: 200, body: JSON.stringify(errors) };
  return { kind: 'ok', value: undefined };
}

export function copyObject(ep: RawEndpoint, bucket: string, from: string, to: string): Promise<Outcome<string>> {
  return s3Call(
    ep,
    { method: 'PUT', path: objectPath(bucket, to), headers: { 'x-amz-copy-source': `/${bucket}/${encodeKey(from)}` } },
    (r) => xmlEtag((parseXml(r.body).CopyObjectResult as { ETag?: string } | undefined)?.ETag),
  );
}

export function createUpload(ep: RawEndpoint, bucket: string, key: string): Promise<Outcome<string>> {
  return s3Call(ep, { method: 'POST', path: objectPath(bucket, key, 'uploads') }, (r) =>
    String((parseXml(r.body).InitiateMultipartUploadResult as { UploadId?: string } | undefined)?.UploadId ?? ''),
  );
}

export function uploadPart(
  ep: RawEndpoint,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  body: Buffer,
): Promise<Outcome<string>> {
  const q = `partNumber=${partNumber}&uploadId=${encodeURIComponent(uploadId)}`;
  return s3Call(ep, { method: 'PUT', path: objectPath(bucket, key, q), body }, (r) => etagOf(r.headers));
}

export function completeUpload(
  ep: RawEndpoint,
  bucket: string,
  key: string,
  uploadId: string,
  parts: Array<{ partNumber: number; etag: string }>,
): Promise<Outcome<string>> {
  const body = Buffer.from(
    '<CompleteMultipartUpload>' +
      parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>"${p.etag}"</ETag></Part>`).join('') +
      '</CompleteMultipartUpload>',
  );
  return s3Call(
    ep,
    { method: 'POST', path: objectPath(bucket, key, `uploadId=${encodeURIComponent(uploadId)}`), body },
    (r) => xmlEtag((parseXml(r.body).CompleteMultipartUploadResult as { ETag?: string } | undefined)?.ETag),
  );
}

export function abortUpload(ep: RawEndpoint, bucket: string, key: string, uploadId: string): Promise<Outcome<void>> {
  const q = `uploadId=${encodeURIComponent(uploadId)}`;
  return s3Call(ep, { method: 'DELETE', path: objectPath(bucket, key, q) }, () => undefined);
}

export function createBucket(ep: RawEndpoint, bucket: string, keyCrn?: string): Promise<Outcome<void>> {
  const headers: Record<string, string> = keyCrn
    ? { 'ibm-sse-kp-encryption-algorithm': 'AES256', 'ibm-sse-kp-customer-root-key-crn': keyCrn }
    : {};
  return s3Call(ep, { method: 'PUT', path: `/${bucket}`, headers }, () => undefined);
}

/** 200 or 404 as a value. */
export async function headBucket(ep: RawEndpoint, bucket: string): Promise<Outcome<number>> {
  const o = await s3Call(ep, { method: 'HEAD', path: `/${bucket}` }, (r) => r.status);
  if (o.kind === 'failed' && o.status === 404) return { kind: 'ok', value: 404 };
  return o;
}

export interface Listed {
  key: string;
  etag: string;
  size: number;
}

/** Every object of the bucket (ListObjectsV2, all pages). */
export async function listObjects(ep: RawEndpoint, bucket: string): Promise<Outcome<Listed[]>> {
  const out: Listed[] = [];
  let token: string | undefined;
  for (;;) {
    const q = 'list-type=2' + (token ? `&continuation-token=${encodeURIComponent(token)}` : '');
    const o = await s3Call(ep, { method: 'GET', path: `/${bucket}?${q}` }, (r) => parseXml(r.body).ListBucketResult);
    if (o.kind !== 'ok') return o;
    const page = o.value as { Contents?: unknown[]; NextContinuationToken?: string; IsTruncated?: string };
    for (const c of asArray(page.Contents) as Array<{ Key: string; ETag: string; Size: string }>) {
      out.push({ key: String(c.Key), etag: xmlEtag(c.ETag), size: Number(c.Size) });
    }
    if (page.IsTruncated !== 'true') return { kind: 'ok', value: out };
    token = page.NextContinuationToken;
  }
}

/** Open multipart uploads of the bucket (one page: the workload keeps few open). */
export async function listUploads(
  ep: RawEndpoint,
  bucket: string,
): Promise<Outcome<Array<{ key: string; uploadId: string }>>> {
  return s3Call(ep, { method: 'GET', path: `/${bucket}?uploads` }, (r) => {
    const res = parseXml(r.body).ListMultipartUploadsResult as { Upload?: unknown[] } | undefined;
    return (asArray(res?.Upload) as Array<{ Key: string; UploadId: string }>).map((u) => ({
      key: String(u.Key),
      uploadId: String(u.UploadId),
    }));
  });
}

export async function listParts(
  ep: RawEndpoint,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<Outcome<Array<{ partNumber: number; etag: string; size: number }>>> {
  const q = `uploadId=${encodeURIComponent(uploadId)}`;
  return s3Call(ep, { method: 'GET', path: objectPath(bucket, key, q) }, (r) => {
    const res = parseXml(r.body).ListPartsResult as { Part?: unknown[] } | undefined;
    return (asArray(res?.Part) as Array<{ PartNumber: string; ETag: string; Size: string }>).map((p) => ({
      partNumber: Number(p.PartNumber),
      etag: xmlEtag(p.ETag),
      size: Number(p.Size),
    }));
  });
}
