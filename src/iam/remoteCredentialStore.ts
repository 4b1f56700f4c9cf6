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
import type { ServiceClient } from '../keys/serviceClient.js';
import { RemoteLookup, type RemoteLookupOptions } from './remoteLookup.js';

export type RemoteCredentialStoreOptions = RemoteLookupOptions;

type Found = { secretAccessKey: string; principal: Principal };

export class RemoteCredentialStore implements CredentialStore {
  private readonly cached: RemoteLookup<Found>;

  constructor(client: ServiceClient, opts: RemoteCredentialStoreOptions = {}) {
    this.cached = new RemoteLookup(
      client,
      {
        id: /^[A-Za-z0-9._-]{1,128}$/,
        path: (id) => `/iam/v1/s3-credentials/${encodeURIComponent(id)}`,
        parse: parseFound,
        defaultTtlMs: 10_000,
      },
      opts,
    );
  }

  lookup(accessKeyId: string): Promise<Found | undefined> {
    return this.cached.get(accessKeyId);
  }

  /** Forget everything (tests; after a credential change made through this process). */
  clear(): void {
    this.cached.clear();
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
