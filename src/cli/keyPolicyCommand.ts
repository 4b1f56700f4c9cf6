/**
 * The `coffer kms keys` commands beyond the lifecycle (keysCommand.ts): a
 * key's policies (rotation interval, dual-authorization delete), the two-step
 * delete under dual authorization (one identity sets the key for deletion, a
 * second deletes it, key-protect.md 2.7), moving a key to a key ring, and
 * aliases (`coffer kms aliases`).
 */
import { CliError } from './args.js';
import type { ApiClient } from './client.js';
import { enc, one, onOff, print, type Family } from './commandKit.js';
import { IMPORT_COMMAND } from './keyImport.js';
import { table } from './output.js';

const POLICY_MEDIA = 'application/vnd.ibm.kms.policy+json';

interface KeyPolicy {
  id: string;
  rotation?: { enabled?: boolean; interval_month?: number };
  dualAuthDelete?: { enabled: boolean };
  lastUpdateDate?: string;
}

interface KeyMeta {
  id: string;
  name: string;
  aliases?: string[];
  keyRingID?: string;
  dualAuthDelete?: { enabled: boolean; keySetForDeletion?: boolean; authExpiration?: string };
}

const keyPath = (id: string) => `/api/v2/keys/${enc(id)}`;

async function policiesOf(api: ApiClient, id: string): Promise<KeyPolicy[]> {
  const body = await api.call<{ resources?: KeyPolicy[] }>('GET', `${keyPath(id)}/policies`, { instance: true });
  return body?.resources ?? [];
}

async function putPolicy(api: ApiClient, id: string, type: 'rotation' | 'dualAuthDelete', value: unknown) {
  const body = await api.call<{ resources?: KeyPolicy[] }>('PUT', `${keyPath(id)}/policies`, {
    instance: true,
    query: { policy: type },
    body: {
      metadata: { collectionType: POLICY_MEDIA, collectionTotal: 1 },
      resources: [{ type: POLICY_MEDIA, [type]: value }],
    },
    idempotent: true,
  });
  return body?.resources ?? [];
}

function policyText(list: KeyPolicy[]): string {
  const rot = list.find((x) => x.rotation)?.rotation;
  const dual = list.find((x) => x.dualAuthDelete)?.dualAuthDelete;
  return (
    `rotation:         ${rot ? `${rot.enabled === false ? 'off' : 'on'}, every ${rot.interval_month ?? '?'} month(s)` : '(not set)'}\n` +
    `dual-auth-delete: ${dual ? (dual.enabled ? 'on' : 'off') : '(not set)'}\n`
  );
}

export const KEY_EXTRAS_USAGE = `  policies <id>                                      the key's rotation and dual-auth-delete policies
  rotation-policy <id> MONTHS|off                    rotate the key every MONTHS (1-12), or stop
  dual-auth <id> on|off                              deleting the key takes two identities
  set-deletion <id> | unset-deletion <id>            first of the two dual-auth deletes (7 days),
                                                     or withdraw it; a second identity then deletes
  move <id> --key-ring RING                          move the key to another key ring
  import <name> --key-file FILE [--key-ring RING] [--description TEXT]
                                                     a root key from your own material (16, 24 or
                                                     32 bytes, raw or base64, in FILE), sent
                                                     under the instance's import token`;

export const KEY_EXTRAS: Family = {
  prefix: 'coffer kms keys',
  usage: KEY_EXTRAS_USAGE,
  commands: {
    policies: {
      args: '<id>',
      positionals: 1,
      async run(p, api, io) {
        const list = await policiesOf(api, p.positionals[0] ?? '');
        print(io, p, list, () => policyText(list));
      },
    },
    'rotation-policy': {
      args: '<id> MONTHS|off',
      positionals: 2,
      async run(p, api, io) {
        const [id = '', v = ''] = p.positionals;
        let value: { enabled: boolean; interval_month: number };
        if (v === 'off') {
          // The API wants an interval even to switch rotation off: keep the current one.
          const current = (await policiesOf(api, id)).find((x) => x.rotation)?.rotation?.interval_month;
          value = { enabled: false, interval_month: current ?? 1 };
        } else if (/^\d{1,2}$/.test(v)) value = { enabled: true, interval_month: Number(v) };
        else throw new CliError('rotation-policy takes a number of months from 1 to 12, or off', 2);
        const list = await putPolicy(api, id, 'rotation', value);
        print(io, p, list, () => policyText(list));
      },
    },
    'dual-auth': {
      args: '<id> on|off',
      positionals: 2,
      async run(p, api, io) {
        const [id = '', v] = p.positionals;
        const list = await putPolicy(api, id, 'dualAuthDelete', { enabled: onOff(v, 'dual-auth') });
        print(io, p, list, () => policyText(list));
      },
    },
    'set-deletion': {
      args: '<id>',
      positionals: 1,
      async run(p, api, io) {
        const id = p.positionals[0] ?? '';
        await api.call('POST', `${keyPath(id)}/actions/setKeyForDeletion`, { instance: true, idempotent: false });
        const key = one<KeyMeta>(await api.call('GET', `${keyPath(id)}/metadata`, { instance: true }));
        print(
          io,
          p,
          key,
          () =>
            `set ${id} for deletion until ${key.dualAuthDelete?.authExpiration ?? '?'}: another identity can delete it now\n`,
        );
      },
    },
    'unset-deletion': {
      args: '<id>',
      positionals: 1,
      async run(p, api, io) {
        const id = p.positionals[0] ?? '';
        await api.call('POST', `${keyPath(id)}/actions/unsetKeyForDeletion`, { instance: true, idempotent: false });
        print(io, p, { id, keySetForDeletion: false }, () => `withdrew the deletion authorization of ${id}\n`);
      },
    },
    move: {
      args: '<id> --key-ring RING',
      positionals: 1,
      options: { 'key-ring': { type: 'string' } },
      async run(p, api, io) {
        const id = p.positionals[0] ?? '';
        const ring = p.values['key-ring'];
        if (typeof ring !== 'string' || ring === '')
          throw new CliError('--key-ring is required\nusage: coffer kms keys move <id> --key-ring RING', 2);
        const key = one<KeyMeta>(
          await api.call('PATCH', keyPath(id), { instance: true, body: { keyRingID: ring }, idempotent: true }),
        );
        print(io, p, key, () => `moved ${key.id} to key ring ${key.keyRingID ?? ring}\n`);
      },
    },
    import: IMPORT_COMMAND,
  },
};

export const ALIASES: Family = {
  prefix: 'coffer kms aliases',
  usage: `coffer kms aliases <command> [--url URL] [--apikey KEY] [--instance ID] [--json]

  add <key-id> <alias>        another name for the key (usable wherever an id is; 5 per key)
  remove <key-id> <alias>
  list [<key-id>]             aliases of one key, or of every key of the instance`,
  commands: {
    add: {
      args: '<key-id> <alias>',
      positionals: 2,
      async run(p, api, io) {
        const [id = '', alias = ''] = p.positionals;
        const out = one<{ alias: string; keyId: string }>(
          await api.call('POST', `${keyPath(id)}/aliases/${enc(alias)}`, { instance: true, idempotent: false }),
        );
        print(io, p, out, () => `added alias ${out.alias} to ${out.keyId}\n`);
      },
    },
    remove: {
      args: '<key-id> <alias>',
      positionals: 2,
      async run(p, api, io) {
        const [id = '', alias = ''] = p.positionals;
        await api.call('DELETE', `${keyPath(id)}/aliases/${enc(alias)}`, { instance: true });
        print(io, p, { keyId: id, alias, removed: true }, () => `removed alias ${alias} from ${id}\n`);
      },
    },
    list: {
      args: '[<key-id>]',
      positionals: [0, 1],
      async run(p, api, io) {
        const id = p.positionals[0];
        const keys =
          id !== undefined
            ? [one<KeyMeta>(await api.call('GET', `${keyPath(id)}/metadata`, { instance: true }))]
            : ((
                await api.call<{ resources?: KeyMeta[] }>('GET', '/api/v2/keys', {
                  instance: true,
                  query: { limit: 5000 },
                })
              )?.resources ?? []);
        const rows = keys.flatMap((k) => (k.aliases ?? []).map((alias) => ({ alias, keyId: k.id, name: k.name })));
        print(io, p, rows, () =>
          table(
            rows,
            [
              { header: 'ALIAS', value: (r) => r.alias },
              { header: 'KEY', value: (r) => r.keyId },
              { header: 'NAME', value: (r) => r.name },
            ],
            '(no aliases)',
          ),
        );
      },
    },
  },
};
