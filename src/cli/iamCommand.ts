/**
 * `coffer iam ...` over the /iam/v1 management API:
 *
 *   apikeys create [--identity ID] [--name NAME]   a new API key (shown once)
 *   apikeys list [--identity ID]
 *   apikeys delete <apikey-id>
 *   authorizations grant --source-account ACCT [--source-service NAME] [--source-instance ID]
 *                        [--instance ID] [--key-ring RING | --key ID] [--role ROLE]
 *   authorizations list
 *   authorizations revoke <authorization-id>
 *
 * The other families (whoami, accounts, s3keys, identities, policies,
 * authorization-policies) are accountsCommand.ts and policiesCommand.ts.
 *
 * Without --identity, API keys are the caller's own. A service-to-service
 * authorization (IBM's model) lets a source service instance - by default the
 * source account's Cloud Object Storage, i.e. the gateway acting for that
 * account - use the target instance, key ring or key with the role (Reader by
 * default; key-protect.md 5). It is needed for an account's own keys too.
 */
import { ACCOUNTS, IDENTITIES, runWhoami, S3KEYS } from './accountsCommand.js';
import { CLIENT_OPTIONS, flag, parse, str, UsageError } from './args.js';
import { clientFrom, type ApiClient } from './client.js';
import { runFamily } from './commandKit.js';
import { AUTHORIZATION_POLICIES, POLICIES } from './policiesCommand.js';
import { json, table, type Io } from './output.js';

export const IAM_USAGE = `coffer iam <family> <command> [--url URL] [--apikey KEY] [--json]

  whoami                                           the caller's identity and account
  accounts create <name> [--id ID] | list | get <id> | delete <id>
                                                   accounts (tenants), each with an owner, an owner
                                                   API key and S3 credentials (secrets shown once)
  s3keys create [--account A] [--identity ID] | list [--account A] | delete <access-key-id>
                                                   S3 HMAC credentials (the secret shown once)
  identities create <name> [--account A] [--kind service|user] | list [--account A] | delete <id>
                                                   service identities and users
  policies grant --subject IDENTITY_ID --role ROLE [--key KEY_ID] | list [--subject ID] | revoke <id>
                                                   a role on the instance or a key for an identity
                                                   (KeyPurge: may purge deleted keys)
  authorization-policies create --source-account ACCOUNT [--key-ring RING | --key KEY_ID] [--role ROLE]
                       | list | get <id> | delete <id>
                                                   the same grants as authorizations, through IBM
                                                   IAM Policy Management's /v1/policies
  apikeys create [--identity ID] [--name NAME]     a new API key, shown once
  apikeys list [--identity ID]                     API keys (never the keys themselves)
  apikeys delete <apikey-id>                       revoke an API key and its tokens
  authorizations grant --source-account ACCOUNT [--source-service NAME] [--source-instance ID]
                       [--instance ID] [--key-ring RING | --key KEY_ID] [--role Reader|ReaderPlus|Writer|Manager]
                                                   let the account's Cloud Object Storage (the gateway
                                                   acting for it; --source-service names another
                                                   service) use the instance, a key ring or a key;
                                                   needed for the account's own keys too; the
                                                   instance defaults to the caller's own
  authorizations list
  authorizations revoke <authorization-id>`;

interface ApiKeyRow {
  id: string;
  identityId: string;
  name: string;
  createdAt: number;
}

interface AuthorizationRow {
  id: string;
  sourceAccount: string;
  source: { accountId: string; serviceName: string; serviceInstance?: string };
  target: { accountId?: string; instanceId?: string; keyRing?: string; keyId?: string };
  role: string;
  createdAt: number;
}

const iso = (ms: number | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : undefined);

async function identityOf(api: ApiClient, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  const me = await api.call<{ identity: { id: string } }>('GET', '/iam/v1/identity');
  return me.identity.id;
}

export async function runIam(argv: string[], io: Io): Promise<number> {
  const [family, cmd, ...rest] = argv;
  if (family === undefined || family === 'help' || family === '--help' || family === '-h') {
    io.out(IAM_USAGE + '\n');
    return family === undefined ? 2 : 0;
  }
  if (family === 'whoami') return runWhoami(argv.slice(1), io);
  if (family === 'accounts') return runFamily(ACCOUNTS, argv.slice(1), io);
  if (family === 's3keys') return runFamily(S3KEYS, argv.slice(1), io);
  if (family === 'identities') return runFamily(IDENTITIES, argv.slice(1), io);
  if (family === 'policies') return runFamily(POLICIES, argv.slice(1), io);
  if (family === 'authorization-policies') return runFamily(AUTHORIZATION_POLICIES, argv.slice(1), io);
  if (family === 'apikeys') return apikeys(cmd, rest, io);
  if (family === 'authorizations') return authorizations(cmd, rest, io);
  throw new UsageError(`unknown command "iam ${family}"\n\n${IAM_USAGE}`);
}

async function apikeys(cmd: string | undefined, argv: string[], io: Io): Promise<number> {
  const options = { ...CLIENT_OPTIONS, identity: { type: 'string' as const }, name: { type: 'string' as const } };
  const usage = `coffer iam apikeys ${cmd ?? '<create|list|delete>'} ...`;
  if (cmd !== 'create' && cmd !== 'list' && cmd !== 'delete') throw new UsageError(IAM_USAGE);
  const p = parse(
    argv,
    options,
    cmd === 'delete' ? { min: 1, max: 1, usage: 'coffer iam apikeys delete <apikey-id>' } : { usage },
  );
  if (flag(p, 'help')) {
    io.out(IAM_USAGE + '\n');
    return 0;
  }
  const api = clientFrom(p, io);
  const asJson = flag(p, 'json');
  if (cmd === 'create') {
    const id = await identityOf(api, str(p, 'identity'));
    const name = str(p, 'name');
    const out = await api.call<ApiKeyRow & { apikey: string }>(
      'POST',
      `/iam/v1/identities/${encodeURIComponent(id)}/apikeys`,
      { body: name === undefined ? {} : { name }, idempotent: false },
    );
    io.out(
      asJson ? json(out) : `created API key ${out.id} for ${out.identityId}\nAPI key (shown once): ${out.apikey}\n`,
    );
    return 0;
  }
  if (cmd === 'list') {
    const id = await identityOf(api, str(p, 'identity'));
    const { apikeys: list } = await api.call<{ apikeys: ApiKeyRow[] }>(
      'GET',
      `/iam/v1/identities/${encodeURIComponent(id)}/apikeys`,
    );
    io.out(
      asJson
        ? json(list)
        : table(list, [
            { header: 'ID', value: (k) => k.id },
            { header: 'IDENTITY', value: (k) => k.identityId },
            { header: 'NAME', value: (k) => k.name },
            { header: 'CREATED', value: (k) => iso(k.createdAt) },
          ]),
    );
    return 0;
  }
  const keyId = p.positionals[0] ?? '';
  await api.call('DELETE', `/iam/v1/apikeys/${encodeURIComponent(keyId)}`);
  io.out(asJson ? json({ id: keyId, deleted: true }) : `deleted API key ${keyId}\n`);
  return 0;
}

async function authorizations(cmd: string | undefined, argv: string[], io: Io): Promise<number> {
  const options = {
    ...CLIENT_OPTIONS,
    'source-account': { type: 'string' as const },
    'source-service': { type: 'string' as const },
    'source-instance': { type: 'string' as const },
    'key-ring': { type: 'string' as const },
    key: { type: 'string' as const },
    role: { type: 'string' as const },
  };
  if (cmd !== 'grant' && cmd !== 'list' && cmd !== 'revoke') throw new UsageError(IAM_USAGE);
  const p = parse(
    argv,
    options,
    cmd === 'revoke'
      ? { min: 1, max: 1, usage: 'coffer iam authorizations revoke <authorization-id>' }
      : { usage: `coffer iam authorizations ${cmd} ...` },
  );
  if (flag(p, 'help')) {
    io.out(IAM_USAGE + '\n');
    return 0;
  }
  const api = clientFrom(p, io);
  const asJson = flag(p, 'json');
  const columns = [
    { header: 'ID', value: (a: AuthorizationRow) => a.id },
    { header: 'SOURCE_ACCOUNT', value: (a: AuthorizationRow) => a.source.accountId },
    {
      header: 'SOURCE_SERVICE',
      value: (a: AuthorizationRow) =>
        `${a.source.serviceName}${a.source.serviceInstance ? `/${a.source.serviceInstance}` : ''}`,
    },
    { header: 'INSTANCE', value: (a: AuthorizationRow) => a.target.instanceId ?? `(all of ${a.target.accountId})` },
    { header: 'KEY_RING', value: (a: AuthorizationRow) => a.target.keyRing ?? '(all)' },
    { header: 'KEY', value: (a: AuthorizationRow) => a.target.keyId ?? '(all)' },
    { header: 'ROLE', value: (a: AuthorizationRow) => a.role },
    { header: 'CREATED', value: (a: AuthorizationRow) => iso(a.createdAt) },
  ];
  if (cmd === 'grant') {
    const source = str(p, 'source-account');
    if (!source)
      throw new UsageError(
        'usage: coffer iam authorizations grant --source-account ACCOUNT [--source-service NAME] [--source-instance ID] [--instance ID] [--key-ring RING | --key KEY_ID] [--role ROLE]',
      );
    const instanceId = await api.instance();
    const key = str(p, 'key');
    const ring = str(p, 'key-ring');
    if (key !== undefined && ring !== undefined) throw new UsageError('give --key-ring or --key, not both');
    const target =
      key !== undefined
        ? { instanceId, keyId: key }
        : ring !== undefined
          ? { instanceId, keyRing: ring }
          : { instanceId };
    const service = str(p, 'source-service');
    const serviceInstance = str(p, 'source-instance');
    const a = await api.call<AuthorizationRow>('POST', '/iam/v1/authorizations', {
      body: {
        source: {
          accountId: source,
          ...(service !== undefined ? { serviceName: service } : {}),
          ...(serviceInstance !== undefined ? { serviceInstance } : {}),
        },
        target,
        role: str(p, 'role') ?? 'Reader',
      },
      idempotent: false,
    });
    io.out(asJson ? json(a) : table([a], columns));
    return 0;
  }
  if (cmd === 'list') {
    const { authorizations: list } = await api.call<{ authorizations: AuthorizationRow[] }>(
      'GET',
      '/iam/v1/authorizations',
    );
    io.out(asJson ? json(list) : table(list, columns, '(no authorizations)'));
    return 0;
  }
  const id = p.positionals[0] ?? '';
  await api.call('DELETE', `/iam/v1/authorizations/${encodeURIComponent(id)}`);
  io.out(asJson ? json({ id, revoked: true }) : `revoked authorization ${id}\n`);
  return 0;
}
