/**
 * Who a verified bearer token speaks for. Both REST adapters (the Key Protect
 * API and the IAM API) authenticate to a Caller, and the KMS judges its roles;
 * the IAM core issues and verifies the tokens and stores the identities.
 */

export type IdentityKind = 'user' | 'service';

/** A user or a service identity; tokens are issued to these (persisted by the IAM store). */
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

/** The claims of a bearer token (a JWT, see src/iam/tokens.ts). */
export interface TokenClaims {
  iss: string;
  /** Identity id (user or service identity). */
  sub: string;
  /** Account the identity belongs to. */
  account: string;
  kind: IdentityKind;
  /** The API key that was exchanged: tokens die with it. */
  akid: string;
  /** 'access' or 'refresh'. */
  typ: 'access' | 'refresh';
  iat: number;
  exp: number;
  jti: string;
}

export interface Caller {
  identity: IdentityRecord;
  claims: TokenClaims;
}

/** What turns a bearer token into a Caller (IamService); throws TokenError. */
export interface TokenVerifier {
  verify(token: string): Caller;
}
