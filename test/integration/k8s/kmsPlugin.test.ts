/**
 * The KMS v2 plugin in-process against a real Coffer KMS (loopback, ephemeral
 * port), served on a real Unix socket and called with a real gRPC client, as
 * the kube-apiserver would: Status, Encrypt/Decrypt, the cluster's
 * registration, and the key's lifecycle (disable, enable, rotate, delete).
 */
import { randomBytes } from 'node:crypto';
import { lstat, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_CRN_ANNOTATION } from '../../../src/k8s/kmsPlugin.js';
import { SocketPathError } from '../../../src/k8s/socketServer.js';
import { startPlugin, type RunningPlugin } from '../../../src/k8s/startPlugin.js';
import { createLogger } from '../../../src/util/logger.js';
import { identityWithRole } from '../kms/kmsHttp.js';
import { encryptProblems, isFqdn, statusProblems } from './apiServerChecks.js';
import { codeOf, kmsV2Client, type KmsV2 } from './grpcClient.js';
import { startPluginKit, type PluginKit } from './pluginKit.js';

const log = createLogger('silent');

describe('k8s KMS v2 plugin over a Unix socket', () => {
  let kit: PluginKit;
  let plugin: RunningPlugin;
  let socket: string;
  let grpc: KmsV2;

  beforeAll(async () => {
    kit = await startPluginKit();
    socket = join(kit.dir, 'kms.sock');
    // statusCacheMs 0: every Status probes, so each lifecycle step shows at once.
    plugin = await startPlugin({
      socket,
      keyCrn: kit.key.crn,
      kmsUrl: kit.kms.url,
      apiKey: kit.serviceApiKey,
      clusterName: 'prod-east',
      log,
      statusCacheMs: 0,
    });
    grpc = kmsV2Client(socket);
  });
  afterAll(async () => {
    grpc?.close();
    await plugin?.close();
    await kit?.close();
  });

  it('listens on a socket only its owner may use', async () => {
    const st = await lstat(socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('Status: version v2, healthz ok, key_id the root key version', async () => {
    const s = await grpc.status();
    expect(s).toEqual({ version: 'v2', healthz: 'ok', key_id: await kit.currentVersion(kit.key.id) });
    expect(statusProblems(s)).toEqual([]);
  });

  it('Encrypt then Decrypt round-trips; the ciphertext is a Key Protect wrap that only the KMS opens', async () => {
    const seed = randomBytes(32);
    const enc = await grpc.encrypt(seed);
    expect(enc.key_id).toBe(await kit.currentVersion(kit.key.id));
    expect(enc.ciphertext.length).toBeGreaterThan(32);
    expect(enc.ciphertext.includes(seed)).toBe(false);
    expect(enc.ciphertext.toString('utf8').includes(seed.toString('base64'))).toBe(false);
    expect(enc.annotations[KEY_CRN_ANNOTATION]?.toString()).toBe(kit.key.crn);
    expect(encryptProblems(enc)).toEqual([]);
    // The check itself: a Kubernetes-style label key would be refused.
    expect(isFqdn('kms.coffer.dev/key-crn')).toBe(false);
    expect(
      (await grpc.decrypt({ ciphertext: enc.ciphertext, key_id: enc.key_id, annotations: enc.annotations })).equals(
        seed,
      ),
    ).toBe(true);
    // The KMS itself unwraps it: it is Key Protect ciphertext under the root key.
    const direct = await kit.kp<{ plaintext: string }>('POST', `/keys/${kit.key.id}/actions/unwrap`, {
      ciphertext: enc.ciphertext.toString('utf8'),
    });
    expect(direct.status).toBe(200);
    expect(Buffer.from(direct.json.plaintext, 'base64').equals(seed)).toBe(true);
    // Tampered ciphertext is refused, not decrypted.
    const s = enc.ciphertext.toString('utf8');
    const i = Math.floor(s.length / 2);
    const bad = Buffer.from(s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1));
    expect((await codeOf(grpc.decrypt({ ciphertext: bad, annotations: enc.annotations }))).code).toBe(
      status.INVALID_ARGUMENT,
    );
    expect((await codeOf(grpc.encrypt(Buffer.alloc(0)))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('registers the cluster on the root key, which protects the key from deletion', async () => {
    expect(plugin.clusterCrn).toBe(`crn:v1:coffer:local:kubernetes:local:a/${kit.kms.account}::cluster:prod-east`);
    const regs = await kit.kp<{ resources: Array<{ resourceCrn: string; keyId: string }> }>(
      'GET',
      `/keys/${kit.key.id}/registrations`,
    );
    expect(regs.json.resources.map((r) => r.resourceCrn)).toEqual([plugin.clusterCrn]);
    const del = await kit.kp('DELETE', `/keys/${kit.key.id}`);
    expect(del.status).toBe(409);
  });

  it('a disabled key: Encrypt and Decrypt fail with FAILED_PRECONDITION and Status is unhealthy; enabled, all work again', async () => {
    const seed = randomBytes(32);
    const before = await grpc.encrypt(seed);
    expect((await kit.kp('POST', `/keys/${kit.key.id}/actions/disable`)).status).toBe(204);

    const e = await codeOf(grpc.encrypt(randomBytes(32)));
    expect(e.code).toBe(status.FAILED_PRECONDITION);
    expect(e.details).toContain('KEY_ACTION_INVALID_STATE_ERR');
    expect((await codeOf(grpc.decrypt({ ciphertext: before.ciphertext, annotations: before.annotations }))).code).toBe(
      status.FAILED_PRECONDITION,
    );
    const s = await grpc.status();
    expect(s.version).toBe('v2');
    expect(s.healthz).not.toBe('ok');
    expect(s.healthz).toContain('KEY_ACTION_INVALID_STATE_ERR');

    kit.kms.advance(31_000);
    expect((await kit.kp('POST', `/keys/${kit.key.id}/actions/enable`)).status).toBe(204);
    expect((await grpc.status()).healthz).toBe('ok');
    expect((await grpc.decrypt({ ciphertext: before.ciphertext, annotations: before.annotations })).equals(seed)).toBe(
      true,
    );
    expect((await grpc.encrypt(seed)).key_id).toBe(before.key_id);
  });

  it('a rotated key: key_id changes (the API server re-encrypts) and old ciphertext still decrypts', async () => {
    const seed = randomBytes(32);
    const old = await grpc.encrypt(seed);
    const oldStatus = await grpc.status();
    expect((await kit.kp('POST', `/keys/${kit.key.id}/actions/rotate`)).status).toBe(204);
    const now = await grpc.status();
    expect(now.healthz).toBe('ok');
    expect(now.key_id).not.toBe(oldStatus.key_id);
    expect(now.key_id).toBe(await kit.currentVersion(kit.key.id));
    const fresh = await grpc.encrypt(seed);
    expect(fresh.key_id).toBe(now.key_id);
    expect(
      (await grpc.decrypt({ ciphertext: old.ciphertext, key_id: old.key_id, annotations: old.annotations })).equals(
        seed,
      ),
    ).toBe(true);
    expect(
      (
        await grpc.decrypt({ ciphertext: fresh.ciphertext, key_id: fresh.key_id, annotations: fresh.annotations })
      ).equals(seed),
    ).toBe(true);
  });

  it('an annotation naming a key outside the instance is refused', async () => {
    const enc = await grpc.encrypt(randomBytes(32));
    const foreign = kit.key.crn.replace(`:${kit.kms.instanceId}:`, ':00000000-0000-0000-0000-000000000000:');
    const r = await codeOf(
      grpc.decrypt({ ciphertext: enc.ciphertext, annotations: { [KEY_CRN_ANNOTATION]: Buffer.from(foreign) } }),
    );
    expect(r.code).toBe(status.INVALID_ARGUMENT);
  });

  it('moved to another root key of the instance, the plugin still decrypts what the first key wrapped (the annotation names it)', async () => {
    const seed = randomBytes(32);
    const old = await grpc.encrypt(seed);
    const next = await kit.newRootKey('k8s-secrets-next');
    await kit.grantReader(next.id);
    const moved = await startPlugin({
      socket: join(kit.dir, 'next.sock'),
      keyCrn: next.crn,
      kmsUrl: kit.kms.url,
      apiKey: kit.serviceApiKey,
      clusterName: 'prod-east',
      log,
    });
    const c = kmsV2Client(moved.server.path);
    try {
      const s = await c.status();
      expect(s.key_id).toBe(await kit.currentVersion(next.id));
      expect(s.key_id).not.toBe(old.key_id);
      expect(
        (await c.decrypt({ ciphertext: old.ciphertext, key_id: old.key_id, annotations: old.annotations })).equals(
          seed,
        ),
      ).toBe(true);
      // Without the annotation the new key is used, and it cannot open the old key's ciphertext.
      const wrongKey = await codeOf(c.decrypt({ ciphertext: old.ciphertext, key_id: old.key_id, annotations: {} }));
      expect([wrongKey.code, wrongKey.details]).toEqual([
        status.INVALID_ARGUMENT,
        expect.stringContaining('UNPROCESSABLE_CIPHERTEXT_ERR'),
      ]);
      expect((await c.encrypt(seed)).annotations[KEY_CRN_ANNOTATION]?.toString()).toBe(next.crn);
    } finally {
      c.close();
      await moved.close();
    }
  });

  it('refuses a socket path that is in use, is not a socket (and keeps it) or has no directory', async () => {
    await expect(
      startPlugin({ socket, keyCrn: kit.key.crn, kmsUrl: kit.kms.url, apiKey: kit.serviceApiKey, log }),
    ).rejects.toBeInstanceOf(SocketPathError);
    expect((await lstat(socket)).isSocket()).toBe(true);
    const file = join(kit.dir, 'not-a-socket');
    await writeFile(file, 'keep me');
    await expect(
      startPlugin({ socket: file, keyCrn: kit.key.crn, kmsUrl: kit.kms.url, apiKey: kit.serviceApiKey, log }),
    ).rejects.toBeInstanceOf(SocketPathError);
    expect((await stat(file)).isFile()).toBe(true);
    await expect(
      startPlugin({
        socket: join(kit.dir, 'no-such-dir', 'kms.sock'),
        keyCrn: kit.key.crn,
        kmsUrl: kit.kms.url,
        apiKey: kit.serviceApiKey,
        log,
      }),
    ).rejects.toThrow(/does not exist/);
  });

  it("a user's API key cannot register, so the plugin does not start", async () => {
    const user = await identityWithRole(kit.kms.url, kit.adminToken, kit.kms.account, 'user', 'not-a-service', {
      instanceId: kit.kms.instanceId,
      keyId: kit.key.id,
      role: 'Reader',
    });
    const other = join(kit.dir, 'user.sock');
    await expect(
      startPlugin({ socket: other, keyCrn: kit.key.crn, kmsUrl: kit.kms.url, apiKey: user.apikey, log }),
    ).rejects.toThrow(/403 SERVICE_ONLY_ERR/);
    await expect(lstat(other)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a deleted key: Encrypt fails with FAILED_PRECONDITION and Status is unhealthy; close removes the socket', async () => {
    expect((await kit.kp('DELETE', `/keys/${kit.key.id}?force=true`)).status).toBe(204);
    expect((await codeOf(grpc.encrypt(randomBytes(32)))).code).toBe(status.FAILED_PRECONDITION);
    expect((await grpc.status()).healthz).toContain('KEY_DELETED_ERR');
    await plugin.close();
    await expect(lstat(socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
