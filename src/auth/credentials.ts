/**
 * Where SigV4 verification gets secrets from. The IAM layer implements
 * CredentialStore over its access-key records; StaticCredentialStore serves
 * tests and single-user setups.
 */

/** Who a verified request acts as. */
export interface Principal {
  accountId: string;
  accessKeyId: string;
  displayName: string;
}

/** Looks up the secret and principal for an access key id. */
export interface CredentialStore {
  /**
   * @param accessKeyId the id from the request's credential scope
   * @returns the secret and principal, or undefined for an unknown/disabled key
   */
  lookup(accessKeyId: string): Promise<{ secretAccessKey: string; principal: Principal } | undefined>;
}

/** An in-memory CredentialStore over a fixed list of keys. */
export class StaticCredentialStore implements CredentialStore {
  private readonly byId: Map<string, { secretAccessKey: string; principal: Principal }>;

  /**
   * @param entries the keys; a later duplicate id replaces an earlier one
   */
  constructor(entries: Array<{ accessKeyId: string; secretAccessKey: string; principal: Principal }>) {
    this.byId = new Map(
      entries.map((e) => [e.accessKeyId, { secretAccessKey: e.secretAccessKey, principal: e.principal }]),
    );
  }

  /** @inheritdoc */
  async lookup(accessKeyId: string): Promise<{ secretAccessKey: string; principal: Principal } | undefined> {
    return this.byId.get(accessKeyId);
  }
}
