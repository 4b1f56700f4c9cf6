/**
 * Webhook retries are durable: `coffer kms` (a real process) keeps failing to
 * deliver a disable to a receiver that answers 500, is stopped, and once
 * started again over the same data dir resumes the retries where they were
 * (the attempt count carries on) until the receiver takes the delivery.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookReceiver } from './eventsKit.js';
import { call, identityWithRole, tokenFor } from './kmsHttp.js';
import { Kp, ROOT_APIKEY } from './lifecycleKit.js';
import { assertBuilt, banner, startKmsProc, stopProc, type Proc } from './processKit.js';

const SECRET = 'restart-webhook-secret-0123456789';

describe('webhook deliveries survive a KMS restart', () => {
  let dir: string;
  let kms: Proc | undefined;
  const receiver = new WebhookReceiver(
    SECRET,
    Array.from({ length: 1000 }, () => 500),
  );

  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), 'coffer-webhook-restart-'));
    await receiver.start();
  });
  afterAll(async () => {
    await stopProc(kms);
    await receiver.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('retried with backoff while refused, the KMS restarted: the next attempt continues the count and is delivered', async () => {
    const first = await startKmsProc(join(dir, 'kms'));
    kms = first.proc;
    const instanceId = await banner(kms, /Root KMS instance:\s+(\S+)/, 'coffer kms');
    const kp = new Kp(first.url, ROOT_APIKEY, instanceId);
    const admin = await tokenFor(first.url, ROOT_APIKEY);
    const svc = await identityWithRole(first.url, admin, first.rootAccount, 'service', 'hooked-db', {
      instanceId,
      role: 'Reader',
    });
    const key = await kp.createRootKey('restart-hooked');
    const resourceCrn = `crn:v1:coffer:local:databases-for-postgresql:global:a/${first.rootAccount}:pg-1:database:orders`;
    const reg = await call(
      first.url,
      svc.token,
      'POST',
      `/api/v2/keys/${key.id}/registrations/${encodeURIComponent(resourceCrn)}`,
      {
        headers: { 'bluemix-instance': instanceId },
        body: {
          metadata: { collectionType: 'application/vnd.ibm.kms.registration_input+json', collectionTotal: 1 },
          resources: [{ webhook: { url: receiver.url, secret: SECRET } }],
        },
      },
    );
    expect(reg.status).toBe(201);
    expect((await kp.req('POST', `/keys/${key.id}/actions/disable`)).status).toBe(204);
    const refused = await receiver.count(2);
    expect(refused.map((r) => [r.attempt, r.signed, r.answered])).toEqual([
      ['1', true, 500],
      ['2', true, 500],
    ]);

    expect(await stopProc(kms)).toBe(0);
    const beforeRestart = receiver.received.length;
    // From now on the receiver takes it.
    receiver.script.length = 0;
    const second = await startKmsProc(join(dir, 'kms'));
    kms = second.proc;
    const [delivered] = (await receiver.count(beforeRestart + 1, 20_000)).slice(beforeRestart);
    expect(delivered).toMatchObject({ signed: true, answered: 200, eventId: refused[0]!.eventId });
    // The count carried on (an attempt cut short by the stop may not have been stored: at least 3).
    const attempt = Number(delivered!.attempt);
    expect(attempt).toBeGreaterThanOrEqual(3);
    expect(attempt).toBeLessThanOrEqual(beforeRestart + 1);
    expect(delivered!.body).toMatchObject({ eventType: 'disable', keyId: key.id, resourceCrn });

    const after = new Kp(second.url, ROOT_APIKEY, instanceId);
    const events = await after.req<{ resources: Array<{ eventId: string; webhook?: unknown }> }>(
      'GET',
      `/keys/${key.id}/events`,
    );
    expect(events.json.resources).toEqual([
      expect.objectContaining({
        eventId: refused[0]!.eventId,
        webhook: expect.objectContaining({ attempts: attempt, delivered: true }),
      }),
    ]);
  });
});
