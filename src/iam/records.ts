/**
 * What the IAM store persists (LevelDB in `<dataDir>/iam`, see iamStore.ts).
 * Dates are epoch milliseconds. No record holds a secret in clear: API keys are
 * kept as an HMAC, S3 secret keys sealed under a key derived from the master key
 * (SigV4 needs the secret itself, so it cannot be a one-way hash).
 */
import type { KmsRole } from '../kms/authorizer.js';

export type { KmsRole };

/** An account (tenant). Its id is the CRN scope `a/<id>` and the S3 principal's accountId. */
export interface AccountRecord {
  id: string;
  name: string;
  createdAt: number;
  /** The root account: its owner administers every account of this Coffer. */
  system?: boolean;
}

export type IdentityKind = 'user' | 'service';

/** A user or a service identity; tokens are issued to these. */
export interface IdentityRecord {
  id: string;
  kind: IdentityKind;
  accountId: string;
  name: string;
  createdAt: number;
  /** The account owner: implicit Manager on the account's KMS instances (never KeyPurge). */
  owner?: boolean;
  /**
   * A gateway service identity (split mode): it may act for a tenant named in the
   * request, and is then held to that tenant's service-to-service authorizations.
   */
  gateway?: boolean;
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
 * Service-to-service authorization: the gateway, acting for the tenant
 * `sourceAccount`, may use the target instance (or key) with `role`
 * (key-protect.md 5: COS -> KMS, Reader).
 */
export interface AuthorizationRecord {
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

export const KMS_ROLES: readonly KmsRole[] = ['Reader', 'ReaderPlus', 'Writer', 'Manager', 'KeyPurge'];

export function isKmsRole(x: unknown): x is KmsRole {
  return typeof x === 'string' && (KMS_ROLES as readonly string[]).includes(x);
}
