/**
 * The audit entries the KMS and IAM APIs make, over HTTP: each key action under
 * its own name, IAM token exchanges (a refused API key too) and management
 * calls, no secret in any entry; and no reply before the entry is durable - a
 * held entry holds the reply, an unwritable log makes the call 503.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditInput, AuditSink } from '../../../../src/kms/audit.js';
import { startClockedKms, type ClockedKms } from '../../../integration/kms/clockedKms.js';
import { call, keyBody, reasonOf, tokenFor } from '../../../integration/kms/kmsHttp.js';

/** A sink the test controls: it records, can hold every entry until released, or fail them. */
class TestSink implements AuditSink {
  entries: AuditInput[] = [];
  hold = false;
  fail = false;
  private waiting: Array<() => void> = [];
  async record(e: AuditInput): Promise<void> {
    if (this.fail) throw new Error('ENOSPC: no space left on device');
    if (this.hold) await new Promise<void>((r) => this.waiting.push(r));
    this.entries.push(e);
  }
  release(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const r of w) r();
  }
}

const sink = new TestSink();
let k: ClockedKms;
let token: string;
let h: Record<string, string>;

beforeAll(async () => {
  k = await startClockedKms({ audit: sink });
  token = await tokenFor(k.url, k.apikey);
  h = { 'bluemix-instance': k.instanceId };
});
afterAll(async () => k?.close());
beforeEach(() => {
  sink.hold = false;
  sink.fail = false;
});

async function createKey(): Promise<string> {
  const r = await call<{ resources: Array<{ id: string }> }>(k.url, token, 'POST', '/api/v2/keys', {
    body: keyBody({ name: 'audited' }),
    headers: h,
  });
  expect(r.status).toBe(201);
  return r.json.resources[0]!.id;
}

const last = (action: string) => sink.entries.filter((e) => e.action === action).at(-1);

describe('audited calls', () => {
  it('names each key action: disable, enable, rotate, wrap (both paths); an unknown action is keyAction', async () => {
    const id = await createKey();
    const act = (a: string) => call(k.url, token, 'POST', `/api/v2/keys/${id}/actions/${a}`, { headers: h });
    expect((await act('disable')).status).toBe(204);
    k.advance(31_000);
    expect((await act('enable')).status).toBe(204);
    expect((await act('rotate')).status).toBe(204);
    expect((await call(k.url, token, 'POST', `/api/v2/keys/${id}?action=wrap`, { headers: h })).status).toBe(200);
    expect((await act('explode')).status).toBe(400);
    for (const a of ['disable', 'enable', 'rotate'])
      expect(last(a)).toMatchObject({ key: id, instance: k.instanceId, outcome: 'success', via: 'api' });
    expect(last('wrap')).toMatchObject({ key: id, outcome: 'success', version: expect.any(String) });
    expect(last('keyAction')).toMatchObject({ key: id, outcome: 'failure', status: 400 });
    expect(last('rotate')!.sourceIp).toMatch(/127\.0\.0\.1/);
  });

  it('audits token exchanges, a refused API key too, without the key or the token', async () => {
    const bad = 'not-a-real-apikey-0123456789';
    const r = await fetch(`${k.url}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'transaction-id': 'tx-bad-key' },
      body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: bad }).toString(),
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('transaction-id')).toBe('tx-bad-key');
    expect(sink.entries.find((e) => e.correlationId === 'tx-bad-key')).toMatchObject({
      identity: 'unauthenticated',
      action: 'exchangeApiKey',
      outcome: 'failure',
      status: 400,
      reason: 'BXNIM0415E',
      via: 'iam',
    });
    await tokenFor(k.url, k.apikey);
    expect(last('exchangeApiKey')).toMatchObject({
      identity: expect.stringMatching(/^iam:/),
      account: k.account,
      outcome: 'success',
      target: expect.any(String),
    });
    const all = JSON.stringify(sink.entries);
    expect(all).not.toContain(bad);
    expect(all).not.toContain(k.apikey);
    expect(all).not.toContain(token);
  });

  it('audits IAM changes with the account and the id touched, never the secret', async () => {
    const me = await call<{ identity: { id: string } }>(k.url, token, 'GET', '/iam/v1/identity');
    const key = await call<{ id: string; apikey: string }>(
      k.url,
      token,
      'POST',
      `/iam/v1/identities/${me.json.identity.id}/apikeys`,
      { body: { name: 'second' } },
    );
    expect(key.status).toBe(201);
    expect(last('createApiKey')).toMatchObject({ account: k.account, target: key.json.id, outcome: 'success' });
    expect((await call(k.url, token, 'DELETE', `/iam/v1/apikeys/${key.json.id}`)).status).toBe(204);
    expect(last('deleteApiKey')).toMatchObject({ target: key.json.id, outcome: 'success' });
    const s3 = await call<{ accessKeyId: string; secretAccessKey: string }>(
      k.url,
      token,
      'POST',
      `/iam/v1/accounts/${k.account}/access_keys`,
      { body: {} },
    );
    expect(last('createAccessKey')).toMatchObject({ account: k.account, target: s3.json.accessKeyId });
    expect((await call(k.url, 'bogus', 'POST', '/iam/v1/accounts', { body: { name: 'x' } })).status).toBe(401);
    expect(last('createAccount')).toMatchObject({ identity: 'unauthenticated', outcome: 'failure', status: 401 });
    const all = JSON.stringify(sink.entries);
    expect(all).not.toContain(key.json.apikey);
    expect(all).not.toContain(s3.json.secretAccessKey);
  });

  it('holds the reply until the entry is durable', async () => {
    const id = await createKey();
    sink.hold = true;
    let answered = false;
    const pending = call(k.url, token, 'POST', `/api/v2/keys/${id}/actions/disable`, { headers: h }).then((r) => {
      answered = true;
      return r;
    });
    const tokenPending = tokenFor(k.url, k.apikey).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    sink.release();
    expect((await pending).status).toBe(204);
    await tokenPending;
    expect(last('disable')).toMatchObject({ key: id, outcome: 'success' });
  });

  it('answers 503 when the entry cannot be written, on the KMS API and on IAM', async () => {
    const id = await createKey();
    sink.fail = true;
    const r = await call(k.url, token, 'POST', `/api/v2/keys/${id}/actions/disable`, { headers: h });
    expect([r.status, reasonOf(r.json)]).toEqual([503, 'KMS_UNAVAILABLE']);
    const t = await fetch(`${k.url}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: k.apikey }).toString(),
    });
    expect(t.status).toBe(503);
    expect(await t.json()).toMatchObject({ errorCode: 'AUDIT_UNAVAILABLE' });
    const i = await call(k.url, token, 'GET', '/iam/v1/identity');
    expect(i.status).toBe(503);
  });
});
