/**
 * IBM's Key Protect Node SDK (@ibm-cloud/ibm-key-protect 0.1.2, unchanged,
 * with its own ibm-cloud-sdk-core 2.x) against a real Coffer gateway: its
 * IamAuthenticator exchanges the API key at <kmsUrl>/identity/token and
 * decodes the JWT; every call below is one the SDK offers. Lifecycle calls
 * (delete, restore, purge, dual auth, sync, enable) are in kpSdk.lifecycle.test.ts.
 */
import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../helpers/startGateway.js';
import { call, identityWithRole, keyBody, tokenFor } from './kmsHttp.js';
import { first, keyProtectClient, sdkFailure, sdkOperations, type KeyProtectClient } from './kpSdk.js';

let gw: TestGateway;
let kp: KeyProtectClient;
let inst: string;
let rootToken: string;

interface Key {
  id: string;
  crn: string;
  state: number;
  extractable: boolean;
  imported: boolean;
  payload?: string;
  keyRingID: string;
  aliases: string[];
  keyVersion: { id: string };
}

const b64 = (b: Buffer) => b.toString('base64');

async function createRoot(
  name: string,
  extra: Record<string, unknown> = {},
  params: Record<string, unknown> = {},
): Promise<Key> {
  const res = await kp.createKey!({
    bluemixInstance: inst,
    body: keyBody({ name, extractable: false, ...extra }),
    ...params,
  });
  expect(res.status).toBe(201);
  return first<Key>(res);
}

beforeAll(async () => {
  gw = await startTestGateway();
  inst = await gw.gateway.kms.ensureTenant(gw.accountId);
  kp = keyProtectClient(gw.kmsUrl, gw.rootApiKey);
  rootToken = await tokenFor(gw.kmsUrl, gw.rootApiKey);
});
afterAll(async () => gw?.close());

/** Every SDK operation and the suite that drives it; a new SDK version's new call fails here until it is covered. */
const COVERED: Record<string, 'keys' | 'lifecycle'> = {
  createKeyAlias: 'keys',
  deleteKeyAlias: 'keys',
  postImportToken: 'keys',
  getImportToken: 'keys',
  wrapKey: 'keys',
  unwrapKey: 'keys',
  rewrapKey: 'keys',
  rotateKey: 'keys',
  setKeyForDeletion: 'lifecycle',
  unsetKeyForDeletion: 'lifecycle',
  enableKey: 'lifecycle',
  disableKey: 'lifecycle',
  syncAssociatedResources: 'lifecycle',
  listKeyRings: 'keys',
  createKeyRing: 'keys',
  deleteKeyRing: 'keys',
  getKeyCollectionMetadata: 'keys',
  createKey: 'keys',
  getKeys: 'keys',
  getKey: 'keys',
  deleteKey: 'lifecycle',
  getKeyMetadata: 'keys',
  restoreKey: 'lifecycle',
  getKeyVersions: 'keys',
  putPolicy: 'keys',
  getPolicy: 'keys',
  putInstancePolicy: 'keys',
  getInstancePolicy: 'keys',
  getAllowedIpPort: 'keys',
  getRegistrations: 'lifecycle',
  getRegistrationsAllKeys: 'lifecycle',
};

it('the suites drive every operation the SDK offers', () => {
  expect(sdkOperations().sort()).toEqual(Object.keys(COVERED).sort());
});

describe('IBM Key Protect SDK: keys', () => {
  it('createKey (root and standard), getKey, getKeyMetadata, getKeys, getKeyCollectionMetadata', async () => {
    const root = await createRoot('sdk-root');
    expect(root.crn).toBe(`crn:v1:coffer:local:kms:${gw.region}:a/${gw.accountId}:${inst}:key:${root.id}`);
    expect(root.state).toBe(1);
    expect(root.extractable).toBe(false);
    expect(root.payload).toBeUndefined();

    const material = randomBytes(48);
    const std = first<Key>(
      await kp.createKey!({
        bluemixInstance: inst,
        body: keyBody({ name: 'sdk-standard', extractable: true, payload: b64(material) }),
      }),
    );
    expect(std.extractable).toBe(true);
    expect(std.imported).toBe(true);
    const got = first<Key>(await kp.getKey!({ bluemixInstance: inst, id: std.id }));
    expect(got.payload).toBe(b64(material));
    expect(first<Key>(await kp.getKeyMetadata!({ bluemixInstance: inst, id: std.id })).payload).toBeUndefined();
    expect(first<Key>(await kp.getKey!({ bluemixInstance: inst, id: root.id })).payload).toBeUndefined();

    const all = (await kp.getKeys!({ bluemixInstance: inst })).result as {
      metadata: { collectionTotal: number };
      resources: Key[];
    };
    expect(all.resources.map((k) => k.id)).toEqual(expect.arrayContaining([root.id, std.id]));
    expect(all.resources.every((k) => k.payload === undefined)).toBe(true);
    const page = (await kp.getKeys!({ bluemixInstance: inst, limit: 1, offset: 1 })).result as { resources: Key[] };
    expect(page.resources).toHaveLength(1);
    const standardOnly = (await kp.getKeys!({ bluemixInstance: inst, extractable: true })).result as {
      resources: Key[];
    };
    expect(standardOnly.resources.every((k) => k.extractable)).toBe(true);
    const active = (await kp.getKeys!({ bluemixInstance: inst, state: [1] })).result as { resources: Key[] };
    expect(active.resources.length).toBe(all.resources.length);

    const head = await kp.getKeyCollectionMetadata!({ bluemixInstance: inst, extractable: false });
    expect(head.status).toBe(200);
    expect(Number(head.headers['key-total'])).toBe(all.resources.filter((k) => !k.extractable).length);
  });

  it('wrapKey (generated and given DEK, AAD), unwrapKey, rotateKey, getKeyVersions, rewrapKey', async () => {
    const k = await createRoot('sdk-wrap');
    const gen = (await kp.wrapKey!({ bluemixInstance: inst, id: k.id })).result as {
      plaintext: string;
      ciphertext: string;
      keyVersion: { id: string };
    };
    expect(Buffer.from(gen.plaintext, 'base64')).toHaveLength(32);
    expect(gen.keyVersion.id).toBe(k.keyVersion.id);
    const doc = JSON.parse(Buffer.from(gen.ciphertext, 'base64').toString('utf8')) as Record<string, string>;
    expect(Object.keys(doc).sort()).toEqual(['ciphertext', 'handle', 'iv', 'version']);

    const dek = b64(randomBytes(32));
    const aad = ['bucket:sdk', 'coffer'];
    const w = (await kp.wrapKey!({ bluemixInstance: inst, id: k.id, keyActionWrapBody: { plaintext: dek, aad } }))
      .result as { ciphertext: string; plaintext?: string };
    expect(w.plaintext).toBeUndefined();
    const u = (
      await kp.unwrapKey!({ bluemixInstance: inst, id: k.id, keyActionUnwrapBody: { ciphertext: w.ciphertext, aad } })
    ).result as Record<string, unknown>;
    expect(u.plaintext).toBe(dek);
    expect(u.rewrappedKeyVersion).toBeUndefined();
    const badAad = await sdkFailure(
      kp.unwrapKey!({
        bluemixInstance: inst,
        id: k.id,
        keyActionUnwrapBody: { ciphertext: w.ciphertext, aad: ['other'] },
      }),
    );
    expect([badAad.status, badAad.code]).toEqual([422, 'UNPROCESSABLE_CIPHERTEXT_ERR']);
    const badB64 = await sdkFailure(
      kp.wrapKey!({ bluemixInstance: inst, id: k.id, keyActionWrapBody: { plaintext: 'not base64!' } }),
    );
    expect([badB64.status, badB64.code]).toEqual([400, 'INVALID_FIELD_ERR']);

    const rot = await kp.rotateKey!({ bluemixInstance: inst, id: k.id });
    expect(rot.status).toBe(204);
    const again = await sdkFailure(kp.rotateKey!({ bluemixInstance: inst, id: k.id }));
    expect([again.status, again.code]).toEqual([409, 'KEY_ROTATION_NOT_PERMITTED']);
    const versions = (await kp.getKeyVersions!({ bluemixInstance: inst, id: k.id, limit: 10, offset: 0 })).result as {
      resources: Array<{ id: string }>;
    };
    expect(versions.resources).toHaveLength(2);
    const newest = versions.resources[0]!.id;
    expect(newest).not.toBe(k.keyVersion.id);

    const after = (
      await kp.unwrapKey!({ bluemixInstance: inst, id: k.id, keyActionUnwrapBody: { ciphertext: w.ciphertext, aad } })
    ).result as {
      plaintext: string;
      keyVersion: { id: string };
      ciphertext: string;
      rewrappedKeyVersion: { id: string };
    };
    expect(after.plaintext).toBe(dek);
    expect(after.keyVersion.id).toBe(k.keyVersion.id);
    expect(after.rewrappedKeyVersion.id).toBe(newest);
    const fresh = (
      await kp.unwrapKey!({
        bluemixInstance: inst,
        id: k.id,
        keyActionUnwrapBody: { ciphertext: after.ciphertext, aad },
      })
    ).result as Record<string, unknown>;
    expect(fresh.plaintext).toBe(dek);
    expect(fresh.ciphertext).toBeUndefined();

    const rw = (
      await kp.rewrapKey!({ bluemixInstance: inst, id: k.id, keyActionRewrapBody: { ciphertext: w.ciphertext, aad } })
    ).result as {
      ciphertext: string;
      keyVersion: { id: string };
      rewrappedKeyVersion: { id: string };
    };
    expect(rw.keyVersion.id).toBe(k.keyVersion.id);
    expect(rw.rewrappedKeyVersion.id).toBe(newest);
    expect(
      (
        await kp.unwrapKey!({
          bluemixInstance: inst,
          id: k.id,
          keyActionUnwrapBody: { ciphertext: rw.ciphertext, aad },
        })
      ).result,
    ).toMatchObject({ plaintext: dek });
  });

  it('createKeyAlias, a key by alias, deleteKeyAlias', async () => {
    const k = await createRoot('sdk-alias');
    const a = await kp.createKeyAlias!({ bluemixInstance: inst, id: k.id, alias: 'sdk-alias-1' });
    expect(a.status).toBe(201);
    expect(first<{ alias: string; keyId: string }>(a)).toMatchObject({ alias: 'sdk-alias-1', keyId: k.id });
    expect(first<Key>(await kp.getKeyMetadata!({ bluemixInstance: inst, id: 'sdk-alias-1' })).id).toBe(k.id);
    const w = (await kp.wrapKey!({ bluemixInstance: inst, id: 'sdk-alias-1' })).result as { ciphertext: string };
    expect(w.ciphertext).toBeTruthy();
    expect((await kp.deleteKeyAlias!({ bluemixInstance: inst, id: k.id, alias: 'sdk-alias-1' })).status).toBe(204);
    expect((await sdkFailure(kp.getKey!({ bluemixInstance: inst, id: 'sdk-alias-1' }))).status).toBe(404);
  });

  it('putPolicy and getPolicy (rotation, dualAuthDelete)', async () => {
    const k = await createRoot('sdk-policy');
    const POLICY = 'application/vnd.ibm.kms.policy+json';
    const put = await kp.putPolicy!({
      bluemixInstance: inst,
      id: k.id,
      policy: 'rotation',
      setKeyPoliciesOneOf: {
        metadata: { collectionType: POLICY, collectionTotal: 1 },
        resources: [{ type: POLICY, rotation: { interval_month: 3 } }],
      },
    });
    expect(put.status).toBe(200);
    expect(first<{ rotation: { interval_month: number; enabled: boolean } }>(put).rotation).toEqual({
      enabled: true,
      interval_month: 3,
    });
    await kp.putPolicy!({
      bluemixInstance: inst,
      id: k.id,
      policy: 'dualAuthDelete',
      setKeyPoliciesOneOf: {
        metadata: { collectionType: POLICY, collectionTotal: 1 },
        resources: [{ type: POLICY, dualAuthDelete: { enabled: false } }],
      },
    });
    const rot = (await kp.getPolicy!({ bluemixInstance: inst, id: k.id, policy: 'rotation' })).result as {
      resources: Array<Record<string, unknown>>;
    };
    expect(rot.resources).toHaveLength(1);
    expect(rot.resources[0]).toMatchObject({ crn: k.crn, rotation: { interval_month: 3 } });
    const both = (await kp.getPolicy!({ bluemixInstance: inst, id: k.id })).result as { resources: unknown[] };
    expect(both.resources).toHaveLength(2);
    const bad = await sdkFailure(
      kp.putPolicy!({
        bluemixInstance: inst,
        id: k.id,
        policy: 'rotation',
        setKeyPoliciesOneOf: {
          metadata: { collectionType: POLICY, collectionTotal: 1 },
          resources: [{ type: POLICY, rotation: { interval_month: 13 } }],
        },
      }),
    );
    expect([bad.status, bad.code]).toEqual([400, 'INVALID_FIELD_ERR']);
  });

  it('putInstancePolicy, getInstancePolicy (keyCreateImportAccess enforced), getAllowedIpPort', async () => {
    const other = await gw.gateway.kms.local.service.createInstance({
      account: gw.accountId,
      region: gw.region,
      name: 'policy-test',
    });
    const p = { bluemixInstance: other.id };
    const POLICY = 'application/vnd.ibm.kms.policy+json';
    const put = await kp.putInstancePolicy!({
      ...p,
      policy: 'keyCreateImportAccess',
      setInstancePoliciesOneOf: {
        metadata: { collectionType: POLICY, collectionTotal: 1 },
        resources: [
          {
            policy_type: 'keyCreateImportAccess',
            policy_data: { enabled: true, attributes: { create_standard_key: false } },
          },
        ],
      },
    });
    expect(put.status).toBe(204);
    const denied = await sdkFailure(kp.createKey!({ ...p, body: keyBody({ name: 'std', extractable: true }) }));
    expect([denied.status, denied.code]).toEqual([409, 'KEY_CREATE_IMPORT_ACCESS_ERR']);
    expect((await kp.createKey!({ ...p, body: keyBody({ name: 'root-ok' }) })).status).toBe(201);
    await kp.putInstancePolicy!({
      ...p,
      policy: 'dualAuthDelete',
      setInstancePoliciesOneOf: {
        metadata: { collectionType: POLICY, collectionTotal: 1 },
        resources: [{ policy_type: 'dualAuthDelete', policy_data: { enabled: true } }],
      },
    });
    const dual = first<{ dualAuthDelete: { enabled: boolean } }>(
      await kp.createKey!({ ...p, body: keyBody({ name: 'dual-by-instance' }) }),
    );
    expect(dual.dualAuthDelete.enabled).toBe(true);
    const got = (await kp.getInstancePolicy!({ ...p, policy: 'keyCreateImportAccess' })).result as {
      resources: Array<Record<string, unknown>>;
    };
    expect(got.resources).toHaveLength(1);
    expect(got.resources[0]).toMatchObject({
      policy_type: 'keyCreateImportAccess',
      policy_data: { enabled: true, attributes: { create_standard_key: false } },
    });
    expect(((await kp.getInstancePolicy!(p)).result as { resources: unknown[] }).resources).toHaveLength(2);
    const port = first<{ private_endpoint_port: number }>(await kp.getAllowedIpPort!(p));
    expect(port.private_endpoint_port).toBe(Number(new URL(gw.kmsUrl).port));
  });

  it('createKeyRing, listKeyRings, a key in a ring (x-kms-key-ring), deleteKeyRing', async () => {
    expect((await kp.createKeyRing!({ bluemixInstance: inst, keyRingId: 'sdk-ring' })).status).toBe(201);
    expect((await sdkFailure(kp.createKeyRing!({ bluemixInstance: inst, keyRingId: 'sdk-ring' }))).status).toBe(409);
    const rings = (await kp.listKeyRings!({ bluemixInstance: inst })).result as { resources: Array<{ id: string }> };
    expect(rings.resources.map((r) => r.id)).toEqual(expect.arrayContaining(['default', 'sdk-ring']));
    const k = await createRoot('sdk-in-ring', {}, { xKmsKeyRing: 'sdk-ring' });
    expect(k.keyRingID).toBe('sdk-ring');
    expect(first<Key>(await kp.getKey!({ bluemixInstance: inst, id: k.id, xKmsKeyRing: 'sdk-ring' })).id).toBe(k.id);
    expect((await sdkFailure(kp.getKey!({ bluemixInstance: inst, id: k.id, xKmsKeyRing: 'default' }))).status).toBe(
      404,
    );
    const notEmpty = await sdkFailure(kp.deleteKeyRing!({ bluemixInstance: inst, keyRingId: 'sdk-ring' }));
    expect([notEmpty.status, notEmpty.code]).toEqual([409, 'KEY_RING_NOT_EMPTY_ERR']);
    expect((await kp.createKeyRing!({ bluemixInstance: inst, keyRingId: 'sdk-ring-empty' })).status).toBe(201);
    expect((await kp.deleteKeyRing!({ bluemixInstance: inst, keyRingId: 'sdk-ring-empty' })).status).toBe(204);
    const missing = await sdkFailure(createRoot('no-ring', {}, { xKmsKeyRing: 'no-such-ring' }));
    expect([missing.status, missing.code]).toEqual([404, 'KEY_RING_NOT_FOUND_ERR']);
  });

  it('postImportToken, getImportToken, secure import of a root key, plain import, rotate an imported key', async () => {
    const created = await kp.postImportToken!({ bluemixInstance: inst, expiration: 600, maxAllowedRetrievals: 2 });
    expect(created.status).toBe(201);
    expect(created.result).toMatchObject({ maxAllowedRetrievals: 2, remainingRetrievals: 2, expiration: 600 });
    const tok = (await kp.getImportToken!({ bluemixInstance: inst })).result as {
      payload: string;
      nonce: string;
      remainingRetrievals: number;
    };
    expect(tok.remainingRetrievals).toBe(1);
    const pem = Buffer.from(tok.payload, 'base64').toString('utf8');
    expect(pem).toContain('BEGIN PUBLIC KEY');
    const material = randomBytes(32);
    const sealNonce = (key: Buffer, nonce: Buffer) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      return { iv: b64(iv), encryptedNonce: b64(Buffer.concat([c.update(nonce), c.final(), c.getAuthTag()])) };
    };
    const payload = b64(
      publicEncrypt({ key: pem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material),
    );
    const k = await createRoot('sdk-secure-import', {
      payload,
      ...sealNonce(material, Buffer.from(tok.nonce, 'base64')),
      encryptionAlgorithm: 'RSAES_OAEP_SHA_256',
    });
    expect(k.imported).toBe(true);
    const w = (await kp.wrapKey!({ bluemixInstance: inst, id: k.id })).result as {
      ciphertext: string;
      plaintext: string;
    };
    expect(
      (await kp.unwrapKey!({ bluemixInstance: inst, id: k.id, keyActionUnwrapBody: { ciphertext: w.ciphertext } }))
        .result,
    ).toMatchObject({ plaintext: w.plaintext });
    const wrongNonce = await sdkFailure(createRoot('bad-nonce', { payload, ...sealNonce(material, randomBytes(12)) }));
    expect([wrongNonce.status, wrongNonce.code]).toEqual([400, 'INCORRECT_NONCE_ERR']);
    await kp.getImportToken!({ bluemixInstance: inst });
    expect((await sdkFailure(kp.getImportToken!({ bluemixInstance: inst }))).status).toBe(409);

    const plain = await createRoot('sdk-plain-import', { payload: b64(randomBytes(32)) });
    expect(plain.imported).toBe(true);
    const needs = await sdkFailure(kp.rotateKey!({ bluemixInstance: inst, id: plain.id }));
    expect([needs.status, needs.code]).toEqual([400, 'KEY_PAYLOAD_REQ_ERR']);
    expect(
      (
        await kp.rotateKey!({
          bluemixInstance: inst,
          id: plain.id,
          keyActionRotateBody: { payload: b64(randomBytes(32)) },
        })
      ).status,
    ).toBe(204);
  });
});

describe('IBM Key Protect SDK: identity and roles', () => {
  it('a bad API key fails at the token exchange; a wrong instance is 401', async () => {
    const bad = keyProtectClient(gw.kmsUrl, 'not-a-real-api-key-0000');
    expect((await sdkFailure(bad.getKeys!({ bluemixInstance: inst }))).status).toBe(400);
    expect((await sdkFailure(kp.getKeys!({ bluemixInstance: 'no-such-instance' }))).status).toBe(401);
  });

  it('Reader may list, read metadata and wrap, but not create keys or read a standard payload; ReaderPlus may', async () => {
    const std = first<Key>(
      await kp.createKey!({ bluemixInstance: inst, body: keyBody({ name: 'for-readers', extractable: true }) }),
    );
    const root = await createRoot('for-readers-root');
    const reader = await identityWithRole(gw.kmsUrl, rootToken, gw.accountId, 'user', 'reader', {
      instanceId: inst,
      role: 'Reader',
    });
    const rc = keyProtectClient(gw.kmsUrl, reader.apikey);
    expect((await rc.getKeys!({ bluemixInstance: inst })).status).toBe(200);
    expect((await rc.getKeyMetadata!({ bluemixInstance: inst, id: std.id })).status).toBe(200);
    expect((await rc.wrapKey!({ bluemixInstance: inst, id: root.id })).status).toBe(200);
    expect((await sdkFailure(rc.getKey!({ bluemixInstance: inst, id: std.id }))).status).toBe(401);
    expect((await sdkFailure(rc.createKey!({ bluemixInstance: inst, body: keyBody({ name: 'nope' }) }))).status).toBe(
      401,
    );
    expect((await sdkFailure(rc.disableKey!({ bluemixInstance: inst, id: root.id }))).status).toBe(401);
    const plus = await identityWithRole(gw.kmsUrl, rootToken, gw.accountId, 'user', 'readerplus', {
      instanceId: inst,
      role: 'ReaderPlus',
    });
    const pc = keyProtectClient(gw.kmsUrl, plus.apikey);
    expect(first<Key>(await pc.getKey!({ bluemixInstance: inst, id: std.id })).payload).toBeTruthy();
    const keyOnly = await identityWithRole(gw.kmsUrl, rootToken, gw.accountId, 'user', 'key-reader', {
      instanceId: inst,
      keyId: root.id,
      role: 'Reader',
    });
    const kc = keyProtectClient(gw.kmsUrl, keyOnly.apikey);
    expect((await kc.wrapKey!({ bluemixInstance: inst, id: root.id })).status).toBe(200);
    expect((await sdkFailure(kc.wrapKey!({ bluemixInstance: inst, id: std.id }))).status).toBe(401);
    // Keys reachable only through key-level policies are omitted from lists.
    expect(((await kc.getKeys!({ bluemixInstance: inst })).result as { resources: unknown[] }).resources).toEqual([]);
  });

  it('registration writes are for service identities only (403 SERVICE_ONLY_ERR for a user)', async () => {
    const k = await createRoot('sdk-reg');
    const crn = encodeURIComponent(
      `crn:v1:coffer:local:cloud-object-storage:global:a/${gw.accountId}:svc:bucket:reg-test`,
    );
    const body = {
      metadata: { collectionType: 'application/vnd.ibm.kms.registration_input+json', collectionTotal: 1 },
      resources: [{ description: 'x', registrationMetadata: 'private' }],
    };
    const asUser = await call(gw.kmsUrl, rootToken, 'POST', `/api/v2/keys/${k.id}/registrations/${crn}`, {
      body,
      headers: { 'bluemix-instance': inst },
    });
    expect(asUser.status).toBe(403);
    const svc = await identityWithRole(gw.kmsUrl, rootToken, gw.accountId, 'service', 'adopter', {
      instanceId: inst,
      role: 'Reader',
    });
    const asSvc = await call(gw.kmsUrl, svc.token, 'POST', `/api/v2/keys/${k.id}/registrations/${crn}`, {
      body,
      headers: { 'bluemix-instance': inst },
    });
    expect(asSvc.status).toBe(201);
    const listed = (await kp.getRegistrations!({ bluemixInstance: inst, id: k.id, totalCount: true })).result as {
      metadata: { totalCount: number };
      resources: Array<Record<string, unknown>>;
    };
    expect(listed.metadata.totalCount).toBe(1);
    expect(listed.resources[0]!.description).toBe('x');
    expect(listed.resources[0]!.registrationMetadata).toBeUndefined();
  });
});
