/**
 * `coffer kms instances | key-rings | import-token ...`: KMS instances (the
 * `bluemix-instance` of every Key Protect call; created through /iam/v1),
 * an instance's key rings (key-protect.md 2.5) and its import token for
 * secure import (2.4; `coffer kms keys import` uses it).
 */
import { CliError, flag, int, str } from './args.js';
import { enc, one, print, type Family } from './commandKit.js';
import { table } from './output.js';

interface Instance {
  id: string;
  account: string;
  name: string;
  region?: string;
  crn?: string;
  createdAt?: number;
}

const INSTANCE_COLUMNS = [
  { header: 'ID', value: (i: Instance) => i.id },
  { header: 'NAME', value: (i: Instance) => i.name },
  { header: 'ACCOUNT', value: (i: Instance) => i.account },
  { header: 'REGION', value: (i: Instance) => i.region },
];

export const INSTANCES: Family = {
  prefix: 'coffer kms instances',
  usage: `coffer kms instances <command> [--url URL] [--apikey KEY] [--json]

  create [--name NAME] [--account ACCOUNT]   a new KMS instance (default: in the caller's account)
  list                                       instances the caller can see
  get <id>                                   one instance`,
  commands: {
    create: {
      args: '[--name NAME] [--account ACCOUNT]',
      options: { name: { type: 'string' }, account: { type: 'string' } },
      async run(p, api, io) {
        const name = str(p, 'name');
        const accountId = str(p, 'account');
        const inst = await api.call<Instance>('POST', '/iam/v1/instances', {
          body: { ...(name !== undefined ? { name } : {}), ...(accountId !== undefined ? { accountId } : {}) },
          idempotent: false,
        });
        print(io, p, inst, () => `created KMS instance ${inst.id} (${inst.name}) in account ${inst.account}\n`);
      },
    },
    list: {
      args: '',
      async run(p, api, io) {
        const { instances } = await api.call<{ instances: Instance[] }>('GET', '/iam/v1/instances');
        print(io, p, instances, () => table(instances, INSTANCE_COLUMNS, '(no instances)'));
      },
    },
    get: {
      args: '<id>',
      positionals: 1,
      async run(p, api, io) {
        const { instances } = await api.call<{ instances: Instance[] }>('GET', '/iam/v1/instances');
        const inst = instances.find((i) => i.id === p.positionals[0]);
        if (!inst) throw new CliError(`404 NOT_FOUND: Instance ${p.positionals[0]} not found`);
        print(io, p, inst, () => table([inst], INSTANCE_COLUMNS) + (inst.crn ? `CRN: ${inst.crn}\n` : ''));
      },
    },
  },
};

interface KeyRing {
  id: string;
  creationDate?: string;
  createdBy?: string;
}

export const KEY_RINGS: Family = {
  prefix: 'coffer kms key-rings',
  usage: `coffer kms key-rings <command> [--url URL] [--apikey KEY] [--instance ID] [--json]

  create <ring-id>              a key ring (2 to 100 letters, digits or hyphens)
  list                          the instance's key rings
  delete <ring-id> [--force]    delete a ring (only an empty one; --force moves its
                                deleted keys to the default ring)
  (move a key with coffer kms keys move <id> --key-ring RING)`,
  commands: {
    create: {
      args: '<ring-id>',
      positionals: 1,
      async run(p, api, io) {
        const ring = one<KeyRing>(
          await api.call('POST', `/api/v2/key_rings/${enc(p.positionals[0] ?? '')}`, {
            instance: true,
            idempotent: false,
          }),
        );
        print(io, p, ring, () => `created key ring ${ring.id}\n`);
      },
    },
    list: {
      args: '',
      async run(p, api, io) {
        const body = await api.call<{ resources?: KeyRing[] }>('GET', '/api/v2/key_rings', { instance: true });
        const rings = body?.resources ?? [];
        print(io, p, rings, () =>
          table(rings, [
            { header: 'ID', value: (r) => r.id },
            { header: 'CREATED', value: (r) => r.creationDate },
            { header: 'CREATED_BY', value: (r) => r.createdBy },
          ]),
        );
      },
    },
    delete: {
      args: '<ring-id> [--force]',
      positionals: 1,
      options: { force: { type: 'boolean' } },
      async run(p, api, io) {
        const id = p.positionals[0] ?? '';
        await api.call('DELETE', `/api/v2/key_rings/${enc(id)}`, {
          instance: true,
          query: { force: flag(p, 'force') ? 'true' : undefined },
        });
        print(io, p, { id, deleted: true }, () => `deleted key ring ${id}\n`);
      },
    },
  },
};

interface ImportToken {
  creationDate: string;
  expirationDate: string;
  maxAllowedRetrievals: number;
  remainingRetrievals: number;
  payload?: string;
  nonce?: string;
}

const tokenText = (t: ImportToken) =>
  `expires ${t.expirationDate}, ${t.remainingRetrievals} of ${t.maxAllowedRetrievals} retrievals left\n`;

export const IMPORT_TOKEN: Family = {
  prefix: 'coffer kms import-token',
  usage: `coffer kms import-token <command> [--url URL] [--apikey KEY] [--instance ID] [--json]

  create [--expiration SECONDS] [--max-retrievals N]   the instance's import token (replaces any
                                                       other; RSA-4096, in the KMS's memory only)
  get                                                  its public key and nonce (uses a retrieval)
  (coffer kms keys import <name> --key-file FILE creates a token if needed and imports with it)`,
  commands: {
    create: {
      args: '[--expiration SECONDS] [--max-retrievals N]',
      options: { expiration: { type: 'string' }, 'max-retrievals': { type: 'string' } },
      async run(p, api, io) {
        const expiration = int(p, 'expiration', 86_400);
        const max = int(p, 'max-retrievals', 500);
        const t = await api.call<ImportToken>('POST', '/api/v2/import_token', {
          instance: true,
          body: {
            ...(expiration !== undefined ? { expiration } : {}),
            ...(max !== undefined ? { maxAllowedRetrievals: max } : {}),
          },
          idempotent: false,
        });
        print(io, p, t, () => `created import token: ${tokenText(t)}`);
      },
    },
    get: {
      args: '',
      async run(p, api, io) {
        // A retrieval is spent on the KMS: never retried.
        const t = await api.call<ImportToken>('GET', '/api/v2/import_token', { instance: true, idempotent: false });
        print(
          io,
          p,
          t,
          () =>
            `import token: ${tokenText(t)}Nonce: ${t.nonce ?? '-'}\n` +
            Buffer.from(t.payload ?? '', 'base64').toString('utf8'),
        );
      },
    },
  },
};
