/**
 * The plugin's side of Coffer's public Key Protect API: an API key exchanged
 * at POST /identity/token for a bearer token (renewed a minute before it
 * expires, or when the KMS answers 401 to a token it issued), then wrap,
 * unwrap and registrations under /api/v2 with `bluemix-instance`. Only the
 * HTTP API is used, so the plugin runs wherever the KMS is reachable.
 *
 * Every failure is a KeyProtectError with the HTTP status (0 when the KMS
 * could not be reached) and Key Protect's reason code. Neither the API key,
 * a token nor key material ever goes into an error message.
 */

export const APIKEY_GRANT = 'urn:ibm:params:oauth:grant-type:apikey';

/** Renew the token this long before it expires. */
const RENEW_BEFORE_MS = 60_000;

export class KeyProtectError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KeyProtectError';
  }
}

export interface KeyProtectClientOptions {
  /** The KMS listener, e.g. http://127.0.0.1:9001. */
  url: string;
  apiKey: string;
  instanceId: string;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  now?: () => number;
}

export interface WrapResult {
  ciphertext: string;
  keyVersion: string;
}

export interface UnwrapResult {
  plaintext: Buffer;
  keyVersion: string;
}

interface Token {
  value: string;
  renewAt: number;
}

export class KeyProtectClient {
  private token?: Token;
  private pending?: Promise<Token>;
  private readonly url: string;
  private readonly now: () => number;

  constructor(private readonly o: KeyProtectClientOptions) {
    this.url = o.url.replace(/\/+$/, '');
    this.now = o.now ?? Date.now;
  }

  async wrap(keyId: string, plaintext: Buffer): Promise<WrapResult> {
    const body = (await this.kp('POST', `/keys/${encodeURIComponent(keyId)}/actions/wrap`, {
      plaintext: plaintext.toString('base64'),
    })) as {
      ciphertext?: unknown;
      keyVersion?: { id?: unknown };
    };
    if (typeof body.ciphertext !== 'string' || typeof body.keyVersion?.id !== 'string')
      throw new KeyProtectError(502, undefined, 'the KMS answered wrap without a ciphertext and key version');
    return { ciphertext: body.ciphertext, keyVersion: body.keyVersion.id };
  }

  async unwrap(keyId: string, ciphertext: string): Promise<UnwrapResult> {
    const body = (await this.kp('POST', `/keys/${encodeURIComponent(keyId)}/actions/unwrap`, { ciphertext })) as {
      plaintext?: unknown;
      keyVersion?: { id?: unknown };
    };
    if (typeof body.plaintext !== 'string' || typeof body.keyVersion?.id !== 'string')
      throw new KeyProtectError(502, undefined, 'the KMS answered unwrap without a plaintext and key version');
    return { plaintext: Buffer.from(body.plaintext, 'base64'), keyVersion: body.keyVersion.id };
  }

  /** POST /keys/{id}/registrations/{crn}: links the resource to the key (creates or refreshes it). */
  async register(keyId: string, resourceCrn: string, description: string): Promise<void> {
    await this.kp('POST', `/keys/${encodeURIComponent(keyId)}/registrations/${encodeURIComponent(resourceCrn)}`, {
      metadata: { collectionType: 'application/vnd.ibm.kms.registration_input+json', collectionTotal: 1 },
      resources: [{ description, preventKeyDeletion: false }],
    });
  }

  /** A Key Protect call; on 401 the token is renewed once (the KMS may have restarted with new signing keys). */
  private async kp(method: string, path: string, body: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.bearer();
      const res = await this.fetch(`${this.url}/api/v2${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token.value}`,
          'bluemix-instance': this.o.instanceId,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      const json = parse(text);
      if (res.status === 401 && attempt === 0) {
        if (this.token === token) this.token = undefined;
        continue;
      }
      if (res.status < 200 || res.status >= 300) throw kpError(res.status, json);
      return json ?? {};
    }
  }

  private async bearer(): Promise<Token> {
    if (this.token && this.now() < this.token.renewAt) return this.token;
    // One exchange at a time: concurrent calls share it.
    this.pending ??= this.exchange().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async exchange(): Promise<Token> {
    const res = await this.fetch(`${this.url}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: APIKEY_GRANT, apikey: this.o.apiKey }).toString(),
    });
    const json = parse(await res.text()) as
      { access_token?: unknown; expires_in?: unknown; errorCode?: unknown; errorMessage?: unknown } | undefined;
    if (res.status !== 200 || typeof json?.access_token !== 'string') {
      const code = typeof json?.errorCode === 'string' ? json.errorCode : undefined;
      throw new KeyProtectError(
        res.status === 200 ? 502 : res.status >= 500 ? res.status : 401,
        code,
        `the KMS refused the API key (${res.status}${code ? ` ${code}` : ''})`,
      );
    }
    const ttlMs = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in * 1000 : 3_600_000;
    const token = { value: json.access_token, renewAt: this.now() + Math.max(ttlMs - RENEW_BEFORE_MS, ttlMs / 2) };
    this.token = token;
    return token;
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000) });
    } catch (e) {
      const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
      const why =
        typeof cause?.code === 'string'
          ? cause.code
          : typeof cause?.message === 'string'
            ? cause.message
            : (e as Error).name;
      throw new KeyProtectError(0, undefined, `cannot reach the KMS at ${this.url} (${why})`);
    }
  }
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Key Protect's error body -> status, first reason code and its message. */
function kpError(status: number, body: unknown): KeyProtectError {
  const b = (body ?? {}) as {
    resources?: Array<{ errorMsg?: unknown; reasons?: Array<{ code?: unknown; message?: unknown }> }>;
  };
  const reason = b.resources?.[0]?.reasons?.[0];
  const code = typeof reason?.code === 'string' ? reason.code : undefined;
  const msg =
    typeof reason?.message === 'string'
      ? reason.message
      : typeof b.resources?.[0]?.errorMsg === 'string'
        ? b.resources[0].errorMsg
        : `the KMS answered ${status}`;
  return new KeyProtectError(status, code, code ? `${status} ${code}: ${msg}` : `${status}: ${msg}`);
}
