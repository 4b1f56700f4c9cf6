/**
 * `coffer kms instance-policies get | set <policy> <value>`: the instance
 * policies of Key Protect (key-protect.md 2.7; PUT /api/v2/instance/policies
 * with one policy per call, so the others stay as they are). What they do is
 * the README's "Network policies and metrics" and the KMS's to enforce.
 */
import { str, UsageError } from './args.js';
import { onOff, print, type Family } from './commandKit.js';
import { table } from './output.js';

const POLICY_MEDIA = 'application/vnd.ibm.kms.policy+json';

interface InstancePolicy {
  policy_type: string;
  policy_data: { enabled: boolean; attributes?: Record<string, unknown> };
  lastUpdated?: string;
  updatedBy?: string;
}

type Data = InstancePolicy['policy_data'];

/** CLI name -> the API's policy_type and how a value becomes its policy_data. */
const SETTERS: Record<string, { type: string; data: (v: string) => Data }> = {
  'dual-auth-delete': { type: 'dualAuthDelete', data: (v) => ({ enabled: onOff(v, 'dual-auth-delete') }) },
  metrics: { type: 'metrics', data: (v) => ({ enabled: onOff(v, 'metrics') }) },
  'allowed-network': {
    type: 'allowedNetwork',
    data: (v) => {
      if (v === 'off') return { enabled: false };
      if (v !== 'private-only' && v !== 'public-and-private')
        throw new UsageError('allowed-network must be private-only, public-and-private or off');
      return { enabled: true, attributes: { allowed_network: v } };
    },
  },
  'allowed-ip': {
    type: 'allowedIP',
    data: (v) =>
      v === 'off'
        ? { enabled: false }
        : { enabled: true, attributes: { allowed_ip: v.split(',').map((s) => s.trim()) } },
  },
  'key-create-import-access': {
    type: 'keyCreateImportAccess',
    data: (v) => {
      if (v === 'off') return { enabled: false };
      const names = [
        'create_root_key',
        'create_standard_key',
        'import_root_key',
        'import_standard_key',
        'enforce_token',
      ];
      const attributes: Record<string, boolean> = {};
      for (const part of v.split(',')) {
        const [k = '', val] = part.split('=');
        if (!names.includes(k))
          throw new UsageError(`key-create-import-access takes NAME=on|off,... with NAME one of ${names.join(', ')}`);
        attributes[k] = onOff(val, k);
      }
      return { enabled: true, attributes };
    },
  },
  rotation: {
    type: 'rotation',
    data: (v) => {
      if (v === 'off') return { enabled: false };
      if (!/^\d{1,2}$/.test(v)) throw new UsageError('rotation takes a number of months from 1 to 12, or off');
      return { enabled: true, attributes: { interval_month: Number(v) } };
    },
  },
};

function describe(d: Data): string {
  const a = d.attributes ?? {};
  const detail = Object.entries(a)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ');
  return `${d.enabled ? 'on' : 'off'}${detail ? ` ${detail}` : ''}`;
}

export const INSTANCE_POLICIES: Family = {
  prefix: 'coffer kms instance-policies',
  usage: `coffer kms instance-policies <command> [--url URL] [--apikey KEY] [--instance ID] [--json]

  get [--policy TYPE]                               the instance's policies (TYPE as the API names it)
  set dual-auth-delete on|off                       deleting a key takes two identities
  set allowed-network private-only|public-and-private|off
                                                    private-only: COFFER_PRIVATE_NETWORKS clients only
  set allowed-ip CIDR[,CIDR...]|off                 instance calls only from these addresses
  set rotation MONTHS|off                           new keys rotate every MONTHS (1-12)
  set metrics on|off                                the instance's counters on GET /metrics
  set key-create-import-access NAME=on|off,...|off  which keys may be made: create_root_key,
                                                    create_standard_key, import_root_key,
                                                    import_standard_key; enforce_token=on: imports
                                                    only under an import token`,
  commands: {
    get: {
      args: '[--policy TYPE]',
      options: { policy: { type: 'string' } },
      async run(p, api, io) {
        const body = await api.call<{ resources?: InstancePolicy[] }>('GET', '/api/v2/instance/policies', {
          instance: true,
          query: { policy: str(p, 'policy') },
        });
        const list = body?.resources ?? [];
        print(io, p, list, () =>
          table(
            list,
            [
              { header: 'POLICY', value: (x) => x.policy_type },
              { header: 'SETTING', value: (x) => describe(x.policy_data) },
              { header: 'UPDATED', value: (x) => x.lastUpdated },
              { header: 'BY', value: (x) => x.updatedBy },
            ],
            '(no instance policies set)',
          ),
        );
      },
    },
    set: {
      args: `<${Object.keys(SETTERS).join('|')}> <value>`,
      positionals: 2,
      async run(p, api, io) {
        const [name = '', value = ''] = p.positionals;
        const setter = Object.prototype.hasOwnProperty.call(SETTERS, name) ? SETTERS[name] : undefined;
        if (!setter)
          throw new UsageError(`unknown instance policy "${name}": one of ${Object.keys(SETTERS).join(', ')}`);
        const data = setter.data(value);
        await api.call('PUT', '/api/v2/instance/policies', {
          instance: true,
          query: { policy: setter.type },
          body: {
            metadata: { collectionType: POLICY_MEDIA, collectionTotal: 1 },
            resources: [{ policy_type: setter.type, policy_data: data }],
          },
          idempotent: true,
        });
        print(io, p, { policy_type: setter.type, policy_data: data }, () => `${name}: ${describe(data)}\n`);
      },
    },
  },
};
