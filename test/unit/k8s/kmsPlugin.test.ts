/** KmsPlugin over a scripted Key Protect client: the Status cache, what drops it, registration retries, which key Decrypt uses. */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { KeyProtectError, type KeyProtectClient } from '../../../src/k8s/keyProtectClient.js';
import { KEY_CRN_ANNOTATION, KmsPlugin } from '../../../src/k8s/kmsPlugin.js';
import { parseKeyCrn } from '../../../src/k8s/pluginCrn.js';
import { createLogger } from '../../../src/util/logger.js';

const KEY = parseKeyCrn('crn:v1:coffer:local:kms:local:a/acct:inst:key:k1');

class FakeKp {
  version = 'v1';
  failWith?: KeyProtectError;
  registerFails: KeyProtectError[] = [];
  calls: string[] = [];
  async wrap(keyId: string, plaintext: Buffer) {
    this.calls.push(`wrap ${keyId}`);
    if (this.failWith) throw this.failWith;
    return {
      ciphertext: Buffer.from(`${keyId}|${plaintext.toString('hex')}`).toString('base64'),
      keyVersion: this.version,
    };
  }
  async unwrap(keyId: string, ciphertext: string) {
    this.calls.push(`unwrap ${keyId}`);
    if (this.failWith) throw this.failWith;
    const [, hex] = Buffer.from(ciphertext, 'base64').toString().split('|');
    return { plaintext: Buffer.from(hex!, 'hex'), keyVersion: this.version };
  }
  async register() {
    this.calls.push('register');
    const e = this.registerFails.shift();
    if (e) throw e;
  }
}

function setup(cacheMs = 5_000) {
  const kp = new FakeKp();
  let t = 1_000_000;
  const plugin = new KmsPlugin({
    client: kp as unknown as KeyProtectClient,
    key: KEY,
    clusterCrn: 'crn:v1:c:l:kubernetes:r:a/acct::cluster:x',
    log: createLogger('silent'),
    statusCacheMs: cacheMs,
    now: () => t,
  });
  return { kp, plugin, advance: (ms: number) => (t += ms) };
}

const disabled = () =>
  new KeyProtectError(409, 'KEY_ACTION_INVALID_STATE_ERR', '409 KEY_ACTION_INVALID_STATE_ERR: disabled');
const wraps = (kp: FakeKp) => kp.calls.filter((c) => c.startsWith('wrap')).length;

describe('KmsPlugin', () => {
  it('probes once per cache period, and concurrent Status calls share the probe', async () => {
    const { kp, plugin, advance } = setup();
    const [a, b] = await Promise.all([plugin.status(), plugin.status()]);
    expect(a).toEqual({ version: 'v2', healthz: 'ok', key_id: 'v1' });
    expect(b).toEqual(a);
    expect(kp.calls).toEqual(['wrap k1', 'unwrap k1', 'register']);
    advance(4_999);
    await plugin.status();
    expect(wraps(kp)).toBe(1);
    advance(1);
    await plugin.status();
    expect(wraps(kp)).toBe(2);
  });

  it('a failed Encrypt drops the cache: the next Status sees the disabled key at once', async () => {
    const { kp, plugin } = setup();
    expect((await plugin.status()).healthz).toBe('ok');
    kp.failWith = disabled();
    await expect(plugin.encrypt(Buffer.alloc(32, 1), 'u')).rejects.toBe(kp.failWith);
    const s = await plugin.status();
    expect(s.healthz).toContain('KEY_ACTION_INVALID_STATE_ERR');
    expect(s.key_id).toBe('v1');
  });

  it('a new key version seen by Encrypt drops the cache, so Status reports the rotation', async () => {
    const { kp, plugin } = setup();
    await plugin.status();
    kp.version = 'v2';
    expect((await plugin.encrypt(Buffer.alloc(32, 1), 'u')).key_id).toBe('v2');
    expect((await plugin.status()).key_id).toBe('v2');
  });

  it('registration refused for a disabled key at start is retried after a healthy Status; refused credentials throw', async () => {
    const { kp, plugin } = setup(0);
    kp.registerFails.push(new KeyProtectError(422, 'KEY_INVALID_STATE_ERR', 'suspended'));
    await plugin.register();
    expect(plugin.isRegistered).toBe(false);
    await plugin.status();
    await new Promise((r) => setImmediate(r));
    expect(plugin.isRegistered).toBe(true);

    const other = setup();
    other.kp.registerFails.push(new KeyProtectError(403, 'SERVICE_ONLY_ERR', 'service only'));
    await expect(other.plugin.register()).rejects.toThrow('service only');
  });

  it('Decrypt unwraps under the key the annotation names (same instance), else the configured one', async () => {
    const { kp, plugin } = setup();
    const enc = await plugin.encrypt(Buffer.from('seed'), 'u');
    expect(enc.annotations[KEY_CRN_ANNOTATION]?.toString()).toBe(KEY.crn);
    expect(
      (await plugin.decrypt({ ciphertext: enc.ciphertext, uid: 'u', key_id: enc.key_id, annotations: {} })).toString(),
    ).toBe('seed');
    const k2 = Buffer.from('crn:v1:coffer:local:kms:local:a/acct:inst:key:k2');
    await plugin.decrypt({
      ciphertext: enc.ciphertext,
      uid: 'u',
      key_id: '',
      annotations: { [KEY_CRN_ANNOTATION]: k2 },
    });
    expect(kp.calls.slice(-2)).toEqual(['unwrap k1', 'unwrap k2']);
    const bad = await plugin
      .decrypt({ ciphertext: Buffer.from('not base64!'), uid: 'u', key_id: '', annotations: {} })
      .catch((e: unknown) => e);
    expect((bad as { code: number }).code).toBe(status.INVALID_ARGUMENT);
  });

  it('refuses empty or oversized plaintext before calling the KMS', async () => {
    const { kp, plugin } = setup();
    for (const p of [Buffer.alloc(0), Buffer.alloc(4097)])
      expect(((await plugin.encrypt(p, 'u').catch((e: unknown) => e)) as { code: number }).code).toBe(
        status.INVALID_ARGUMENT,
      );
    expect(kp.calls).toEqual([]);
  });
});
