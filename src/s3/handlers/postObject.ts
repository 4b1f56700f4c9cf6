/**
 * PostObject: a browser upload, POST /<bucket> with a multipart/form-data body
 * whose fields carry the key, the metadata and a SigV4-signed POST policy.
 *
 * The request itself is not signed (a browser form cannot sign it), so this
 * runs before the header authentication: the fields before the file are read
 * (20 KiB at most, as AWS), the policy's signature and conditions checked, and
 * only then is the file part streamed into ObjectService.put, through a
 * counter that enforces the policy's content-length-range. The object is
 * encrypted like any PUT. Fields after the file are ignored, as AWS ignores them.
 * A form with neither a policy nor a signature is an anonymous upload, judged
 * by the bucket's policy and ACL like an unsigned PUT.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import type { CredentialStore } from '../../auth/credentials.js';
import { checkPolicy, decodePolicy, missingField, verifyPostSignature } from '../../auth/sigv4/postPolicy.js';
import type { Config } from '../../config.js';
import { FormError, formBoundary, readForm, type ParsedForm } from '../../util/multipartForm.js';
import type { HandlerResult, Services } from '../context.js';
import { S3Error, toS3Error } from '../errors.js';
import { ANONYMOUS_PRINCIPAL, decide, denied } from '../authorizeRequest.js';
import { objectAclForWrite } from '../aclRequest.js';
import { header, standardHeaders, userMetadata } from '../headers.js';
import { writeSseIn } from '../sseHeaders.js';
import { quoteEtag, urlEncodeKey } from '../xml/encode.js';
import { decodeTagging } from '../xml/decode.js';
import { storageClass, writeSseHeaders } from './put.js';
import { versionHeader } from '../versions.js';

/** AWS's bound on the form fields before the file. */
export const MAX_POST_FIELD_BYTES = 20 * 1024;
/** Of what follows the file (or, after a refusal, the rest of the body) read at most this much so the connection can be reused; more: close it. */
const DRAIN_LIMIT = 1024 * 1024;

export interface PostObjectRequest {
  requestId: string;
  bucket: string;
  req: IncomingMessage;
  services: Services;
  credentials: CredentialStore;
  config: Config;
  now: Date;
  signal: AbortSignal;
  /** Answer Expect: 100-continue (once the request is known to be a well-formed POST). */
  writeContinue(): void;
}

/** Form fields that become request headers of the upload (names as S3 reads them from a form). */
const HEADER_FIELDS = [
  'cache-control',
  'content-type',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-context',
  'x-amz-server-side-encryption-bucket-key-enabled',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-customer-key',
  'x-amz-server-side-encryption-customer-key-md5',
  'x-amz-storage-class',
];

/** Fields by lower-cased name; a field sent twice counts as its last value, for the policy and the upload alike. */
function fieldMap(form: ParsedForm): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of form.fields) m.set(f.name.toLowerCase(), f.value);
  return m;
}

/** The upload's "headers", read from the form exactly where a PUT reads them from the request. */
function formHeaders(fields: Map<string, string>, fileType: string | undefined): IncomingHttpHeaders {
  const h: IncomingHttpHeaders = {};
  for (const name of HEADER_FIELDS) {
    const v = fields.get(name);
    if (v !== undefined) h[name] = v;
  }
  for (const [k, v] of fields) if (k.startsWith('x-amz-meta-')) h[k] = v;
  if (h['content-type'] === undefined && fileType !== undefined) h['content-type'] = fileType;
  const acl = fields.get('acl');
  if (acl !== undefined) h['x-amz-acl'] = acl;
  return h;
}

/** Counts the file's bytes against content-length-range: EntityTooLarge as soon as it is over, EntityTooSmall at the end. */
class LengthRange extends Transform {
  private n = 0;
  constructor(private readonly range: { min: number; max: number } | undefined) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.n += chunk.length;
    if (this.range && this.n > this.range.max) {
      cb(new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: this.range.max, ProposedSize: this.n }));
      return;
    }
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.range && this.n < this.range.min) {
      cb(new S3Error('EntityTooSmall', undefined, { MinSizeAllowed: this.range.min, ProposedSize: this.n }));
      return;
    }
    cb();
  }
}

function formError(e: FormError): S3Error {
  return e.reason === 'fields-too-large'
    ? new S3Error('MaxPostPreDataLengthExceededError')
    : new S3Error(
        'MalformedPOSTRequest',
        `The body of your POST request is not well-formed multipart/form-data: ${e.message}`,
      );
}

/** The redirect of success_action_redirect, or undefined when it is not an absolute http(s) URL (AWS then ignores it). */
function redirectTo(target: string | undefined, bucket: string, key: string, etag: string): string | undefined {
  if (!target) return undefined;
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  u.searchParams.set('bucket', bucket);
  u.searchParams.set('key', key);
  u.searchParams.set('etag', quoteEtag(etag));
  return u.toString();
}

export async function handlePostObject(r: PostObjectRequest): Promise<HandlerResult> {
  const boundary = formBoundary(header(r.req.headers, 'content-type'));
  if (boundary === undefined)
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: 'Bucket POST must be of the enclosure-type multipart/form-data',
    });
  let form: ParsedForm | undefined;
  let fileStarted = false;
  try {
    const expectation = header(r.req.headers, 'expect');
    if (expectation !== undefined && /100-continue/i.test(expectation)) r.writeContinue();
    form = await readForm(r.req as AsyncIterable<Buffer>, {
      boundary,
      fileField: 'file',
      maxFieldBytes: MAX_POST_FIELD_BYTES,
    });
    const fields = fieldMap(form);
    const file = form.file;
    if (!file) throw new S3Error('IncorrectNumberOfFilesInPostRequest');
    // No policy and no signature: an anonymous upload, allowed exactly where the
    // bucket's policy or ACL lets everyone write (as S3 allows it); a policy
    // or a signature alone is a signed POST that must verify.
    const anonymous = !fields.has('policy') && !fields.has('x-amz-signature');
    const principal = anonymous
      ? ANONYMOUS_PRINCIPAL
      : (await verifyPostSignature(fields, r.credentials, { region: r.config.region, service: 's3' })).principal;
    const rawKey = fields.get('key');
    if (rawKey === undefined) throw missingField('key');
    const key = rawKey.split('${filename}').join(file.filename);
    fields.set('key', key);
    const limits = anonymous ? {} : checkPolicy(decodePolicy(fields.get('policy') ?? ''), fields, r.bucket, r.now);
    const headers = formHeaders(fields, file.contentType);
    // The uploader's s3:PutObject, judged as for a PUT: the bucket policy and ACL (its form fields as the headers).
    const b = await r.services.buckets.lookup(r.bucket);
    const asRequest = { req: r.req, headers, query: new URLSearchParams(), anonymous, principal };
    if (!decide(asRequest, b, 'PostObject', key, undefined, false)) throw denied();
    // The same SSE rules as a PUT: SSE-KMS under any key the owner may use, or SSE-C.
    const sse = writeSseIn(headers, r, b);
    const acl = await objectAclForWrite(headers, b, principal.accountId, r.services.accounts);
    const tagging = fields.get('tagging');
    const counter = new LengthRange(limits.lengthRange);
    file.stream.on('error', (e) => counter.destroy(e));
    fileStarted = true;
    const res = await r.services.objects.put({
      bucket: b,
      key,
      body: file.stream.pipe(counter),
      headers: standardHeaders(headers),
      userMeta: userMetadata(headers),
      tags: tagging !== undefined ? decodeTagging(tagging) : undefined,
      storageClass: storageClass({ headers } as Parameters<typeof storageClass>[0]),
      expect: {},
      acl,
      sse: sse.spec,
      requestId: r.requestId,
      signal: r.signal,
    });
    const drained = await form.drain(DRAIN_LIMIT);
    const location = objectUrl(r.req, key);
    const out: Record<string, string> = {
      etag: quoteEtag(res.etag),
      location,
      ...writeSseHeaders(b, res, sse),
      ...versionHeader(res.version),
    };
    if (!drained) out.connection = 'close';
    const redirect = redirectTo(
      fields.get('success_action_redirect') ?? fields.get('redirect'),
      r.bucket,
      key,
      res.etag,
    );
    if (redirect) return { status: 303, headers: { ...out, location: redirect } };
    const status = fields.get('success_action_status');
    if (status === '200') return { status: 200, headers: out };
    if (status === '201')
      return {
        status: 201,
        headers: out,
        xml: {
          root: 'PostResponse',
          ns: false,
          body: { Location: location, Bucket: r.bucket, Key: key, ETag: quoteEtag(res.etag) },
        },
      };
    return { status: 204, headers: out };
  } catch (e) {
    const err = e instanceof FormError ? formError(e) : toS3Error(e);
    // Refused before the file was read: read (a bounded amount of) the rest so
    // the client sees the answer and the connection stays usable; else close it.
    const drained = !fileStarted && form !== undefined && (await drainAtMost(form, DRAIN_LIMIT));
    if (!drained && !r.req.complete) err.headers.connection = 'close';
    throw err;
  }
}

/** The new object's URL as the client addressed the bucket (path or virtual-host style): the POST's own URL plus the key. */
function objectUrl(req: IncomingMessage, key: string): string {
  const scheme = 'encrypted' in req.socket ? 'https' : 'http';
  const bucketPath = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
  return `${scheme}://${header(req.headers, 'host') ?? '127.0.0.1'}${bucketPath}/${urlEncodeKey(key)}`;
}

async function drainAtMost(form: ParsedForm, limit: number): Promise<boolean> {
  try {
    return await form.drain(limit);
  } catch {
    return false;
  }
}
