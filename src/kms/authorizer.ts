/**
 * The seam for service-to-service authorization (key-protect.md 5). Coffer's
 * gateway asks, for each tenant, whether it may use a key with a role; the IAM
 * layer (a later issue) supplies the real implementation. Until then the owner
 * of an instance's account may use its keys.
 */
export type KmsRole = 'Reader' | 'ReaderPlus' | 'Writer' | 'Manager' | 'KeyPurge';

export interface KeyRef {
  instanceId: string;
  keyId: string;
  /** Account that owns the instance. */
  account: string;
}

export interface KeyAuthorizer {
  canUse(tenant: string, key: KeyRef, role: KmsRole): Promise<boolean>;
}

/**
 * Roles are additive Reader < ReaderPlus < Writer < Manager; KeyPurge stands
 * alone (not even a Manager may purge without it).
 */
export function roleSatisfies(held: KmsRole, needed: KmsRole): boolean {
  if (needed === 'KeyPurge' || held === 'KeyPurge') return held === needed;
  const order: readonly KmsRole[] = ['Reader', 'ReaderPlus', 'Writer', 'Manager'];
  return order.indexOf(held) >= order.indexOf(needed);
}

/** Operations of the Key Protect API, for the REST layer's role checks. */
export type KmsOperation =
  | 'listKeys'
  | 'getKeyMetadata'
  | 'listVersions'
  | 'wrap'
  | 'unwrap'
  | 'rewrap'
  | 'getKeyWithPayload'
  | 'createKey'
  | 'rotate'
  | 'setKeyForDeletion'
  | 'unsetKeyForDeletion'
  | 'sync'
  | 'createAlias'
  | 'deleteAlias'
  | 'disable'
  | 'enable'
  | 'delete'
  | 'restore'
  | 'getPolicies'
  | 'setPolicies'
  | 'purge'
  | 'listRegistrations'
  | 'writeRegistration';

/** The least role each operation needs (the table in key-protect.md 5). */
export function minimumRole(op: KmsOperation): KmsRole {
  switch (op) {
    case 'listKeys':
    case 'getKeyMetadata':
    case 'listVersions':
    case 'wrap':
    case 'unwrap':
    case 'rewrap':
    case 'listRegistrations':
    // Registration writes also need a service (not user) token: 403 SERVICE_ONLY_ERR otherwise.
    case 'writeRegistration':
      return 'Reader';
    case 'getKeyWithPayload':
      return 'ReaderPlus';
    case 'createKey':
    case 'rotate':
    case 'setKeyForDeletion':
    case 'unsetKeyForDeletion':
    case 'sync':
    case 'createAlias':
    case 'deleteAlias':
      return 'Writer';
    case 'disable':
    case 'enable':
    case 'delete':
    case 'restore':
    case 'getPolicies':
    case 'setPolicies':
      return 'Manager';
    case 'purge':
      return 'KeyPurge';
    default: {
      const never: never = op;
      throw new Error(`unknown KMS operation ${String(never)}`);
    }
  }
}

/**
 * Default: a tenant may use the keys of instances its own account owns, with
 * any role but KeyPurge (which, as in Key Protect, even the owner must be granted
 * explicitly).
 */
export class OwnerAuthorizer implements KeyAuthorizer {
  constructor(private readonly opts: { allowPurge?: boolean } = {}) {}

  async canUse(tenant: string, key: KeyRef, role: KmsRole): Promise<boolean> {
    if (tenant === '' || tenant !== key.account) return false;
    return role !== 'KeyPurge' || this.opts.allowPurge === true;
  }
}
