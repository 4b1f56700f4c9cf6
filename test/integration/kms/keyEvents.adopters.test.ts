/**
 * IBM's adopter semantics over the HTTP API (key-protect.md 1.6), against the
 * KMS server (startKmsServer, the composition root of `coffer kms`) on a
 * manual clock so Key Protect's 30 s and 1 h rules can be crossed:
 *
 * - a registered resource (a service identity's registration) gets one
 *   outstanding event per rotate, disable, enable, delete and restore, shown
 *   by GET /api/v2/keys/{id}/events, cleared one by one by POST
 *   /api/v2/event_ack;
 * - sync (IBM's SDK syncAssociatedResources) re-sends: the gateways' stream
 *   gets the key's last event again, marked resent;
 * - authorizations granted and revoked are events on the stream too; the
 *   stream is for gateway identities only and replays after Last-Event-ID;
 * - webhooks: a receiver on 127.0.0.1 registered with the registration gets
 *   each event POSTed, signed (HMAC-SHA256, checked by the receiver), retried
 *   with backoff while it answers 500, and again on sync.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { startKmsServer, type KmsServer } from '../../../src/server/kmsServer.js';
import { createLogger } from '../../../src/util/logger.js';
import { KeyEventFollower, WebhookReceiver } from './eventsKit.js';
import { call, identityWithRole, reasonOf, tokenFor } from './kmsHttp.js';
import { keyProtectClient, sdkFailure } from './kpSdk.js';
import { GATEWAY_APIKEY, Kp, ROOT_APIKEY, ROOT_SECRET, ROOT_USER, SEC } from './lifecycleKit.js';

interface EventResource {
  eventId: string;
  eventType: string;
  keyId: string;
  keyCrn: string;
  resourceCrn: string;
  keyVersion?: { id: string };
  timestamp: string;
  webhook?: { attempts: number; delivered: boolean; deliveredAt?: string };
}

const HOUR = 3600 * SEC;
const WEBHOOK_SECRET = 'adopter-webhook-secret-0123456789';
const ADOPTER_STATE: Record<string, string> = {
  rotate: 'DEK_ROTATED',
  disable: 'DEK_DISABLED',
  enable: 'DEK_ENABLED',
  delete: 'DEK_DELETED',
  restore: 'DEK_RESTORED',
};

describe('key events for registered services (adopters) and webhooks', () => {
  let dir: string;
  let kms: KmsServer;
  let kp: Kp;
  let t = Date.now();
  let adopter: { token: string };
  let follower: KeyEventFollower;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coffer-adopters-'));
    const config = loadConfig(
      {},
      {
        host: '127.0.0.1',
        kmsPort: 0,
        logLevel: 'silent',
        dataDir: join(dir, 'kms'),
        rootUser: ROOT_USER,
        rootPassword: ROOT_SECRET,
        rootApiKey: ROOT_APIKEY,
        gatewayApiKey: GATEWAY_APIKEY,
        masterKey: Buffer.alloc(32, 9).toString('base64'),
      },
    );
    kms = await startKmsServer(config, createLogger('silent'), { now: () => t });
    const instanceId = await kms.kms.ensureTenant(kms.root.accountId);
    kp = new Kp(kms.url, ROOT_APIKEY, instanceId);
    const admin = await tokenFor(kms.url, ROOT_APIKEY);
    adopter = await identityWithRole(kms.url, admin, kms.root.accountId, 'service', 'database', {
      instanceId,
      role: 'Reader',
    });
    follower = new KeyEventFollower(kms.url, await tokenFor(kms.url, GATEWAY_APIKEY));
    expect(await follower.open()).toBe(200);
    await follower.next((m) => m.event === 'hello');
  });
  afterAll(async () => {
    await follower?.close();
    await kms?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const resource = (name: string) =>
    `crn:v1:coffer:local:databases-for-postgresql:global:a/${kms.root.accountId}:pg-1:database:${name}`;

  async function register(keyId: string, crn: string, webhook?: { url: string; secret: string }): Promise<void> {
    const r = await call(
      kms.url,
      adopter.token,
      'POST',
      `/api/v2/keys/${keyId}/registrations/${encodeURIComponent(crn)}`,
      {
        headers: { 'bluemix-instance': kp.instanceId },
        body: {
          metadata: { collectionType: 'application/vnd.ibm.kms.registration_input+json', collectionTotal: 1 },
          resources: [{ description: 'an adopter database', ...(webhook ? { webhook } : {}) }],
        },
      },
    );
    expect(r.status).toBe(201);
  }

  async function outstanding(keyId: string): Promise<EventResource[]> {
    const r = await kp.req<{ metadata: { collectionType: string }; resources: EventResource[] }>(
      'GET',
      `/keys/${keyId}/events`,
    );
    expect(r.status).toBe(200);
    expect(r.json.metadata.collectionType).toBe('application/vnd.ibm.kms.event+json');
    return r.json.resources;
  }

  function ack(e: EventResource, token = adopter.token) {
    const state = ADOPTER_STATE[e.eventType]!;
    return call(kms.url, token, 'POST', '/api/v2/event_ack', {
      headers: { 'bluemix-instance': kp.instanceId },
      body: {
        metadata: { collectionType: 'application/vnd.ibm.kms.event_acknowledge+json', collectionTotal: 1 },
        resources: [
          {
            eventId: e.eventId,
            adopterKeyState: state,
            timestamp: new Date(t).toISOString(),
            ...(state === 'DEK_ENABLED' || state === 'DEK_ROTATED'
              ? { keyStateData: { rewrappedKeyVersion: e.keyVersion!.id } }
              : {}),
          },
        ],
      },
    });
  }

  it('the stream (GET /iam/v1/key-events): gateway identities only; replay after Last-Event-ID; reset for a sequence it never issued; 400 for a bad one', async () => {
    const url = `${kms.url}/iam/v1/key-events`;
    expect((await fetch(url)).status).toBe(401);
    const asUser = await fetch(url, { headers: { authorization: `Bearer ${await tokenFor(kms.url, ROOT_APIKEY)}` } });
    expect(asUser.status).toBe(403);
    await asUser.body?.cancel();
    const asAdopter = await fetch(url, { headers: { authorization: `Bearer ${adopter.token}` } });
    expect(asAdopter.status).toBe(403);
    await asAdopter.body?.cancel();
    const gwToken = await tokenFor(kms.url, GATEWAY_APIKEY);
    const bad = await fetch(url, { headers: { authorization: `Bearer ${gwToken}`, 'last-event-id': 'x1' } });
    expect(bad.status).toBe(400);
    await bad.body?.cancel();

    const key = await kp.createRootKey('replayed');
    expect((await kp.req('POST', `/keys/${key.id}/actions/disable`)).status).toBe(204);
    const disabled = await follower.next((m) => m.data.type === 'disable' && m.data.keyId === key.id);
    t += 31 * SEC;
    expect((await kp.req('POST', `/keys/${key.id}/actions/enable`)).status).toBe(204);
    const enabled = await follower.next((m) => m.data.type === 'enable' && m.data.keyId === key.id);
    // Resumed from just before the disable: both again, in order, same sequence numbers.
    const replay = new KeyEventFollower(kms.url, gwToken);
    try {
      expect(await replay.open(Number(disabled.id) - 1)).toBe(200);
      await replay.next((m) => m.id === enabled.id);
      const mine = replay.messages.filter((m) => m.data.keyId === key.id);
      expect(mine.map((m) => [m.event, m.id, m.data.type])).toEqual([
        ['key', disabled.id, 'disable'],
        ['key', enabled.id, 'enable'],
      ]);
      expect(replay.messages.map((m) => Number(m.id))).toEqual(
        [...replay.messages.map((m) => Number(m.id))].sort((a, b) => a - b),
      );
    } finally {
      await replay.close();
    }
    const ahead = new KeyEventFollower(kms.url, gwToken);
    try {
      expect(await ahead.open(Number(enabled.id) + 1000)).toBe(200);
      const reset = await ahead.next(() => true);
      expect(reset.event).toBe('reset');
      expect(Number(reset.id)).toBeGreaterThanOrEqual(Number(enabled.id));
    } finally {
      await ahead.close();
    }
  });

  it('rotate, disable, enable, delete and restore each leave one outstanding event per registration; event_ack clears them one by one', async () => {
    const key = await kp.createRootKey('adopted');
    const [db1, db2] = [resource('db-1'), resource('db-2')];
    await register(key.id, db1);
    await register(key.id, db2);
    expect(await outstanding(key.id)).toEqual([]);

    expect((await kp.req('POST', `/keys/${key.id}/actions/rotate`)).status).toBe(204);
    const rotated = await kp.keyVersion(key.id);
    t += 31 * SEC;
    expect((await kp.req('POST', `/keys/${key.id}/actions/disable`)).status).toBe(204);
    t += 31 * SEC;
    expect((await kp.req('POST', `/keys/${key.id}/actions/enable`)).status).toBe(204);
    t += 31 * SEC;
    // Registrations protect the key: deleting it takes force, and the registered services are told.
    expect((await kp.req('DELETE', `/keys/${key.id}?force=true`)).status).toBe(204);
    t += 31 * SEC;
    expect((await kp.req('POST', `/keys/${key.id}/restore`)).status).toBe(201);

    const events = await outstanding(key.id);
    const types = ['rotate', 'disable', 'enable', 'delete', 'restore'];
    expect(events.map((e) => [e.eventType, e.resourceCrn])).toEqual(
      types.flatMap((ty) => [
        [ty, db1],
        [ty, db2],
      ]),
    );
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    for (const e of events) {
      expect(e).toMatchObject({ keyId: key.id, keyCrn: key.crn, keyVersion: { id: rotated } });
      expect(e.webhook).toBeUndefined();
    }
    // Each event carries its own time (the KMS clock moved 31 s between them).
    const times = events.filter((e) => e.resourceCrn === db1).map((e) => Date.parse(e.timestamp));
    expect(times.slice(1).map((x, i) => x - times[i]!)).toEqual([31 * SEC, 31 * SEC, 31 * SEC, 31 * SEC]);

    // Only a service acknowledges; the key's owner may look but not ack.
    const byOwner = await ack(events[0]!, await tokenFor(kms.url, ROOT_APIKEY));
    expect(byOwner.status).toBe(403);
    let left = events;
    for (const e of events.filter((x) => x.resourceCrn === db1)) {
      expect((await ack(e)).status).toBe(204);
      left = left.filter((x) => x.eventId !== e.eventId);
      expect(await outstanding(key.id)).toEqual(left);
    }
    expect(left.every((e) => e.resourceCrn === db2)).toBe(true);
    const twice = await ack(events[0]!);
    expect([twice.status, reasonOf(twice.json)]).toEqual([404, 'NOT_FOUND_ERR']);
  });

  it("sync (IBM SDK syncAssociatedResources): 409 within the hour, then the key's last event is sent again (resent) on the stream", async () => {
    const key = await kp.createRootKey('synced');
    await register(key.id, resource('db-sync'));
    expect((await kp.req('POST', `/keys/${key.id}/actions/disable`)).status).toBe(204);
    const disabled = await follower.next((m) => m.data.type === 'disable' && m.data.keyId === key.id);
    const sdk = keyProtectClient(kms.url, ROOT_APIKEY);
    const early = await sdkFailure(sdk.syncAssociatedResources!({ bluemixInstance: kp.instanceId, id: key.id }));
    expect([early.status, early.code]).toEqual([409, 'REQ_TOO_EARLY_ERR']);
    t += HOUR + SEC;
    expect((await sdk.syncAssociatedResources!({ bluemixInstance: kp.instanceId, id: key.id })).status).toBe(204);
    const resent = await follower.next((m) => m.data.keyId === key.id && m.data.resent === true);
    expect(resent.data).toMatchObject({ type: 'disable', keyCrn: key.crn, instanceId: kp.instanceId });
    expect(Number(resent.id)).toBeGreaterThan(Number(disabled.id));
    // No new delivery: the registered service still owes the one acknowledgement.
    expect((await outstanding(key.id)).map((e) => e.eventType)).toEqual(['disable']);
  });

  it('authorizations granted and revoked are events on the stream, naming the instance and the source account', async () => {
    const admin = await tokenFor(kms.url, ROOT_APIKEY);
    const acct = await call<{ account: { id: string }; apikey: string }>(kms.url, admin, 'POST', '/iam/v1/accounts', {
      body: { name: 'authz events' },
    });
    expect(acct.status).toBe(201);
    const token = await tokenFor(kms.url, acct.json.apikey);
    const inst = await call<{ id: string }>(kms.url, token, 'POST', '/iam/v1/instances', { body: { name: 'own' } });
    const body = {
      type: 'authorization',
      subjects: [
        {
          attributes: [
            { name: 'accountId', value: acct.json.account.id },
            { name: 'serviceName', value: 'cloud-object-storage' },
            { name: 'serviceInstance', value: 'coffer-s3' },
          ],
        },
      ],
      roles: [{ role_id: 'crn:v1:bluemix:public:iam::::serviceRole:Reader' }],
      resources: [
        {
          attributes: [
            { name: 'accountId', value: acct.json.account.id },
            { name: 'serviceName', value: 'kms' },
            { name: 'serviceInstance', value: inst.json.id },
          ],
        },
      ],
    };
    const created = await call<{ id: string }>(kms.url, token, 'POST', '/v1/policies', { body });
    expect(created.status).toBe(201);
    const granted = await follower.next(
      (m) => m.data.type === 'authorization_granted' && m.data.instanceId === inst.json.id,
    );
    expect(granted.data).toMatchObject({ account: acct.json.account.id });
    expect(granted.data.keyId).toBeUndefined();
    expect((await call(kms.url, token, 'DELETE', `/v1/policies/${created.json.id}`)).status).toBe(204);
    const revoked = await follower.next(
      (m) => m.data.type === 'authorization_revoked' && m.data.instanceId === inst.json.id,
    );
    expect(revoked.data).toMatchObject({ account: acct.json.account.id });
    expect(Number(revoked.id)).toBeGreaterThan(Number(granted.id));
  });

  it('a webhook receiver: signed deliveries, two 500s retried with backoff, then delivered; sync re-sends it; event_ack clears it', async () => {
    const receiver = new WebhookReceiver(WEBHOOK_SECRET, [500, 500]);
    try {
      const url = await receiver.start();
      const key = await kp.createRootKey('hooked');
      const db = resource('db-hooked');
      await register(key.id, db, { url, secret: WEBHOOK_SECRET });
      // The secret signs; it is never shown back.
      const regs = await kp.req<{ resources: Array<Record<string, unknown>> }>('GET', `/keys/${key.id}/registrations`);
      expect(JSON.stringify(regs.json)).not.toContain(WEBHOOK_SECRET);

      const disabledAt = t;
      expect((await kp.req('POST', `/keys/${key.id}/actions/disable`)).status).toBe(204);
      const three = await receiver.count(3);
      expect(three.map((r) => [r.attempt, r.signed, r.answered])).toEqual([
        ['1', true, 500],
        ['2', true, 500],
        ['3', true, 200],
      ]);
      // Backoff: about 1 s doubling, each wait between half and all of it.
      const gaps = [three[1]!.at - three[0]!.at, three[2]!.at - three[1]!.at];
      console.info(`[measure] webhook retries after ${gaps.map((g) => g.toFixed(0)).join(' ms, ')} ms`);
      expect(gaps[0]).toBeGreaterThanOrEqual(450);
      expect(gaps[1]).toBeGreaterThanOrEqual(950);
      const [e] = await outstanding(key.id);
      expect(e).toMatchObject({ eventType: 'disable', resourceCrn: db, webhook: { attempts: 3, delivered: true } });
      for (const r of three) {
        expect(r.eventId).toBe(e!.eventId);
        expect(r.body).toEqual({
          eventId: e!.eventId,
          eventType: 'disable',
          seq: expect.any(Number),
          keyId: key.id,
          keyCrn: key.crn,
          resourceCrn: db,
          keyVersion: key.id,
          timestamp: new Date(disabledAt).toISOString(),
        });
      }

      t += HOUR + SEC;
      expect((await kp.req('POST', `/keys/${key.id}/actions/sync`)).status).toBe(204);
      const [again] = (await receiver.count(4)).slice(3);
      expect([again!.signed, again!.eventId, again!.body.resent]).toEqual([true, e!.eventId, true]);

      expect((await ack(e!)).status).toBe(204);
      expect(await outstanding(key.id)).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});
