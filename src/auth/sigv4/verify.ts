/**
 * SigV4 request verification for S3: header auth and presigned URLs.
 *
 * Order of checks: form and structure (parse.ts) -> dates, scope, region,
 * expiry -> signed-header rules -> payload mode -> credential lookup ->
 * signature. Everything that needs no secret is checked first, so a client
 * with a wrong region gets AuthorizationHeaderMalformed + <Region> (s3cmd's
 * region discovery relies on it) whatever its key.
 */
import type { CredentialStore, Principal } from '../credentials.js';
import { canonicalQuery, canonicalRequest, canonicalUri, stringToSign } from './canonical.js';
import {
  H_AMZ_DATE,
  H_AUTHORIZATION,
  H_CONTENT_SHA256,
  H_DATE,
  Q_SIGNATURE,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  UNSIGNED_PAYLOAD,
} from './constants.js';
import { formatAmzDate, parseAmzDate, parseHttpDate } from './dates.js';
import { SigV4Error } from './errors.js';
import {
  PRESIGN_PARAMETERS,
  parseAuthorizationHeader,
  parsePresignedQuery,
  queryParameters,
  type ParsedAuth,
} from './parse.js';
import { SigningKeyCache, signHex, signaturesEqual } from './signingKey.js';
import { headerValue } from '../../util/httpHeaders.js';

/** The parts of an HTTP request that SigV4 covers. */
export interface SigV4Request {
  method: string;
  /** Path exactly as on the wire, percent-encoded, without query. */
  rawPath: string;
  /** Query as on the wire, without '?'. */
  rawQuery: string;
  /**
   * Node's lower-cased IncomingMessage.headers. A repeated header arrives
   * there joined with ', ' while SigV4 joins with ','; pass the values of
   * `headersDistinct` as arrays where exact repeated-header semantics matter.
   */
  headers: Record<string, string | string[] | undefined>;
}

/** Server-side settings for verification. */
export interface VerifyOptions {
  /** The region this endpoint answers for; others get AuthorizationHeaderMalformed + Region. */
  region: string;
  /** 's3'. */
  service: string;
  now: Date;
  /** 900 (AWS). */
  maxSkewSeconds: number;
  /** 604800 = 7 days (AWS). */
  maxPresignSeconds: number;
}

/** How the body is protected, from x-amz-content-sha256. */
export type PayloadMode =
  'sha256' | 'unsigned' | 'streaming-signed' | 'streaming-signed-trailer' | 'streaming-unsigned-trailer';

/** A request whose signature checked out. */
export interface VerifiedAuth {
  principal: Principal;
  accessKeyId: string;
  region: string;
  /** `date/region/service/aws4_request`. */
  scope: string;
  /** ISO 8601 basic timestamp used in the string to sign. */
  amzDate: string;
  signingKey: Buffer;
  /** The request signature: the seed for aws-chunked chunk signatures. */
  signature: string;
  presigned: boolean;
  payloadMode: PayloadMode;
  /** Lower-case hex when payloadMode is 'sha256'. */
  payloadHash?: string;
}

/** Auth fields are singletons: one sent twice reads as its first value (Node keeps the first Authorization too). */
const FIRST = { repeated: 'first' } as const;

/** Process-wide memo of derived signing keys (pure cache; no behaviour depends on it). */
const signingKeys = new SigningKeyCache(256);

function hasPresignParameters(rawQuery: string): boolean {
  if (rawQuery === '') return false;
  const { params } = queryParameters(rawQuery);
  return PRESIGN_PARAMETERS.some((p) => params.has(p));
}

/**
 * True when the request carries no SigV4 credentials at all: no Authorization
 * header and none of X-Amz-Signature / X-Amz-Credential / X-Amz-Algorithm. A
 * half-formed presigned URL is not anonymous: verifySigV4 reports what is
 * missing instead of the request silently running as anonymous.
 * @param req the request
 */
export function isAnonymous(req: SigV4Request): boolean {
  return headerValue(req.headers, H_AUTHORIZATION, FIRST) === undefined && !hasPresignParameters(req.rawQuery);
}

/** The request time for header auth: x-amz-date, else the Date header. */
function headerAuthDate(headers: SigV4Request['headers']): { amzDate: string; time: Date } {
  const amz = headerValue(headers, H_AMZ_DATE, FIRST);
  const time = amz !== undefined ? parseAmzDate(amz.trim()) : parseHttpDate(headerValue(headers, H_DATE, FIRST));
  if (!time) {
    throw new SigV4Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  return { amzDate: formatAmzDate(time), time };
}

function checkScope(auth: ParsedAuth, amzDate: string, opts: VerifyOptions): void {
  const code = auth.kind === 'header' ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError';
  if (auth.scopeDate !== amzDate.slice(0, 8)) {
    throw new SigV4Error(
      code,
      `Invalid credential date "${auth.scopeDate}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  }
  if (auth.region !== opts.region) {
    const what =
      auth.kind === 'header' ? 'The authorization header is malformed' : 'Error parsing the X-Amz-Credential parameter';
    throw new SigV4Error(code, `${what}; the region '${auth.region}' is wrong; expecting '${opts.region}'`, {
      Region: opts.region,
    });
  }
  if (auth.service !== opts.service) {
    throw new SigV4Error(
      code,
      `The credential has an incorrect service "${auth.service}". This endpoint belongs to "${opts.service}".`,
    );
  }
}

function checkHeaderTime(time: Date, amzDate: string, opts: VerifyOptions): void {
  if (Math.abs(opts.now.getTime() - time.getTime()) > opts.maxSkewSeconds * 1000) {
    throw new SigV4Error(
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
      {
        RequestTime: amzDate,
        ServerTime: opts.now.toISOString(),
        MaxAllowedSkewMilliseconds: String(opts.maxSkewSeconds * 1000),
      },
    );
  }
}

function checkPresignTime(auth: ParsedAuth, time: Date, opts: VerifyOptions): void {
  const expires = auth.expires ?? 0;
  if (expires > opts.maxPresignSeconds) {
    throw new SigV4Error(
      'AuthorizationQueryParametersError',
      `X-Amz-Expires must be less than a week (in seconds) that is ${opts.maxPresignSeconds}`,
    );
  }
  if (time.getTime() - opts.now.getTime() > opts.maxSkewSeconds * 1000) {
    throw new SigV4Error('AccessDenied', 'Request is not valid yet');
  }
  if (opts.now.getTime() > time.getTime() + expires * 1000) {
    throw new SigV4Error('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': String(expires),
      Expires: new Date(time.getTime() + expires * 1000).toISOString(),
      ServerTime: opts.now.toISOString(),
    });
  }
}

/**
 * `host` must be signed (else the signature would be valid for any bucket on
 * a virtual-host endpoint), and so must every x-amz-* header present: those
 * carry semantics (metadata, copy source, SSE, checksums) that must not be
 * added or changed in transit. AWS and Garage enforce the same.
 */
function checkSignedHeaders(auth: ParsedAuth, headers: SigV4Request['headers']): void {
  const code = auth.kind === 'header' ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError';
  if (!auth.signedHeaders.includes('host')) throw new SigV4Error(code, 'The host header must be signed.');
  const signed = new Set(auth.signedHeaders);
  const unsigned = Object.keys(headers).filter(
    (h) => h.startsWith('x-amz-') && headers[h] !== undefined && !signed.has(h),
  );
  if (unsigned.length > 0) {
    throw new SigV4Error('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: unsigned.sort().join(', '),
    });
  }
}

/** Payload mode and the literal for the canonical request's last line. */
function payloadOf(
  auth: ParsedAuth,
  headers: SigV4Request['headers'],
): { mode: PayloadMode; literal: string; hash?: string } {
  const value = headerValue(headers, H_CONTENT_SHA256, FIRST)?.trim();
  if (value === undefined) {
    if (auth.kind === 'presigned') return { mode: 'unsigned', literal: UNSIGNED_PAYLOAD };
    throw new SigV4Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { mode: 'unsigned', literal: value };
    case STREAMING_SIGNED:
      return { mode: 'streaming-signed', literal: value };
    case STREAMING_SIGNED_TRAILER:
      return { mode: 'streaming-signed-trailer', literal: value };
    case STREAMING_UNSIGNED_TRAILER:
      return { mode: 'streaming-unsigned-trailer', literal: value };
  }
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { mode: 'sha256', literal: value, hash: value.toLowerCase() };
  throw new SigV4Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), STREAMING-UNSIGNED-PAYLOAD-TRAILER or a valid sha256 value.',
  );
}

/**
 * Verify a SigV4-signed request (Authorization header or presigned URL).
 * @param req method, raw path and query, and headers
 * @param creds where to find the secret for the access key
 * @param opts region, service, clock and limits
 * @returns the principal and everything the body decoder needs
 * @throws SigV4Error with the S3 error code to send
 */
export async function verifySigV4(
  req: SigV4Request,
  creds: CredentialStore,
  opts: VerifyOptions,
): Promise<VerifiedAuth> {
  const authorization = headerValue(req.headers, H_AUTHORIZATION, FIRST);
  const presigned = hasPresignParameters(req.rawQuery);
  if (authorization !== undefined && presigned) {
    throw new SigV4Error(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified',
    );
  }
  if (authorization === undefined && !presigned) {
    throw new SigV4Error('MissingAuthenticationToken', 'The request carries no credentials.');
  }

  let auth: ParsedAuth;
  let amzDate: string;
  if (presigned) {
    auth = parsePresignedQuery(req.rawQuery);
    amzDate = auth.amzDate ?? '';
    const time = parseAmzDate(amzDate);
    if (!time) {
      throw new SigV4Error(
        'AuthorizationQueryParametersError',
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
      );
    }
    checkScope(auth, amzDate, opts);
    checkPresignTime(auth, time, opts);
  } else {
    auth = parseAuthorizationHeader(authorization ?? '');
    const date = headerAuthDate(req.headers);
    amzDate = date.amzDate;
    checkScope(auth, amzDate, opts);
    checkHeaderTime(date.time, amzDate, opts);
  }
  checkSignedHeaders(auth, req.headers);
  const payload = payloadOf(auth, req.headers);

  const found = await creds.lookup(auth.accessKeyId);
  if (!found) {
    throw new SigV4Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: auth.accessKeyId,
    });
  }
  const signingKey = signingKeys.get(found.secretAccessKey, auth.scopeDate, auth.region, auth.service);

  const toSign = stringToSign(
    amzDate,
    auth.scope,
    canonicalRequest({
      method: req.method,
      canonicalUri: canonicalUri(req.rawPath),
      canonicalQuery: canonicalQuery(req.rawQuery, presigned ? [Q_SIGNATURE] : []),
      headers: req.headers,
      signedHeaders: auth.signedHeaders,
      payloadHash: payload.literal,
    }),
  );
  // One reading of the path only: a literal '+' is a '+' (SDKs send a '+' in a
  // key as %2B). Also accepting '+' as a space would let a captured request
  // for key "a b" be replayed against key "a+b".
  const ok = signaturesEqual(signHex(signingKey, toSign), auth.signature);
  if (!ok) {
    // The string to sign holds only a hash of the canonical request, so it is
    // safe to return (AWS does) even when signed headers carry SSE-C keys.
    throw new SigV4Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: auth.accessKeyId, StringToSign: toSign },
    );
  }

  return {
    principal: found.principal,
    accessKeyId: auth.accessKeyId,
    region: auth.region,
    scope: auth.scope,
    amzDate,
    signingKey,
    signature: auth.signature,
    presigned,
    payloadMode: payload.mode,
    ...(payload.hash !== undefined ? { payloadHash: payload.hash } : {}),
  };
}
