/**
 * The SigV4 canonical request and string to sign, built from the request as it
 * arrived on the wire.
 *
 * S3 differs from every other AWS service in two ways (AWS SDKs set
 * `uriEscapePath`/`double_uri_encode` false and `normalizePath` false only for
 * S3): the path is encoded once and never normalised ("//a/./b/.." is signed as
 * is). Because the wire path is already percent-encoded, "encoded once" means:
 * percent-decode each segment to bytes, then re-encode the bytes with the RFC
 * 3986 unreserved set. Re-encoding bytes (not strings) makes the result
 * independent of how the client chose to escape ('~' vs '%7E', '%2f' vs '%2F'),
 * and never round-trips through UTF-8 decoding, so invalid UTF-8 in a key is
 * still signed exactly. The other switches exist only to replay AWS's generic
 * test-suite vectors.
 */
import { createHash } from 'node:crypto';
import { ALGORITHM } from './constants.js';

/** Switches for canonicalUri. All false = S3. */
export interface CanonicalUriOptions {
  /** Non-S3 services: encode the wire path again as-is (so '%' becomes '%25'). */
  doubleEncode?: boolean;
  /** Non-S3 services: drop empty and '.' segments and resolve '..'. */
  normalize?: boolean;
}

/** Request headers as node gives them: lower-cased names; arrays for repeats. */
export type HeaderMap = Record<string, string | string[] | undefined>;

const HEX = '0123456789ABCDEF';

function isUnreserved(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f ||
    b === 0x7e // - . _ ~
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-encode bytes per SigV4: unreserved bytes as-is, all others %XX
 * (upper-case hex).
 * @param bytes raw bytes
 */
export function uriEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += isUnreserved(b) ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  return out;
}

/**
 * Percent-encode a string's UTF-8 bytes per SigV4.
 * @param s any string
 */
export function uriEncode(s: string): string {
  return uriEncodeBytes(Buffer.from(s, 'utf8'));
}

/**
 * Percent-decode to bytes, leniently: a '%' not followed by two hex digits is
 * kept literally (as S3 does) instead of failing the whole request.
 * @param s an encoded path segment or query component
 * @param plusAsSpace decode '+' as a space (form encoding, used for queries)
 */
export function percentDecode(s: string, plusAsSpace: boolean): Buffer {
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x25 && i + 2 < src.length && hexValue(src[i + 1]) >= 0 && hexValue(src[i + 2]) >= 0) {
      out[n++] = (hexValue(src[i + 1]) << 4) | hexValue(src[i + 2]);
      i += 2;
    } else {
      out[n++] = c === 0x2b && plusAsSpace ? 0x20 : c;
    }
  }
  return out.subarray(0, n);
}

/**
 * The canonical URI of a request.
 * @param rawPath the path exactly as on the wire, without the query
 * @param opts switches for non-S3 test vectors; defaults are S3's rules
 */
export function canonicalUri(rawPath: string, opts: CanonicalUriOptions = {}): string {
  const path = rawPath === '' ? '/' : rawPath;
  let segments = path.split('/');
  if (opts.normalize) {
    const kept: string[] = [];
    for (const seg of segments) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') kept.pop();
      else kept.push(seg);
    }
    const trailing = path.endsWith('/') && kept.length > 0 ? '/' : '';
    segments = ['', ...kept];
    return segments.map((seg) => encodeSegment(seg, opts)).join('/') + (kept.length === 0 ? '/' : trailing);
  }
  return segments.map((seg) => encodeSegment(seg, opts)).join('/');
}

function encodeSegment(seg: string, opts: CanonicalUriOptions): string {
  if (opts.doubleEncode) return uriEncode(seg);
  // '+' in a path is a literal '+' (only query strings use form encoding).
  return uriEncodeBytes(percentDecode(seg, false));
}

/**
 * The canonical query string: each name and value decoded (form rules: '+' is
 * a space) and re-encoded, sorted by encoded name then encoded value. Unknown
 * parameters such as the SDK's `x-id` are included like any other.
 * @param rawQuery the query as on the wire, without '?'
 * @param exclude parameter names (exact, as decoded) to leave out, e.g. X-Amz-Signature
 */
export function canonicalQuery(rawQuery: string, exclude: readonly string[] = []): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of parseQuery(rawQuery)) {
    if (exclude.includes(name.toString('utf8'))) continue;
    pairs.push([uriEncodeBytes(name), uriEncodeBytes(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * Split a raw query into decoded (name, value) byte pairs. Empty pieces
 * ("a=1&&b") are skipped; a piece without '=' has an empty value.
 * @param rawQuery the query as on the wire, without '?'
 */
export function parseQuery(rawQuery: string): Array<[Buffer, Buffer]> {
  const out: Array<[Buffer, Buffer]> = [];
  if (rawQuery === '') return out;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = eq < 0 ? piece : piece.slice(0, eq);
    const value = eq < 0 ? '' : piece.slice(eq + 1);
    out.push([percentDecode(name, true), percentDecode(value, true)]);
  }
  return out;
}

/**
 * A header's canonical value: each value trimmed with inner whitespace runs
 * collapsed to one space; repeated headers joined with ','. Node joins repeats
 * with ', ' in `IncomingMessage.headers`, so callers that need exact
 * repeated-header semantics pass `headersDistinct` arrays instead.
 * @param value the header value(s); undefined gives ''
 */
export function canonicalHeaderValue(value: string | string[] | undefined): string {
  if (value === undefined) return '';
  const values = Array.isArray(value) ? value : [value];
  return values.map((v) => headerText(v).trim().replace(/\s+/g, ' ')).join(',');
}

/**
 * Node hands header values over as latin1, one character per byte. A client
 * that sends a value as UTF-8 (x-amz-meta-* from several SDKs and tools)
 * signed the UTF-8 bytes of its string, so a value whose bytes are valid UTF-8
 * is canonicalized as the characters they encode: hashed as UTF-8 it gives
 * back exactly the bytes on the wire, as AWS hashes them. Done before the
 * whitespace rules, which would otherwise eat bytes of a character (0x85 and
 * 0xA0 are whitespace in latin1 and continuation bytes in UTF-8). Values that
 * are not UTF-8, and strings that are already characters, stay as they are.
 * @param v a header value as Node gives it
 */
export function headerText(v: string): string {
  if (!/[\x80-\xff]/.test(v) || /[^\x00-\xff]/.test(v)) return v;
  const bytes = Buffer.from(v, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : v;
}

/**
 * The canonical headers block (each line "name:value\n") for the signed names.
 * @param headers request headers with lower-cased names
 * @param signedHeaders lower-case names, in SignedHeaders order
 */
export function canonicalHeaders(headers: HeaderMap, signedHeaders: readonly string[]): string {
  return signedHeaders.map((name) => `${name}:${canonicalHeaderValue(headers[name])}\n`).join('');
}

/** The parts of a canonical request. */
export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  headers: HeaderMap;
  signedHeaders: readonly string[];
  /** Hex SHA-256 of the body, or a sentinel such as UNSIGNED-PAYLOAD. */
  payloadHash: string;
}

/**
 * The canonical request text.
 * @param p its parts
 */
export function canonicalRequest(p: CanonicalRequestParts): string {
  return [
    p.method.toUpperCase(),
    p.canonicalUri,
    p.canonicalQuery,
    canonicalHeaders(p.headers, p.signedHeaders),
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
}

/**
 * Hex SHA-256 of a string's UTF-8 bytes or of raw bytes.
 * @param data the input
 */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The string to sign for a request (or any SigV4 message with another prefix).
 * @param amzDate ISO 8601 basic timestamp, e.g. 20150830T123600Z
 * @param scope date/region/service/aws4_request
 * @param canonicalRequestText the canonical request
 * @param algorithm the first line; AWS4-HMAC-SHA256 for requests
 */
export function stringToSign(
  amzDate: string,
  scope: string,
  canonicalRequestText: string,
  algorithm = ALGORITHM,
): string {
  return [algorithm, amzDate, scope, sha256Hex(canonicalRequestText)].join('\n');
}
