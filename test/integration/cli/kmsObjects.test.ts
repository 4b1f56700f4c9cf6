/**
 * `coffer kms instances | key-rings | aliases | instance-policies |
 * import-token` and the key commands beyond the lifecycle (policies,
 * rotation-policy, dual-auth, set-deletion, move, import), the built CLI
 * against a real embedded gateway whose KMS runs on a manual clock. Each
 * command's effect is checked where it shows: the key's metadata over the Key
 * Protect API, a refused call, an alias usable as the id.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reasonOf } from '../kms/kmsHttp.js';
import { ROOT_APIKEY, startClockedGateway, type ClockedGateway } from '../kms/lifecycleKit.js';
import { assertBuilt, cli } from './runCli.js';

interface KeyMeta {
  id: string;
  state: number;
  keyRingID: string;
  aliases: string[];
  imported: boolean;
  dualAuthDelete: { enabled: boolean; keySetForDeletion?: boolean };
  rotation?: { enabled: boolean; interval_month: number };
}

describe('coffer kms (instances, key rings, aliases, policies, import)', () => {
  let c: ClockedGateway;
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    assertBuilt();
    c = await startClockedGateway();
    env = { COFFER_KMS_URL: c.gw.kmsUrl, COFFER_API_KEY: ROOT_APIKEY, COFFER_KMS_INSTANCE: c.kp.instanceId };
    dir = await mkdtemp(join(tmpdir(), 'coffer-cli-kms-'));
  });
  afterAll(async () => {
    await c?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ok = async (args: string[], e = env) => {
    const r = await cli(args, e);
    expect(r.code, `coffer ${args.join(' ')}\n${r.err}`).toBe(0);
    return r.out;
  };
  const newKey = async (name: string) =>
    (JSON.parse(await ok(['kms', 'keys', 'create', name, '--json'])) as { id: string }).id;
  const meta = async (id: string) => {
    const r = await c.kp.req<{ resources: KeyMeta[] }>('GET', `/keys/${id}/metadata`);
    expect(r.status).toBe(200);
    return r.json.resources[0]!;
  };

  it('instances create, list and get; a new instance takes keys through --instance', async () => {
    const made = await ok(['kms', 'instances', 'create', '--name', 'second', '--json']);
    const inst = JSON.parse(made) as { id: string; name: string; account: string };
    expect(inst).toMatchObject({ name: 'second', account: c.gw.root.accountId });
    const list = await ok(['kms', 'instances', 'list']);
    expect(list).toMatch(/^ID\s+NAME\s+ACCOUNT\s+REGION\n/);
    expect(list).toMatch(new RegExp(`${inst.id}\\s+second\\s+${c.gw.root.accountId}\\s+us-east-1`));
    expect(await ok(['kms', 'instances', 'get', inst.id])).toMatch(new RegExp(`^ID.*\\n${inst.id}\\s+second\\s`));
    const missing = await cli(['kms', 'instances', 'get', 'no-such-instance'], env);
    expect([missing.code, missing.err]).toEqual([1, 'coffer: 404 NOT_FOUND: Instance no-such-instance not found\n']);
    await ok(['kms', 'keys', 'create', 'in-second', '--instance', inst.id]);
    expect(await ok(['kms', 'keys', 'list', '--instance', inst.id])).toContain('in-second');
    expect(await ok(['kms', 'keys', 'list'])).not.toContain('in-second');
  });

  it('key-rings create, list; keys move puts a key in a ring; a ring with keys is not deleted, an empty one is', async () => {
    expect(await ok(['kms', 'key-rings', 'create', 'team-a'])).toBe('created key ring team-a\n');
    expect(await ok(['kms', 'key-rings', 'list'])).toMatch(/^ID\s+CREATED\s+CREATED_BY\ndefault\s.*\nteam-a\s/);
    const id = await newKey('ringed');
    expect(await ok(['kms', 'keys', 'move', id, '--key-ring', 'team-a'])).toBe(`moved ${id} to key ring team-a\n`);
    expect((await meta(id)).keyRingID).toBe('team-a');
    const busy = await cli(['kms', 'key-rings', 'delete', 'team-a'], env);
    expect(busy.code).toBe(1);
    expect(busy.err).toMatch(/^coffer: 409 KEY_RING_NOT_EMPTY_ERR: /);
    await ok(['kms', 'keys', 'move', id, '--key-ring', 'default']);
    const inRing = JSON.parse(
      await ok(['kms', 'keys', 'create', 'born-in-ring', '--key-ring', 'team-a', '--json']),
    ) as KeyMeta;
    expect((await meta(inRing.id)).keyRingID).toBe('team-a');
    await ok(['kms', 'keys', 'move', inRing.id, '--key-ring', 'default']);
    expect(await ok(['kms', 'key-rings', 'delete', 'team-a'])).toBe('deleted key ring team-a\n');
    expect(await ok(['kms', 'key-rings', 'list'])).not.toContain('team-a');
    const bad = await cli(['kms', 'key-rings', 'create', 'x'], env);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^coffer: 400 /);
    const noRing = await cli(['kms', 'keys', 'move', id], env);
    expect(noRing.code).toBe(2);
  });

  it('aliases add (usable as the id), list, remove', async () => {
    const id = await newKey('aliased');
    expect(await ok(['kms', 'aliases', 'add', id, 'billing-key'])).toBe(`added alias billing-key to ${id}\n`);
    expect(await ok(['kms', 'aliases', 'list', id])).toMatch(
      new RegExp(`^ALIAS\\s+KEY\\s+NAME\\nbilling-key\\s+${id}\\s+aliased\\n$`),
    );
    expect(await ok(['kms', 'aliases', 'list'])).toContain('billing-key');
    expect(await ok(['kms', 'keys', 'show', 'billing-key'])).toContain(id);
    expect(await ok(['kms', 'aliases', 'remove', id, 'billing-key'])).toBe(`removed alias billing-key from ${id}\n`);
    expect((await meta(id)).aliases).toEqual([]);
    expect((await cli(['kms', 'keys', 'show', 'billing-key'], env)).code).toBe(1);
  });

  it('key policies: rotation-policy sets and clears the interval, dual-auth on needs two identities to delete', async () => {
    const id = await newKey('dual');
    expect(await ok(['kms', 'keys', 'rotation-policy', id, '3'])).toContain('rotation:         on, every 3 month(s)');
    expect((await meta(id)).rotation).toEqual({ enabled: true, interval_month: 3 });
    expect(await ok(['kms', 'keys', 'rotation-policy', id, 'off'])).toContain(
      'rotation:         off, every 3 month(s)',
    );
    expect((await ok(['kms', 'keys', 'dual-auth', id, 'on'])).split('\n')).toContain('dual-auth-delete: on');
    expect(await ok(['kms', 'keys', 'policies', id])).toBe(
      'rotation:         off, every 3 month(s)\ndual-auth-delete: on\n',
    );
    expect((await cli(['kms', 'keys', 'dual-auth', id, 'maybe'], env)).code).toBe(2);

    // A second identity with Manager on the instance.
    const svc = JSON.parse(await ok(['iam', 'identities', 'create', 'second-approver', '--json'])) as { id: string };
    await ok(['iam', 'policies', 'grant', '--subject', svc.id, '--role', 'Manager']);
    const { apikey } = JSON.parse(await ok(['iam', 'apikeys', 'create', '--identity', svc.id, '--json'])) as {
      apikey: string;
    };
    const second = { ...env, COFFER_API_KEY: apikey };

    const alone = await cli(['kms', 'keys', 'delete', id], env);
    expect(alone.code).toBe(1);
    expect(alone.err).toMatch(/^coffer: 409 AUTHORIZATIONS_NOT_MET: /);
    expect(await ok(['kms', 'keys', 'set-deletion', id])).toMatch(
      new RegExp(`^set ${id} for deletion until \\d{4}-\\S+: another identity can delete it now\\n$`),
    );
    expect((await meta(id)).dualAuthDelete).toMatchObject({ enabled: true, keySetForDeletion: true });
    expect(await ok(['kms', 'keys', 'unset-deletion', id])).toBe(`withdrew the deletion authorization of ${id}\n`);
    expect((await meta(id)).dualAuthDelete.keySetForDeletion).toBeFalsy();
    expect((await cli(['kms', 'keys', 'delete', id], second)).code).toBe(1);
    await ok(['kms', 'keys', 'set-deletion', id]);
    // The identity that set it cannot be the second one.
    expect((await cli(['kms', 'keys', 'delete', id], env)).code).toBe(1);
    expect(await ok(['kms', 'keys', 'delete', id], second)).toMatch(new RegExp(`^deleted ${id} \\(state Destroyed\\)`));
    expect((await meta(id)).state).toBe(5);
  });

  it('instance-policies set and get each policy; allowed-ip outside the caller refuses the instance', async () => {
    const made = JSON.parse(await ok(['kms', 'instances', 'create', '--name', 'policed', '--json'])) as { id: string };
    const on = { ...env, COFFER_KMS_INSTANCE: made.id };
    expect(await ok(['kms', 'instance-policies', 'get'], on)).toBe('(no instance policies set)\n');
    expect(await ok(['kms', 'instance-policies', 'set', 'dual-auth-delete', 'on'], on)).toBe('dual-auth-delete: on\n');
    expect(await ok(['kms', 'instance-policies', 'set', 'rotation', '6'], on)).toBe('rotation: on interval_month=6\n');
    expect(await ok(['kms', 'instance-policies', 'set', 'metrics', 'on'], on)).toBe('metrics: on\n');
    expect(await ok(['kms', 'instance-policies', 'set', 'allowed-network', 'public-and-private'], on)).toBe(
      'allowed-network: on allowed_network=public-and-private\n',
    );
    expect(await ok(['kms', 'instance-policies', 'set', 'allowed-ip', '127.0.0.0/8,::1/128'], on)).toBe(
      'allowed-ip: on allowed_ip=127.0.0.0/8,::1/128\n',
    );
    const table = await ok(['kms', 'instance-policies', 'get'], on);
    for (const row of [
      /dualAuthDelete\s+on\s/,
      /rotation\s+on interval_month=6\s/,
      /metrics\s+on\s/,
      /allowedNetwork\s+on allowed_network=public-and-private\s/,
      /allowedIP\s+on allowed_ip=127.0.0.0\/8,::1\/128\s/,
    ])
      expect(table).toMatch(row);
    const only = JSON.parse(
      await ok(['kms', 'instance-policies', 'get', '--policy', 'rotation', '--json'], on),
    ) as Array<{
      policy_type: string;
      policy_data: unknown;
    }>;
    expect(only).toEqual([
      expect.objectContaining({
        policy_type: 'rotation',
        policy_data: { enabled: true, attributes: { interval_month: 6 } },
      }),
    ]);
    // The instance's new keys get the policies: dual-auth delete on.
    const key = JSON.parse(await ok(['kms', 'keys', 'create', 'policed-key', '--json'], on)) as KeyMeta;
    expect(key.dualAuthDelete.enabled).toBe(true);
    expect(await ok(['kms', 'instance-policies', 'set', 'dual-auth-delete', 'off'], on)).toBe(
      'dual-auth-delete: off\n',
    );

    // Imports only under an import token: a plain payload import is refused, a secure one is not.
    expect(
      await ok(
        ['kms', 'instance-policies', 'set', 'key-create-import-access', 'import_root_key=on,enforce_token=on'],
        on,
      ),
    ).toBe('key-create-import-access: on import_root_key=true enforce_token=true\n');
    const plain = await c.kp.req(
      'POST',
      '/keys',
      {
        metadata: { collectionType: 'application/vnd.ibm.kms.key+json', collectionTotal: 1 },
        resources: [
          {
            type: 'application/vnd.ibm.kms.key+json',
            name: 'plain-import',
            extractable: false,
            payload: randomBytes(32).toString('base64'),
          },
        ],
      },
      { 'bluemix-instance': made.id },
    );
    expect([plain.status, reasonOf(plain.json)]).toEqual([409, 'KEY_CREATE_IMPORT_ACCESS_ERR']);
    const keyFile = join(dir, 'policed.key');
    await writeFile(keyFile, randomBytes(32), { mode: 0o600 });
    await ok(['kms', 'keys', 'import', 'secure-import', '--key-file', keyFile], on);
    await ok(['kms', 'instance-policies', 'set', 'key-create-import-access', 'off'], on);
    expect((await cli(['kms', 'instance-policies', 'set', 'key-create-import-access', 'create_all=on'], on)).code).toBe(
      2,
    );

    const bad = await cli(['kms', 'instance-policies', 'set', 'allowed-ip', 'not-a-cidr'], on);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^coffer: 400 \S+: .*allowed_ip/);
    expect((await cli(['kms', 'instance-policies', 'set', 'rotation', 'often'], on)).code).toBe(2);
    expect((await cli(['kms', 'instance-policies', 'set', 'colour', 'blue'], on)).code).toBe(2);

    // 10.0.0.0/8 only: this client (127.0.0.1) is refused, as by Key Protect.
    await ok(['kms', 'instance-policies', 'set', 'allowed-ip', '10.0.0.0/8'], on);
    const refused = await cli(['kms', 'keys', 'list'], on);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^coffer: 401 UNAUTHORIZED_ERR/);
    expect((await cli(['kms', 'keys', 'list'], env)).code).toBe(0);
  });

  it('import-token create/get, and keys import: a root key from a key file under the token', async () => {
    const t = await ok(['kms', 'import-token', 'create', '--expiration', '1200', '--max-retrievals', '3']);
    expect(t).toMatch(/^created import token: expires \d{4}-\S+, 3 of 3 retrievals left\n$/);
    const got = JSON.parse(await ok(['kms', 'import-token', 'get', '--json'])) as {
      payload: string;
      nonce: string;
      remainingRetrievals: number;
    };
    expect(got.remainingRetrievals).toBe(2);
    expect(Buffer.from(got.payload, 'base64').toString()).toMatch(/^-----BEGIN PUBLIC KEY-----/);

    const file = join(dir, 'key.b64');
    await writeFile(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    const imported = await ok(['kms', 'keys', 'import', 'my-own', '--key-file', file]);
    const id = /^imported root key (\S+)\nCRN: crn:\S+\n$/.exec(imported)![1]!;
    expect(await meta(id)).toMatchObject({ imported: true, state: 1 });
    // It wraps and unwraps like any root key.
    const w = await c.kp.req<{ ciphertext: string }>('POST', `/keys/${id}/actions/wrap`, {});
    expect(w.status).toBe(200);
    expect((await c.kp.req('POST', `/keys/${id}/actions/unwrap`, { ciphertext: w.json.ciphertext })).status).toBe(200);

    // Retrievals used up: the next import creates a new token by itself.
    expect(await ok(['kms', 'import-token', 'get'])).toMatch(
      /^import token: expires \S+, 0 of 3 retrievals left\nNonce: /,
    );
    expect((await cli(['kms', 'import-token', 'get'], env)).err).toMatch(/^coffer: 409 IMPORT_TOKEN_EXPIRED_ERR: /);
    const raw = join(dir, 'key.bin');
    await writeFile(raw, randomBytes(16), { mode: 0o600 });
    await ok(['kms', 'keys', 'import', 'my-own-128', '--key-file', raw]);

    await writeFile(raw, randomBytes(20));
    const wrongSize = await cli(['kms', 'keys', 'import', 'bad', '--key-file', raw], env);
    expect([wrongSize.code, wrongSize.err]).toEqual([
      2,
      'coffer: the key file must hold 16, 24 or 32 bytes of key material, raw or base64\n',
    ]);
    const noFile = await cli(['kms', 'keys', 'import', 'bad', '--key-file', join(dir, 'missing')], env);
    expect([noFile.code, noFile.err]).toEqual([2, 'coffer: cannot read the key file: ENOENT\n']);
    expect((await cli(['kms', 'keys', 'import', 'bad'], env)).code).toBe(2);
  });
});
