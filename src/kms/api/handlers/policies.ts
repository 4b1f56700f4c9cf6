/**
 * Key policies (rotation, dualAuthDelete) and instance policies
 * (dualAuthDelete, allowedNetwork, allowedIP, keyCreateImportAccess, metrics,
 * rotation), key-protect.md 2.3 and 2.7: parsing and validating the bodies,
 * and rendering. What instance policies do is the core's
 * (src/kms/instancePolicies.ts).
 */
import { isIP } from 'node:net';
import { KmsError } from '../../../keys/errors.js';
import type { PolicyResource } from '../../keyAdmin.js';
import { iso } from '../../keyView.js';
import { keyCrnOf } from '../../kmsContext.js';
import { authorize } from '../access.js';
import { actor, type ApiRequest, type Reply } from '../context.js';
import { invalidField } from '../errors.js';
import type { InstancePolicyInput } from '../../instancePolicies.js';
import {
  INSTANCE_POLICY_TYPES,
  type InstancePolicyAttributes,
  type InstancePolicyRecord,
  type InstancePolicyType,
} from '../../instanceState.js';
import { asObject, envelope, onlyFields, onlyQuery, optBool, parseEnvelope, qString, type Json } from '../schema.js';
import { checkKeyRing, json, keyParam, MEDIA, noContent } from './common.js';

type KeyPolicyType = 'rotation' | 'dualAuthDelete';

function keyPolicyQuery(r: ApiRequest): KeyPolicyType | undefined {
  onlyQuery(r.query, ['policy']);
  const p = qString(r.query, 'policy');
  if (p !== undefined && p !== 'rotation' && p !== 'dualAuthDelete')
    throw invalidField('policy', 'rotation or dualAuthDelete', 'query_param');
  return p;
}

async function keyPolicies(r: ApiRequest, id: string, only: KeyPolicyType | undefined): Promise<Reply> {
  const list = await r.deps.service.getPolicies(r.instance.id, id);
  const key = await r.deps.service.getKeyMetadata(r.instance.id, id);
  const crn = keyCrnOf(r.instance, key.id);
  const out = list
    .filter((p) => only === undefined || p[only] !== undefined)
    .map((p: PolicyResource) => ({ id: `${key.id}-${p.rotation ? 'rotation' : 'dualAuthDelete'}`, crn, ...p }));
  return json(200, envelope(MEDIA.policy, out));
}

export async function getKeyPolicies(r: ApiRequest): Promise<Reply> {
  const only = keyPolicyQuery(r);
  const id = keyParam(r);
  await checkKeyRing(r, await authorize(r, 'getPolicies', id));
  return keyPolicies(r, id, only);
}

export async function putKeyPolicies(r: ApiRequest): Promise<Reply> {
  const only = keyPolicyQuery(r);
  const id = keyParam(r);
  await checkKeyRing(r, await authorize(r, 'setPolicies', id));
  const resources = parseEnvelope(r.body, [MEDIA.policy], { min: 1, max: 2 });
  const by = actor(r);
  const plan: Array<() => Promise<unknown>> = [];
  for (const res of resources) {
    onlyFields(res, ['type', 'rotation', 'dualAuthDelete']);
    if (res.type !== undefined && res.type !== MEDIA.policy) throw invalidField('type', MEDIA.policy);
    const has = (['rotation', 'dualAuthDelete'] as const).filter((t) => res[t] !== undefined);
    if (has.length !== 1) throw invalidField('resources', 'one policy (rotation or dualAuthDelete) per resource');
    const type = has[0] as KeyPolicyType;
    if (only !== undefined && type !== only) {
      throw new KmsError(
        'BODY_QUERY_PARAM_MISMATCH_ERR',
        `The policy in the body (${type}) differs from the policy query parameter (${only})`,
      );
    }
    const p = asObject(res[type], type);
    if (type === 'rotation') {
      onlyFields(p, ['enabled', 'interval_month'], 'rotation');
      const enabled = optBool(p, 'enabled');
      const interval = p.interval_month;
      if (typeof interval !== 'number') throw invalidField('interval_month', 'an integer from 1 to 12');
      plan.push(() =>
        r.deps.service.setRotationPolicy(
          r.instance.id,
          id,
          { ...(enabled !== undefined ? { enabled } : {}), intervalMonth: interval },
          by,
        ),
      );
    } else {
      onlyFields(p, ['enabled'], 'dualAuthDelete');
      const enabled = optBool(p, 'enabled');
      if (enabled === undefined) throw invalidField('enabled', 'a boolean');
      plan.push(() => r.deps.service.setDualAuthDeletePolicy(r.instance.id, id, { enabled }, by));
    }
  }
  // Everything is validated before anything is applied.
  for (const step of plan) await step();
  return keyPolicies(r, id, only);
}

// ---- instance policies ---------------------------------------------------------

function instancePolicyQuery(r: ApiRequest): InstancePolicyType | undefined {
  onlyQuery(r.query, ['policy']);
  const p = qString(r.query, 'policy');
  if (p !== undefined && !(INSTANCE_POLICY_TYPES as readonly string[]).includes(p))
    throw invalidField('policy', INSTANCE_POLICY_TYPES.join(', '), 'query_param');
  return p as InstancePolicyType | undefined;
}

function instanceView(p: InstancePolicyRecord): Json {
  return {
    policy_type: p.policy_type,
    policy_data: p.policy_data,
    creationDate: iso(p.creationDate),
    createdBy: p.createdBy,
    updatedBy: p.updatedBy,
    lastUpdated: iso(p.lastUpdated),
  };
}

export async function getInstancePolicies(r: ApiRequest): Promise<Reply> {
  const only = instancePolicyQuery(r);
  await authorize(r, 'getInstancePolicies');
  const list = r.deps.policies.list(r.instance.id, only);
  return json(200, envelope(MEDIA.policy, list.map(instanceView)));
}

const CIDR = /^([0-9a-fA-F:.]+)(\/(\d{1,3}))?$/;

function validAttributes(
  type: InstancePolicyType,
  enabled: boolean,
  raw: unknown,
): InstancePolicyAttributes | undefined {
  const allowed: Record<InstancePolicyType, readonly string[]> = {
    dualAuthDelete: [],
    metrics: [],
    allowedNetwork: ['allowed_network'],
    allowedIP: ['allowed_ip'],
    keyCreateImportAccess: [
      'create_root_key',
      'create_standard_key',
      'import_root_key',
      'import_standard_key',
      'enforce_token',
    ],
    rotation: ['interval_month'],
  };
  if (raw === undefined) {
    if (enabled && (type === 'allowedNetwork' || type === 'allowedIP'))
      throw invalidField('attributes', `given for an enabled ${type} policy`);
    return undefined;
  }
  const a = asObject(raw, 'attributes');
  onlyFields(a, allowed[type], 'attributes');
  const out: InstancePolicyAttributes = {};
  if (type === 'allowedNetwork') {
    if (a.allowed_network !== 'public-and-private' && a.allowed_network !== 'private-only')
      throw invalidField('allowed_network', 'public-and-private or private-only');
    out.allowed_network = a.allowed_network;
  } else if (type === 'allowedIP') {
    const ips = a.allowed_ip;
    const ok = (s: unknown) => {
      const m = typeof s === 'string' ? CIDR.exec(s) : null;
      const v = m ? isIP(m[1] as string) : 0;
      return m !== null && v !== 0 && (m[3] === undefined || Number(m[3]) <= (v === 4 ? 32 : 128));
    };
    if (!Array.isArray(ips) || ips.length === 0 || !ips.every(ok))
      throw invalidField('allowed_ip', 'a non-empty array of IPv4 or IPv6 CIDR ranges');
    out.allowed_ip = ips as string[];
  } else if (type === 'keyCreateImportAccess') {
    for (const k of allowed.keyCreateImportAccess) {
      const v = optBool(a, k);
      if (v !== undefined) (out as Record<string, boolean>)[k] = v;
    }
  } else if (type === 'rotation') {
    const m = a.interval_month;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 12)
      throw invalidField('interval_month', 'an integer from 1 to 12');
    out.interval_month = m;
  }
  return out;
}

export async function putInstancePolicies(r: ApiRequest): Promise<Reply> {
  const only = instancePolicyQuery(r);
  await authorize(r, 'setInstancePolicies');
  const resources = parseEnvelope(r.body, [MEDIA.policy], { min: 1, max: INSTANCE_POLICY_TYPES.length });
  const seen = new Set<string>();
  const inputs: InstancePolicyInput[] = resources.map((res) => {
    onlyFields(res, ['policy_type', 'policy_data']);
    const type = res.policy_type;
    if (typeof type !== 'string' || !(INSTANCE_POLICY_TYPES as readonly string[]).includes(type))
      throw invalidField('policy_type', INSTANCE_POLICY_TYPES.join(', '));
    if (only !== undefined && type !== only)
      throw new KmsError(
        'BODY_QUERY_PARAM_MISMATCH_ERR',
        `The policy_type in the body (${type}) differs from the policy query parameter (${only})`,
      );
    if (seen.has(type)) throw invalidField('policy_type', 'each policy type at most once');
    seen.add(type);
    const data = asObject(res.policy_data, 'policy_data');
    onlyFields(data, ['enabled', 'attributes'], 'policy_data');
    const enabled = optBool(data, 'enabled');
    if (enabled === undefined) throw invalidField('enabled', 'a boolean');
    const t = type as InstancePolicyType;
    const attributes = validAttributes(t, enabled, data.attributes);
    return attributes ? { type: t, enabled, attributes } : { type: t, enabled };
  });
  await r.deps.policies.put(r.instance.id, inputs, actor(r));
  return noContent();
}

/** GET /instance/allowed_ip_port: the port of this API (Coffer has a single endpoint). */
export async function getAllowedIpPort(r: ApiRequest): Promise<Reply> {
  onlyQuery(r.query, []);
  await authorize(r, 'getInstancePolicies');
  return json(200, envelope(MEDIA.allowedIpMetadata, [{ private_endpoint_port: r.ctx.socket.localPort ?? 0 }]));
}
