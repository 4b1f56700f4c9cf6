/**
 * Server-side encryption request headers (SSE-KMS per object, SSE-C) and the
 * SSE response headers of an object, as AWS names and refuses them.
 *
 *  - Writes (PutObject, CopyObject's target, CreateMultipartUpload):
 *    x-amz-server-side-encryption (AES256 | aws:kms), -aws-kms-key-id, -context,
 *    -bucket-key-enabled, or the SSE-C triple -customer-algorithm/-key/-key-MD5.
 *  - Reads (GetObject, HeadObject), UploadPart: the SSE-C triple only; the
 *    other SSE headers are refused on GET/HEAD (400 InvalidArgument, as AWS).
 *  - Copy sources: x-amz-copy-source-server-side-encryption-customer-*.
 *
 * SSE-C over plain HTTP follows COFFER_SSE_C_REQUIRE_TLS (config.ts): by default
 * refused unless the listener is loopback, where the key never leaves the host.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { BucketRecord, ObjectSse } from '../services/types.js';
import type { SseSpec } from '../services/objectService.js';
import { headerValue as header } from '../util/httpHeaders.js';
import type { S3RequestContext } from './context.js';
import { S3Error } from './errors.js';

const SSE = 'x-amz-server-side-encryption';
const KMS_KEY_ID = 'x-amz-server-side-encryption-aws-kms-key-id';
const CONTEXT = 'x-amz-server-side-encryption-context';
const BUCKET_KEY = 'x-amz-server-side-encryption-bucket-key-enabled';
const CUSTOMER = 'x-amz-server-side-encryption-customer-';
const COPY_CUSTOMER = 'x-amz-copy-source-server-side-encryption-customer-';

/** A verified SSE-C key: the 32 bytes and the base64 MD5 echoed in responses. */
export interface CustomerKey {
  key: Buffer;
  md5: string;
}

function invalid(message: string, argumentName: string, value?: string): S3Error {
  return new S3Error('InvalidArgument', message, {
    ArgumentName: argumentName,
    ...(value !== undefined ? { ArgumentValue: value } : {}),
  });
}

/** Strict base64: what Buffer.from would silently skip (spaces, junk) is refused. */
function base64(v: string): Buffer | undefined {
  const t = v.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t) || t.length % 4 !== 0) return undefined;
  return Buffer.from(t, 'base64');
}

/**
 * The SSE-C triple under `prefix` (the object's, or the copy source's), checked
 * as AWS checks it; undefined when none of the three is present.
 */
export function parseCustomerKey(h: IncomingHttpHeaders, prefix = CUSTOMER): CustomerKey | undefined {
  const alg = header(h, `${prefix}algorithm`);
  const key = header(h, `${prefix}key`);
  const md5 = header(h, `${prefix}key-md5`);
  if (alg === undefined && key === undefined && md5 === undefined) return undefined;
  if (alg === undefined)
    throw invalid(
      'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.',
      `${prefix}algorithm`,
    );
  if (alg !== 'AES256')
    throw invalid('The encryption algorithm specified is not supported.', `${prefix}algorithm`, alg);
  if (key === undefined)
    throw invalid(
      'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.',
      `${prefix}key`,
    );
  const bytes = base64(key);
  if (!bytes || bytes.length !== 32)
    throw invalid('The secret key was invalid for the specified algorithm.', `${prefix}key`);
  if (md5 === undefined)
    throw invalid(
      'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
      `${prefix}key-MD5`,
    );
  const actual = createHash('md5').update(bytes).digest('base64');
  if (md5.trim() !== actual)
    throw invalid('The calculated MD5 hash of the key did not match the hash that was provided.', `${prefix}key-MD5`);
  return { key: bytes, md5: actual };
}

/** COFFER_SSE_C_REQUIRE_TLS: AWS refuses SSE-C over plain HTTP; loopback is exempt by default. */
export function checkSseCTransport(ctx: Pick<S3RequestContext, 'req' | 'config'>): void {
  const socket = ctx.req.socket as Socket & Partial<Pick<TLSSocket, 'encrypted'>>;
  if (socket.encrypted) return;
  const mode = ctx.config.sseCRequireTls ?? 'auto';
  if (mode === 'false') return;
  if (mode === 'auto' && isLoopback(socket.localAddress)) return;
  throw new S3Error(
    'InvalidRequest',
    'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.',
  );
}

function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a === '::1' || a.startsWith('127.');
}

/** The SSE-C key of a request (object's or copy source's), its transport checked. */
export function customerKey(ctx: S3RequestContext, copySource = false): CustomerKey | undefined {
  return customerKeyIn(ctx.headers, ctx, copySource);
}

function customerKeyIn(
  h: IncomingHttpHeaders,
  transport: Pick<S3RequestContext, 'req' | 'config'>,
  copySource = false,
): CustomerKey | undefined {
  const k = parseCustomerKey(h, copySource ? COPY_CUSTOMER : CUSTOMER);
  if (k) checkSseCTransport(transport);
  return k;
}

/**
 * The encryption a write asks for (PutObject, CopyObject target,
 * CreateMultipartUpload), or undefined for the bucket's own key. Conflicts are
 * refused as AWS refuses them (400 InvalidArgument).
 */
export function writeSse(ctx: S3RequestContext, b: BucketRecord): WriteSse {
  return writeSseIn(ctx.headers, ctx, b);
}

export interface WriteSse {
  spec?: SseSpec;
  customer?: CustomerKey;
}

/**
 * writeSse over headers that are not the request's own: PostObject reads the
 * same names from its form fields, under the same rules (SSE-C over TLS too).
 */
export function writeSseIn(
  h: IncomingHttpHeaders,
  transport: Pick<S3RequestContext, 'req' | 'config'>,
  b: BucketRecord,
): WriteSse {
  const sse = header(h, SSE);
  const keyId = header(h, KMS_KEY_ID);
  const context = header(h, CONTEXT);
  const bucketKey = header(h, BUCKET_KEY);
  const customer = customerKeyIn(h, transport);
  if (customer) {
    if (sse !== undefined || keyId !== undefined || context !== undefined)
      throw invalid(
        'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
        SSE,
        sse,
      );
    return { spec: { customerKey: customer.key }, customer };
  }
  if (sse === undefined) {
    if (keyId !== undefined || context !== undefined)
      throw invalid(
        `Server Side Encryption with AWS KMS managed key requires HTTP header ${SSE} : aws:kms`,
        keyId !== undefined ? KMS_KEY_ID : CONTEXT,
      );
    return {};
  }
  if (sse === 'AES256') {
    if (keyId !== undefined || context !== undefined)
      throw invalid(
        `Server Side Encryption with AWS KMS managed key requires HTTP header ${SSE} : aws:kms`,
        keyId !== undefined ? KMS_KEY_ID : CONTEXT,
      );
    // AES256 on a bucket under a customer's root key would ask for a weaker key than the bucket's.
    if (b.encryption.customerManaged)
      throw invalid(
        `The server-side encryption requested conflicts with this bucket's root key (${b.encryption.rootKeyCrn}).`,
        SSE,
        sse,
      );
    return {};
  }
  if (sse !== 'aws:kms') throw invalid('The encryption method specified is not supported', SSE, sse);
  if (keyId !== undefined && keyId.trim() === '') throw invalid('Invalid keyId', KMS_KEY_ID);
  if (context !== undefined) checkContext(context);
  if (bucketKey !== undefined && bucketKey !== 'true' && bucketKey !== 'false')
    throw invalid('The bucket key enabled header must be true or false.', BUCKET_KEY, bucketKey);
  return {
    spec: {
      kms: {
        ...(keyId !== undefined ? { keyId: keyId.trim() } : {}),
        ...(context !== undefined ? { context: context.trim() } : {}),
        ...(bucketKey === 'true' ? { bucketKeyEnabled: true } : {}),
      },
    },
  };
}

/** x-amz-server-side-encryption-context: base64 of a JSON object of strings (AWS's rule). */
function checkContext(v: string): void {
  const bad = () =>
    invalid(
      `The header '${CONTEXT}' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map`,
      CONTEXT,
    );
  const bytes = base64(v);
  if (!bytes || bytes.length === 0) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad();
  if (!Object.values(parsed).every((x) => typeof x === 'string')) throw bad();
}

/** GetObject / HeadObject: only the SSE-C headers belong there (AWS: 400 InvalidArgument). */
export function refuseReadSse(h: IncomingHttpHeaders): void {
  for (const n of [SSE, KMS_KEY_ID, CONTEXT, BUCKET_KEY]) {
    if (header(h, n) !== undefined)
      throw invalid(`The ${n} header is not supported for this operation.`, n, header(h, n));
  }
}

/** SSE response headers of an object: its per-object key, else its bucket's. */
export function objectSseHeaders(
  b: BucketRecord,
  sse: ObjectSse | undefined,
  sseContext?: string,
  customer?: Pick<CustomerKey, 'md5'>,
): Record<string, string> {
  if (sse?.type === 'SSE-C') {
    const h: Record<string, string> = { [`${CUSTOMER}algorithm`]: 'AES256' };
    if (customer) h[`${CUSTOMER}key-md5`] = customer.md5;
    return h;
  }
  if (sse?.type === 'aws:kms') {
    return {
      [SSE]: 'aws:kms',
      [KMS_KEY_ID]: sse.keyCrn,
      ...(sseContext !== undefined ? { [CONTEXT]: sseContext } : {}),
      ...(sse.bucketKeyEnabled ? { [BUCKET_KEY]: 'true' } : {}),
    };
  }
  if (b.encryption.customerManaged) return { [SSE]: 'aws:kms', [KMS_KEY_ID]: b.encryption.rootKeyCrn };
  return { [SSE]: 'AES256' };
}
