/**
 * `coffer iam policies ...`: access policies (/iam/v1/policies) that give a
 * user or service identity a role on a KMS instance or one key - among them
 * KeyPurge, which even the owner must be granted before `coffer kms keys
 * purge` (key-protect.md 5).
 *
 * `coffer iam authorization-policies ...`: service-to-service authorizations
 * through IBM IAM Policy Management's API (/v1/policies, `type:
 * authorization`), with the request body IBM's own tools send; the same
 * records as `coffer iam authorizations`, printed in IBM's shape with --json.
 */
import { CliError, str, UsageError } from './args.js';
import { enc, iso, need, print, type Family } from './commandKit.js';
import { table } from './output.js';

interface AccessPolicy {
  id: string;
  subjectId: string;
  target: { instanceId: string; keyId?: string };
  role: string;
  createdAt: number;
}

interface Attribute {
  name: string;
  value: string;
}

interface IbmPolicy {
  id: string;
  subjects: Array<{ attributes: Attribute[] }>;
  roles: Array<{ role_id: string; display_name?: string }>;
  resources: Array<{ attributes: Attribute[] }>;
  created_at?: string;
}

const POLICY_COLUMNS = [
  { header: 'ID', value: (x: AccessPolicy) => x.id },
  { header: 'SUBJECT', value: (x: AccessPolicy) => x.subjectId },
  { header: 'INSTANCE', value: (x: AccessPolicy) => x.target.instanceId },
  { header: 'KEY', value: (x: AccessPolicy) => x.target.keyId ?? '(all)' },
  { header: 'ROLE', value: (x: AccessPolicy) => x.role },
  { header: 'CREATED', value: (x: AccessPolicy) => iso(x.createdAt) },
];

const GRANT_USAGE = 'coffer iam policies grant --subject IDENTITY_ID --role ROLE [--instance ID] [--key KEY_ID]';

export const POLICIES: Family = {
  prefix: 'coffer iam policies',
  usage: `coffer iam policies <command> [--url URL] [--apikey KEY] [--instance ID] [--json]

  grant --subject IDENTITY_ID --role Reader|ReaderPlus|Writer|Manager|KeyPurge [--key KEY_ID]
                              give a user or service identity a role on the instance
                              (or one key of it); KeyPurge allows coffer kms keys purge
  list [--subject IDENTITY_ID]
  revoke <policy-id>`,
  commands: {
    grant: {
      args: '--subject IDENTITY_ID --role ROLE [--key KEY_ID]',
      options: { subject: { type: 'string' }, role: { type: 'string' }, key: { type: 'string' } },
      async run(p, api, io) {
        const subjectId = need(p, 'subject', GRANT_USAGE);
        const role = need(p, 'role', GRANT_USAGE);
        const key = str(p, 'key');
        const target = { instanceId: await api.instance(), ...(key !== undefined ? { keyId: key } : {}) };
        const out = await api.call<AccessPolicy>('POST', '/iam/v1/policies', {
          body: { subjectId, target, role },
          idempotent: false,
        });
        print(io, p, out, () => table([out], POLICY_COLUMNS));
      },
    },
    list: {
      args: '[--subject IDENTITY_ID]',
      options: { subject: { type: 'string' } },
      async run(p, api, io) {
        const { policies } = await api.call<{ policies: AccessPolicy[] }>('GET', '/iam/v1/policies', {
          query: { subjectId: str(p, 'subject') },
        });
        print(io, p, policies, () => table(policies, POLICY_COLUMNS, '(no policies)'));
      },
    },
    revoke: {
      args: '<policy-id>',
      positionals: 1,
      async run(p, api, io) {
        const id = p.positionals[0] ?? '';
        await api.call('DELETE', `/iam/v1/policies/${enc(id)}`);
        print(io, p, { id, revoked: true }, () => `revoked policy ${id}\n`);
      },
    },
  },
};

const attr = (name: string, value: string) => ({ name, value, operator: 'stringEquals' });
const attrOf = (list: Attribute[] | undefined, name: string) => list?.find((a) => a.name === name)?.value;
const KP_ROLES = new Set(['ReaderPlus', 'KeyPurge']);

const IBM_COLUMNS = [
  { header: 'ID', value: (x: IbmPolicy) => x.id },
  {
    header: 'SOURCE',
    value: (x: IbmPolicy) => {
      const s = x.subjects[0]?.attributes;
      const inst = attrOf(s, 'serviceInstance');
      return `${attrOf(s, 'accountId')}/${attrOf(s, 'serviceName')}${inst ? `/${inst}` : ''}`;
    },
  },
  {
    header: 'TARGET',
    value: (x: IbmPolicy) => {
      const r = x.resources[0]?.attributes;
      const type = attrOf(r, 'resourceType');
      const inst = attrOf(r, 'serviceInstance') ?? `(all of ${attrOf(r, 'accountId')})`;
      return type ? `${inst} ${type} ${attrOf(r, 'resource')}` : inst;
    },
  },
  { header: 'ROLE', value: (x: IbmPolicy) => x.roles.map((r) => r.display_name ?? r.role_id).join(',') },
  { header: 'CREATED', value: (x: IbmPolicy) => x.created_at },
];

const CREATE_USAGE =
  'coffer iam authorization-policies create --source-account ACCOUNT [--source-service NAME] [--source-instance ID] [--key-ring RING | --key KEY_ID] [--role ROLE]';

export const AUTHORIZATION_POLICIES: Family = {
  prefix: 'coffer iam authorization-policies',
  usage: `coffer iam authorization-policies <command> [--url URL] [--apikey KEY] [--instance ID] [--json]

  create --source-account ACCOUNT [--source-service NAME] [--source-instance ID]
         [--key-ring RING | --key KEY_ID] [--role Reader|ReaderPlus]
                              POST /v1/policies (type authorization, IBM's body): let the
                              source account's Cloud Object Storage (or --source-service)
                              use the instance, a key ring or a key
  list [--source-account ACCOUNT]
  get <policy-id>
  delete <policy-id>          revoke it (cached data keys of its scope are dropped)`,
  commands: {
    create: {
      args: '--source-account ACCOUNT [options]',
      options: {
        'source-account': { type: 'string' },
        'source-service': { type: 'string' },
        'source-instance': { type: 'string' },
        'key-ring': { type: 'string' },
        key: { type: 'string' },
        role: { type: 'string' },
      },
      async run(p, api, io) {
        const account = need(p, 'source-account', CREATE_USAGE);
        const key = str(p, 'key');
        const ring = str(p, 'key-ring');
        if (key !== undefined && ring !== undefined) throw new UsageError('give --key-ring or --key, not both');
        const role = str(p, 'role') ?? 'Reader';
        if (!/^[A-Za-z]+$/.test(role)) throw new UsageError('--role is a role name such as Reader');
        const sourceInstance = str(p, 'source-instance');
        const subject = [
          attr('accountId', account),
          attr('serviceName', str(p, 'source-service') ?? 'cloud-object-storage'),
          ...(sourceInstance !== undefined ? [attr('serviceInstance', sourceInstance)] : []),
        ];
        const resource = [
          attr('serviceName', 'kms'),
          attr('serviceInstance', await api.instance()),
          ...(key !== undefined ? [attr('resourceType', 'key'), attr('resource', key)] : []),
          ...(ring !== undefined ? [attr('resourceType', 'keyRing'), attr('resource', ring)] : []),
        ];
        const out = await api.call<IbmPolicy>('POST', '/v1/policies', {
          body: {
            type: 'authorization',
            subjects: [{ attributes: subject }],
            roles: [{ role_id: `crn:v1:bluemix:public:${KP_ROLES.has(role) ? 'kms' : 'iam'}::::serviceRole:${role}` }],
            resources: [{ attributes: resource }],
          },
          idempotent: false,
        });
        print(io, p, out, () => table([out], IBM_COLUMNS));
      },
    },
    list: {
      args: '[--source-account ACCOUNT]',
      options: { 'source-account': { type: 'string' } },
      async run(p, api, io) {
        const { policies } = await api.call<{ policies: IbmPolicy[] }>('GET', '/v1/policies', {
          query: { type: 'authorization' },
        });
        const src = str(p, 'source-account');
        const list =
          src === undefined ? policies : policies.filter((x) => attrOf(x.subjects[0]?.attributes, 'accountId') === src);
        print(io, p, list, () => table(list, IBM_COLUMNS, '(no authorization policies)'));
      },
    },
    get: {
      args: '<policy-id>',
      positionals: 1,
      async run(p, api, io) {
        const out = await api.call<IbmPolicy | undefined>('GET', `/v1/policies/${enc(p.positionals[0] ?? '')}`);
        if (!out) throw new CliError('the KMS answered without a policy');
        print(io, p, out, () => table([out], IBM_COLUMNS));
      },
    },
    delete: {
      args: '<policy-id>',
      positionals: 1,
      async run(p, api, io) {
        const id = p.positionals[0] ?? '';
        await api.call('DELETE', `/v1/policies/${enc(id)}`);
        print(io, p, { id, deleted: true }, () => `deleted authorization policy ${id}\n`);
      },
    },
  },
};
