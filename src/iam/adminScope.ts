/**
 * Who may administer what through the IAM management API, and what each
 * caller may see of it:
 *
 * - the owner user of the root (system) account administers everything;
 * - the owner user of an account administers that account, its identities and
 *   keys, and grants on its own KMS instances;
 * - any identity sees its own account, its account's instances, the policies
 *   naming it and the authorizations from its account (as source).
 *
 * KMS instances belong to the KMS core; this reads them through an
 * InstanceDirectory (KmsService, wired by the server), so the IAM core does not
 * import the KMS.
 */
import type { Caller } from '../identity/caller.js';
import type { AccessControl, InstanceRef } from './accessControl.js';
import { IamError } from './errors.js';
import type { IamService } from './iamService.js';
import type { AccessPolicyRecord, AccountRecord, AuthorizationRecord } from './records.js';

export interface InstanceDirectory<I extends InstanceRef = InstanceRef> {
  findInstance(id: string): Promise<I | undefined>;
  listInstances(): Promise<I[]>;
}

export function forbidden(): IamError {
  return new IamError(403, 'FORBIDDEN', 'The caller may not administer this resource');
}

export class AdminScope<I extends InstanceRef = InstanceRef> {
  constructor(
    private readonly iam: IamService,
    private readonly access: AccessControl,
    private readonly instances: InstanceDirectory<I>,
  ) {}

  isSystemAdmin(c: Caller): boolean {
    return c.identity.owner === true && this.iam.getAccount(c.identity.accountId)?.system === true;
  }

  canAdminAccount(c: Caller, accountId: string): boolean {
    return this.isSystemAdmin(c) || (c.identity.owner === true && c.identity.accountId === accountId);
  }

  /** 403 FORBIDDEN unless the caller administers the account. */
  requireAdmin(c: Caller, accountId: string): void {
    if (!this.canAdminAccount(c, accountId)) throw forbidden();
  }

  /**
   * Authorizations on an instance (or in it) are granted by whoever administers
   * the account that owns it; account-wide ones by the account's administrator.
   */
  async requireTargetAdmin(c: Caller, target: unknown): Promise<void> {
    const t = (typeof target === 'object' && target !== null ? target : {}) as Record<string, unknown>;
    if (t.instanceId === undefined && typeof t.accountId === 'string') return this.requireAdmin(c, t.accountId);
    return this.requireInstanceAdmin(c, target);
  }

  /** Grants on an instance are made by whoever administers the account that owns it. */
  async requireInstanceAdmin(c: Caller, target: unknown): Promise<void> {
    const id =
      typeof target === 'object' && target !== null ? (target as { instanceId?: unknown }).instanceId : undefined;
    const inst = typeof id === 'string' ? await this.instances.findInstance(id) : undefined;
    if (!inst || !this.canAdminAccount(c, inst.account)) throw forbidden();
  }

  private async administeredInstances(c: Caller): Promise<Set<string>> {
    const all = await this.instances.listInstances();
    return new Set(all.filter((i) => this.canAdminAccount(c, i.account)).map((i) => i.id));
  }

  visibleAccounts(c: Caller): AccountRecord[] {
    return this.iam.listAccounts().filter((a) => this.canAdminAccount(c, a.id) || a.id === c.identity.accountId);
  }

  async visibleInstances(c: Caller): Promise<I[]> {
    const all = await this.instances.listInstances();
    return all.filter((i) => this.canAdminAccount(c, i.account) || i.account === c.identity.accountId);
  }

  async visiblePolicies(c: Caller, subjectId?: string): Promise<AccessPolicyRecord[]> {
    const mine = await this.administeredInstances(c);
    return this.access
      .listPolicies(subjectId !== undefined ? { subjectId } : {})
      .filter((p) => mine.has(p.target.instanceId) || p.subjectId === c.identity.id);
  }

  async visibleAuthorizations(c: Caller): Promise<AuthorizationRecord[]> {
    const mine = await this.administeredInstances(c);
    return this.access
      .listAuthorizations()
      .filter(
        (a) =>
          (a.target.instanceId !== undefined
            ? mine.has(a.target.instanceId)
            : this.canAdminAccount(c, a.target.accountId ?? '')) || a.source.accountId === c.identity.accountId,
      );
  }
}
