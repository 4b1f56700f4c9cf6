/**
 * Where the ACL code learns whether a canonical id names a Coffer account (a
 * grant to an id that is no account is refused, never stored) and the name
 * GetBucketAcl shows for it. The IAM layer implements it: in process over
 * IamService, in a split-mode gateway over the KMS process's lookup.
 */
export interface AccountInfo {
  id: string;
  displayName: string;
}

export interface AccountDirectory {
  /** The account with canonical id `id`, or undefined when there is none. */
  account(id: string): Promise<AccountInfo | undefined>;
}

/** A directory that knows no account: every grant to an id other than the caller's own is refused. */
export const NO_ACCOUNTS: AccountDirectory = { account: async () => undefined };
