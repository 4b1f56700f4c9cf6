/**
 * Access to KMS instances and keys (key-protect.md 5):
 *
 * - Access policies give a user or service identity a role on an instance or
 *   on one key. The owner of the account that owns an instance holds Manager on
 *   it implicitly; nobody holds KeyPurge without an explicit policy.
 * - Service-to-service authorizations (IBM's model) let a source service
 *   instance - the gateway as a tenant account's Cloud Object Storage
 *   instance - use a KMS instance, a key ring in it or one key with a role.
 *   They are needed inside one account too (COS needs Reader on its own
 *   account's keys), unless the implicitSameAccount opt-out is on.
 *
 * Roles are additive Reader < ReaderPlus < Writer < Manager; KeyPurge stands
 * alone (roleSatisfies in src/identity/roles.ts).
 */
import { isKmsRole, roleSatisfies, type KmsRole } from '../identity/roles.js';
import { IamError, invalidInput, notFound } from './errors.js';
import type { IamStore } from './iamStore.js';
import { COS_SERVICE_NAME, gatewaySource, type ServiceSource } from '../identity/serviceSource.js';
import type {
  AccessPolicyRecord,
  AccessTarget,
  AuthorizationRecord,
  AuthorizationSource,
  AuthorizationTarget,
  IdentityRecord,
} from './records.js';
import { newId } from './secrets.js';

/** An instance as access control sees it: its id and owning account. */
export interface InstanceRef {
  id: string;
  account: string;
}

const ID = /^[A-Za-z0-9._-]{1,128}$/;
const SERVICE = /^[a-z0-9][a-z0-9-]{0,63}$/;

function validTarget(t: unknown): AccessTarget {
  const x = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
  if (typeof x.instanceId !== 'string' || !ID.test(x.instanceId))
    throw invalidInput('target.instanceId must be a KMS instance id');
  if (x.keyId !== undefined && (typeof x.keyId !== 'string' || !ID.test(x.keyId)))
    throw invalidInput('target.keyId must be a key id');
  return x.keyId === undefined ? { instanceId: x.instanceId } : { instanceId: x.instanceId, keyId: x.keyId };
}

function validRole(role: unknown): KmsRole {
  if (!isKmsRole(role)) throw invalidInput('role must be one of Reader, ReaderPlus, Writer, Manager, KeyPurge');
  return role;
}

/** Does a grant on `target` cover (instance, key)? An instance grant covers all its keys. */
function covers(target: AccessTarget, instanceId: string, keyId: string | undefined): boolean {
  return target.instanceId === instanceId && (target.keyId === undefined || target.keyId === keyId);
}

/** A service-to-service authorization granted or revoked, after its write committed. */
export interface AuthorizationChange {
  kind: 'granted' | 'revoked';
  authorization: AuthorizationRecord;
}

export interface AccessControlOptions {
  /**
   * COFFER_KMS_IMPLICIT_SAME_ACCOUNT_AUTHORIZATION: an account's own COS may
   * use its own KMS instances without an authorization (single-tenant embedded
   * use). Off by default, as in IBM Cloud.
   */
  implicitSameAccount?: boolean;
}

export class AccessControl {
  private readonly authzListeners = new Set<(c: AuthorizationChange) => Promise<void> | void>();

  constructor(
    private readonly store: IamStore,
    private readonly now: () => number = Date.now,
    private readonly opts: AccessControlOptions = {},
  ) {}

  /**
   * The hook of the key event feed: called (and awaited) after each grant or
   * revoke commits, before the call returns, so a revoke drops cached DEKs and
   * reaches the gateways before it is acknowledged.
   */
  onAuthorizationChange(listener: (c: AuthorizationChange) => Promise<void> | void): () => void {
    this.authzListeners.add(listener);
    return () => this.authzListeners.delete(listener);
  }

  private async authorizationChanged(c: AuthorizationChange): Promise<void> {
    for (const l of this.authzListeners) await l(c);
  }

  // ---- access policies -----------------------------------------------------

  async createPolicy(input: {
    subjectId: string;
    target: unknown;
    role: unknown;
    by: string;
  }): Promise<AccessPolicyRecord> {
    if (!this.store.get('ident', input.subjectId)) throw notFound(`Identity ${input.subjectId}`);
    const rec: AccessPolicyRecord = {
      id: newId('policy'),
      subjectId: input.subjectId,
      target: validTarget(input.target),
      role: validRole(input.role),
      createdAt: this.now(),
      createdBy: input.by,
    };
    await this.store.write([{ type: 'put', table: 'policy', id: rec.id, value: rec }]);
    return rec;
  }

  getPolicy(id: string): AccessPolicyRecord | undefined {
    return this.store.get('policy', id);
  }

  listPolicies(filter: { subjectId?: string; instanceId?: string } = {}): AccessPolicyRecord[] {
    return this.store
      .all('policy')
      .filter(
        (p) =>
          (filter.subjectId === undefined || p.subjectId === filter.subjectId) &&
          (filter.instanceId === undefined || p.target.instanceId === filter.instanceId),
      );
  }

  async deletePolicy(id: string): Promise<void> {
    if (!this.store.get('policy', id)) throw notFound(`Policy ${id}`);
    await this.store.write([{ type: 'del', table: 'policy', id }]);
  }

  /**
   * Whether `who` holds `needed` on the instance (keyId undefined) or on the key.
   * Instance-level grants count for every key; key-level grants only for theirs.
   */
  identityHasRole(who: IdentityRecord, instance: InstanceRef, keyId: string | undefined, needed: KmsRole): boolean {
    if (who.owner && who.accountId === instance.account && needed !== 'KeyPurge') return true;
    return this.store
      .all('policy')
      .some((p) => p.subjectId === who.id && covers(p.target, instance.id, keyId) && roleSatisfies(p.role, needed));
  }

  /** True when `who` holds any key-level policy in the instance (lists then omit such keys instead of failing). */
  hasKeyLevelPolicies(who: IdentityRecord, instanceId: string): boolean {
    return this.store
      .all('policy')
      .some((p) => p.subjectId === who.id && p.target.instanceId === instanceId && p.target.keyId !== undefined);
  }

  /** The key ids in the instance `who` reaches only through key-level policies with `needed`. */
  keyLevelKeys(who: IdentityRecord, instanceId: string, needed: KmsRole): Set<string> {
    const out = new Set<string>();
    for (const p of this.store.all('policy')) {
      if (
        p.subjectId === who.id &&
        p.target.instanceId === instanceId &&
        p.target.keyId !== undefined &&
        roleSatisfies(p.role, needed)
      )
        out.add(p.target.keyId);
    }
    return out;
  }

  // ---- service-to-service authorizations -----------------------------------

  /**
   * Grants `role` on the target to the source service (instance). `source` is
   * {accountId, serviceName, serviceInstance?}; the older `sourceAccount`
   * stands for that account's Cloud Object Storage (any instance of it).
   */
  async createAuthorization(input: {
    sourceAccount?: unknown;
    source?: unknown;
    target: unknown;
    role?: unknown;
    description?: string;
    by: string;
  }): Promise<AuthorizationRecord> {
    const source =
      input.source !== undefined
        ? validSource(input.source)
        : { accountId: String(input.sourceAccount), serviceName: COS_SERVICE_NAME };
    if (!this.store.get('acct', source.accountId)) throw notFound(`Source account ${source.accountId}`);
    const target = validAuthorizationTarget(input.target);
    if (target.accountId !== undefined && !this.store.get('acct', target.accountId))
      throw notFound(`Target account ${target.accountId}`);
    const role = validRole(input.role ?? 'Reader');
    const dup = this.store
      .all('authz')
      .find((a) => sameSource(a.source, source) && sameTarget(a.target, target) && a.role === role);
    if (dup) throw new IamError(409, 'CONFLICT', `an identical authorization already exists (${dup.id})`);
    const rec: AuthorizationRecord = {
      id: newId('authz'),
      source,
      target,
      role,
      ...(input.description !== undefined ? { description: input.description } : {}),
      createdAt: this.now(),
      createdBy: input.by,
    };
    await this.store.write([{ type: 'put', table: 'authz', id: rec.id, value: rec }]);
    await this.authorizationChanged({ kind: 'granted', authorization: rec });
    return rec;
  }

  getAuthorization(id: string): AuthorizationRecord | undefined {
    return this.store.get('authz', id);
  }

  listAuthorizations(
    filter: { sourceAccount?: string; instanceIds?: ReadonlySet<string> } = {},
  ): AuthorizationRecord[] {
    return this.store
      .all('authz')
      .filter(
        (a) =>
          (filter.sourceAccount === undefined || a.source.accountId === filter.sourceAccount) &&
          (filter.instanceIds === undefined ||
            (a.target.instanceId !== undefined && filter.instanceIds.has(a.target.instanceId))),
      );
  }

  /**
   * Revokes an authorization: the one path every revocation takes (Coffer's
   * /iam/v1/authorizations and IBM's DELETE /v1/policies/{id}), so what must
   * follow a revoke (dropping cached DEKs, events) hooks in here.
   */
  async deleteAuthorization(id: string): Promise<void> {
    const rec = this.store.get('authz', id);
    if (!rec) throw notFound(`Authorization ${id}`);
    await this.store.write([{ type: 'del', table: 'authz', id }]);
    await this.authorizationChanged({ kind: 'revoked', authorization: rec });
  }

  /**
   * May the source service instance use the key (or, keyId undefined, the
   * instance) with `needed`? An account-wide authorization covers every
   * instance of the account, one on the instance all its
   * keys, one on a key ring the keys in that ring (`keyRing`, the key's ring),
   * one on a key that key. Same-account use needs one too, unless the opt-out
   * (implicitSameAccount) is on; KeyPurge never comes implicitly.
   */
  sourceHasRole(
    source: ServiceSource,
    instance: InstanceRef,
    key: { keyId?: string | undefined; keyRing?: string | undefined },
    needed: KmsRole,
  ): boolean {
    if (source.accountId === '') return false;
    if (this.opts.implicitSameAccount === true && source.accountId === instance.account && needed !== 'KeyPurge')
      return true;
    return this.store
      .all('authz')
      .some(
        (a) =>
          sourceCovers(a.source, source) &&
          targetCovers(a.target, instance, key.keyId, key.keyRing) &&
          roleSatisfies(a.role, needed),
      );
  }

  /** May the gateway, acting for `tenant` (its COS instance), use the key (or instance) with `needed`? */
  tenantHasRole(
    tenant: string,
    instance: InstanceRef,
    keyId: string | undefined,
    needed: KmsRole,
    keyRing?: string,
  ): boolean {
    return this.sourceHasRole(gatewaySource(tenant), instance, { keyId, keyRing }, needed);
  }
}

function validSource(s: unknown): AuthorizationSource {
  const x = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
  if (typeof x.accountId !== 'string' || !ID.test(x.accountId))
    throw invalidInput('source.accountId must be an account id');
  const serviceName = x.serviceName ?? COS_SERVICE_NAME;
  if (typeof serviceName !== 'string' || !SERVICE.test(serviceName))
    throw invalidInput('source.serviceName must be a service name such as cloud-object-storage');
  if (x.serviceInstance !== undefined && (typeof x.serviceInstance !== 'string' || !ID.test(x.serviceInstance)))
    throw invalidInput('source.serviceInstance must be a service instance id');
  return {
    accountId: x.accountId,
    serviceName,
    ...(x.serviceInstance !== undefined ? { serviceInstance: x.serviceInstance } : {}),
  };
}

function validAuthorizationTarget(t: unknown): AuthorizationTarget {
  const x = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
  if (x.instanceId === undefined && x.accountId !== undefined) {
    if (typeof x.accountId !== 'string' || !ID.test(x.accountId))
      throw invalidInput('target.accountId must be an account id');
    if (x.keyId !== undefined || x.keyRing !== undefined)
      throw invalidInput('a key ring or key target needs target.instanceId');
    return { accountId: x.accountId };
  }
  const base = validTarget(t);
  const ring = x.keyRing;
  if (ring === undefined) return base;
  if (typeof ring !== 'string' || !ID.test(ring)) throw invalidInput('target.keyRing must be a key ring id');
  if (base.keyId !== undefined) throw invalidInput('target names either a key ring or a key, not both');
  return { instanceId: base.instanceId, keyRing: ring };
}

function sameSource(a: AuthorizationSource, b: AuthorizationSource): boolean {
  return a.accountId === b.accountId && a.serviceName === b.serviceName && a.serviceInstance === b.serviceInstance;
}

function sameTarget(a: AuthorizationTarget, b: AuthorizationTarget): boolean {
  return a.accountId === b.accountId && a.instanceId === b.instanceId && a.keyRing === b.keyRing && a.keyId === b.keyId;
}

/** A grant to a service (no instance) covers every instance of it in the account. */
function sourceCovers(granted: AuthorizationSource, who: ServiceSource): boolean {
  return (
    granted.accountId === who.accountId &&
    granted.serviceName === who.serviceName &&
    (granted.serviceInstance === undefined || granted.serviceInstance === who.serviceInstance)
  );
}

function targetCovers(
  t: AuthorizationTarget,
  instance: InstanceRef,
  keyId: string | undefined,
  keyRing: string | undefined,
): boolean {
  if (t.instanceId === undefined) return t.accountId === instance.account;
  if (t.instanceId !== instance.id) return false;
  if (t.keyId !== undefined) return t.keyId === keyId;
  // A ring grant reaches a key only when its ring is known; never the instance itself.
  if (t.keyRing !== undefined) return keyId !== undefined && keyRing !== undefined && t.keyRing === keyRing;
  return true;
}
