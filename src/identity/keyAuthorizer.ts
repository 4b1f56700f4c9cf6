/**
 * The seam for service-to-service authorization (key-protect.md 5). Coffer's
 * gateway asks, for each tenant (as that account's COS instance), whether it may use a key with a role. The KMS
 * consults it; the IAM core implements it (src/iam/iamKeyAuthorizer.ts) and the
 * composition root (src/server) hands that implementation to the KMS, so
 * neither core imports the other.
 */
import type { KmsRole } from './roles.js';

export interface KeyRef {
  instanceId: string;
  keyId: string;
  /** Account that owns the instance. */
  account: string;
  /** The key's key ring, when the caller has it at hand (else the authorizer looks it up). */
  keyRing?: string;
}

export interface KeyAuthorizer {
  canUse(tenant: string, key: KeyRef, role: KmsRole): Promise<boolean>;
}
