/**
 * `coffer kms keys ...`: the key lifecycle over the Key Protect v2 API
 * (key-protect.md 2.3-2.8) - create, list, show, versions, rotate, disable,
 * enable, delete [--force], restore, purge, registrations [<id>]; policies,
 * dual-auth deletes, moves between key rings and import are keyPolicyCommand.ts.
 */
import { CliError, CLIENT_OPTIONS, flag, int, parse, str, UsageError, type Parsed } from './args.js';
import { clientFrom, type ApiClient } from './client.js';
import { runFamily } from './commandKit.js';
import { KEY_EXTRAS, KEY_EXTRAS_USAGE } from './keyPolicyCommand.js';
import { json, stateName, table, type Io } from './output.js';

const KEY_TYPE = 'application/vnd.ibm.kms.key+json';

export const KEYS_USAGE = `coffer kms keys <command> [--url URL] [--apikey KEY] [--instance ID] [--json]

  create <name> [--description TEXT] [--standard] [--key-ring RING]
                                                     a root key (standard with --standard)
  list [--state 1,2,3,5] [--limit N]                 keys of the instance
  show <id>                                          key metadata (no payload)
  versions <id>                                      key versions, newest first
  rotate <id>                                        new key version (root keys)
  disable <id> | enable <id>                         suspend / reactivate
  delete <id> [--force]                              crypto-shred (--force despite registrations)
  restore <id>                                       undo a delete (within 30 days)
  purge <id>                                         remove for good (KeyPurge role, 4 h after delete)
  registrations [<id>] [--crn QUERY]                 resources protected by a key (or by any key)
${KEY_EXTRAS_USAGE}`;

interface Key {
  id: string;
  name: string;
  state: number;
  crn: string;
  extractable: boolean;
  creationDate?: string;
  lastRotateDate?: string;
  keyVersion?: { id: string };
  deleted?: boolean;
}

interface Registration {
  keyId: string;
  resourceCrn: string;
  createdBy?: string;
  creationDate?: string;
  preventKeyDeletion?: boolean;
  keyVersion?: { id: string };
  description?: string;
}

const KEY_COLUMNS = [
  { header: 'ID', value: (k: Key) => k.id },
  { header: 'NAME', value: (k: Key) => k.name },
  { header: 'STATE', value: (k: Key) => stateName(k.state) },
  { header: 'TYPE', value: (k: Key) => (k.extractable ? 'standard' : 'root') },
  { header: 'VERSION', value: (k: Key) => k.keyVersion?.id },
  { header: 'CREATED', value: (k: Key) => k.creationDate },
];

const OPTIONS = {
  ...CLIENT_OPTIONS,
  description: { type: 'string' as const },
  standard: { type: 'boolean' as const },
  state: { type: 'string' as const },
  limit: { type: 'string' as const },
  force: { type: 'boolean' as const },
  crn: { type: 'string' as const },
  'key-ring': { type: 'string' as const },
};

function one<T>(body: { resources?: T[] } | undefined): T {
  const r = body?.resources?.[0];
  if (!r) throw new CliError('the KMS answered without a resource');
  return r;
}

export async function runKeys(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out(KEYS_USAGE + '\n');
    return cmd === undefined ? 2 : 0;
  }
  if (Object.prototype.hasOwnProperty.call(KEY_EXTRAS.commands, cmd))
    return runFamily({ ...KEY_EXTRAS, usage: KEYS_USAGE }, argv, io);
  const needsId = ['show', 'versions', 'rotate', 'disable', 'enable', 'delete', 'restore', 'purge'];
  const usage = `coffer kms keys ${cmd}${cmd === 'create' ? ' <name>' : needsId.includes(cmd) ? ' <id>' : cmd === 'registrations' ? ' [<id>]' : ''} [options]`;
  const positional =
    cmd === 'create' || needsId.includes(cmd)
      ? { min: 1, max: 1, usage }
      : cmd === 'registrations'
        ? { min: 0, max: 1, usage }
        : { min: 0, max: 0, usage };
  if (cmd !== 'list' && cmd !== 'create' && cmd !== 'registrations' && !needsId.includes(cmd))
    throw new UsageError(`unknown command "keys ${cmd}"\n\n${KEYS_USAGE}`);
  const p = parse(rest, OPTIONS, positional);
  if (flag(p, 'help')) {
    io.out(KEYS_USAGE + '\n');
    return 0;
  }
  const api = clientFrom(p, io);
  const arg = p.positionals[0] ?? '';
  const asJson = flag(p, 'json');
  const path = (id: string) => `/api/v2/keys/${encodeURIComponent(id)}`;
  switch (cmd) {
    case 'create':
      return create(api, p, arg, io);
    case 'list': {
      const state = str(p, 'state');
      if (state !== undefined && !/^\d(,\d)*$/.test(state))
        throw new UsageError('--state must be a comma-separated list of state numbers, e.g. 1,2,5');
      const body = await api.call<{ resources?: Key[] }>('GET', '/api/v2/keys', {
        instance: true,
        query: { state, limit: int(p, 'limit', 5000) },
      });
      const keys = body?.resources ?? [];
      io.out(asJson ? json(keys) : table(keys, KEY_COLUMNS, '(no keys)'));
      return 0;
    }
    case 'show': {
      const key = one<Key>(await api.call('GET', `${path(arg)}/metadata`, { instance: true }));
      io.out(asJson ? json(key) : table([key], KEY_COLUMNS) + `CRN: ${key.crn}\n`);
      return 0;
    }
    case 'versions': {
      const body = await api.call<{ resources?: Array<{ id: string; creationDate?: string }> }>(
        'GET',
        `${path(arg)}/versions`,
        { instance: true },
      );
      const v = body?.resources ?? [];
      io.out(
        asJson
          ? json(v)
          : table(v, [
              { header: 'VERSION', value: (x) => x.id },
              { header: 'CREATED', value: (x) => x.creationDate },
            ]),
      );
      return 0;
    }
    case 'rotate': {
      const key = one<Key>(
        await api.call('POST', `${path(arg)}/actions/rotate`, {
          instance: true,
          headers: { prefer: 'return=representation' },
          idempotent: false,
        }),
      );
      io.out(asJson ? json(key) : `rotated ${key.id}: new version ${key.keyVersion?.id ?? '?'}\n`);
      return 0;
    }
    case 'disable':
    case 'enable': {
      await api.call('POST', `${path(arg)}/actions/${cmd}`, { instance: true, idempotent: false });
      io.out(asJson ? json({ id: arg, action: cmd, ok: true }) : `${cmd}d ${arg}\n`);
      return 0;
    }
    case 'delete': {
      const force = flag(p, 'force');
      const key = one<Key>(
        await api.call('DELETE', path(arg), {
          instance: true,
          query: { force: force ? 'true' : undefined },
          headers: { prefer: 'return=representation' },
          idempotent: false,
        }),
      );
      io.out(
        asJson
          ? json(key)
          : `deleted ${key.id} (state ${stateName(key.state)}): its data is crypto-shredded; restore within 30 days\n`,
      );
      return 0;
    }
    case 'restore': {
      const key = one<Key>(await api.call('POST', `${path(arg)}/restore`, { instance: true, idempotent: false }));
      io.out(asJson ? json(key) : `restored ${key.id} (state ${stateName(key.state)})\n`);
      return 0;
    }
    case 'purge': {
      const key = one<Key>(await api.call('DELETE', `${path(arg)}/purge`, { instance: true, idempotent: false }));
      io.out(asJson ? json(key) : `purged ${key.id}: it is gone for good\n`);
      return 0;
    }
    case 'registrations': {
      const crn = str(p, 'crn');
      const url = arg ? `${path(arg)}/registrations` : '/api/v2/keys/registrations';
      const body = await api.call<{ resources?: Registration[] }>('GET', url, {
        instance: true,
        query: { urlEncodedResourceCRNQuery: crn, limit: int(p, 'limit', 5000) },
      });
      const regs = body?.resources ?? [];
      io.out(
        asJson
          ? json(regs)
          : table(
              regs,
              [
                { header: 'KEY', value: (r) => r.keyId },
                { header: 'RESOURCE', value: (r) => r.resourceCrn },
                { header: 'VERSION', value: (r) => r.keyVersion?.id },
                { header: 'PREVENT_DELETE', value: (r) => r.preventKeyDeletion ?? false },
                { header: 'CREATED', value: (r) => r.creationDate },
              ],
              '(no registrations)',
            ),
      );
      return 0;
    }
    default:
      throw new UsageError(KEYS_USAGE);
  }
}

async function create(api: ApiClient, p: Parsed, name: string, io: Io): Promise<number> {
  const resource: Record<string, unknown> = { type: KEY_TYPE, name, extractable: flag(p, 'standard') };
  const description = str(p, 'description');
  if (description !== undefined) resource.description = description;
  const ring = str(p, 'key-ring');
  if (ring !== undefined) resource.keyRingID = ring;
  const body = { metadata: { collectionType: KEY_TYPE, collectionTotal: 1 }, resources: [resource] };
  const key = one<Key>(
    await api.call('POST', '/api/v2/keys', {
      instance: true,
      body,
      headers: { prefer: 'return=representation' },
      idempotent: false,
    }),
  );
  io.out(
    flag(p, 'json') ? json(key) : `created ${key.extractable ? 'standard' : 'root'} key ${key.id}\nCRN: ${key.crn}\n`,
  );
  return 0;
}
