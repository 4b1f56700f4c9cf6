import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IamError } from '../../../src/iam/errors.js';
import { IamCredentialStore } from '../../../src/iam/iamCredentialStore.js';
import { TokenError } from '../../../src/identity/tokenError.js';
import { openTestIam, ROOT_ACCOUNT, type TestIam } from './iamTestKit.js';

let t: TestIam;
beforeEach(async () => {
  t = await openTestIam();
});
afterEach(async () => t.close());

async function allFileText(dir: string): Promise<string> {
  let out = '';
  for (const f of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) out += (await readFile(join(f.parentPath, f.name))).toString('latin1');
  }
  return out;
}

describe('IAM bootstrap', () => {
  it('creates the root account, its owner, the gateway service identity and a generated root API key shown once', async () => {
    const { iam } = t;
    expect(iam.rootApiKeyGenerated).toBe(true);
    expect(iam.rootApiKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(iam.service.getAccount(ROOT_ACCOUNT)?.system).toBe(true);
    expect(iam.rootUser).toMatchObject({ accountId: ROOT_ACCOUNT, owner: true, kind: 'user' });
    expect(iam.gatewayIdentity).toMatchObject({ kind: 'service', gateway: true, accountId: ROOT_ACCOUNT });
    const key = iam.rootApiKey!;
    const again = await t.reopen();
    expect(again.rootApiKeyGenerated).toBe(false);
    expect(again.rootApiKey).toBeUndefined();
    expect(again.service.exchangeApiKey(key).token_type).toBe('Bearer');
    expect(again.gatewayIdentity.id).toBe(t.iam.gatewayIdentity.id);
  });

  it('COFFER_ROOT_APIKEY is used as given; changing it revokes the previous one', async () => {
    const a = await t.reopen({ configuredRootApiKey: 'configured-root-key-0001' });
    expect([a.rootApiKey, a.rootApiKeyGenerated]).toEqual(['configured-root-key-0001', false]);
    a.service.exchangeApiKey('configured-root-key-0001');
    const b = await t.reopen({ configuredRootApiKey: 'configured-root-key-0002' });
    b.service.exchangeApiKey('configured-root-key-0002');
    expect(() => b.service.exchangeApiKey('configured-root-key-0001')).toThrow(IamError);
    await t.reopen({ configuredRootApiKey: 'configured-root-key-0002' });
    expect(t.iam.service.listApiKeys(t.iam.rootUser.id).length).toBe(1);
  });

  it('stores API keys only as HMACs and S3 secrets only sealed', async () => {
    const { iam } = t;
    const b = await iam.service.createAccount({ name: 'tenant b' });
    const s3 = await iam.service.createS3AccessKey(b.account.id);
    await iam.close();
    const text = await allFileText(join(t.dir, 'iam'));
    expect(text).not.toContain(iam.rootApiKey!);
    expect(text).not.toContain(s3.secretAccessKey);
    expect(text).toContain(s3.accessKeyId);
    await t.reopen();
  });
});

describe('API keys and tokens', () => {
  it('exchanges an API key for an access and a refresh token, refreshes, and verifies on every call', async () => {
    const { service } = t.iam;
    const tok = service.exchangeApiKey(t.iam.rootApiKey!);
    expect(tok).toMatchObject({
      token_type: 'Bearer',
      expires_in: 3600,
      expiration: Math.floor(t.clock.t / 1000) + 3600,
    });
    expect(service.verify(tok.access_token).identity.id).toBe(t.iam.rootUser.id);
    expect(() => service.verify(tok.refresh_token)).toThrow(TokenError);
    const refreshed = service.refresh(tok.refresh_token);
    expect(service.verify(refreshed.access_token).identity.id).toBe(t.iam.rootUser.id);
    t.clock.t += 3600_000;
    expect(() => service.verify(tok.access_token)).toThrow(TokenError);
  });

  it('deleting the API key or the identity revokes its tokens; unknown keys are BXNIM0415E', async () => {
    const { service } = t.iam;
    const user = await service.createIdentity({ accountId: ROOT_ACCOUNT, kind: 'user', name: 'alice' });
    const k = await service.createApiKey(user.id, 'alice key');
    const tok = service.exchangeApiKey(k.apiKey);
    await service.deleteApiKey(k.record.id);
    expect(() => service.verify(tok.access_token)).toThrow(TokenError);
    const k2 = await service.createApiKey(user.id);
    const tok2 = service.exchangeApiKey(k2.apiKey);
    await service.deleteIdentity(user.id);
    expect(() => service.verify(tok2.access_token)).toThrow(TokenError);
    expect(() => service.exchangeApiKey(k2.apiKey)).toThrow(
      expect.objectContaining({ code: 'BXNIM0415E', status: 400 }),
    );
    expect(() => service.exchangeApiKey('')).toThrow(IamError);
    await expect(service.deleteIdentity(t.iam.rootUser.id)).rejects.toMatchObject({ status: 409 });
  });

  it("deleting an account removes its identities, API keys, policies and S3 keys, and no other account's; never the root account", async () => {
    const { service } = t.iam;
    const gone = await service.createAccount({ name: 'leaving', id: 'leaving' });
    const kept = await service.createAccount({ name: 'staying' });
    const svc = await service.createIdentity({ accountId: 'leaving', kind: 'service', name: 'robot' });
    const ownerKey = await service.createApiKey(gone.owner.id);
    const tok = service.exchangeApiKey(ownerKey.apiKey);
    await service.createApiKey(svc.id);
    const s3 = await service.createS3AccessKey('leaving');
    const keptKey = await service.createApiKey(kept.owner.id);
    const keptS3 = await service.createS3AccessKey(kept.account.id);
    await t.iam.access.createPolicy({
      subjectId: svc.id,
      target: { instanceId: 'inst-1' },
      role: 'Reader',
      by: 'test',
    });

    await service.deleteAccount('leaving');
    expect(service.getAccount('leaving')).toBeUndefined();
    expect(service.listIdentities('leaving')).toEqual([]);
    expect(service.listApiKeys(gone.owner.id)).toEqual([]);
    expect(service.listApiKeys(svc.id)).toEqual([]);
    expect(service.listS3AccessKeys('leaving')).toEqual([]);
    expect(service.openS3AccessKey(s3.accessKeyId)).toBeUndefined();
    expect(t.iam.access.listPolicies({ subjectId: svc.id })).toEqual([]);
    expect(() => service.verify(tok.access_token)).toThrow(TokenError);
    // The other account is untouched.
    expect(service.exchangeApiKey(keptKey.apiKey).token_type).toBe('Bearer');
    expect(service.listS3AccessKeys(kept.account.id).map((k) => k.accessKeyId)).toEqual([keptS3.accessKeyId]);

    await expect(service.deleteAccount('leaving')).rejects.toMatchObject({ status: 404 });
    await expect(service.deleteAccount(ROOT_ACCOUNT)).rejects.toMatchObject({ status: 409 });
    expect(service.getAccount(ROOT_ACCOUNT)).toBeDefined();
  });

  it('lists API keys without their hashes', async () => {
    const listed = t.iam.service.listApiKeys(t.iam.rootUser.id);
    expect(listed).toHaveLength(1);
    expect(listed[0]).not.toHaveProperty('hash');
  });
});

describe('S3 access keys and the credential store', () => {
  it('serves the fixed root credentials first, then IAM access keys; deleted keys are gone', async () => {
    const { service } = t.iam;
    const b = await service.createAccount({ name: 'tenant-b' });
    const key = await service.createS3AccessKey(b.account.id);
    expect(key.accessKeyId).toMatch(/^CF[A-Z0-9]{18}$/);
    const store = new IamCredentialStore(service, [
      {
        accessKeyId: 'ROOTKEY',
        secretAccessKey: 'root-secret',
        principal: { accountId: ROOT_ACCOUNT, accessKeyId: 'ROOTKEY', displayName: 'root' },
      },
    ]);
    expect((await store.lookup('ROOTKEY'))?.principal.accountId).toBe(ROOT_ACCOUNT);
    const got = await store.lookup(key.accessKeyId);
    expect(got).toEqual({
      secretAccessKey: key.secretAccessKey,
      principal: { accountId: b.account.id, accessKeyId: key.accessKeyId, displayName: 'owner' },
    });
    expect(await store.lookup('CFNOSUCHKEY0000000000')).toBeUndefined();
    await service.deleteS3AccessKey(key.accessKeyId);
    expect(await store.lookup(key.accessKeyId)).toBeUndefined();
  });

  it('validates names and refuses duplicate accounts', async () => {
    const { service } = t.iam;
    await expect(service.createAccount({ name: '' })).rejects.toMatchObject({ status: 400 });
    await expect(service.createAccount({ name: 'x', id: ROOT_ACCOUNT })).rejects.toMatchObject({ status: 409 });
    await expect(service.createIdentity({ accountId: 'nope', kind: 'user', name: 'u' })).rejects.toMatchObject({
      status: 404,
    });
    await expect(
      service.createIdentity({ accountId: ROOT_ACCOUNT, kind: 'user', name: 'u', gateway: true }),
    ).rejects.toMatchObject({ status: 400 });
  });
});

describe('master key check', () => {
  it('refuses to open the store with another master key', async () => {
    const { openIam } = await import('../../../src/iam/openIam.js');
    const { randomBytes } = await import('node:crypto');
    await t.iam.close();
    await expect(
      openIam({ dir: join(t.dir, 'iam'), masterKey: randomBytes(32), rootAccountId: ROOT_ACCOUNT }),
    ).rejects.toThrow(/another master key/);
    await t.reopen();
    expect(t.iam.service.getAccount(ROOT_ACCOUNT)).toBeDefined();
  });
});
