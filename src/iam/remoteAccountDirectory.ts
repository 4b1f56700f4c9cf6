/**
 * A split-mode gateway's account lookup for S3 ACL grants: IAM lives in the
 * KMS process, asked GET /iam/v1/s3-accounts/{id} as the gateway service
 * identity, answers kept briefly (found for `ttlMs`, default 60 s; unknown
 * for `negativeTtlMs`, default 2 s). An unreachable KMS is an error (503),
 * never "no such account". Shaped as the services' AccountDirectory.
 */
import type { ServiceClient } from '../keys/serviceClient.js';
import { RemoteLookup, type RemoteLookupOptions } from './remoteLookup.js';

type Found = { id: string; displayName: string };

export class RemoteAccountDirectory {
  private readonly lookup: RemoteLookup<Found>;

  constructor(client: ServiceClient, opts: RemoteLookupOptions = {}) {
    this.lookup = new RemoteLookup(
      client,
      {
        id: /^[A-Za-z0-9._-]{1,128}$/,
        path: (id) => `/iam/v1/s3-accounts/${encodeURIComponent(id)}`,
        parse: parseFound,
        defaultTtlMs: 60_000,
      },
      opts,
    );
  }

  account(id: string): Promise<Found | undefined> {
    return this.lookup.get(id);
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
