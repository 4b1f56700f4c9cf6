import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InstancePolicies } from '../../../src/kms/instancePolicies.js';
import { InstanceStateStore } from '../../../src/kms/instanceState.js';
import { openTestKms, type TestKms } from './kmsTestKit.js';

let k: TestKms;
let state: InstanceStateStore;
let policies: InstancePolicies;

beforeEach(async () => {
  k = await openTestKms();
  state = await InstanceStateStore.open(join(k.dir, 'kms-instance'));
  policies = new InstancePolicies(state, k.service, k.clock.now);
});

afterEach(async () => {
  await state.close();
  await k.close();
});

const kinds = (p: InstancePolicies, id: string) =>
  [
    { extractable: false, imported: false, secure: false },
    { extractable: true, imported: false, secure: false },
    { extractable: false, imported: true, secure: false },
    { extractable: false, imported: true, secure: true },
  ].map((kind) => {
    try {
      p.assertCreateImportAccess(id, kind);
      return 'ok';
    } catch (e) {
      return (e as { reason: string }).reason;
    }
  });

describe('InstancePolicies', () => {
  it('stores policies, keeping who created one and when across updates', async () => {
    const t0 = k.clock.now();
    await policies.put(k.instanceId, [{ type: 'dualAuthDelete', enabled: true }], 'user-1');
    k.clock.advance(1000);
    await policies.put(
      k.instanceId,
      [
        { type: 'dualAuthDelete', enabled: false },
        { type: 'rotation', enabled: true, attributes: { interval_month: 3 } },
      ],
      'user-2',
    );
    expect(policies.list(k.instanceId, 'dualAuthDelete')).toEqual([
      {
        instanceId: k.instanceId,
        policy_type: 'dualAuthDelete',
        policy_data: { enabled: false },
        createdBy: 'user-1',
        creationDate: t0,
        updatedBy: 'user-2',
        lastUpdated: t0 + 1000,
      },
    ]);
    expect(policies.list(k.instanceId).map((p) => p.policy_type)).toEqual(['dualAuthDelete', 'rotation']);
  });

  it('keyCreateImportAccess forbids what its attributes turn off, and plain imports under enforce_token', async () => {
    expect(kinds(policies, k.instanceId)).toEqual(['ok', 'ok', 'ok', 'ok']);
    await policies.put(
      k.instanceId,
      [
        {
          type: 'keyCreateImportAccess',
          enabled: true,
          attributes: { create_standard_key: false, enforce_token: true },
        },
      ],
      'u',
    );
    const E = 'KEY_CREATE_IMPORT_ACCESS_ERR';
    expect(kinds(policies, k.instanceId)).toEqual(['ok', E, E, 'ok']);
    await policies.put(
      k.instanceId,
      [{ type: 'keyCreateImportAccess', enabled: false, attributes: { create_standard_key: false } }],
      'u',
    );
    expect(kinds(policies, k.instanceId)).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it('new keys get the instance dualAuthDelete and rotation policies unless the request sent its own', async () => {
    await policies.put(
      k.instanceId,
      [
        { type: 'dualAuthDelete', enabled: true },
        { type: 'rotation', enabled: true, attributes: { interval_month: 2 } },
      ],
      'u',
    );
    const a = await k.service.createKey(k.instanceId, { name: 'key-a' });
    await policies.applyDualAuthDelete(k.instanceId, a, undefined, 'u');
    await policies.applyRotation(k.instanceId, a, undefined, 'u');
    expect(await k.service.getPolicies(k.instanceId, a.id)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ dualAuthDelete: { enabled: true } }),
        expect.objectContaining({ rotation: { enabled: true, interval_month: 2 } }),
      ]),
    );
    const b = await k.service.createKey(k.instanceId, { name: 'key-b' });
    await policies.applyDualAuthDelete(k.instanceId, b, {}, 'u');
    await policies.applyRotation(k.instanceId, b, { enabled: false, intervalMonth: 5 }, 'u');
    const bp = await k.service.getPolicies(k.instanceId, b.id);
    expect(bp.some((p) => p.dualAuthDelete !== undefined)).toBe(false);
    expect(bp).toEqual([expect.objectContaining({ rotation: { enabled: false, interval_month: 5 } })]);
    const std = await k.service.createKey(k.instanceId, { name: 'std-key', extractable: true });
    await policies.applyRotation(k.instanceId, std, undefined, 'u');
    expect(await k.service.getPolicies(k.instanceId, std.id)).toEqual([]);
  });
});

describe('InstancePolicies: network policies and metrics', () => {
  const pub = (address: string | undefined) => ({ address, isPrivate: false });
  const priv = (address: string) => ({ address, isPrivate: true });

  it('with no policy every client is allowed and metrics are off', () => {
    expect(policies.allowsNetwork(k.instanceId, pub('198.51.100.1'))).toBe(true);
    expect(policies.allowsNetwork(k.instanceId, pub(undefined))).toBe(true);
    expect(policies.metricsEnabled(k.instanceId)).toBe(false);
  });

  it('allowedNetwork private-only allows private clients only; disabled or public-and-private allows all', async () => {
    const set = (enabled: boolean, allowed_network: 'private-only' | 'public-and-private') =>
      policies.put(k.instanceId, [{ type: 'allowedNetwork', enabled, attributes: { allowed_network } }], 'u');
    await set(true, 'private-only');
    expect(policies.allowsNetwork(k.instanceId, pub('198.51.100.1'))).toBe(false);
    expect(policies.allowsNetwork(k.instanceId, priv('10.0.0.1'))).toBe(true);
    await set(false, 'private-only');
    expect(policies.allowsNetwork(k.instanceId, pub('198.51.100.1'))).toBe(true);
    await set(true, 'public-and-private');
    expect(policies.allowsNetwork(k.instanceId, pub('198.51.100.1'))).toBe(true);
  });

  it('allowedIP allows addresses in its ranges only, a private client included; an unknown address is refused', async () => {
    await policies.put(
      k.instanceId,
      [{ type: 'allowedIP', enabled: true, attributes: { allowed_ip: ['203.0.113.0/24', '2001:db8::/32'] } }],
      'u',
    );
    expect(policies.allowsNetwork(k.instanceId, pub('203.0.113.200'))).toBe(true);
    expect(policies.allowsNetwork(k.instanceId, pub('2001:db8::7'))).toBe(true);
    expect(policies.allowsNetwork(k.instanceId, priv('10.0.0.1'))).toBe(false);
    expect(policies.allowsNetwork(k.instanceId, pub(undefined))).toBe(false);
    await policies.put(k.instanceId, [{ type: 'allowedIP', enabled: false }], 'u');
    expect(policies.allowsNetwork(k.instanceId, pub('198.51.100.1'))).toBe(true);
  });

  it('metrics follows its policy', async () => {
    await policies.put(k.instanceId, [{ type: 'metrics', enabled: true }], 'u');
    expect(policies.metricsEnabled(k.instanceId)).toBe(true);
    await policies.put(k.instanceId, [{ type: 'metrics', enabled: false }], 'u');
    expect(policies.metricsEnabled(k.instanceId)).toBe(false);
  });
});
