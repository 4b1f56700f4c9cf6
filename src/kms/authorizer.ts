/**
 * The KMS side of authorization: the least role each Key Protect operation
 * needs, and the default KeyAuthorizer (instance owner) used when no IAM is
 * wired in. Roles and the KeyAuthorizer seam are in src/identity/.
 */
import type { KeyAuthorizer, KeyRef } from '../identity/keyAuthorizer.js';
import type { KmsRole } from '../identity/roles.js';

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
