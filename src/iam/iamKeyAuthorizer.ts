/**
 * The KeyAuthorizer the KMS consults whenever the gateway uses a root key for a
 * tenant (LocalKeyProvider in embedded mode; the REST API for a gateway service
 * identity in split mode). A tenant may use a key when it owns the key's
 * instance, when a service-to-service authorization from it to the instance
 * or to the key holds the role, or - for Reader - when the key is the
 * provider-managed default root key, which every tenant shares.
 */
import type { KeyAuthorizer, KeyRef } from '../identity/keyAuthorizer.js';
import type { KmsRole } from '../identity/roles.js';
import type { AccessControl } from './accessControl.js';

export interface IamKeyAuthorizerOptions {
  /** The default root key, once bootstrapped (usable by every tenant with Reader). */
  defaultKey?: () => { instanceId: string; keyId: string } | undefined;
}

export class IamKeyAuthorizer implements KeyAuthorizer {
  constructor(
    private readonly access: AccessControl,
    private readonly opts: IamKeyAuthorizerOptions = {},
  ) {}

  async canUse(tenant: string, key: KeyRef, role: KmsRole): Promise<boolean> {
    if (tenant === '') return false;
    const def = this.opts.defaultKey?.();
    if (def && role === 'Reader' && def.instanceId === key.instanceId && def.keyId === key.keyId) return true;
    return this.access.tenantHasRole(tenant, { id: key.instanceId, account: key.account }, key.keyId, role);
  }
}
