/** Plain HTTP helpers for the KMS listener: tokens, /iam/v1 and raw /api/v2 calls the SDK cannot make. */

export async function tokenFor(kmsUrl: string, apikey: string): Promise<string> {
  const res = await fetch(`${kmsUrl}/identity/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey }).toString(),
  });
  const body = (await res.json()) as { access_token?: string };
  if (res.status !== 200 || !body.access_token)
    throw new Error(`token exchange failed: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

export interface CallResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  json: T;
}

export async function call<T = Record<string, unknown>>(
  kmsUrl: string,
  token: string,
  method: string,
  path: string,
  opts: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<CallResult<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...opts.headers };
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${kmsUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: (text ? JSON.parse(text) : {}) as T };
}

/** The first reason code of a Key Protect error body. */
export function reasonOf(json: unknown): string | undefined {
  return (json as { resources?: Array<{ reasons?: Array<{ code?: string }> }> }).resources?.[0]?.reasons?.[0]?.code;
}

export const KEY_TYPE = 'application/vnd.ibm.kms.key+json';

export function keyBody(
  res: Record<string, unknown>,
  total = 1,
): { metadata: { collectionType: string; collectionTotal: number }; resources: Array<Record<string, unknown>> } {
  return { metadata: { collectionType: KEY_TYPE, collectionTotal: total }, resources: [{ type: KEY_TYPE, ...res }] };
}

/** A new identity in `account` with an API key and a role on `instanceId` (through /iam/v1 as `adminToken`). */
export async function identityWithRole(
  kmsUrl: string,
  adminToken: string,
  account: string,
  kind: 'user' | 'service',
  name: string,
  grant?: { instanceId: string; keyId?: string; role: string },
): Promise<{ id: string; apikey: string; token: string }> {
  const ident = await call<{ id: string }>(kmsUrl, adminToken, 'POST', `/iam/v1/accounts/${account}/identities`, {
    body: { kind, name },
  });
  if (ident.status !== 201) throw new Error(`create identity: ${ident.status} ${JSON.stringify(ident.json)}`);
  const key = await call<{ apikey: string }>(
    kmsUrl,
    adminToken,
    'POST',
    `/iam/v1/identities/${ident.json.id}/apikeys`,
    { body: { name: 'test' } },
  );
  if (key.status !== 201) throw new Error(`create apikey: ${key.status} ${JSON.stringify(key.json)}`);
  if (grant) {
    const target = grant.keyId
      ? { instanceId: grant.instanceId, keyId: grant.keyId }
      : { instanceId: grant.instanceId };
    const p = await call(kmsUrl, adminToken, 'POST', '/iam/v1/policies', {
      body: { subjectId: ident.json.id, target, role: grant.role },
    });
    if (p.status !== 201) throw new Error(`create policy: ${p.status} ${JSON.stringify(p.json)}`);
  }
  return { id: ident.json.id, apikey: key.json.apikey, token: await tokenFor(kmsUrl, key.json.apikey) };
}
