/**
 * A service identity's HTTP client for the KMS listener (split mode, the CLI):
 * exchanges its API key for a bearer token at POST /identity/token (IBM IAM's
 * apikey grant), refreshes the token before it expires, and sends requests with
 * a bounded number of retries on connection errors, timeouts, 429 and 5xx other
 * than 501 - the policy of IBM's Key Protect Go client (key-protect.md 2.1) -
 * for the requests the caller marks idempotent.
 *
 * The API key and the tokens never reach a log line or an error message.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const APIKEY_GRANT_TYPE = 'urn:ibm:params:oauth:grant-type:apikey';

export interface ServiceClientOptions {
  /** Base URL of the KMS listener, e.g. http://127.0.0.1:9001 (no trailing path). */
  url: string;
  apiKey: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff; doubled per retry, with jitter (default 100 ms). */
  retryBaseMs?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** Refresh the token this long before it expires (default 60 s, at most half its lifetime). */
  refreshMarginS?: number;
  sleep?: (ms: number) => Promise<unknown>;
}

export interface ServiceResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** The KMS could not be reached (or kept failing with 5xx) within the retries. */
export class ServiceUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceUnavailableError';
  }
}

/** The token endpoint refused the API key: a configuration error, not a transient one. */
export class ServiceAuthError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ServiceAuthError';
  }
}

interface Token {
  value: string;
  /** Epoch ms. */
  obtainedAt: number;
  refreshAt: number;
}

/** A fresh token that still gets 401 is a real denial; an older one may have been revoked or expired early. */
const FRESH_TOKEN_MS = 5_000;

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

export class ServiceClient {
  readonly url: string;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly timeoutMs: number;
  private readonly refreshMarginS: number;
  private readonly sleep: (ms: number) => Promise<unknown>;
  private current?: Token;
  private pending?: Promise<Token>;

  constructor(private readonly opts: ServiceClientOptions) {
    if (!/^https?:\/\/[^/]+/.test(opts.url))
      throw new TypeError(`the KMS URL must be an http(s) URL, got "${opts.url}"`);
    if (!opts.apiKey) throw new TypeError('an API key is required');
    this.url = opts.url.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? fetch;
    this.now = opts.now ?? Date.now;
    this.retries = opts.retries ?? 3;
    this.retryBaseMs = opts.retryBaseMs ?? 100;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.refreshMarginS = opts.refreshMarginS ?? 60;
    this.sleep = opts.sleep ?? sleep;
  }

  /** A valid access token; exchanged again shortly before it expires. Concurrent callers share one exchange. */
  async token(force = false): Promise<string> {
    const t = this.current;
    if (!force && t && this.now() < t.refreshAt) return t.value;
    if (!this.pending) {
      this.pending = this.exchange().finally(() => (this.pending = undefined));
    }
    return (await this.pending).value;
  }

  private async exchange(): Promise<Token> {
    const body = new URLSearchParams({ grant_type: APIKEY_GRANT_TYPE, apikey: this.opts.apiKey }).toString();
    const res = await this.send(
      'POST',
      '/identity/token',
      { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      true,
    );
    if (res.status !== 200) {
      if (isRetryableStatus(res.status))
        throw new ServiceUnavailableError(`the token endpoint of ${this.url} answered ${res.status}`);
      throw new ServiceAuthError(
        `${this.url}/identity/token refused the API key (${res.status}${codeOf(res.text)})`,
        res.status,
      );
    }
    let parsed: { access_token?: unknown; expires_in?: unknown; expiration?: unknown };
    try {
      parsed = JSON.parse(res.text) as typeof parsed;
    } catch {
      throw new ServiceUnavailableError(`the token endpoint of ${this.url} answered with a body that is not JSON`);
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '')
      throw new ServiceUnavailableError(`the token endpoint of ${this.url} returned no access_token`);
    const now = this.now();
    const ttlS = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 3600;
    const expiresAt = typeof parsed.expiration === 'number' ? parsed.expiration * 1000 : now + ttlS * 1000;
    const margin = Math.min(this.refreshMarginS, ttlS / 2) * 1000;
    this.current = {
      value: parsed.access_token,
      obtainedAt: now,
      refreshAt: Math.min(expiresAt, now + ttlS * 1000) - margin,
    };
    return this.current;
  }

  /**
   * An authenticated request. JSON `body` is serialized. `idempotent` (default
   * true) allows retries; a 401 on a token older than a few seconds is retried
   * once with a new token. The final response is returned whatever its status;
   * connection failures after the last retry throw ServiceUnavailableError.
   */
  async request(
    method: string,
    path: string,
    opts: { headers?: Record<string, string>; body?: unknown; idempotent?: boolean } = {},
  ): Promise<ServiceResponse> {
    const idempotent = opts.idempotent ?? true;
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    let refreshed = false;
    for (;;) {
      const token = await this.token();
      const obtainedAt = this.current?.obtainedAt ?? this.now();
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...opts.headers,
        authorization: `Bearer ${token}`,
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await this.send(method, path, headers, body, idempotent);
      if (res.status === 401 && !refreshed && this.now() - obtainedAt >= FRESH_TOKEN_MS) {
        refreshed = true;
        await this.token(true);
        continue;
      }
      return res;
    }
  }

  /**
   * A long-lived authenticated GET (the key event stream): no retries and no
   * timeout (the caller aborts through `signal`); the response is returned
   * unread. Connection failures throw ServiceUnavailableError; a 401 makes the
   * next call exchange a new token.
   */
  async open(path: string, opts: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
    const token = await this.token();
    let res: Response;
    try {
      res = await this.fetchFn(`${this.url}${path}`, {
        method: 'GET',
        headers: { accept: 'text/event-stream', ...opts.headers, authorization: `Bearer ${token}` },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      throw new ServiceUnavailableError(`the KMS at ${this.url} is unavailable (${describe(e)})`);
    }
    if (res.status === 401) this.current = undefined;
    return res;
  }

  /** One request with retries; no authentication of its own. */
  private async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | undefined,
    idempotent: boolean,
  ): Promise<ServiceResponse> {
    const attempts = idempotent ? this.retries + 1 : 1;
    let lastError = '';
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await this.sleep(this.backoff(i));
      let res: Response;
      try {
        res = await this.fetchFn(`${this.url}${path}`, {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        lastError = describe(e);
        continue;
      }
      const text = await res.text().catch(() => '');
      if (isRetryableStatus(res.status) && i + 1 < attempts) {
        lastError = `HTTP ${res.status}`;
        continue;
      }
      return { status: res.status, headers: res.headers, text };
    }
    throw new ServiceUnavailableError(
      `the KMS at ${this.url} is unavailable (${lastError}${attempts > 1 ? ` after ${attempts} attempts` : ''})`,
    );
  }

  private backoff(retry: number): number {
    const base = this.retryBaseMs * 2 ** (retry - 1);
    return Math.round(base / 2 + Math.random() * base);
  }
}

/** ": CODE" from an IAM or Key Protect error body, for messages (never the body itself). */
function codeOf(text: string): string {
  try {
    const j = JSON.parse(text) as { errorCode?: unknown; resources?: Array<{ reasons?: Array<{ code?: unknown }> }> };
    const code = typeof j.errorCode === 'string' ? j.errorCode : j.resources?.[0]?.reasons?.[0]?.code;
    return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? `: ${code}` : '';
  } catch {
    return '';
  }
}

function describe(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'timed out';
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? 'connection failed';
}
