import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crnQueryMatcher } from '../../../src/kms/registrations.js';
import { openTestKms, type TestKms } from './kmsTestKit.js';

const B = (name: string, acct = 'acct-a') =>
  `crn:v1:coffer:local:cloud-object-storage:global:a/${acct}:cos-1:bucket:${name}`;

describe('registrations', () => {
  let k: TestKms;
  let keyId: string;
  beforeEach(async () => {
    k = await openTestKms();
    keyId = (await k.service.createKey(k.instanceId, { name: 'reg-root' })).id;
  });
  afterEach(async () => k.close());

  it('creates a registration with the newest key version by default; re-creating updates it', async () => {
    const r = await k.service.createRegistration(
      k.instanceId,
      keyId,
      B('one'),
      { description: 'bucket one', registrationMetadata: 'private' },
      'cos',
    );
    expect(r).toMatchObject({
      keyId,
      resourceCrn: B('one'),
      createdBy: 'cos',
      updatedBy: 'cos',
      description: 'bucket one',
      preventKeyDeletion: false,
      keyVersion: { id: keyId },
    });
    k.clock.advance(1000);
    const again = await k.service.createRegistration(
      k.instanceId,
      keyId,
      B('one'),
      { preventKeyDeletion: true },
      'cos-2',
    );
    expect(again).toMatchObject({
      createdBy: 'cos',
      updatedBy: 'cos-2',
      preventKeyDeletion: true,
      creationDate: r.creationDate,
    });
    expect(again.lastUpdated).not.toBe(r.lastUpdated);
    expect((await k.service.listRegistrations(k.instanceId, keyId)).total).toBe(1);
  });

  it('needs a root key (422 KEY_ROOT_REQ_REG_ERR) in the Active state (422 KEY_INVALID_STATE_ERR)', async () => {
    const std = (await k.service.createKey(k.instanceId, { name: 'std', extractable: true })).id;
    await expect(k.service.createRegistration(k.instanceId, std, B('x'))).rejects.toMatchObject({
      status: 422,
      reason: 'KEY_ROOT_REQ_REG_ERR',
    });
    await k.service.createRegistration(k.instanceId, keyId, B('kept'));
    await k.service.disable(k.instanceId, keyId);
    await expect(k.service.createRegistration(k.instanceId, keyId, B('x'))).rejects.toMatchObject({
      status: 422,
      reason: 'KEY_INVALID_STATE_ERR',
    });
    await expect(
      k.service.updateRegistration(k.instanceId, keyId, B('kept'), { description: 'x' }),
    ).rejects.toMatchObject({ status: 422, reason: 'KEY_INVALID_STATE_ERR' });
    // delete and list still work on a Suspended key
    expect((await k.service.listRegistrations(k.instanceId, keyId)).total).toBe(1);
    await k.service.deleteRegistration(k.instanceId, keyId, B('kept'));
    expect((await k.service.listRegistrations(k.instanceId, keyId)).total).toBe(0);
  });

  it('validates the resource CRN and the key version (422 KEY_VERSION_INVALID when older or unknown)', async () => {
    await expect(k.service.createRegistration(k.instanceId, keyId, 'bucket-one')).rejects.toMatchObject({
      status: 400,
    });
    await expect(
      k.service.createRegistration(k.instanceId, keyId, B('v'), { keyVersion: 'nope' }),
    ).rejects.toMatchObject({ status: 422, reason: 'KEY_VERSION_INVALID' });
    const rot = await k.service.rotate(k.instanceId, keyId);
    await k.service.createRegistration(k.instanceId, keyId, B('v'), { keyVersion: rot.keyVersion.id });
    await expect(
      k.service.replaceRegistration(k.instanceId, keyId, B('v'), { keyVersion: keyId }),
    ).rejects.toMatchObject({ status: 422, reason: 'KEY_VERSION_INVALID' });
    await expect(
      k.service.updateRegistration(k.instanceId, keyId, B('v'), { keyVersion: keyId }),
    ).rejects.toMatchObject({ status: 422, reason: 'KEY_VERSION_INVALID' });
    const rep = await k.service.replaceRegistration(k.instanceId, keyId, B('v'), { description: 'replaced' });
    expect(rep).toMatchObject({
      description: 'replaced',
      preventKeyDeletion: false,
      keyVersion: { id: rot.keyVersion.id },
    });
    await expect(k.service.replaceRegistration(k.instanceId, keyId, B('missing'), {})).rejects.toMatchObject({
      status: 404,
    });
  });

  it('update changes only the given fields', async () => {
    await k.service.createRegistration(k.instanceId, keyId, B('u'), {
      description: 'keep me',
      preventKeyDeletion: true,
    });
    const u = await k.service.updateRegistration(k.instanceId, keyId, B('u'), { preventKeyDeletion: false });
    expect(u).toMatchObject({ description: 'keep me', preventKeyDeletion: false });
  });

  it('delete: 404 for a missing registration unless ignoreMissing; 422 on a Destroyed key', async () => {
    await expect(k.service.deleteRegistration(k.instanceId, keyId, B('none'))).rejects.toMatchObject({ status: 404 });
    await k.service.deleteRegistration(k.instanceId, keyId, B('none'), { ignoreMissing: true });
    await k.service.createRegistration(k.instanceId, keyId, B('d'));
    await k.service.deleteKey(k.instanceId, keyId, { force: true });
    await expect(k.service.deleteRegistration(k.instanceId, keyId, B('d'))).rejects.toMatchObject({
      status: 422,
      reason: 'KEY_INVALID_STATE_ERR',
    });
    expect((await k.service.listRegistrations(k.instanceId, keyId)).total).toBe(1);
  });

  it('lists across keys with preventKeyDeletion and CRN-query filters', async () => {
    const other = (await k.service.createKey(k.instanceId, { name: 'reg-2' })).id;
    await k.service.createRegistration(k.instanceId, keyId, B('alpha'), { preventKeyDeletion: true });
    await k.service.createRegistration(k.instanceId, keyId, B('beta'));
    await k.service.createRegistration(k.instanceId, other, B('alphabet'));
    await k.service.createRegistration(k.instanceId, other, B('gamma', 'acct-z'));
    expect((await k.service.listRegistrations(k.instanceId, undefined)).total).toBe(4);
    expect(
      (await k.service.listRegistrations(k.instanceId, undefined, { preventKeyDeletion: true })).registrations.map(
        (r) => r.resourceCrn,
      ),
    ).toEqual([B('alpha')]);
    const q = (query: string) =>
      k.service
        .listRegistrations(k.instanceId, undefined, { resourceCrnQuery: query })
        .then((r) => r.registrations.map((x) => x.resourceCrn).sort());
    expect(await q(B('alpha'))).toEqual([B('alpha')]);
    expect(await q(B('alpha*'))).toEqual([B('alpha'), B('alphabet')]);
    expect(await q('crn:v1:coffer:local:cloud-object-storage:global:a/acct-a:cos-1:*')).toEqual([
      B('alpha'),
      B('alphabet'),
      B('beta'),
    ]);
    await expect(q('crn:v1:coffer:local:*')).rejects.toMatchObject({ status: 400 });
    expect(
      (await k.service.listRegistrations(k.instanceId, other, { resourceCrnQuery: 'crn:v1:coffer:local:*' })).total,
    ).toBe(2);
    const page = await k.service.listRegistrations(k.instanceId, undefined, { limit: 1, offset: 1 });
    expect(page.registrations).toHaveLength(1);
    expect(page.total).toBe(4);
  });

  it('matches CRN queries segment by segment', () => {
    const m = crnQueryMatcher('crn:v1:x:y:svc:global:a/1:inst:bucket:b*');
    expect(m('crn:v1:x:y:svc:global:a/1:inst:bucket:bee')).toBe(true);
    expect(m('crn:v1:x:y:svc:global:a/1:inst:bucket:cee')).toBe(false);
    expect(
      crnQueryMatcher('crn:v1:x:y:svc:global:a/1:in*:bucket:bee')('crn:v1:x:y:svc:global:a/1:inst:bucket:bee'),
    ).toBe(true);
    expect(
      crnQueryMatcher('crn:v1:x:y:svc:global:a/1:inst:bucket:bee')('crn:v1:x:y:svc:global:a/1:inst:bucket:beetle'),
    ).toBe(false);
  });
});
