/**
 * What the IAM store persists (LevelDB in `<dataDir>/iam`, see iamStore.ts).
 * Dates are epoch milliseconds. No record holds a secret in clear: API keys are
 * kept as an HMAC, S3 secret keys sealed under a key derived from the master key
 * (SigV4 needs the secret itself, so it cannot be a one-way hash).
 */
import type { KmsRole } from '../identity/roles.js';

// Defined below the IAM core because a Caller carries one; persisted here.
export type { IdentityKind, IdentityRecord } from '../identity/caller.js';

/** An account (tenant). Its id is the CRN scope `a/<id>` and the S3 principal's accountId. */
export interface AccountRecord {
  id: string;
  name: string;
  createdAt: number;
  /** The root account: its owner administers every account of this Coffer. */
  system?: boolean;
}

export interface ApiKeyRecord {
  id: string;
  identityId: string;
  name: string;
  createdAt: number;
  /** HMAC-SHA256(apikey) under the server's API-key secret, hex. */
  hash: string;
}

/** What a policy or authorization grants access to: a KMS instance, or one key in it. */
export interface AccessTarget {
  instanceId: string;
  keyId?: string;
}

/** Subject (user or service identity) -> role on an instance or a key. */
export interface AccessPolicyRecord {
  id: string;
  subjectId: string;
  target: AccessTarget;
  role: KmsRole;
  createdAt: number;
  createdBy: string;
}

/**
 * Who an authorization is granted to: a source service in an account, and
 * optionally one instance of it (IBM: subject attributes accountId,
 * serviceName, serviceInstance). Coffer's gateway acts as the account's
 * Cloud Object Storage instance `coffer-s3` (src/identity/serviceSource.ts);
 * other service names may be granted and listed, for services registered on
 * keys, but only the gateway presents itself as a source today.
 */
export interface AuthorizationSource {
  accountId: string;
  serviceName: string;
  /** Absent: every instance of the service in the account. */
  serviceInstance?: string;
}

/**
 * What an authorization reaches: every KMS instance of an account (accountId
 * alone, IBM's policy without serviceInstance), one instance, a key ring in
 * it, or one key in it.
 */
export interface AuthorizationTarget {
  /** Set (alone) for an account-wide grant. */
  accountId?: string;
  /** Set for every narrower grant. */
  instanceId?: string;
  keyRing?: string;
  keyId?: string;
}

/**
 * Service-to-service authorization (key-protect.md 5: COS -> KMS, Reader):
 * the source service instance may use the target with `role`. Required inside
 * one account too, as in IBM Cloud (unless the opt-out setting
 * COFFER_KMS_IMPLICIT_SAME_ACCOUNT_AUTHORIZATION is on).
 */
export interface AuthorizationRecord {
  id: string;
  source: AuthorizationSource;
  target: AuthorizationTarget;
  role: KmsRole;
  description?: string;
  createdAt: number;
  createdBy: string;
}

/** An authorization as stored before source service instances (account -> instance/key); migrated at start. */
export interface LegacyAuthorizationRecord {
  id: string;
  sourceAccount: string;
  target: AccessTarget;
  role: KmsRole;
  createdAt: number;
  createdBy: string;
}

/** An S3 access key of an account (SigV4). */
export interface S3AccessKeyRecord {
  accessKeyId: string;
  accountId: string;
  /** The identity it belongs to (the account owner unless said otherwise). */
  identityId: string;
  /** sealBlob(s3 secret key, secret, AAD = access key id), base64. */
  sealedSecret: string;
  createdAt: number;
}
