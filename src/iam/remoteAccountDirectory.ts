/**
 * A split-mode gateway's account lookup for S3 ACL grants: IAM lives in the
 * KMS process, asked GET /iam/v1/s3-accounts/{id} as the gateway service
 * identity, answers kept briefly (found for `ttlMs`, default 60 s; unknown
 * for `negativeTtlMs`, default 2 s). An unreachable KMS is an error (503),
 * never "no such account". Shaped as the services' AccountDirectory.
 */
import { KmsError } from '../keys/errors.js';
import { ServiceAuthError, ServiceUnavailableError, type ServiceClient } from '../keys/serviceClient.js';

const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,128}$/;
type Found = { id: string; displayName: string };

export class RemoteAccountDirectory {
  private readonly cache = new Map<string, { value: Found | undefined; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(
    private readonly client: ServiceClient,
    opts: { ttlMs?: number; negativeTtlMs?: number; now?: () => number; maxEntries?: number } = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 2_000;
    this.now = opts.now ?? Date.now;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  async account(id: string): Promise<Found | undefined> {
    if (!ACCOUNT_ID.test(id)) return undefined;
    const hit = this.cache.get(id);
    if (hit && this.now() < hit.expiresAt) return hit.value;
    let res;
    try {
      res = await this.client.request('GET', `/iam/v1/s3-accounts/${encodeURIComponent(id)}`);
    } catch (e) {
      if (e instanceof ServiceUnavailableError || e instanceof ServiceAuthError)
        throw new KmsError('KMS_UNAVAILABLE', 'The identity service is unavailable');
      throw e;
    }
    let value: Found | undefined;
    if (res.status === 200) {
      value = parseFound(res.text, id);
      if (!value) throw new KmsError('KMS_UNAVAILABLE', 'The identity service answered malformed data');
    } else if (res.status !== 404) {
      throw new KmsError('KMS_UNAVAILABLE', `The identity service answered ${res.status}`);
    }
    this.cache.delete(id);
    this.cache.set(id, { value, expiresAt: this.now() + (value ? this.ttlMs : this.negativeTtlMs) });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return value;
  }
}

function parseFound(text: string, id: string): Found | undefined {
  try {
    const j = JSON.parse(text) as { id?: unknown; displayName?: unknown };
    if (j.id !== id) return undefined;
    return { id, displayName: typeof j.displayName === 'string' ? j.displayName : id };
  } catch {
    return undefined;
  }
}
