/**
 * IBM's Key Protect SDK driving the key lifecycle: against a real gateway
 * (registrations made by CreateBucket, delete protection, force delete =
 * crypto-shredding, disable -> S3 403 at once), and against the same KMS app
 * with a manual clock for the rules that take time (enable and restore 30 s
 * after the last action, purge 4 h after delete with KeyPurge, dual-auth
 * delete, sync once an hour).
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../../src/kms/audit.js';
import { bucketName, expectSdkError, withHeaders } from '../../helpers/s3Test.js';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';
import { startClockedKms, type ClockedKms } from './clockedKms.js';
import { identityWithRole, keyBody, tokenFor } from './kmsHttp.js';
import { first, keyProtectClient, sdkFailure, type KeyProtectClient } from './kpSdk.js';

interface Key {
  id: string;
  crn: string;
  state: number;
  deleted?: boolean;
}

const SEC = 1000;
const HOUR = 3600 * SEC;

describe('IBM Key Protect SDK: lifecycle against a real gateway', () => {
  let gw: TestGateway;
  let kp: KeyProtectClient;
  let s3: S3Client;
  let inst: string;

  beforeAll(async () => {
    gw = await startTestGateway();
    inst = await gw.gateway.kms.ensureTenant(gw.accountId);
    kp = keyProtectClient(gw.kmsUrl, gw.rootApiKey);
    s3 = gw.client();
  });
  afterAll(async () => gw?.close());

  async function keyWithBucket(name: string): Promise<{ key: Key; bucket: string }> {
    const key = first<Key>(await kp.createKey!({ bluemixInstance: inst, body: keyBody({ name }) }));
    const bucket = bucketName('kp');
    await s3.send(
      withHeaders(new CreateBucketCommand({ Bucket: bucket }), {
        'ibm-sse-kp-encryption-algorithm': 'AES256',
        'ibm-sse-kp-customer-root-key-crn': key.crn,
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o', Body: 'secret data' }));
    return { key, bucket };
  }

  it('CreateBucket registers the bucket: getRegistrations, getRegistrationsAllKeys; deleteKey 409, force deletes (crypto-shred)', async () => {
    const { key, bucket } = await keyWithBucket('lifecycle-delete');
    const regs = (await kp.getRegistrations!({ bluemixInstance: inst, id: key.id })).result as {
      resources: Array<{ resourceCrn: string; keyId: string }>;
    };
    expect(regs.resources).toHaveLength(1);
    expect(regs.resources[0]!.resourceCrn).toMatch(new RegExp(`:bucket:${bucket}$`));
    const prefix = regs.resources[0]!.resourceCrn.split(':').slice(0, 9).join(':');
    const all = (
      await kp.getRegistrationsAllKeys!({
        bluemixInstance: inst,
        urlEncodedResourceCrnQuery: `${prefix}:${bucket.slice(0, 4)}*`,
      })
    ).result as { resources: unknown[] };
    expect(all.resources.length).toBeGreaterThanOrEqual(1);

    const protectedErr = await sdkFailure(kp.deleteKey!({ bluemixInstance: inst, id: key.id }));
    expect([protectedErr.status, protectedErr.code]).toEqual([409, 'PROTECTED_RESOURCE_ERR']);
    const del = await kp.deleteKey!({
      bluemixInstance: inst,
      id: key.id,
      force: true,
      prefer: 'return=representation',
    });
    expect(del.status).toBe(200);
    expect(first<Key>(del)).toMatchObject({ state: 5, deleted: true });
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' })), 403);
    const gone = await sdkFailure(kp.wrapKey!({ bluemixInstance: inst, id: key.id }));
    expect([gone.status, gone.code]).toEqual([410, 'KEY_DELETED_ERR']);
    expect(first<Key>(await kp.getKeyMetadata!({ bluemixInstance: inst, id: key.id })).state).toBe(5);
    const listed = (await kp.getKeys!({ bluemixInstance: inst, state: [5] })).result as { resources: Key[] };
    expect(listed.resources.map((k) => k.id)).toContain(key.id);
    // Within 30 s of the delete: restore is refused (the clocked suite restores).
    expect((await sdkFailure(kp.restoreKey!({ bluemixInstance: inst, id: key.id }))).status).toBe(409);
    const twice = await sdkFailure(kp.deleteKey!({ bluemixInstance: inst, id: key.id, force: true }));
    expect([twice.status, twice.code]).toEqual([410, 'KEY_DELETED_ERR']);
    const sync = await sdkFailure(kp.syncAssociatedResources!({ bluemixInstance: inst, id: key.id }));
    expect(sync.status).toBe(409);
  });

  it('disableKey stops S3 access at once; wrap is 409 while disabled; enableKey within 30 s is REQ_TOO_EARLY_ERR', async () => {
    const { key, bucket } = await keyWithBucket('lifecycle-disable');
    expect((await kp.disableKey!({ bluemixInstance: inst, id: key.id })).status).toBe(204);
    await expectSdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' })), 403);
    const w = await sdkFailure(kp.wrapKey!({ bluemixInstance: inst, id: key.id }));
    expect([w.status, w.code]).toEqual([409, 'KEY_ACTION_INVALID_STATE_ERR']);
    expect(first<Key>(await kp.getKey!({ bluemixInstance: inst, id: key.id })).state).toBe(2);
    const early = await sdkFailure(kp.enableKey!({ bluemixInstance: inst, id: key.id }));
    expect([early.status, early.code]).toEqual([409, 'REQ_TOO_EARLY_ERR']);
  });

  it('rotateKey: the bucket keeps working and its DEK is rewrapped under the new version', async () => {
    const { key, bucket } = await keyWithBucket('lifecycle-rotate');
    expect((await kp.rotateKey!({ bluemixInstance: inst, id: key.id })).status).toBe(204);
    gw.gateway.kms.dekCache.clear();
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'o' }));
    expect(await out.Body!.transformToString()).toBe('secret data');
  });

  it('audits every API call and every embedded wrap/unwrap, with no secret in the file (0600)', async () => {
    await gw.gateway.audit.flush();
    const path = join(gw.dataDir, 'kms-audit.log');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const entries = await readAuditLog(path);
    const api = entries.filter((e) => e.via === 'api' && e.action === 'wrap' && e.outcome === 'failure');
    expect(api.length).toBeGreaterThan(0);
    expect(api[0]).toMatchObject({
      identity: expect.stringMatching(/^iam:user-/),
      instance: inst,
      status: expect.any(Number),
      reason: expect.any(String),
    });
    const embedded = entries.filter((e) => e.via === 'embedded' && e.action === 'unwrap' && e.outcome === 'success');
    expect(embedded.length).toBeGreaterThan(0);
    expect(embedded[0]).toMatchObject({
      identity: `tenant:${gw.accountId}`,
      key: expect.any(String),
      version: expect.any(String),
    });
    expect(
      entries.some(
        (e) =>
          e.via === 'embedded' && e.action === 'unwrap' && e.outcome === 'failure' && e.reason === 'KEY_DELETED_ERR',
      ),
    ).toBe(true);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(gw.rootApiKey);
    expect(text).not.toContain(await tokenFor(gw.kmsUrl, gw.rootApiKey).then((t) => t.split('.')[2]!));
    expect(text).not.toMatch(/plaintext|ciphertext|payload/);
  });
});

describe('IBM Key Protect SDK: lifecycle with a manual clock', () => {
  let k: ClockedKms;
  let kp: KeyProtectClient;
  let p: { bluemixInstance: string };

  beforeAll(async () => {
    k = await startClockedKms();
    kp = keyProtectClient(k.url, k.apikey);
    p = { bluemixInstance: k.instanceId };
  });
  afterAll(async () => k?.close());

  const create = async (name: string) => first<Key>(await kp.createKey!({ ...p, body: keyBody({ name }) }));

  it('disableKey, enableKey after 30 s', async () => {
    const key = await create('enable');
    expect((await kp.disableKey!({ ...p, id: key.id })).status).toBe(204);
    k.advance(31 * SEC);
    expect((await kp.enableKey!({ ...p, id: key.id })).status).toBe(204);
    expect(first<Key>(await kp.getKeyMetadata!({ ...p, id: key.id })).state).toBe(1);
    const twice = await sdkFailure(kp.enableKey!({ ...p, id: key.id }));
    expect(twice.status).toBe(409);
  });

  it('deleteKey, restoreKey after 30 s, then purge needs KeyPurge and 4 h', async () => {
    const key = await create('restore-purge');
    expect((await kp.deleteKey!({ ...p, id: key.id })).status).toBe(204);
    k.advance(31 * SEC);
    const restored = await kp.restoreKey!({ ...p, id: key.id });
    expect(restored.status).toBe(201);
    expect(first<Key>(await kp.getKeyMetadata!({ ...p, id: key.id })).state).toBe(1);
    expect((await kp.wrapKey!({ ...p, id: key.id })).status).toBe(200);

    k.advance(31 * SEC);
    await kp.deleteKey!({ ...p, id: key.id });
    const token = await tokenFor(k.url, k.apikey);
    const purger = await identityWithRole(k.url, token, k.account, 'user', 'purger', {
      instanceId: k.instanceId,
      role: 'KeyPurge',
    });
    // The SDK has no purge call; DELETE /keys/{id}/purge over HTTP with the purger's token.
    const purge = (t: string) =>
      fetch(`${k.url}/api/v2/keys/${key.id}/purge`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${t}`, 'bluemix-instance': k.instanceId },
      });
    expect((await purge(token)).status).toBe(401);
    expect((await purge(purger.token)).status).toBe(409);
    k.advance(4 * HOUR);
    const ok = await purge(purger.token);
    expect(ok.status).toBe(200);
    expect((await sdkFailure(kp.getKeyMetadata!({ ...p, id: key.id }))).status).toBe(404);
  });

  it('dual-auth delete: setKeyForDeletion by one Manager, deleteKey by another; unsetKeyForDeletion cancels', async () => {
    const key = await create('dual');
    const POLICY = 'application/vnd.ibm.kms.policy+json';
    await kp.putPolicy!({
      ...p,
      id: key.id,
      policy: 'dualAuthDelete',
      setKeyPoliciesOneOf: {
        metadata: { collectionType: POLICY, collectionTotal: 1 },
        resources: [{ type: POLICY, dualAuthDelete: { enabled: true } }],
      },
    });
    const none = await sdkFailure(kp.deleteKey!({ ...p, id: key.id }));
    expect([none.status, none.code]).toEqual([409, 'AUTHORIZATIONS_NOT_MET']);
    expect((await kp.setKeyForDeletion!({ ...p, id: key.id })).status).toBe(204);
    expect((await kp.unsetKeyForDeletion!({ ...p, id: key.id })).status).toBe(204);
    expect((await kp.setKeyForDeletion!({ ...p, id: key.id })).status).toBe(204);
    const self = await sdkFailure(kp.deleteKey!({ ...p, id: key.id }));
    expect(self.code).toBe('AUTHORIZATIONS_NOT_MET');
    const token = await tokenFor(k.url, k.apikey);
    const second = await identityWithRole(k.url, token, k.account, 'user', 'second-manager', {
      instanceId: k.instanceId,
      role: 'Manager',
    });
    const kp2 = keyProtectClient(k.url, second.apikey);
    expect((await kp2.deleteKey!({ ...p, id: key.id })).status).toBe(204);
    const plain = await create('not-dual');
    const notDual = await sdkFailure(kp.setKeyForDeletion!({ ...p, id: plain.id }));
    expect([notDual.status, notDual.code]).toEqual([409, 'NOT_DUAL_AUTH_ERR']);
  });

  it('syncAssociatedResources: 409 within an hour of a lifecycle action, 204 after', async () => {
    const key = await create('sync');
    expect((await kp.rotateKey!({ ...p, id: key.id })).status).toBe(204);
    expect((await sdkFailure(kp.syncAssociatedResources!({ ...p, id: key.id }))).status).toBe(409);
    k.advance(HOUR + SEC);
    expect((await kp.syncAssociatedResources!({ ...p, id: key.id })).status).toBe(204);
  });
});
