/**
 * A `fetch` for the KMS clients (ServiceClient: split-mode gateways, the CLI)
 * over TLS with settings the global fetch cannot take without a dispatcher
 * library: a private CA to trust (added to Node's bundled roots, as
 * NODE_EXTRA_CA_CERTS does) and a client certificate for mutual TLS. Only what
 * ServiceClient uses: method, headers, a string body, an abort signal; the
 * whole (small, JSON) response body is read. http: URLs go to the global fetch.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { ConfigError } from '../config.js';

export interface TlsClientOptions {
  /** PEM of the CA(s) to trust besides the bundled roots. */
  ca?: string;
  /** PEM client certificate (chain) and its key, for mutual TLS. */
  cert?: string;
  key?: string;
}

/** Statuses whose Response must have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

export function tlsFetch(tls: TlsClientOptions): typeof fetch {
  const agent = new Agent({
    keepAlive: true,
    ...(tls.ca ? { ca: [...rootCertificates, tls.ca] } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
  });
  const fetchTls = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return fetch(input, init);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string')
      throw new TypeError('tlsFetch sends string bodies only');
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise<Response>((resolve, reject) => {
      // Errors look like the global fetch's: a TypeError whose cause carries the code.
      const fail = (e: Error) =>
        reject(e.name === 'AbortError' || e.name === 'TimeoutError' ? e : new TypeError('fetch failed', { cause: e }));
      const req = request(
        url,
        { method: init.method ?? 'GET', headers, agent, ...(init.signal ? { signal: init.signal } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            const h = new Headers();
            for (const [k, v] of Object.entries(res.headers))
              for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) h.append(k, one);
            const status = res.statusCode ?? 502;
            resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, headers: h }));
          });
        },
      );
      req.on('error', (e) => fail(init.signal?.aborted ? (init.signal.reason as Error) : e));
      req.end(body ?? undefined);
    });
  };
  return fetchTls as typeof fetch;
}

/** Reads the PEM files of TlsClientOptions; an unreadable one is a ConfigError naming its setting. */
export function readTlsClientFiles(paths: { ca?: string; cert?: string; key?: string }): TlsClientOptions {
  const out: TlsClientOptions = {};
  const settings = { ca: 'COFFER_TLS_CA', cert: 'COFFER_TLS_CLIENT_CERT', key: 'COFFER_TLS_CLIENT_KEY' } as const;
  for (const k of ['ca', 'cert', 'key'] as const) {
    const p = paths[k];
    if (p === undefined) continue;
    try {
      out[k] = readFileSync(p, 'utf8');
    } catch (e) {
      throw new ConfigError(
        settings[k],
        `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  return out;
}
