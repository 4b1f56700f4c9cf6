/**
 * CORS on the wire: the OPTIONS preflight on bucket and object paths, and the
 * Access-Control-* headers of every other request that carries an Origin,
 * set before the request runs so that error answers carry them too (a page
 * can then read why its upload failed). Preflights carry no credentials and
 * are answered from the bucket's rules alone.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Services } from '../context.js';
import { CORS_VARY, corsHeaders, matchRule, preflight } from '../cors.js';
import { header } from '../headers.js';
import type { Logger } from '../../util/logger.js';

type CorsLookup = Pick<Services['buckets'], 'corsRules'>;

/** The answer to OPTIONS on /bucket or /bucket/key: the 200 headers, or a thrown 400/403. */
export async function handlePreflight(
  buckets: CorsLookup,
  bucket: string,
  key: string | undefined,
  headers: IncomingHttpHeaders,
): Promise<Record<string, string>> {
  return preflight(await buckets.corsRules(bucket), {
    origin: header(headers, 'origin'),
    method: header(headers, 'access-control-request-method'),
    headers: header(headers, 'access-control-request-headers'),
    resourceType: key ? 'OBJECT' : 'BUCKET',
  });
}

/**
 * The CORS headers of an actual (non-preflight) request: none without an
 * Origin or rules; Vary alone when no rule allows it; the full set when one does.
 * A failed lookup only costs the headers, never the request.
 */
export async function actualRequestHeaders(
  buckets: CorsLookup,
  bucket: string | undefined,
  method: string,
  headers: IncomingHttpHeaders,
  log: Logger,
): Promise<Record<string, string>> {
  const origin = header(headers, 'origin');
  if (!bucket || origin === undefined || origin === '') return {};
  let rules;
  try {
    rules = (await buckets.corsRules(bucket)).rules;
  } catch (e) {
    log.warn('CORS rules lookup failed; answering without CORS headers', { bucket, err: (e as Error).message });
    return {};
  }
  if (!rules || rules.length === 0) return {};
  const rule = matchRule(rules, origin, method.toUpperCase());
  if (!rule) return { vary: CORS_VARY };
  const credentials = header(headers, 'authorization') !== undefined || header(headers, 'cookie') !== undefined;
  return corsHeaders({ rule, origin, credentials });
}
