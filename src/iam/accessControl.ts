/**
 * Access to KMS instances and keys (key-protect.md 5):
 *
 * - Access policies give a user or service identity a role on an instance or
 *   on one key. The owner of the account that owns an instance holds Manager on
 *   it implicitly; nobody holds KeyPurge without an explicit policy.
 * - Service-to-service authorizations let the gateway, acting for a tenant
 *   account, use another account's instance (or one key in it) with a role.
 *   The tenant that owns the instance needs none.
 *
 * Roles are additive Reader < ReaderPlus < Writer < Manager; KeyPurge stands
 * alone (roleSatisfies in src/identity/roles.ts).
 */
import { isKmsRole, roleSatisfies, type KmsRole } from '../identity/roles.js';
import { IamError, invalidInput, notFound } from './errors.js';
import type { IamStore } from './iamStore.js';
import type { AccessPolicyRecord, AccessTarget, AuthorizationRecord, IdentityRecord } from './records.js';
import { newId } from './secrets.js';

/** An instance as access control sees it: its id and owning account. */
export interface InstanceRef {
  id: string;
  account: string;
}

const ID = /^[A-Za-z0-9._-]{1,128}$/;

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

export class AccessControl {
  private readonly authzListeners = new Set<(c: AuthorizationChange) => Promise<void> | void>();

  constructor(
    private readonly store: IamStore,
    private readonly now: () => number = Date.now,
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

  async createAuthorization(input: {
    sourceAccount: unknown;
    target: unknown;
    role?: unknown;
    by: string;
  }): Promise<AuthorizationRecord> {
    if (typeof input.sourceAccount !== 'string' || !this.store.get('acct', input.sourceAccount)) {
      throw notFound(`Source account ${String(input.sourceAccount)}`);
    }
    const target = validTarget(input.target);
    const role = validRole(input.role ?? 'Reader');
    const dup = this.store
      .all('authz')
      .find(
        (a) =>
          a.sourceAccount === input.sourceAccount &&
          a.target.instanceId === target.instanceId &&
          a.target.keyId === target.keyId &&
          a.role === role,
      );
    if (dup) throw new IamError(409, 'CONFLICT', `an identical authorization already exists (${dup.id})`);
    const rec: AuthorizationRecord = {
      id: newId('authz'),
      sourceAccount: input.sourceAccount,
      target,
      role,
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
          (filter.sourceAccount === undefined || a.sourceAccount === filter.sourceAccount) &&
          (filter.instanceIds === undefined || filter.instanceIds.has(a.target.instanceId)),
      );
  }

  async deleteAuthorization(id: string): Promise<void> {
    const rec = this.store.get('authz', id);
    if (!rec) throw notFound(`Authorization ${id}`);
    await this.store.write([{ type: 'del', table: 'authz', id }]);
    await this.authorizationChanged({ kind: 'revoked', authorization: rec });
  }

  /**
   * May the gateway, acting for `tenant`, use the key (or instance) with `needed`?
   * The owning tenant may (except KeyPurge); anyone else needs an authorization.
   */
  tenantHasRole(tenant: string, instance: InstanceRef, keyId: string | undefined, needed: KmsRole): boolean {
    if (tenant === '') return false;
    if (tenant === instance.account && needed !== 'KeyPurge') return true;
    return this.store
      .all('authz')
      .some((a) => a.sourceAccount === tenant && covers(a.target, instance.id, keyId) && roleSatisfies(a.role, needed));
  }
}
