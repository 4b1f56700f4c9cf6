/**
 * CORS as S3 applies a bucket's rules (no I/O here): the first rule whose
 * AllowedOrigin matches the Origin and whose AllowedMethod holds the method
 * (and, for a preflight, whose AllowedHeader patterns cover every requested
 * header) decides the Access-Control-* headers. Origins match case-sensitively,
 * headers case-insensitively, each pattern with at most one `*`.
 */
import type { CorsRule } from '../services/types.js';
import { S3Error } from './errors.js';

/** `pattern` with at most one `*` (any run of characters). */
export function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const pre = pattern.slice(0, star);
  const post = pattern.slice(star + 1);
  return value.length >= pre.length + post.length && value.startsWith(pre) && value.endsWith(post);
}

/** The header names of Access-Control-Request-Headers, lower-cased. */
export function requestedHeaders(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

/** The first rule that allows this origin, method and (preflight) request headers. */
export function matchRule(
  rules: readonly CorsRule[],
  origin: string,
  method: string,
  headers: readonly string[] = [],
): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.allowedOrigins.some((o) => wildcardMatch(o, origin)) &&
      r.allowedMethods.includes(method) &&
      headers.every((h) => r.allowedHeaders.some((p) => wildcardMatch(p.toLowerCase(), h))),
  );
}

/** What S3 sends for a matched rule. */
export interface CorsAnswer {
  rule: CorsRule;
  origin: string;
  /** The request carries credentials (cookies or an Authorization header): never answer `*`. */
  credentials: boolean;
  /** Preflight: the headers it asked for (echoed in Access-Control-Allow-Headers). */
  requestHeaders?: string[];
}

/** Vary on everything the answer depends on, so a cache never serves one origin's answer to another. */
export const CORS_VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

export function corsHeaders(a: CorsAnswer): Record<string, string> {
  const star = a.rule.allowedOrigins.includes('*') && !a.credentials;
  const h: Record<string, string> = {
    'access-control-allow-origin': star ? '*' : a.origin,
    'access-control-allow-methods': a.rule.allowedMethods.join(', '),
    vary: CORS_VARY,
  };
  if (!star) h['access-control-allow-credentials'] = 'true';
  if (a.requestHeaders && a.requestHeaders.length > 0) h['access-control-allow-headers'] = a.requestHeaders.join(', ');
  if (a.rule.exposeHeaders.length > 0) h['access-control-expose-headers'] = a.rule.exposeHeaders.join(', ');
  if (a.rule.maxAgeSeconds !== undefined) h['access-control-max-age'] = String(a.rule.maxAgeSeconds);
  return h;
}

/** A preflight's request, as far as CORS reads it. */
export interface PreflightRequest {
  origin: string | undefined;
  /** Access-Control-Request-Method. */
  method: string | undefined;
  /** Access-Control-Request-Headers. */
  headers: string | undefined;
  resourceType: 'BUCKET' | 'OBJECT';
}

/**
 * Judge an OPTIONS preflight against the bucket's rules.
 * @param bucket whether the bucket exists, and its rules
 * @returns the headers of the 200 answer
 * @throws S3Error BadRequest without Origin or a valid Access-Control-Request-Method; 403 AccessForbidden otherwise
 */
export function preflight(
  bucket: { exists: boolean; rules?: CorsRule[] },
  req: PreflightRequest,
): Record<string, string> {
  if (req.origin === undefined || req.origin === '')
    throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  const method = req.method?.trim();
  if (method === undefined || !/^[A-Z]+$/.test(method))
    throw new S3Error('BadRequest', `Invalid Access-Control-Request-Method: ${method ?? 'null'}`);
  const refuse = (why: string) =>
    new S3Error('AccessForbidden', `CORSResponse: ${why}`, { Method: method, ResourceType: req.resourceType });
  if (!bucket.exists) throw refuse('Bucket not found');
  if (!bucket.rules || bucket.rules.length === 0) throw refuse('CORS is not enabled for this bucket.');
  const headers = requestedHeaders(req.headers);
  const rule = matchRule(bucket.rules, req.origin, method, headers);
  if (!rule)
    throw refuse(
      "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
    );
  return corsHeaders({ rule, origin: req.origin, credentials: false, requestHeaders: headers });
}
