/**
 * The HTTP side of the client commands: the KMS listener's URL and an API key
 * (flags --url/--apikey, else COFFER_KMS_URL/COFFER_API_KEY), a bearer token
 * from POST /identity/token (ServiceClient), and the KMS instance the Key
 * Protect calls name in `bluemix-instance` (--instance/COFFER_KMS_INSTANCE, else
 * the one instance the caller's account owns).
 *
 * Errors of either API (Key Protect's reasons, IAM's errorCode) become one line:
 * `<status> <code>: <message>`. The API key and tokens are never printed.
 */
import { ConfigError, deprecatedSettings, loadClientConfig, type ClientConfig } from '../config.js';
import { ServiceAuthError, ServiceClient, ServiceUnavailableError } from '../keys/serviceClient.js';
import { readTlsClientFiles, tlsFetch } from '../util/tlsFetch.js';
import { CliError, str, UsageError, type Parsed } from './args.js';
import type { Io } from './output.js';

export interface CallOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Send `bluemix-instance` (Key Protect calls). */
  instance?: boolean;
  /** Safe to retry (default: GET, HEAD, DELETE). */
  idempotent?: boolean;
}

export class ApiClient {
  private readonly http: ServiceClient;
  private instanceId?: string;

  constructor(readonly cfg: ClientConfig) {
    if (!cfg.apiKey) throw new UsageError('an API key is needed: pass --apikey or set COFFER_API_KEY');
    const tls = readTlsClientFiles({
      ...(cfg.tlsCa ? { ca: cfg.tlsCa } : {}),
      ...(cfg.tlsClientCert ? { cert: cfg.tlsClientCert } : {}),
      ...(cfg.tlsClientKey ? { key: cfg.tlsClientKey } : {}),
    });
    this.http = new ServiceClient({
      url: cfg.url,
      apiKey: cfg.apiKey,
      retries: 2,
      ...(Object.keys(tls).length ? { fetch: tlsFetch(tls) } : {}),
    });
    if (cfg.instance) this.instanceId = cfg.instance;
  }

  /** Calls the API; returns the parsed JSON body (undefined when empty). Non-2xx throws CliError. */
  async call<T = Record<string, unknown>>(method: string, path: string, o: CallOptions = {}): Promise<T> {
    const headers: Record<string, string> = { ...o.headers };
    if (o.instance) headers['bluemix-instance'] = await this.instance();
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const url = qs.size ? `${path}?${qs.toString()}` : path;
    let res;
    try {
      res = await this.http.request(method, url, {
        headers,
        ...(o.body !== undefined ? { body: o.body } : {}),
        idempotent: o.idempotent ?? ['GET', 'HEAD', 'DELETE'].includes(method),
      });
    } catch (e) {
      if (e instanceof ServiceAuthError)
        throw new CliError(`${this.cfg.url} refused the API key (--apikey / COFFER_API_KEY)`);
      if (e instanceof ServiceUnavailableError) throw new CliError(`cannot reach the KMS API: ${e.message}`);
      throw e;
    }
    const body = parse(res.text);
    if (res.status < 200 || res.status >= 300) throw new CliError(describeError(res.status, body));
    return body as T;
  }

  /** The instance for Key Protect calls: configured, or the single one the caller's account owns. */
  async instance(): Promise<string> {
    if (this.instanceId) return this.instanceId;
    const me = await this.call<{ identity: { accountId: string } }>('GET', '/iam/v1/identity');
    const { instances } = await this.call<{ instances: Array<{ id: string; account: string; name: string }> }>(
      'GET',
      '/iam/v1/instances',
    );
    const mine = instances.filter((i) => i.account === me.identity.accountId);
    if (mine.length === 0)
      throw new CliError('the caller owns no KMS instance: pass --instance or set COFFER_KMS_INSTANCE');
    if (mine.length > 1)
      throw new CliError(
        `the caller owns several KMS instances (${mine.map((i) => i.id).join(', ')}): pass --instance`,
      );
    this.instanceId = mine[0]!.id;
    return this.instanceId;
  }
}

export function clientFrom(p: Parsed, io: Io): ApiClient {
  try {
    const flags: { url?: string; apiKey?: string; instance?: string } = {};
    const url = str(p, 'url');
    const apiKey = str(p, 'apikey');
    const instance = str(p, 'instance');
    if (url !== undefined) flags.url = url;
    if (apiKey !== undefined) flags.apiKey = apiKey;
    if (instance !== undefined) flags.instance = instance;
    if (apiKey === undefined && !io.env.COFFER_API_KEY)
      for (const w of deprecatedSettings(io.env)) io.err(`coffer: warning: ${w}\n`);
    return new ApiClient(loadClientConfig(io.env, flags));
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
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

/** `<status> <code>: <message>` from a Key Protect or IAM error body. */
export function describeError(status: number, body: unknown): string {
  const b = (body ?? {}) as {
    errorCode?: unknown;
    errorMessage?: unknown;
    resources?: Array<{ errorMsg?: unknown; reasons?: Array<{ code?: unknown; message?: unknown }> }>;
    errors?: Array<{ code?: unknown; message?: unknown }>;
  };
  const reason = b.resources?.[0]?.reasons?.[0];
  if (reason && typeof reason.code === 'string')
    return `${status} ${reason.code}: ${typeof reason.message === 'string' ? reason.message : ''}`.trimEnd();
  if (typeof b.resources?.[0]?.errorMsg === 'string') return `${status}: ${b.resources[0].errorMsg}`;
  // IBM IAM Policy Management's platform shape (/v1/policies).
  const platform = Array.isArray(b.errors) ? b.errors[0] : undefined;
  if (platform && typeof platform.code === 'string')
    return `${status} ${platform.code}: ${typeof platform.message === 'string' ? platform.message : ''}`.trimEnd();
  if (typeof b.errorCode === 'string')
    return `${status} ${b.errorCode}: ${typeof b.errorMessage === 'string' ? b.errorMessage : ''}`.trimEnd();
  return `the KMS API answered ${status}`;
}
