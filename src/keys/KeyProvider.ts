/**
 * KeyProvider: the only door from the S3 data path to a key management service.
 *
 * The gateway never sees root-key material. It asks the KMS to generate a data
 * encryption key (DEK) wrapped under a root key, to unwrap a stored wrapped DEK,
 * or to rewrap one under the newest root-key version. Two implementations:
 * `LocalKeyProvider` (the KMS runs in this process, no HTTP) and
 * `RemoteKeyProvider` (speaks the Key Protect v2 REST API). Both must behave the
 * same; test/contract/keyProvider.contract.ts runs against each.
 *
 * Every call carries a `KeyCaller`: the tenant (S3 account) the gateway acts for.
 * A provider refuses a root key unless that tenant holds an authorization on the
 * key's instance (or on the key itself); the refusal is indistinguishable from
 * "key not found" so that a CRN leaks nothing.
 */

/** Key Protect key states (there is no state 4). */
export enum KeyState {
  PreActivation = 0,
  Active = 1,
  Suspended = 2,
  Deactivated = 3,
  Destroyed = 5,
}

/** Who the gateway acts for. */
export interface KeyCaller {
  /** Account id of the tenant that owns the bucket. */
  tenant: string;
  /** Request id, for the KMS audit log. */
  requestId?: string;
}

export interface GeneratedDataKey {
  /** 32-byte DEK. Never logged, never stored in plaintext. */
  plaintext: Buffer;
  /** Opaque wrapped DEK (Key Protect ciphertext: base64 of a small JSON document). */
  wrapped: string;
  /** Root-key version id that wrapped it. */
  keyVersion: string;
}

export interface UnwrappedDataKey {
  plaintext: Buffer;
  /** Version that had wrapped the ciphertext given. */
  keyVersion: string;
  /** Present when the root key was rotated since the wrap: persist it. */
  rewrapped?: { wrapped: string; keyVersion: string };
}

export interface RegistrationRequest {
  /** CRN of the protected resource, e.g. the bucket CRN. */
  resourceCrn: string;
  description?: string;
  preventKeyDeletion?: boolean;
  keyVersion?: string;
}

export interface KeyProvider {
  /** CRN of the provider-managed default root key, used when CreateBucket names none. */
  defaultRootKeyCrn(caller: KeyCaller): Promise<string>;
  /** Wrap with no plaintext: the KMS generates a fresh 32-byte DEK. */
  generateDataKey(caller: KeyCaller, rootKeyCrn: string, aad: string[]): Promise<GeneratedDataKey>;
  unwrap(caller: KeyCaller, rootKeyCrn: string, wrapped: string, aad: string[]): Promise<UnwrappedDataKey>;
  /** Rewrap under the newest version, server side (the DEK never leaves the KMS). */
  rewrap(
    caller: KeyCaller,
    rootKeyCrn: string,
    wrapped: string,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }>;
  /**
   * Wrap a DEK the gateway already holds under `rootKeyCrn` (newest version).
   * Moving a bucket to another root key (PutBucketEncryption) unwraps its DEK
   * under the old key and wraps the same bytes under the new one, so no object
   * needs re-encrypting. Optional: a provider without it cannot change keys.
   */
  wrapDataKey?(
    caller: KeyCaller,
    rootKeyCrn: string,
    plaintext: Buffer,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }>;
  getKeyState(caller: KeyCaller, rootKeyCrn: string): Promise<KeyState>;
  /**
   * The CRN of the key whose alias is `alias` in the instance of `instanceKeyCrn`
   * (any key CRN of that instance), if `caller` may use it; otherwise the same
   * KEY_NOT_FOUND_ERR as an unknown key. SSE-KMS accepts `alias/<name>` this way.
   * Optional: a provider without it knows no aliases.
   */
  findKeyByAlias?(caller: KeyCaller, instanceKeyCrn: string, alias: string): Promise<string>;
  register(caller: KeyCaller, rootKeyCrn: string, reg: RegistrationRequest): Promise<void>;
  unregister(caller: KeyCaller, rootKeyCrn: string, resourceCrn: string): Promise<void>;
  /** Called when lifecycle events arrive (rotate/disable/delete): drop cached state for this key. */
  onKeyEvent?(listener: (event: KeyEvent) => void): void;
  close?(): Promise<void>;
}

export interface KeyEvent {
  type: 'rotate' | 'disable' | 'enable' | 'delete' | 'restore' | 'purge';
  keyCrn: string;
  keyVersion?: string;
}
