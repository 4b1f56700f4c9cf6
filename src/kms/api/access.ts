/**
 * Authentication and authorization of KMS API calls (key-protect.md 2.1, 5).
 *
 * Every call carries `authorization: Bearer <token>` (a token from POST
 * /identity/token, verified on every call) and `bluemix-instance`. The caller
 * must hold minimumRole(op) on the instance, or on the key for key operations.
 * An unknown instance and an instance the caller has no access to give the same
 * 401, so instance ids cannot be probed.
 *
 * A gateway service identity may add `x-coffer-tenant: <account>`; it is then
 * judged as that tenant is in embedded mode (owner, service-to-service
 * authorization, or the shared default key) - the split-mode twin of
 * LocalKeyProvider's check.
 */
import { KmsError } from '../../keys/errors.js';
import { minimumRole, type KmsOperation } from '../authorizer.js';
import type { InstanceRecord } from '../records.js';
import type { Caller } from '../../identity/caller.js';
import type { KmsRole } from '../../identity/roles.js';
import { TokenError } from '../../identity/tokenError.js';
import { callerFromBearer } from '../../restApi/bearer.js';
import type { ApiRequest, KmsApiDeps } from './context.js';
import { invalidField, unauthorized } from './errors.js';

/** Operations of this API beyond the core's KmsOperation, with their least role (key-protect.md 5). */
export type ApiOperation =
  | KmsOperation
  | 'patchKey'
  | 'listKeyRings'
  | 'createKeyRing'
  | 'deleteKeyRing'
  | 'importToken'
  | 'getInstancePolicies'
  | 'setInstancePolicies'
  | 'eventAck';

export function apiMinimumRole(op: ApiOperation): KmsRole {
  switch (op) {
    case 'listKeyRings':
    case 'eventAck':
      return 'Reader';
    case 'createKeyRing':
    case 'importToken':
      return 'Writer';
    case 'patchKey':
    case 'deleteKeyRing':
    case 'getInstancePolicies':
    case 'setInstancePolicies':
      return 'Manager';
    default:
      return minimumRole(op);
  }
}

export const TENANT_HEADER = 'x-coffer-tenant';

function header(r: { ctx: { get(name: string): string } }, name: string): string | undefined {
  const v = r.ctx.get(name);
  return v === '' ? undefined : v;
}

/** `authorization: Bearer <jwt>` -> the verified caller. */
export function authenticate(deps: KmsApiDeps, authorization: string | undefined): Caller {
  try {
    return callerFromBearer(deps.iam, authorization, unauthorized);
  } catch (e) {
    if (e instanceof TokenError && e.kind === 'malformed') {
      throw new KmsError('BEARER_SUB_EXTRACTION_ERR', 'The subject could not be extracted from the bearer token');
    }
    if (e instanceof TokenError) throw unauthorized();
    throw e;
  }
}

/** The `bluemix-instance` header -> the instance (401 when unknown). */
export async function resolveInstance(deps: KmsApiDeps, id: string | undefined): Promise<InstanceRecord> {
  if (id === undefined) throw invalidField('bluemix-instance', 'the GUID of a KMS instance', 'header');
  const inst = await deps.service.findInstance(id);
  if (!inst) throw unauthorized();
  return inst;
}

/**
 * The allowedIP and allowedNetwork instance policies: a caller from an address
 * they refuse gets the same 401 as one without access (key-protect.md 2.9).
 * A gateway service identity is not judged by its own address: it carries S3
 * requests for tenants (as the embedded gateway does in process, where no
 * network is involved); where split-mode gateways may connect from is the KMS
 * listener's bind address and mutual TLS.
 */
export function assertNetworkAllowed(
  deps: KmsApiDeps,
  ctx: Parameters<KmsApiDeps['network']['clientOf']>[0],
  caller: Caller,
  instanceId: string,
): void {
  if (caller.identity.gateway) return;
  if (!deps.policies.allowsNetwork(instanceId, deps.network.clientOf(ctx))) throw unauthorized();
}

/** The gateway tenant header, accepted only from a gateway service identity. */
export function tenantOf(r: Pick<ApiRequest, 'caller' | 'ctx'>): string | undefined {
  const t = header(r, TENANT_HEADER);
  if (t === undefined) return undefined;
  if (!r.caller.identity.gateway)
    throw new KmsError('SERVICE_ONLY_ERR', `Only a gateway service identity may send ${TENANT_HEADER}`);
  return t;
}

/** Key id for an id or alias in the instance, without side effects; undefined when none. */
export async function resolveKeyId(
  deps: KmsApiDeps,
  instanceId: string,
  idOrAlias: string,
): Promise<string | undefined> {
  const store = deps.service.store;
  if (await store.getKey(instanceId, idOrAlias)) return idOrAlias;
  return store.keyIdForAlias(instanceId, idOrAlias);
}

/**
 * Checks the caller holds the role `op` needs, on the instance or (idOrAlias
 * given) on the key. Returns the key id when the key exists. Throws 401.
 */
export async function authorize(r: ApiRequest, op: ApiOperation, idOrAlias?: string): Promise<string | undefined> {
  const needed = apiMinimumRole(op);
  const { deps, instance } = r;
  const keyId = idOrAlias === undefined ? undefined : await resolveKeyId(deps, instance.id, idOrAlias);
  let ok: boolean;
  if (r.tenant !== undefined) {
    ok =
      keyId !== undefined
        ? await deps.authorizer.canUse(r.tenant, { instanceId: instance.id, keyId, account: instance.account }, needed)
        : idOrAlias === undefined && deps.access.tenantHasRole(r.tenant, instance, undefined, needed);
  } else {
    // An unknown key is checked as the instance: only instance-wide access may learn it does not exist.
    ok = deps.access.identityHasRole(
      r.caller.identity,
      instance,
      keyId ?? (idOrAlias === undefined ? undefined : '\u0000'),
      needed,
    );
  }
  if (!ok) throw unauthorized();
  r.authorized = true;
  if (keyId !== undefined) r.audit.key = keyId;
  return keyId;
}

/** Registration writes and event acknowledgements: service identities only (403 SERVICE_ONLY_ERR for users). */
export function requireService(r: ApiRequest): void {
  if (r.caller.identity.kind !== 'service') {
    throw new KmsError('SERVICE_ONLY_ERR', 'This action can only be performed by a service, not a user');
  }
}
