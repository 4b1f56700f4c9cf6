/**
 * Key Protect calls of the crash workload over the KMS listener: a bearer
 * token for the root API key, the root tenant's instance, key creation,
 * rotation and the version list that shows whether a rotation took effect.
 */
import type { Outcome } from './outcome.js';
import { ROOT_APIKEY } from './serverProcess.js';

const KEY_TYPE = 'application/vnd.ibm.kms.key+json';

async function call(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
): Promise<Outcome<{ status: number; json: Record<string, unknown> }>> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
    text = await res.text();
  } catch (e) {
    return { kind: 'unknown', error: (e as Error).message };
  }
  if (res.status < 200 || res.status > 299) return { kind: 'failed', status: res.status, body: text };
  return { kind: 'ok', value: { status: res.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> } };
}

export class KpClient {
  private constructor(
    readonly kmsUrl: string,
    private readonly token: string,
    readonly instanceId: string,
  ) {}

  /** Token for the root API key, and the instance the root tenant owns (not the provider's default one). */
  static async connect(kmsUrl: string): Promise<KpClient> {
    const t = await call(`${kmsUrl}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ibm:params:oauth:grant-type:apikey',
        apikey: ROOT_APIKEY,
      }).toString(),
    });
    if (t.kind !== 'ok') throw new Error(`token: ${JSON.stringify(t)}`);
    const token = String(t.value.json.access_token);
    const l = await call(`${kmsUrl}/iam/v1/instances`, {
      method: 'GET',
      headers: { authorization: `Bearer ${token}` },
    });
    if (l.kind !== 'ok') throw new Error(`instances: ${JSON.stringify(l)}`);
    const instances = l.value.json.instances as Array<{ id: string; name: string }>;
    const mine = instances.find((i) => i.name !== 'coffer-default');
    if (!mine) throw new Error(`the root tenant has no instance: ${JSON.stringify(instances)}`);
    return new KpClient(kmsUrl, token, mine.id);
  }

  private req(method: string, path: string, body?: unknown, extra: Record<string, string> = {}) {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      'bluemix-instance': this.instanceId,
      ...extra,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return call(`${this.kmsUrl}/api/v2${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  async createKey(name: string): Promise<Outcome<{ id: string; crn: string }>> {
    const o = await this.req(
      'POST',
      '/keys',
      {
        metadata: { collectionType: KEY_TYPE, collectionTotal: 1 },
        resources: [{ type: KEY_TYPE, name, extractable: false }],
      },
      { prefer: 'return=representation' },
    );
    if (o.kind !== 'ok') return o;
    const k = (o.value.json.resources as Array<{ id: string; crn: string }>)[0]!;
    return { kind: 'ok', value: { id: k.id, crn: k.crn } };
  }

  async rotate(id: string): Promise<Outcome<void>> {
    const o = await this.req('POST', `/keys/${id}/actions/rotate`);
    return o.kind === 'ok' ? { kind: 'ok', value: undefined } : o;
  }

  /** How many versions the key has (1 before any rotation); 404 as -1. */
  async versions(id: string): Promise<Outcome<number>> {
    const o = await this.req('GET', `/keys/${id}/versions`);
    if (o.kind === 'failed' && o.status === 404) return { kind: 'ok', value: -1 };
    if (o.kind !== 'ok') return o;
    return { kind: 'ok', value: (o.value.json.resources as unknown[]).length };
  }
}
