/**
 * RemoteKeyProvider: the KeyProvider of split mode. It speaks the Key Protect
 * v2 REST API (key-protect.md 2.6, 1.6) to a KMS in another process, as the
 * gateway's own service identity (ServiceClient: API key -> bearer token,
 * refreshed before expiry, bounded retries), and names on every call the tenant
 * it acts for in `x-coffer-tenant`; the KMS then judges the call exactly as
 * LocalKeyProvider judges it in embedded mode (owner, service-to-service
 * authorization, or the shared default key).
 *
 * Errors become the KmsErrors LocalKeyProvider throws, so the S3 layer cannot
 * tell the modes apart:
 *   401, 403, 404        -> 404 KEY_NOT_FOUND_ERR naming only the CRN (a CRN leaks nothing)
 *   400, 409, 410, 422   -> the same status and reason code the KMS sent (a code
 *                           unknown here: the status's default reason)
 *   connection errors, 5xx after the retries, a refused API key -> 503 KMS_UNAVAILABLE
 *   any other status     -> 500 INTERNAL_ERR (KmsError's status follows its reason)
 *
 * A CRN must be exactly the KMS's CRN for the key: the first use of a CRN reads
 * the key's metadata and compares (an alias, another region or account in the
 * CRN would otherwise reach the same key under a second name). The result is
 * remembered for the life of the provider; a key's CRN never changes.
 *
 * Lifecycle events are not pushed to a remote gateway: the DEK cache TTL bounds
 * how long a disabled or deleted key's DEKs stay usable (dekCacheTtlSeconds).
 */
import { parseKeyCrn } from './crn.js';
import { keyNotFound, KMS_ERROR_STATUS, KmsError, type KmsReason } from './errors.js';
import type {
  GeneratedDataKey,
  KeyCaller,
  KeyProvider,
  KeyState,
  RegistrationRequest,
  UnwrappedDataKey,
} from './KeyProvider.js';
import { ServiceAuthError, ServiceClient, ServiceUnavailableError, type ServiceResponse } from './serviceClient.js';
import type { Logger } from '../util/logger.js';

export const TENANT_HEADER = 'x-coffer-tenant';
const REGISTRATION_INPUT = 'application/vnd.ibm.kms.registration_input+json';

/** Reason codes a KeyProvider may pass on (src/keys/errors.ts); anything else gets the status's default. */
const PASSED_REASONS: ReadonlySet<string> = new Set<KmsReason>([
  'BAD_BODY_ERR',
  'INVALID_FIELD_ERR',
  'NO_BODY_ERR',
  'KEY_ROOT_REQ_ERR',
  'KEY_EXPIRED_ERR',
  'KEY_ACTION_INVALID_STATE_ERR',
  'PROTECTED_RESOURCE_ERR',
  'PREV_KEY_DEL_ERR',
  'REQ_TOO_EARLY_ERR',
  'KEY_DELETED_ERR',
  'UNPROCESSABLE_CIPHERTEXT_ERR',
  'KEY_INVALID_STATE_ERR',
  'KEY_ROOT_REQ_REG_ERR',
  'KEY_VERSION_INVALID',
]);

function defaultReason(status: number): KmsReason {
  switch (status) {
    case 400:
      return 'INVALID_FIELD_ERR';
    case 409:
      return 'KEY_ACTION_INVALID_STATE_ERR';
    case 410:
      return 'KEY_DELETED_ERR';
    case 422:
      return 'UNPROCESSABLE_CIPHERTEXT_ERR';
    default:
      return 'INTERNAL_ERR';
  }
}

export interface RemoteKeyProviderOptions {
  log?: Logger;
}

interface ActionResponse {
  plaintext?: unknown;
  ciphertext?: unknown;
  keyVersion?: { id?: unknown };
  rewrappedKeyVersion?: { id?: unknown };
}

interface KeyTarget {
  instanceId: string;
  keyId: string;
}

export class RemoteKeyProvider implements KeyProvider {
  private readonly verified = new Map<string, Promise<void>>();
  private defaultCrn?: Promise<string>;

  constructor(
    private readonly client: ServiceClient,
    private readonly opts: RemoteKeyProviderOptions = {},
  ) {}

  /** The provider-managed default root key, as the KMS names it (GET /iam/v1/default-root-key); asked once. */
  defaultRootKeyCrn(_caller: KeyCaller): Promise<string> {
    if (!this.defaultCrn) {
      this.defaultCrn = this.fetchDefaultCrn();
      this.defaultCrn.catch(() => (this.defaultCrn = undefined));
    }
    return this.defaultCrn;
  }

  private async fetchDefaultCrn(): Promise<string> {
    const res = await this.transport(() => this.client.request('GET', '/iam/v1/default-root-key'));
    const body = parseJson(res.text) as { crn?: unknown } | undefined;
    if (res.status !== 200 || typeof body?.crn !== 'string') {
      throw new KmsError(
        'KMS_UNAVAILABLE',
        `The KMS at ${this.client.url} did not name its default root key (${res.status})`,
      );
    }
    parseKeyCrn(body.crn);
    return body.crn;
  }

  async generateDataKey(caller: KeyCaller, rootKeyCrn: string, aad: string[]): Promise<GeneratedDataKey> {
    const r = await this.action<ActionResponse>(caller, rootKeyCrn, 'wrap', { aad });
    const plaintext = b64(r.plaintext);
    if (!plaintext) throw malformed(this.client.url, 'wrap returned no generated DEK');
    return {
      plaintext,
      wrapped: str(r.ciphertext, this.client.url),
      keyVersion: versionOf(r.keyVersion, this.client.url),
    };
  }

  async unwrap(caller: KeyCaller, rootKeyCrn: string, wrapped: string, aad: string[]): Promise<UnwrappedDataKey> {
    const r = await this.action<ActionResponse>(caller, rootKeyCrn, 'unwrap', { ciphertext: wrapped, aad });
    const plaintext = b64(r.plaintext);
    if (!plaintext) throw malformed(this.client.url, 'unwrap returned no plaintext');
    const out: UnwrappedDataKey = { plaintext, keyVersion: versionOf(r.keyVersion, this.client.url) };
    if (typeof r.ciphertext === 'string' && r.rewrappedKeyVersion !== undefined) {
      out.rewrapped = { wrapped: r.ciphertext, keyVersion: versionOf(r.rewrappedKeyVersion, this.client.url) };
    }
    return out;
  }

  async rewrap(
    caller: KeyCaller,
    rootKeyCrn: string,
    wrapped: string,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }> {
    const r = await this.action<ActionResponse>(caller, rootKeyCrn, 'rewrap', { ciphertext: wrapped, aad });
    return {
      wrapped: str(r.ciphertext, this.client.url),
      keyVersion: versionOf(r.rewrappedKeyVersion, this.client.url),
    };
  }

  async wrapDataKey(
    caller: KeyCaller,
    rootKeyCrn: string,
    plaintext: Buffer,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }> {
    const r = await this.action<ActionResponse>(caller, rootKeyCrn, 'wrap', {
      plaintext: plaintext.toString('base64'),
      aad,
    });
    return { wrapped: str(r.ciphertext, this.client.url), keyVersion: versionOf(r.keyVersion, this.client.url) };
  }

  async getKeyState(caller: KeyCaller, rootKeyCrn: string): Promise<KeyState> {
    const t = await this.resolve(caller, rootKeyCrn);
    const key = await this.metadata(caller, rootKeyCrn, t);
    return key.state;
  }

  async findKeyByAlias(caller: KeyCaller, instanceKeyCrn: string, alias: string): Promise<string> {
    const parsed = parseKeyCrn(instanceKeyCrn);
    const t: KeyTarget = { instanceId: parsed.instanceId, keyId: alias };
    const body = await this.call<{ resources?: Array<{ id?: unknown; crn?: unknown; aliases?: unknown }> }>(
      caller,
      alias,
      t,
      'GET',
      `/keys/${enc(alias)}/metadata`,
    );
    const key = body.resources?.[0];
    const aliases = Array.isArray(key?.aliases) ? (key.aliases as unknown[]) : [];
    if (typeof key?.crn !== 'string' || key.id === alias || !aliases.includes(alias)) throw keyNotFound(alias);
    // Only a key of the instance asked about (a KMS answering with another is not trusted).
    if (parseKeyCrn(key.crn).instanceId !== parsed.instanceId) throw keyNotFound(alias);
    await this.resolve(caller, key.crn);
    return key.crn;
  }

  /** Creates or updates the registration (the KMS's create is an upsert). */
  async register(caller: KeyCaller, rootKeyCrn: string, reg: RegistrationRequest): Promise<void> {
    const t = await this.resolve(caller, rootKeyCrn);
    const resource: Record<string, unknown> = {};
    if (reg.description !== undefined) resource.description = reg.description;
    if (reg.preventKeyDeletion !== undefined) resource.preventKeyDeletion = reg.preventKeyDeletion;
    if (reg.keyVersion !== undefined) resource.keyVersion = { id: reg.keyVersion };
    const body = { metadata: { collectionType: REGISTRATION_INPUT, collectionTotal: 1 }, resources: [resource] };
    await this.call(caller, rootKeyCrn, t, 'POST', `/keys/${enc(t.keyId)}/registrations/${enc(reg.resourceCrn)}`, body);
  }

  /** Idempotent: a registration that does not exist (404 once the key is known to be usable) is not an error. */
  async unregister(caller: KeyCaller, rootKeyCrn: string, resourceCrn: string): Promise<void> {
    const t = await this.resolve(caller, rootKeyCrn);
    const res = await this.transport(() =>
      this.client.request('DELETE', `/api/v2/keys/${enc(t.keyId)}/registrations/${enc(resourceCrn)}`, {
        headers: this.headers(caller, t),
      }),
    );
    if (res.status === 404) return;
    this.check(res, rootKeyCrn);
  }

  // ---- plumbing ---------------------------------------------------------------

  private async action<T>(
    caller: KeyCaller,
    crn: string,
    action: 'wrap' | 'unwrap' | 'rewrap',
    body: Record<string, unknown>,
  ): Promise<T> {
    const t = await this.resolve(caller, crn);
    return this.call<T>(caller, crn, t, 'POST', `/keys/${enc(t.keyId)}/actions/${action}`, body);
  }

  private async call<T>(
    caller: KeyCaller,
    crn: string,
    t: KeyTarget,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const res = await this.transport(() =>
      this.client.request(method, `/api/v2${path}`, {
        headers: this.headers(caller, t),
        ...(body !== undefined ? { body } : {}),
      }),
    );
    this.check(res, crn);
    return (parseJson(res.text) ?? {}) as T;
  }

  private headers(caller: KeyCaller, t: KeyTarget): Record<string, string> {
    const h: Record<string, string> = { 'bluemix-instance': t.instanceId, [TENANT_HEADER]: caller.tenant };
    if (caller.requestId !== undefined && /^[\x21-\x7e]{1,128}$/.test(caller.requestId))
      h['correlation-id'] = caller.requestId;
    return h;
  }

  /** CRN -> (instance, key id), once verified against the KMS's own CRN for the key. */
  private async resolve(caller: KeyCaller, crn: string): Promise<KeyTarget> {
    const parsed = parseKeyCrn(crn);
    const t: KeyTarget = { instanceId: parsed.instanceId, keyId: parsed.keyId };
    // Verification is per tenant: a CRN another tenant proved says nothing about this one's access.
    const id = JSON.stringify([caller.tenant, crn]);
    let v = this.verified.get(id);
    if (!v) {
      v = this.metadata(caller, crn, t).then(() => undefined);
      this.verified.set(id, v);
      v.catch(() => this.verified.delete(id));
      if (this.verified.size > 10_000) this.verified.delete(this.verified.keys().next().value as string);
    }
    await v;
    return t;
  }

  private async metadata(caller: KeyCaller, crn: string, t: KeyTarget): Promise<{ state: KeyState }> {
    const body = await this.call<{ resources?: Array<{ id?: unknown; crn?: unknown; state?: unknown }> }>(
      caller,
      crn,
      t,
      'GET',
      `/keys/${enc(t.keyId)}/metadata`,
    );
    const key = body.resources?.[0];
    if (!key || key.id !== t.keyId || key.crn !== crn) throw keyNotFound(crn);
    if (typeof key.state !== 'number') throw malformed(this.client.url, 'key metadata without a state');
    return { state: key.state as KeyState };
  }

  /** Transport failures -> 503 KMS_UNAVAILABLE. */
  private async transport(fn: () => Promise<ServiceResponse>): Promise<ServiceResponse> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ServiceUnavailableError || e instanceof ServiceAuthError) {
        this.opts.log?.warn('kms unavailable', { kmsUrl: this.client.url, err: e.message });
        throw new KmsError(
          'KMS_UNAVAILABLE',
          e instanceof ServiceAuthError
            ? 'The key management service refused the gateway credentials'
            : 'The key management service is unavailable',
        );
      }
      throw e;
    }
  }

  /** Non-2xx -> the KmsError LocalKeyProvider would have thrown. */
  private check(res: ServiceResponse, crn: string): void {
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 401 || res.status === 403 || res.status === 404) throw keyNotFound(crn);
    if (res.status >= 500 || res.status === 429) {
      this.opts.log?.warn('kms error', { kmsUrl: this.client.url, status: res.status });
      throw new KmsError('KMS_UNAVAILABLE', 'The key management service is unavailable');
    }
    const reason = reasonOf(res.text);
    // A passed reason keeps its code only when the KMS sent it with the status the table gives it.
    const passed =
      reason !== undefined &&
      PASSED_REASONS.has(reason.code) &&
      KMS_ERROR_STATUS[reason.code as KmsReason] === res.status;
    const code: KmsReason = passed ? (reason.code as KmsReason) : defaultReason(res.status);
    throw new KmsError(code, reason?.message ?? `The key management service answered ${res.status}`, reason?.target);
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function reasonOf(
  text: string,
): { code: string; message: string; target?: { type: string; name: string } } | undefined {
  const body = parseJson(text) as
    | {
        resources?: Array<{
          reasons?: Array<{ code?: unknown; message?: unknown; target?: { type?: unknown; name?: unknown } }>;
        }>;
      }
    | undefined;
  const r = body?.resources?.[0]?.reasons?.[0];
  if (!r || typeof r.code !== 'string') return undefined;
  const out: { code: string; message: string; target?: { type: string; name: string } } = {
    code: r.code,
    message: typeof r.message === 'string' ? r.message : r.code,
  };
  if (r.target && typeof r.target.type === 'string' && typeof r.target.name === 'string')
    out.target = { type: r.target.type, name: r.target.name };
  return out;
}

function b64(v: unknown): Buffer | undefined {
  return typeof v === 'string' && v !== '' ? Buffer.from(v, 'base64') : undefined;
}

function malformed(url: string, what: string): KmsError {
  return new KmsError('KMS_UNAVAILABLE', `The key management service at ${url} answered malformed data: ${what}`);
}

function str(v: unknown, url: string): string {
  if (typeof v !== 'string' || v === '') throw malformed(url, 'no ciphertext');
  return v;
}

function versionOf(v: { id?: unknown } | undefined, url: string): string {
  if (!v || typeof v.id !== 'string') throw malformed(url, 'no key version');
  return v.id;
}
