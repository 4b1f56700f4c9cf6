/**
 * Parsing of the two SigV4 forms into one shape: the Authorization header
 * (`AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`) and
 * presigned-URL query parameters (`X-Amz-Algorithm`, `X-Amz-Credential`, ...).
 * Only structure is checked here; dates, scope and signature are checked in
 * verify.ts. Error codes follow AWS: AuthorizationHeaderMalformed for the
 * header form, AuthorizationQueryParametersError for the query form.
 */
import {
  ALGORITHM,
  Q_ALGORITHM,
  Q_CREDENTIAL,
  Q_DATE,
  Q_EXPIRES,
  Q_SIGNATURE,
  Q_SIGNED_HEADERS,
  SCOPE_TERMINATOR,
} from './constants.js';
import { parseQuery } from './canonical.js';
import { SigV4Error } from './errors.js';

/** What either auth form tells us, before any check against the server's state. */
export interface ParsedAuth {
  kind: 'header' | 'presigned';
  accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  /** `date/region/service/aws4_request`. */
  scope: string;
  /** Lower-case names, in the order the client listed them. */
  signedHeaders: string[];
  /** Lower-case hex. */
  signature: string;
  /** Presigned only: X-Amz-Date as sent. */
  amzDate?: string;
  /** Presigned only: X-Amz-Expires, seconds (range-checked in verify.ts). */
  expires?: number;
}

/** RFC 7230 token characters, lower-case only (SignedHeaders must be lower-case). */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

function malformed(kind: ParsedAuth['kind'], message: string): SigV4Error {
  return kind === 'header'
    ? new SigV4Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${message}`)
    : new SigV4Error('AuthorizationQueryParametersError', message);
}

function parseCredential(kind: ParsedAuth['kind'], credential: string) {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '') || parts[4] !== SCOPE_TERMINATOR) {
    throw malformed(
      kind,
      `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/${SCOPE_TERMINATOR}".`,
    );
  }
  const [accessKeyId, scopeDate, region, service] = parts;
  if (!/^\d{8}$/.test(scopeDate)) {
    throw malformed(
      kind,
      `incorrect date format "${scopeDate}". This date in the credential must be in the format "yyyyMMdd".`,
    );
  }
  return { accessKeyId, scopeDate, region, service, scope: parts.slice(1).join('/') };
}

function parseSignedHeaders(kind: ParsedAuth['kind'], list: string): string[] {
  const names = list.split(';').map((n) => n.trim().toLowerCase());
  if (names.some((n) => !HEADER_NAME.test(n))) throw malformed(kind, 'SignedHeaders is not a list of header names.');
  return names;
}

function parseSignature(kind: ParsedAuth['kind'], signature: string): string {
  if (!HEX64.test(signature)) throw malformed(kind, 'the Signature must be 64 hexadecimal characters.');
  return signature.toLowerCase();
}

/**
 * Parse an Authorization header value. Extra spaces around ',' and '=' and a
 * missing space after ',' are tolerated, as every SDK formats it slightly
 * differently.
 * @param value the header value
 * @throws SigV4Error InvalidRequest for another scheme (SigV2, SigV4a);
 *   AuthorizationHeaderMalformed for a broken SigV4 header
 */
export function parseAuthorizationHeader(value: string): ParsedAuth {
  const trimmed = value.trim();
  const space = trimmed.search(/\s/);
  const scheme = space < 0 ? trimmed : trimmed.slice(0, space);
  if (scheme !== ALGORITHM) {
    throw new SigV4Error(
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
  }
  const fields = new Map<string, string>();
  for (const part of (space < 0 ? '' : trimmed.slice(space + 1)).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (part.trim() === '') continue;
      throw malformed('header', `the field "${part.trim().slice(0, 40)}" has no value.`);
    }
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformed('header', 'it must contain Credential, SignedHeaders and Signature.');
  }
  return {
    kind: 'header',
    ...parseCredential('header', credential),
    signedHeaders: parseSignedHeaders('header', signedHeaders),
    signature: parseSignature('header', signature),
  };
}

/**
 * Decoded query parameters by name (first value wins), and the names that
 * occur more than once.
 * @param rawQuery the query as on the wire, without '?'
 */
export function queryParameters(rawQuery: string): { params: Map<string, string>; repeated: Set<string> } {
  const params = new Map<string, string>();
  const repeated = new Set<string>();
  for (const [name, value] of parseQuery(rawQuery)) {
    const key = name.toString('utf8');
    if (params.has(key)) repeated.add(key);
    else params.set(key, value.toString('utf8'));
  }
  return { params, repeated };
}

/** The query parameters that make a request a presigned one. */
export const PRESIGN_PARAMETERS = [Q_ALGORITHM, Q_CREDENTIAL, Q_SIGNATURE] as const;

/**
 * Parse presigned-URL query parameters.
 * @param rawQuery the query as on the wire, without '?'
 * @throws SigV4Error AuthorizationQueryParametersError when one is missing,
 *   repeated or malformed
 */
export function parsePresignedQuery(rawQuery: string): ParsedAuth {
  const { params, repeated } = queryParameters(rawQuery);
  const required = [Q_ALGORITHM, Q_CREDENTIAL, Q_DATE, Q_EXPIRES, Q_SIGNED_HEADERS, Q_SIGNATURE];
  const missing = required.filter((n) => !params.has(n));
  if (missing.length > 0) {
    throw malformed(
      'presigned',
      `Query-string authentication version 4 requires the ${required.join(', ')} parameters; missing ${missing.join(', ')}.`,
    );
  }
  const twice = required.filter((n) => repeated.has(n));
  if (twice.length > 0) throw malformed('presigned', `The parameters ${twice.join(', ')} must appear only once.`);
  const get = (n: string): string => params.get(n) ?? '';
  if (get(Q_ALGORITHM) !== ALGORITHM) {
    throw malformed('presigned', `X-Amz-Algorithm only supports "${ALGORITHM}".`);
  }
  const expires = get(Q_EXPIRES);
  if (!/^\d{1,10}$/.test(expires)) {
    throw malformed('presigned', 'X-Amz-Expires should be a non-negative number of seconds.');
  }
  return {
    kind: 'presigned',
    ...parseCredential('presigned', get(Q_CREDENTIAL)),
    signedHeaders: parseSignedHeaders('presigned', get(Q_SIGNED_HEADERS)),
    signature: parseSignature('presigned', get(Q_SIGNATURE)),
    amzDate: get(Q_DATE),
    expires: Number(expires),
  };
}
