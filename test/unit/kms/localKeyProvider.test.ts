import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { formatKeyCrn } from '../../../src/keys/crn.js';
import { DekCache } from '../../../src/keys/dekCache.js';
import { openLocalKms } from '../../../src/kms/localKms.js';
import { KmsError } from '../../../src/keys/errors.js';
import { KeyState, type KeyEvent } from '../../../src/keys/KeyProvider.js';
import { keyProviderContract } from '../../contract/keyProvider.contract.js';
import { ManualClock, openTestKms, tempDir, type TestKms } from './kmsTestKit.js';

function keyIdOf(crn: string): string {
  return crn.split(':')[9] ?? '';
}

keyProviderContract('LocalKeyProvider', async () => {
  const k = await openTestKms();
  return {
    provider: k.provider,
    tenant: k.account,
    otherTenant: 'acct-b',
    createRootKey: async () => (await k.service.createKey(k.instanceId, { name: 'contract-root' })).crn,
    unknownKeyCrn: async () =>
      formatKeyCrn({ region: 'us-south', account: k.account, instanceId: k.instanceId, keyId: randomUUID() }),
    rotate: async (crn) => {
      await k.service.rotate(k.instanceId, keyIdOf(crn));
    },
    disable: (crn) => k.service.disable(k.instanceId, keyIdOf(crn)),
    enable: (crn) => k.service.enable(k.instanceId, keyIdOf(crn)),
    deleteKey: async (crn, o) => {
      await k.service.deleteKey(k.instanceId, keyIdOf(crn), { force: o?.force ?? false });
    },
    restore: async (crn) => {
      await k.service.restore(k.instanceId, keyIdOf(crn));
    },
    advanceTime: async (ms) => k.clock.advance(ms),
    close: () => k.close(),
  };
});

describe('LocalKeyProvider', () => {
  let k: TestKms | undefined;
  afterEach(async () => {
    await k?.close();
    k = undefined;
  });

  it('bootstrap is idempotent across restarts: same default instance and key', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const master = Buffer.alloc(32, 7);
      const a = await openLocalKms({ dir, masterKey: master, defaultInstance: { region: 'eu-de' } });
      const first = await a.provider.bootstrap();
      expect(await a.provider.bootstrap()).toEqual(first);
      expect(first.crn).toMatch(/^crn:v1:coffer:local:kms:eu-de:a\/coffer:[^:]+:key:[^:]+$/);
      const g = await a.provider.generateDataKey({ tenant: 'anyone' }, first.crn, ['x']);
      await a.close();
      const b = await openLocalKms({ dir, masterKey: master, defaultInstance: { region: 'eu-de' } });
      expect(await b.provider.defaultRootKeyCrn({ tenant: 'anyone' })).toBe(first.crn);
      expect((await b.service.listInstances()).length).toBe(1);
      const u = await b.provider.unwrap({ tenant: 'someone-else' }, first.crn, g.wrapped, ['x']);
      expect(u.plaintext.equals(g.plaintext)).toBe(true);
      await b.close();
    } finally {
      await cleanup();
    }
  });

  it('answers an unknown key, a purged key, a foreign CRN shape and an alias CRN with the same 404', async () => {
    k = await openTestKms();
    const key = await k.service.createKey(k.instanceId, { name: 'to-purge', aliases: ['my-alias'] });
    const me = { tenant: k.account };
    const aliasCrn = key.crn.replace(/key:[^:]+$/, 'key:my-alias');
    const bluemix = key.crn.replace('crn:v1:coffer:local:', 'crn:v1:bluemix:public:');
    const otherRegion = key.crn.replace(':us-south:', ':eu-de:');
    await k.service.deleteKey(k.instanceId, key.id);
    k.clock.advance(4 * 3600_000);
    await k.service.purge(k.instanceId, key.id);
    for (const crn of [key.crn, aliasCrn, bluemix, otherRegion]) {
      const e = await k.provider.getKeyState(me, crn).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(KmsError);
      expect((e as KmsError).status).toBe(404);
      expect((e as KmsError).reason).toBe('KEY_NOT_FOUND_ERR');
      expect((e as KmsError).message).toBe(`The key ${crn} could not be found`);
    }
  });

  it('delivers lifecycle events to onKeyEvent before the admin call returns (DEK cache invalidated at once)', async () => {
    k = await openTestKms();
    const key = await k.service.createKey(k.instanceId, { name: 'evented' });
    const me = { tenant: k.account };
    const cache = new DekCache({ ttlMs: 60_000 });
    cache.attachTo(k.provider);
    const events: KeyEvent[] = [];
    k.provider.onKeyEvent((e) => events.push(e));
    const g = await k.provider.generateDataKey(me, key.crn, ['a']);
    cache.set(key.crn, g.wrapped, g.plaintext);
    expect(cache.get(key.crn, g.wrapped)).toBeDefined();
    const started = Date.now();
    await k.service.disable(k.instanceId, key.id);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(cache.get(key.crn, g.wrapped)).toBeUndefined();
    k.clock.advance(31_000);
    await k.service.enable(k.instanceId, key.id);
    await k.service.rotate(k.instanceId, key.id);
    k.clock.advance(31_000);
    await k.service.deleteKey(k.instanceId, key.id);
    expect(events.map((e) => e.type)).toEqual(['disable', 'enable', 'rotate', 'delete']);
    expect(events.every((e) => e.keyCrn === key.crn)).toBe(true);
    expect(events[2]?.keyVersion).not.toBe(key.keyVersion.id);
  });

  it('never caches a DEK from an unwrap that raced a disable', async () => {
    k = await openTestKms();
    const key = await k.service.createKey(k.instanceId, { name: 'race' });
    const me = { tenant: k.account };
    const cache = new DekCache({ ttlMs: 60_000 });
    cache.attachTo(k.provider);
    const g = await k.provider.generateDataKey(me, key.crn, ['a']);
    for (let i = 0; i < 20; i++) {
      // The gateway pattern: on a miss, unwrap then set.
      const reads = Array.from({ length: 5 }, async () => {
        try {
          const u = await k!.provider.unwrap(me, key.crn, g.wrapped, ['a']);
          cache.set(key.crn, g.wrapped, u.plaintext);
        } catch (e) {
          if (!(e instanceof KmsError)) throw e;
        }
      });
      await k.service.disable(k.instanceId, key.id);
      await Promise.all(reads);
      expect(cache.get(key.crn, g.wrapped)).toBeUndefined();
      expect(await k.provider.getKeyState(me, key.crn)).toBe(KeyState.Suspended);
      k.clock.advance(31_000);
      await k.service.enable(k.instanceId, key.id);
    }
  });

  it('uses the authorizer with the Reader role', async () => {
    const asked: string[] = [];
    k = await openTestKms({
      authorizer: {
        canUse: async (tenant, ref, role) => {
          asked.push(`${tenant}/${ref.account}/${role}`);
          return tenant === 'granted';
        },
      },
    });
    const key = await k.service.createKey(k.instanceId, { name: 'shared' });
    const g = await k.provider.generateDataKey({ tenant: 'granted' }, key.crn, []);
    expect(g.plaintext).toHaveLength(32);
    await expect(k.provider.getKeyState({ tenant: k.account }, key.crn)).rejects.toMatchObject({ status: 404 });
    expect(asked).toContain(`granted/${k.account}/Reader`);
  });

  it('can be built with a manual clock through openLocalKms', async () => {
    const { dir, cleanup } = await tempDir();
    const clock = new ManualClock();
    try {
      const kms = await openLocalKms({ dir, masterKey: Buffer.alloc(32, 1), now: clock.now });
      const boot = await kms.provider.bootstrap();
      const meta = await kms.service.getKeyMetadata(boot.instanceId, boot.keyId);
      expect(meta.creationDate).toBe(new Date(clock.t).toISOString().replace('.000Z', 'Z'));
      await kms.close();
    } finally {
      await cleanup();
    }
  });
});
