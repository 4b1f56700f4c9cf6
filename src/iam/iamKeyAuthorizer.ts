/**
 * The KeyAuthorizer the KMS consults whenever the gateway uses a root key for a
 * tenant (LocalKeyProvider in embedded mode; the REST API for a gateway service
 * identity in split mode). The gateway acts as the tenant's Cloud Object
 * Storage instance (src/identity/serviceSource.ts); it may use a key when a
 * service-to-service authorization from that source to the key's instance, its
 * key ring or the key holds the role - inside one account too, unless the
 * same-account opt-out is on - or, for Reader, when the key is the
 * provider-managed default root key, which every tenant shares (as IBM COS's
 * own managed encryption needs no authorization).
 */
import type { KeyAuthorizer, KeyRef } from '../identity/keyAuthorizer.js';
import type { KmsRole } from '../identity/roles.js';
import type { AccessControl } from './accessControl.js';

export interface IamKeyAuthorizerOptions {
  /** The default root key, once bootstrapped (usable by every tenant with Reader). */
  defaultKey?: () => { instanceId: string; keyId: string } | undefined;
  /** The key ring a key lives in (key-ring scoped authorizations); without it only instance and key grants count. */
  keyRingOf?: (instanceId: string, keyId: string) => Promise<string | undefined>;
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
    const instance = { id: key.instanceId, account: key.account };
    if (this.access.tenantHasRole(tenant, instance, key.keyId, role)) return true;
    // Only a ring grant is left to look for: read the key's ring then, not on every call.
    const ring = key.keyRing ?? (await this.opts.keyRingOf?.(key.instanceId, key.keyId));
    return ring !== undefined && this.access.tenantHasRole(tenant, instance, key.keyId, role, ring);
  }
}
