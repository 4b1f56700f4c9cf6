/**
 * The KMS API over HTTP, for what IBM's SDK never sends: the legacy
 * ?action= form, malformed input, auth failures, headers, the token endpoint's
 * error shapes, service-only calls, the gateway tenant header.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../../../src/kms/audit.js';
import { startClockedKms, type ClockedKms } from '../../../integration/kms/clockedKms.js';
import { call, identityWithRole, keyBody, reasonOf, tokenFor } from '../../../integration/kms/kmsHttp.js';

let k: ClockedKms;
let token: string;
let h: Record<string, string>;

interface KeyOut {
  id: string;
  crn: string;
  payload?: string;
  keyRingID: string;
  dualAuthDelete: { enabled: boolean };
  rotation?: { interval_month: number };
}
type Coll<T> = { metadata: { collectionTotal: number }; resources: T[] };

async function createKey(res: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<KeyOut> {
  const r = await call<Coll<KeyOut>>(k.url, token, 'POST', '/api/v2/keys', {
    body: keyBody({ name: 'test-key', ...res }),
    headers: { ...h, ...headers },
  });
  expect(r.status).toBe(201);
  return r.json.resources[0]!;
}

beforeAll(async () => {
  k = await startClockedKms();
  token = await tokenFor(k.url, k.apikey);
  h = { 'bluemix-instance': k.instanceId };
});
afterAll(async () => k?.close());

describe('legacy ?action= form', () => {
  it('wrap, unwrap, rewrap, rotate, disable, enable, restore', async () => {
    const key = await createKey();
    const w = await call<{ ciphertext: string; plaintext: string }>(
      k.url,
      token,
      'POST',
      `/api/v2/keys/${key.id}?action=wrap`,
      { headers: h },
    );
    expect(w.status).toBe(200);
    const u = await call<{ plaintext: string }>(k.url, token, 'POST', `/api/v2/keys/${key.id}?action=unwrap`, {
      body: { ciphertext: w.json.ciphertext },
      headers: h,
    });
    expect(u.json.plaintext).toBe(w.json.plaintext);
    expect((await call(k.url, token, 'POST', `/api/v2/keys/${key.id}?action=rotate`, { headers: h })).status).toBe(204);
    expect(
      (
        await call(k.url, token, 'POST', `/api/v2/keys/${key.id}?action=rewrap`, {
          body: { ciphertext: w.json.ciphertext },
          headers: h,
        })
      ).status,
    ).toBe(200);
    expect((await call(k.url, token, 'POST', `/api/v2/keys/${key.id}?action=disable`, { headers: h })).status).toBe(
      204,
    );
    k.advance(31_000);
    expect((await call(k.url, token, 'POST', `/api/v2/keys/${key.id}?action=enable`, { headers: h })).status).toBe(204);
    k.advance(31_000);
    expect((await call(k.url, token, 'DELETE', `/api/v2/keys/${key.id}`, { headers: h })).status).toBe(204);
    k.advance(31_000);
    expect((await call(k.url, token, 'POST', `/api/v2/keys/${key.id}?action=restore`, { headers: h })).status).toBe(
      201,
    );
    const bad = await call(k.url, token, 'POST', `/api/v2/keys/${key.id}?action=explode`, { headers: h });
    expect([bad.status, reasonOf(bad.json)]).toEqual([400, 'INVALID_FIELD_ERR']);
    const noRestoreOnNewPath = await call(k.url, token, 'POST', `/api/v2/keys/${key.id}/actions/restore`, {
      headers: h,
    });
    expect(noRestoreOnNewPath.status).toBe(400);
  });
});

describe('bad input gets Key Protect’s 400 shape', () => {
  it('malformed JSON, unknown fields, wrong collectionTotal, bad base64, oversized bodies, unknown query parameters', async () => {
    const key = await createKey();
    const cases: Array<[string, string, { rawBody?: string; body?: unknown }, string]> = [
      ['POST', '/api/v2/keys', { rawBody: '{"metadata":' }, 'BAD_BODY_ERR'],
      ['POST', '/api/v2/keys', { body: keyBody({ name: 'key-x', colour: 'red' }) }, 'BAD_BODY_ERR'],
      [
        'POST',
        '/api/v2/keys',
        {
          body: {
            ...keyBody({ name: 'key-x' }),
            metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 3 },
          },
        },
        'COLLECTION_TOTAL_MISMATCH_ERR',
      ],
      ['POST', '/api/v2/keys', { body: keyBody({ name: 'key-x', payload: '***' }) }, 'INVALID_FIELD_ERR'],
      ['POST', `/api/v2/keys/${key.id}/actions/wrap`, { body: { plaintext: 'a b' } }, 'INVALID_FIELD_ERR'],
      ['POST', `/api/v2/keys/${key.id}/actions/wrap`, { body: { plaintext: 'AAAA', extra: true } }, 'BAD_BODY_ERR'],
      ['POST', `/api/v2/keys/${key.id}/actions/unwrap`, {}, 'NO_BODY_ERR'],
      [
        'POST',
        `/api/v2/keys/${key.id}/actions/wrap`,
        { rawBody: JSON.stringify({ plaintext: 'A'.repeat(70_000) }) },
        'BAD_BODY_ERR',
      ],
      ['GET', '/api/v2/keys?colour=red', {}, 'INVALID_FIELD_ERR'],
      ['GET', '/api/v2/keys?limit=abc', {}, 'INVALID_FIELD_ERR'],
    ];
    for (const [method, path, opts, code] of cases) {
      const r = await call(k.url, token, method, path, { ...opts, headers: h });
      expect([r.status, reasonOf(r.json), path]).toEqual([400, code, path]);
      const res = (r.json as { resources: Array<{ errorMsg: string }> }).resources[0]!;
      expect(res.errorMsg).toMatch(/^Bad Request: /);
    }
    const target = await call(k.url, token, 'POST', `/api/v2/keys/${key.id}/actions/wrap`, {
      body: { plaintext: '!!' },
      headers: h,
    });
    expect(
      (target.json as { resources: Array<{ reasons: Array<{ target: unknown }> }> }).resources[0]!.reasons[0]!.target,
    ).toEqual({ type: 'field', name: 'plaintext' });
  });

  it('unknown paths are 404 in Key Protect’s shape under /api and IAM’s under /iam', async () => {
    const kp = await call(k.url, token, 'GET', '/api/v2/nothing', { headers: h });
    expect([kp.status, reasonOf(kp.json)]).toEqual([404, 'NOT_FOUND_ERR']);
    const iam = await call<{ errorCode: string }>(k.url, token, 'GET', '/iam/v1/nothing');
    expect([iam.status, iam.json.errorCode]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('authentication and headers', () => {
  it('no token 401, a malformed token 400 BEARER_SUB_EXTRACTION_ERR, a forged one 401, no bluemix-instance 400', async () => {
    const none = await fetch(`${k.url}/api/v2/keys`, { headers: h });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { resources: Array<{ errorMsg: string }> }).resources[0]!.errorMsg).toBe(
      'Unauthorized: The user does not have access to the specified resource',
    );
    const malformed = await call(k.url, 'garbage', 'GET', '/api/v2/keys', { headers: h });
    expect([malformed.status, reasonOf(malformed.json)]).toEqual([400, 'BEARER_SUB_EXTRACTION_ERR']);
    const [hd, pl] = token.split('.');
    const forged = await call(k.url, `${hd}.${pl}.${randomBytes(32).toString('base64url')}`, 'GET', '/api/v2/keys', {
      headers: h,
    });
    expect(forged.status).toBe(401);
    const noInst = await call(k.url, token, 'GET', '/api/v2/keys');
    expect([noInst.status, reasonOf(noInst.json)]).toEqual([400, 'INVALID_FIELD_ERR']);
  });

  it('echoes correlation-id and audits with it; prefer minimal/representation; a bad prefer is 400', async () => {
    const cid = 'test-correlation-0001';
    const r = await call<Coll<KeyOut>>(k.url, token, 'POST', '/api/v2/keys', {
      body: keyBody({ name: 'std', extractable: true }),
      headers: { ...h, 'correlation-id': cid, prefer: 'return=minimal' },
    });
    expect(r.headers.get('correlation-id')).toBe(cid);
    expect(r.json.resources[0]!.payload).toBeUndefined();
    const full = await call<Coll<KeyOut>>(k.url, token, 'POST', '/api/v2/keys', {
      body: keyBody({ name: 'std', extractable: true }),
      headers: { ...h, prefer: 'return=representation' },
    });
    expect(full.json.resources[0]!.payload).toBeTruthy();
    const root = await call<Coll<KeyOut>>(k.url, token, 'POST', '/api/v2/keys', {
      body: keyBody({ name: 'root', payload: randomBytes(32).toString('base64') }),
      headers: { ...h, prefer: 'return=representation' },
    });
    expect(root.json.resources[0]!.payload).toBeUndefined();
    expect(
      (await call(k.url, token, 'GET', '/api/v2/keys', { headers: { ...h, prefer: 'return=everything' } })).status,
    ).toBe(400);
    const entries = await readAuditLog(k.auditPath);
    expect(entries.find((e) => e.correlationId === cid)).toMatchObject({
      action: 'createKey',
      outcome: 'success',
      key: r.json.resources[0]!.id,
      version: expect.any(String),
    });
  });

  it('keys_with_policy_overrides and PATCH to another key ring', async () => {
    const r = await call<Coll<KeyOut>>(k.url, token, 'POST', '/api/v2/keys_with_policy_overrides', {
      body: keyBody({
        name: 'with-policies',
        rotation: { enabled: true, interval_month: 2 },
        dualAuthDelete: { enabled: true },
      }),
      headers: h,
    });
    expect(r.status).toBe(201);
    expect(r.json.resources[0]).toMatchObject({ rotation: { interval_month: 2 }, dualAuthDelete: { enabled: true } });
    expect((await call(k.url, token, 'POST', '/api/v2/key_rings/ring-x', { headers: h })).status).toBe(201);
    const moved = await call<Coll<KeyOut>>(k.url, token, 'PATCH', `/api/v2/keys/${r.json.resources[0]!.id}`, {
      body: { keyRingID: 'ring-x' },
      headers: h,
    });
    expect(moved.json.resources[0]!.keyRingID).toBe('ring-x');
    const mismatch = await call(k.url, token, 'POST', '/api/v2/keys', {
      body: keyBody({ name: 'key-x', keyRingID: 'ring-x' }),
      headers: { ...h, 'x-kms-key-ring': 'default' },
    });
    expect([mismatch.status, reasonOf(mismatch.json)]).toEqual([400, 'BODY_QUERY_PARAM_MISMATCH_ERR']);
  });
});

describe('POST /identity/token', () => {
  const post = (form: Record<string, string>) =>
    fetch(`${k.url}/identity/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });

  it('answers IBM IAM’s shape: tokens, and {errorCode, errorMessage} errors', async () => {
    const ok = await post({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: k.apikey });
    const body = (await ok.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expiration',
      'expires_in',
      'refresh_token',
      'scope',
      'token_type',
    ]);
    const refreshed = await post({ grant_type: 'refresh_token', refresh_token: body.refresh_token as string });
    expect(refreshed.status).toBe(200);
    const bad = await post({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: 'wrong-key' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      errorCode: 'BXNIM0415E',
      errorMessage: 'Provided API key could not be found.',
    });
    expect((await post({ grant_type: 'password', apikey: k.apikey })).status).toBe(400);
    expect((await post({ grant_type: 'refresh_token', refresh_token: body.access_token as string })).status).toBe(400);
  });
});

describe('service identities and the gateway tenant header', () => {
  it('event_ack and registration writes need a service identity', async () => {
    const key = await createKey();
    const svc = await identityWithRole(k.url, token, k.account, 'service', 'adopter', {
      instanceId: k.instanceId,
      role: 'Reader',
    });
    const ack = {
      metadata: { collectionType: 'application/vnd.ibm.kms.event_acknowledge+json', collectionTotal: 1 },
      resources: [
        {
          eventId: 'e1',
          adopterKeyState: 'DEK_ENABLED',
          timestamp: '2026-01-01T00:00:00Z',
          keyStateData: { rewrappedKeyVersion: key.id },
        },
      ],
    };
    expect((await call(k.url, token, 'POST', '/api/v2/event_ack', { body: ack, headers: h })).status).toBe(403);
    // The service identity passes; the event it names was never issued: 404 (eventAcks.ts), not 403.
    expect((await call(k.url, svc.token, 'POST', '/api/v2/event_ack', { body: ack, headers: h })).status).toBe(404);
    const crn = encodeURIComponent(`crn:v1:coffer:local:cloud-object-storage:global:a/${k.account}:s:bucket:b1`);
    const reg = (r: Record<string, unknown>) => ({
      metadata: { collectionType: 'application/vnd.ibm.kms.registration_input+json', collectionTotal: 1 },
      resources: [r],
    });
    const path = `/api/v2/keys/${key.id}/registrations/${crn}`;
    expect(
      (await call(k.url, svc.token, 'POST', path, { body: reg({ preventKeyDeletion: true }), headers: h })).status,
    ).toBe(201);
    expect(
      (
        await call(k.url, svc.token, 'PATCH', path, {
          body: reg({ description: 'd', registrationMetadata: 'svc-private' }),
          headers: h,
        })
      ).status,
    ).toBe(200);
    const other = await identityWithRole(k.url, token, k.account, 'service', 'other-adopter', {
      instanceId: k.instanceId,
      role: 'Reader',
    });
    const seen = async (t: string) =>
      (
        await call<Coll<{ registrationMetadata?: string }>>(k.url, t, 'GET', `/api/v2/keys/${key.id}/registrations`, {
          headers: h,
        })
      ).json.resources[0]!.registrationMetadata;
    expect(await seen(svc.token)).toBe('svc-private');
    expect(await seen(other.token)).toBeUndefined();
    expect(await seen(token)).toBeUndefined();
    const put = await call<Coll<{ preventKeyDeletion: boolean }>>(k.url, svc.token, 'PUT', path, {
      body: reg({ description: 'r' }),
      headers: h,
    });
    expect(put.json.resources[0]!.preventKeyDeletion).toBe(false);
    expect((await call(k.url, token, 'DELETE', path, { headers: h })).status).toBe(403);
    expect((await call(k.url, svc.token, 'DELETE', path, { headers: h })).status).toBe(204);
  });

  it('x-coffer-tenant: only a gateway identity may send it, and it is then judged as that tenant', async () => {
    const key = await createKey();
    const tenantB = (await k.iam.service.createAccount({ name: 'tenant-b' })).account.id;
    const gwKey = await k.iam.service.createApiKey(k.iam.gatewayIdentity.id, 'gateway');
    const gwToken = await tokenFor(k.url, gwKey.apiKey);
    const wrap = (t: string, tenant: string) =>
      call(k.url, t, 'POST', `/api/v2/keys/${key.id}/actions/wrap`, { headers: { ...h, 'x-coffer-tenant': tenant } });
    expect((await wrap(token, k.account)).status).toBe(403);
    // Inside one account too, the gateway (the account's COS) needs an authorization.
    expect((await wrap(gwToken, k.account)).status).toBe(401);
    await k.iam.access.createAuthorization({
      sourceAccount: k.account,
      target: { instanceId: k.instanceId },
      by: 'test',
    });
    expect((await wrap(gwToken, k.account)).status).toBe(200);
    expect((await wrap(gwToken, tenantB)).status).toBe(401);
    await k.iam.access.createAuthorization({
      sourceAccount: tenantB,
      target: { instanceId: k.instanceId, keyId: key.id },
      by: 'test',
    });
    expect((await wrap(gwToken, tenantB)).status).toBe(200);
    const create = await call(k.url, gwToken, 'POST', '/api/v2/keys', {
      body: keyBody({ name: 'x' }),
      headers: { ...h, 'x-coffer-tenant': tenantB },
    });
    expect(create.status).toBe(401);
  });
});
