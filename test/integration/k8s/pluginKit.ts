/**
 * A real Coffer KMS on an ephemeral loopback port with a manual clock (so
 * disable -> enable's 30 s rule can be crossed), a root key, and a service
 * identity with Reader on that key only: what the plugin needs and no more.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startClockedKms, type ClockedKms } from '../kms/clockedKms.js';
import { call, identityWithRole, keyBody, tokenFor, type CallResult } from '../kms/kmsHttp.js';

export interface PluginKit {
  kms: ClockedKms;
  dir: string;
  adminToken: string;
  serviceApiKey: string;
  serviceId: string;
  /** Gives the plugin's service identity Reader on another key. */
  grantReader(keyId: string): Promise<void>;
  key: { id: string; crn: string };
  /** A Key Protect call as the instance owner. */
  kp<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<CallResult<T>>;
  newRootKey(name: string): Promise<{ id: string; crn: string }>;
  currentVersion(keyId: string): Promise<string>;
  close(): Promise<void>;
}

export async function startPluginKit(): Promise<PluginKit> {
  const kms = await startClockedKms();
  const dir = await mkdtemp(join(tmpdir(), 'coffer-k8s-'));
  const adminToken = await tokenFor(kms.url, kms.apikey);
  const kp = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    call<T>(kms.url, adminToken, method, `/api/v2${path}`, {
      headers: { 'bluemix-instance': kms.instanceId },
      ...(body !== undefined ? { body } : {}),
    });
  const newRootKey = async (name: string) => {
    const r = await call<{ resources: Array<{ id: string; crn: string }> }>(
      kms.url,
      adminToken,
      'POST',
      '/api/v2/keys',
      {
        headers: { 'bluemix-instance': kms.instanceId, prefer: 'return=representation' },
        body: keyBody({ name, extractable: false }),
      },
    );
    if (r.status !== 201) throw new Error(`create key: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json.resources[0]!;
  };
  const key = await newRootKey('k8s-secrets');
  const svc = await identityWithRole(kms.url, adminToken, kms.account, 'service', 'k8s-kms-plugin', {
    instanceId: kms.instanceId,
    keyId: key.id,
    role: 'Reader',
  });
  return {
    kms,
    dir,
    adminToken,
    serviceApiKey: svc.apikey,
    serviceId: svc.id,
    async grantReader(keyId) {
      const r = await call(kms.url, adminToken, 'POST', '/iam/v1/policies', {
        body: { subjectId: svc.id, target: { instanceId: kms.instanceId, keyId }, role: 'Reader' },
      });
      if (r.status !== 201) throw new Error(`grant: ${r.status} ${JSON.stringify(r.json)}`);
    },
    key,
    kp,
    newRootKey,
    async currentVersion(keyId) {
      const r = await kp<{ resources: Array<{ keyVersion: { id: string } }> }>('GET', `/keys/${keyId}/metadata`);
      return r.json.resources[0]!.keyVersion.id;
    },
    async close() {
      await kms.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
