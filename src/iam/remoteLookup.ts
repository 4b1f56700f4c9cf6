/**
 * A split-mode gateway's cached lookup of one IAM record by id in the KMS
 * process (S3 credentials, accounts), asked as the gateway service identity.
 * Found answers are kept for `ttlMs`, unknown ones for `negativeTtlMs` (short,
 * so a flood of made-up ids costs the KMS little), at most `maxEntries`
 * (oldest first out); concurrent lookups of one id share one request.
 *
 * A KMS that cannot be reached, or answers anything but 200 or 404, makes the
 * lookup throw KmsError 503 KMS_UNAVAILABLE, never "unknown": a retrying
 * client must not be told its key or grantee does not exist.
 */
import { KmsError } from '../keys/errors.js';
import { ServiceAuthError, ServiceUnavailableError, type ServiceClient } from '../keys/serviceClient.js';

export interface RemoteLookupOptions {
  ttlMs?: number;
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/** What one kind of record needs: its ids, its path, and how to read (and check) an answer. */
export interface RemoteLookupKind<T> {
  id: RegExp;
  path(id: string): string;
  /** The record in a 200 answer for `id`, or undefined when it is malformed or names another id. */
  parse(text: string, id: string): T | undefined;
  defaultTtlMs: number;
}

export class RemoteLookup<T> {
  private readonly cache = new Map<string, { value: T | undefined; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<T | undefined>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly client: ServiceClient,
    private readonly kind: RemoteLookupKind<T>,
    opts: RemoteLookupOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? kind.defaultTtlMs;
    this.negativeTtlMs = opts.negativeTtlMs ?? 2_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  async get(id: string): Promise<T | undefined> {
    if (!this.kind.id.test(id)) return undefined;
    const hit = this.cache.get(id);
    if (hit && this.now() < hit.expiresAt) return hit.value;
    let p = this.inflight.get(id);
    if (!p) {
      p = this.fetch(id).finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  clear(): void {
    this.cache.clear();
  }

  private async fetch(id: string): Promise<T | undefined> {
    let res;
    try {
      res = await this.client.request('GET', this.kind.path(id));
    } catch (e) {
      if (e instanceof ServiceUnavailableError || e instanceof ServiceAuthError)
        throw new KmsError('KMS_UNAVAILABLE', 'The identity service is unavailable');
      throw e;
    }
    let value: T | undefined;
    if (res.status === 200) {
      value = this.kind.parse(res.text, id);
      if (value === undefined) throw new KmsError('KMS_UNAVAILABLE', 'The identity service answered malformed data');
    } else if (res.status !== 404) {
      throw new KmsError('KMS_UNAVAILABLE', `The identity service answered ${res.status}`);
    }
    this.cache.delete(id);
    this.cache.set(id, { value, expiresAt: this.now() + (value !== undefined ? this.ttlMs : this.negativeTtlMs) });
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return value;
  }
}
