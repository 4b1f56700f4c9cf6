/**
 * IBM IAM Policy Management's shape of a service-to-service authorization
 * (`type: "authorization"`), to and from AuthorizationRecord:
 *
 *   subjects:  [{attributes: [{name: "accountId", value}, {name: "serviceName",
 *               value: "cloud-object-storage"}, {name: "serviceInstance", value}?]}]
 *   roles:     [{role_id: "crn:v1:bluemix:public:iam::::serviceRole:Reader"}]
 *   resources: [{attributes: [{name: "accountId", value}, {name: "serviceName", value: "kms"},
 *               {name: "serviceInstance", value}?, {name: "resourceType", value: "key" | "keyRing"}?,
 *               {name: "resource", value}?]}]
 *
 * A key ring may also be named by a `keyRing` attribute. Without
 * serviceInstance the grant covers every KMS instance of the account (what
 * Terraform's ibm_iam_authorization_policy creates with no instance ids).
 * Reader, Writer and Manager are IAM's service roles (`iam::::serviceRole:`),
 * ReaderPlus and KeyPurge Key Protect's own (`kms::::serviceRole:`); both
 * namespaces are accepted for every role. Several roles collapse into the
 * strongest (roles are additive), except KeyPurge, which stands alone.
 */
import { KMS_SERVICE_NAME } from '../../identity/serviceSource.js';
import { isKmsRole, roleSatisfies, type KmsRole } from '../../identity/roles.js';
import { IamError } from '../errors.js';
import type { AuthorizationRecord, AuthorizationSource, AuthorizationTarget } from '../records.js';

export const POLICY_TYPE = 'authorization';

export interface PolicyAttribute {
  name: string;
  value: string;
  operator?: string;
}

export interface ParsedAuthorizationPolicy {
  source: AuthorizationSource;
  target: AuthorizationTarget;
  role: KmsRole;
  /** The target's account as the body names it (checked against the instance's owner). */
  targetAccount?: string;
  description?: string;
}

function bad(message: string): IamError {
  return new IamError(400, 'INVALID_INPUT', message);
}

const KP_ROLES: ReadonlySet<KmsRole> = new Set(['ReaderPlus', 'KeyPurge']);

export function roleId(role: KmsRole): string {
  return `crn:v1:bluemix:public:${KP_ROLES.has(role) ? 'kms' : 'iam'}::::serviceRole:${role}`;
}

export function roleOf(id: unknown): KmsRole {
  const m = typeof id === 'string' ? /^crn:v1:bluemix:public:(?:iam|kms)::::serviceRole:([A-Za-z]+)$/.exec(id) : null;
  const name = m?.[1];
  if (!isKmsRole(name))
    throw bad(
      `role_id ${JSON.stringify(id)} is not a Key Protect service role (crn:v1:bluemix:public:iam::::serviceRole:Reader, ReaderPlus, Writer, Manager)`,
    );
  return name;
}

/** Several roles in one policy: the strongest; KeyPurge only alone. */
function strongest(roles: KmsRole[]): KmsRole {
  if (roles.includes('KeyPurge') && roles.length > 1) throw bad('KeyPurge cannot be combined with other roles');
  return roles.reduce((a, b) => (roleSatisfies(a, b) ? a : b));
}

function attributes(list: unknown, what: string, allowed: readonly string[]): Map<string, string> {
  if (!Array.isArray(list) || list.length !== 1)
    throw bad(`${what} must be an array of exactly one element with attributes`);
  const el = list[0] as Record<string, unknown> | null;
  if (typeof el !== 'object' || el === null || !Array.isArray(el.attributes))
    throw bad(`${what}[0].attributes must be an array`);
  for (const k of Object.keys(el)) if (k !== 'attributes') throw bad(`${what}[0].${k} is not supported`);
  const out = new Map<string, string>();
  for (const a of el.attributes as unknown[]) {
    const x = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
    if (typeof x.name !== 'string' || typeof x.value !== 'string' || x.value === '')
      throw bad(`every ${what} attribute needs a name and a non-empty string value`);
    if (x.operator !== undefined && x.operator !== 'stringEquals')
      throw bad(`${what} attribute ${x.name}: only the stringEquals operator is supported`);
    if (!allowed.includes(x.name)) throw bad(`${what} attribute ${x.name} is not supported`);
    if (out.has(x.name)) throw bad(`${what} attribute ${x.name} is given twice`);
    out.set(x.name, x.value);
  }
  return out;
}

const BODY_FIELDS = ['type', 'description', 'subjects', 'roles', 'resources'];

/** An IBM CreatePolicy body of type authorization -> what AccessControl.createAuthorization takes. */
export function parseAuthorizationPolicy(body: Record<string, unknown>): ParsedAuthorizationPolicy {
  for (const k of Object.keys(body)) if (!BODY_FIELDS.includes(k)) throw bad(`Unknown field '${k}'`);
  if (body.type !== POLICY_TYPE)
    throw bad(`type must be "${POLICY_TYPE}": access policies are served at /iam/v1/policies`);
  if (body.description !== undefined && typeof body.description !== 'string') throw bad('description must be a string');
  const subject = attributes(body.subjects, 'subjects', ['accountId', 'serviceName', 'serviceInstance']);
  const accountId = subject.get('accountId');
  const serviceName = subject.get('serviceName');
  if (accountId === undefined || serviceName === undefined)
    throw bad('subjects attributes must name accountId and serviceName (e.g. cloud-object-storage)');
  const serviceInstance = subject.get('serviceInstance');
  const source: AuthorizationSource = {
    accountId,
    serviceName,
    ...(serviceInstance !== undefined ? { serviceInstance } : {}),
  };

  const res = attributes(body.resources, 'resources', [
    'accountId',
    'serviceName',
    'serviceInstance',
    'resourceType',
    'resource',
    'keyRing',
  ]);
  if (res.get('serviceName') !== KMS_SERVICE_NAME)
    throw bad(`resources attribute serviceName must be "${KMS_SERVICE_NAME}"`);
  const targetAccount = res.get('accountId');
  const instanceId = res.get('serviceInstance');
  const type = res.get('resourceType');
  const resource = res.get('resource');
  if (type !== undefined && type !== 'key' && type !== 'keyRing')
    throw bad('resources attribute resourceType must be "key" or "keyRing"');
  if ((type === undefined) !== (resource === undefined))
    throw bad('resources attributes resourceType and resource go together');
  const ring = type === 'keyRing' ? resource : res.get('keyRing');
  if (type === 'keyRing' && res.has('keyRing') && res.get('keyRing') !== resource)
    throw bad('resources attributes keyRing and resource name different key rings');
  let target: AuthorizationTarget;
  if (instanceId === undefined) {
    if (type !== undefined || ring !== undefined)
      throw bad('a key or key ring resource needs the serviceInstance attribute');
    if (targetAccount === undefined) throw bad('resources attributes must name accountId or serviceInstance');
    target = { accountId: targetAccount };
  } else if (type === 'key') {
    if (res.has('keyRing')) throw bad('name either a key ring or a key, not both');
    target = { instanceId, keyId: resource as string };
  } else {
    target = ring !== undefined ? { instanceId, keyRing: ring } : { instanceId };
  }

  if (!Array.isArray(body.roles) || body.roles.length === 0) throw bad('roles must be a non-empty array of {role_id}');
  const roles = (body.roles as unknown[]).map((r) => {
    const x = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    return roleOf(x.role_id);
  });
  return {
    source,
    target,
    role: strongest(roles),
    ...(targetAccount !== undefined ? { targetAccount } : {}),
    ...(typeof body.description === 'string' ? { description: body.description } : {}),
  };
}

const attr = (name: string, value: string): PolicyAttribute => ({ name, value, operator: 'stringEquals' });

/** An authorization as IBM's V1Policy; `targetAccount` is the account owning the target instance. */
export function renderPolicy(a: AuthorizationRecord, href: string, targetAccount: string | undefined): unknown {
  const subject = [attr('accountId', a.source.accountId), attr('serviceName', a.source.serviceName)];
  if (a.source.serviceInstance !== undefined) subject.push(attr('serviceInstance', a.source.serviceInstance));
  const resource: PolicyAttribute[] = [];
  const account = a.target.accountId ?? targetAccount;
  if (account !== undefined) resource.push(attr('accountId', account));
  resource.push(attr('serviceName', KMS_SERVICE_NAME));
  if (a.target.instanceId !== undefined) resource.push(attr('serviceInstance', a.target.instanceId));
  if (a.target.keyRing !== undefined)
    resource.push(attr('resourceType', 'keyRing'), attr('resource', a.target.keyRing));
  if (a.target.keyId !== undefined) resource.push(attr('resourceType', 'key'), attr('resource', a.target.keyId));
  const created = new Date(a.createdAt).toISOString();
  return {
    id: a.id,
    type: POLICY_TYPE,
    ...(a.description !== undefined ? { description: a.description } : {}),
    subjects: [{ attributes: subject }],
    roles: [{ role_id: roleId(a.role), display_name: a.role }],
    resources: [{ attributes: resource }],
    href,
    created_at: created,
    created_by_id: a.createdBy,
    last_modified_at: created,
    last_modified_by_id: a.createdBy,
    state: 'active',
  };
}
