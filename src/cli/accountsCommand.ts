/**
 * `coffer iam whoami | accounts | s3keys | identities` over /iam/v1: the
 * caller, accounts (tenants) with their owner, their S3 HMAC credentials, and
 * users and service identities. Secrets (an account owner's API key, an S3
 * secret access key) are in the creating response only, so they are printed
 * once, by the create command.
 */
import { CliError, str } from './args.js';
import type { ApiClient } from './client.js';
import { enc, iso, print, runFamily, type Family } from './commandKit.js';
import { table, type Io } from './output.js';

interface Account {
  id: string;
  name: string;
  createdAt: number;
  system?: boolean;
}

interface Identity {
  id: string;
  kind: 'user' | 'service';
  accountId: string;
  name: string;
  createdAt: number;
  owner?: boolean;
  gateway?: boolean;
}

interface AccessKey {
  accessKeyId: string;
  accountId: string;
  identityId: string;
  createdAt?: number;
}

const ACCOUNT_COLUMNS = [
  { header: 'ID', value: (a: Account) => a.id },
  { header: 'NAME', value: (a: Account) => a.name },
  { header: 'ROOT', value: (a: Account) => a.system === true },
  { header: 'CREATED', value: (a: Account) => iso(a.createdAt) },
];

const IDENTITY_COLUMNS = [
  { header: 'ID', value: (i: Identity) => i.id },
  { header: 'KIND', value: (i: Identity) => i.kind },
  { header: 'NAME', value: (i: Identity) => i.name },
  { header: 'ACCOUNT', value: (i: Identity) => i.accountId },
  { header: 'OWNER', value: (i: Identity) => i.owner === true },
  { header: 'GATEWAY', value: (i: Identity) => i.gateway === true },
  { header: 'CREATED', value: (i: Identity) => iso(i.createdAt) },
];

/** --account, else the caller's own account. */
async function accountOf(api: ApiClient, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  const me = await api.call<{ identity: { accountId: string } }>('GET', '/iam/v1/identity');
  return me.identity.accountId;
}

const ACCOUNT_FLAG = { account: { type: 'string' as const } };

export const WHOAMI_USAGE = `coffer iam whoami [--json]                        the caller's identity and account`;

export const ACCOUNTS: Family = {
  prefix: 'coffer iam accounts',
  usage: `coffer iam accounts <command> [--url URL] [--apikey KEY] [--json]

  create <name> [--id ID]     a new account (tenant) with its owner, an owner API key and
                              S3 credentials, the secrets shown once (root account only)
  list                        accounts the caller administers
  get <id>                    one account
  delete <id>                 remove an account with its identities, API keys, S3
                              credentials and grants (refused while it still has
                              buckets or keys that are not deleted)`,
  commands: {
    create: {
      args: '<name> [--id ID]',
      positionals: 1,
      options: { id: { type: 'string' } },
      async run(p, api, io) {
        const id = str(p, 'id');
        const out = await api.call<{
          account: Account;
          owner: Identity;
          apikey: string;
          apikeyId: string;
          s3: { accessKeyId: string; secretAccessKey: string };
        }>('POST', '/iam/v1/accounts', {
          body: { name: p.positionals[0], ...(id !== undefined ? { id } : {}) },
          idempotent: false,
        });
        print(
          io,
          p,
          out,
          () =>
            `created account ${out.account.id} (${out.account.name})\n` +
            `Owner: ${out.owner.id}\n` +
            `Owner API key (shown once): ${out.apikey}\n` +
            `Access key id: ${out.s3.accessKeyId}\n` +
            `Secret access key (shown once): ${out.s3.secretAccessKey}\n`,
        );
      },
    },
    list: {
      args: '',
      async run(p, api, io) {
        const { accounts } = await api.call<{ accounts: Account[] }>('GET', '/iam/v1/accounts');
        print(io, p, accounts, () => table(accounts, ACCOUNT_COLUMNS, '(no accounts)'));
      },
    },
    get: {
      args: '<id>',
      positionals: 1,
      async run(p, api, io) {
        const { accounts } = await api.call<{ accounts: Account[] }>('GET', '/iam/v1/accounts');
        const a = accounts.find((x) => x.id === p.positionals[0]);
        // Not found and not visible are one answer, as the API gives them.
        if (!a) throw new CliError(`404 NOT_FOUND: Account ${p.positionals[0]} not found`);
        print(io, p, a, () => table([a], ACCOUNT_COLUMNS));
      },
    },
    delete: {
      args: '<id>',
      positionals: 1,
      async run(p, api, io) {
        const id = p.positionals[0] ?? '';
        await api.call('DELETE', `/iam/v1/accounts/${enc(id)}`);
        print(io, p, { id, deleted: true }, () => `deleted account ${id}\n`);
      },
    },
  },
};

export const S3KEYS: Family = {
  prefix: 'coffer iam s3keys',
  usage: `coffer iam s3keys <command> [--account ACCOUNT] [--url URL] [--apikey KEY] [--json]

  create [--identity ID]      S3 HMAC credentials for the account (its owner's unless
                              --identity), the secret shown once
  list                        the account's access key ids (never the secrets)
  delete <access-key-id>      revoke S3 credentials
  (--account defaults to the caller's own)`,
  commands: {
    create: {
      args: '[--account ACCOUNT] [--identity ID]',
      options: { ...ACCOUNT_FLAG, identity: { type: 'string' } },
      async run(p, api, io) {
        const account = await accountOf(api, str(p, 'account'));
        const identityId = str(p, 'identity');
        const out = await api.call<{ accessKeyId: string; secretAccessKey: string }>(
          'POST',
          `/iam/v1/accounts/${enc(account)}/access_keys`,
          { body: identityId !== undefined ? { identityId } : {}, idempotent: false },
        );
        print(
          io,
          p,
          out,
          () =>
            `created S3 credentials for account ${account}\n` +
            `Access key id: ${out.accessKeyId}\n` +
            `Secret access key (shown once): ${out.secretAccessKey}\n`,
        );
      },
    },
    list: {
      args: '[--account ACCOUNT]',
      options: ACCOUNT_FLAG,
      async run(p, api, io) {
        const account = await accountOf(api, str(p, 'account'));
        const { accessKeys } = await api.call<{ accessKeys: AccessKey[] }>(
          'GET',
          `/iam/v1/accounts/${enc(account)}/access_keys`,
        );
        print(io, p, accessKeys, () =>
          table(
            accessKeys,
            [
              { header: 'ACCESS_KEY_ID', value: (k) => k.accessKeyId },
              { header: 'ACCOUNT', value: (k) => k.accountId },
              { header: 'IDENTITY', value: (k) => k.identityId },
              { header: 'CREATED', value: (k) => iso(k.createdAt) },
            ],
            '(no access keys)',
          ),
        );
      },
    },
    delete: {
      args: '<access-key-id>',
      positionals: 1,
      async run(p, api, io) {
        const id = p.positionals[0] ?? '';
        await api.call('DELETE', `/iam/v1/access_keys/${enc(id)}`);
        print(io, p, { accessKeyId: id, deleted: true }, () => `deleted S3 credentials ${id}\n`);
      },
    },
  },
};

export const IDENTITIES: Family = {
  prefix: 'coffer iam identities',
  usage: `coffer iam identities <command> [--account ACCOUNT] [--url URL] [--apikey KEY] [--json]

  create <name> [--kind service|user]   a service identity (default) or user in the account;
                                        give it an API key with coffer iam apikeys create --identity
  list                                  the account's users and service identities
  delete <identity-id>                  remove an identity with its API keys and tokens
  (--account defaults to the caller's own)`,
  commands: {
    create: {
      args: '<name> [--account ACCOUNT] [--kind service|user]',
      positionals: 1,
      options: { ...ACCOUNT_FLAG, kind: { type: 'string' } },
      async run(p, api, io) {
        const account = await accountOf(api, str(p, 'account'));
        const kind = str(p, 'kind') ?? 'service';
        const ident = await api.call<Identity>('POST', `/iam/v1/accounts/${enc(account)}/identities`, {
          body: { kind, name: p.positionals[0] },
          idempotent: false,
        });
        print(io, p, ident, () => `created ${ident.kind} identity ${ident.id} in account ${ident.accountId}\n`);
      },
    },
    list: {
      args: '[--account ACCOUNT]',
      options: ACCOUNT_FLAG,
      async run(p, api, io) {
        const account = await accountOf(api, str(p, 'account'));
        const { identities } = await api.call<{ identities: Identity[] }>(
          'GET',
          `/iam/v1/accounts/${enc(account)}/identities`,
        );
        print(io, p, identities, () => table(identities, IDENTITY_COLUMNS, '(no identities)'));
      },
    },
    delete: {
      args: '<identity-id>',
      positionals: 1,
      async run(p, api, io) {
        const id = p.positionals[0] ?? '';
        await api.call('DELETE', `/iam/v1/identities/${enc(id)}`);
        print(io, p, { id, deleted: true }, () => `deleted identity ${id}\n`);
      },
    },
  },
};

export async function runWhoami(argv: string[], io: Io): Promise<number> {
  return runFamily(
    {
      prefix: 'coffer iam',
      usage: WHOAMI_USAGE,
      commands: {
        whoami: {
          args: '',
          async run(p, api, out) {
            const me = await api.call<{ identity: Identity; account?: Account }>('GET', '/iam/v1/identity');
            print(
              out,
              p,
              me,
              () =>
                `Identity: ${me.identity.id} (${me.identity.kind} ${me.identity.name}${me.identity.owner ? ', account owner' : ''})\n` +
                `Account:  ${me.identity.accountId}${me.account ? ` (${me.account.name})` : ''}\n`,
            );
          },
        },
      },
    },
    ['whoami', ...argv],
    io,
  );
}
