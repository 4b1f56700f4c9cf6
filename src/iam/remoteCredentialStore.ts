/**
 * The S3 CredentialStore of a split-mode gateway. IAM (accounts, S3 access
 * keys, the root credentials) lives in the KMS process: its LevelDB store is
 * single-process and mirrored in memory there. The gateway asks it, as its
 * gateway service identity, GET /iam/v1/s3-credentials/{accessKeyId}, and
 * keeps answers for a short time: found keys for `ttlMs` (default 10 s), unknown
 * ones for `negativeTtlMs` (default 2 s, so a flood of made-up ids costs the KMS
 * little). A deleted access key therefore stops working within ttlMs.
 *
 * A KMS that cannot be reached makes lookups throw KmsError 503
 * KMS_UNAVAILABLE (S3 503 ServiceUnavailable), never "unknown key": a retrying
 * client must not be told its key does not exist.
 */
import type { CredentialStore, Principal } from '../auth/credentials.js';
import { KmsError } from '../keys/errors.js';
import { ServiceAuthError, ServiceUnavailableError, type ServiceClient } from '../keys/serviceClient.js';

export interface RemoteCredentialStoreOptions {
  ttlMs?: number;
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

type Found = { secretAccessKey: string; principal: Principal };

interface Entry {
  value: Found | undefined;
  expiresAt: number;
}

const ACCESS_KEY_ID = /^[A-Za-z0-9._-]{1,128}$/;

export class RemoteCredentialStore implements CredentialStore {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Found | undefined>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly client: ServiceClient,
    opts: RemoteCredentialStoreOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 2_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  async lookup(accessKeyId: string): Promise<Found | undefined> {
    if (!ACCESS_KEY_ID.test(accessKeyId)) return undefined;
    const hit = this.cache.get(accessKeyId);
    if (hit && this.now() < hit.expiresAt) return hit.value;
    let p = this.inflight.get(accessKeyId);
    if (!p) {
      p = this.fetch(accessKeyId).finally(() => this.inflight.delete(accessKeyId));
      this.inflight.set(accessKeyId, p);
    }
    return p;
  }

  /** Forget everything (tests; after a credential change made through this process). */
  clear(): void {
    this.cache.clear();
  }

  private async fetch(accessKeyId: string): Promise<Found | undefined> {
    let res;
    try {
      res = await this.client.request('GET', `/iam/v1/s3-credentials/${encodeURIComponent(accessKeyId)}`);
    } catch (e) {
      if (e instanceof ServiceUnavailableError || e instanceof ServiceAuthError)
        throw new KmsError('KMS_UNAVAILABLE', 'The identity service is unavailable');
      throw e;
    }
    let value: Found | undefined;
    if (res.status === 200) {
      value = parseFound(res.text, accessKeyId);
      if (!value) throw new KmsError('KMS_UNAVAILABLE', 'The identity service answered malformed data');
    } else if (res.status !== 404) {
      throw new KmsError('KMS_UNAVAILABLE', `The identity service answered ${res.status}`);
    }
    this.cache.delete(accessKeyId);
    this.cache.set(accessKeyId, { value, expiresAt: this.now() + (value ? this.ttlMs : this.negativeTtlMs) });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return value;
  }
}

function parseFound(text: string, accessKeyId: string): Found | undefined {
  try {
    const j = JSON.parse(text) as {
      accessKeyId?: unknown;
      secretAccessKey?: unknown;
      principal?: { accountId?: unknown; displayName?: unknown };
    };
    if (j.accessKeyId !== accessKeyId || typeof j.secretAccessKey !== 'string' || j.secretAccessKey === '')
      return undefined;
    const p = j.principal;
    if (!p || typeof p.accountId !== 'string' || p.accountId === '') return undefined;
    return {
      secretAccessKey: j.secretAccessKey,
      principal: {
        accountId: p.accountId,
        accessKeyId,
        displayName: typeof p.displayName === 'string' ? p.displayName : p.accountId,
      },
    };
  } catch {
    return undefined;
  }
}
