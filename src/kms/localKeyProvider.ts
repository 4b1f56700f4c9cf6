/**
 * LocalKeyProvider: the KeyProvider of the embedded KMS (no HTTP). It parses the
 * root-key CRN, checks that the tenant may use the key (KeyAuthorizer, Reader
 * role), and calls KmsService.
 *
 * Unknown key, purged key, a CRN that is not exactly this KMS's CRN for the key,
 * and no authorization all throw the same KmsError KEY_NOT_FOUND_ERR (404) whose
 * message names only the CRN: a CRN must not reveal whether a key exists
 * (encryption.md threat model). A malformed CRN throws CrnError (400).
 *
 * The provider-managed default root key lives in a default instance created by
 * bootstrap() on first start; every tenant may use it.
 */
import { formatKeyCrn, parseKeyCrn } from '../keys/crn.js';
import { keyNotFound, KmsError } from '../keys/errors.js';
import type {
  GeneratedDataKey,
  KeyCaller,
  KeyEvent,
  KeyProvider,
  KeyState,
  RegistrationRequest,
  UnwrappedDataKey,
} from '../keys/KeyProvider.js';
import type { KeyAuthorizer } from '../identity/keyAuthorizer.js';
import { OwnerAuthorizer } from './authorizer.js';
import type { KmsService } from './kmsService.js';

export interface LocalKeyProviderOptions {
  authorizer?: KeyAuthorizer;
  /** Where bootstrap() creates the default instance (only the first time). */
  defaultInstance?: { account?: string; region?: string; name?: string };
  /** Name of the default root key. */
  defaultKeyName?: string;
  /** close() also closes the KmsService and its key store. */
  ownsService?: boolean;
}

export const DEFAULT_KMS_ACCOUNT = 'coffer';

interface KeyTarget {
  instanceId: string;
  keyId: string;
}

export class LocalKeyProvider implements KeyProvider {
  private readonly authorizer: KeyAuthorizer;
  private readonly listeners = new Set<(event: KeyEvent) => void>();
  private readonly unsubscribe: () => void;
  private booted?: Promise<{ instanceId: string; keyId: string; crn: string }>;

  constructor(
    private readonly service: KmsService,
    private readonly opts: LocalKeyProviderOptions = {},
  ) {
    this.authorizer = opts.authorizer ?? new OwnerAuthorizer();
    // Forwarded synchronously: the gateway drops cached DEKs before the
    // disable/delete call even returns to its caller.
    this.unsubscribe = service.onEvent((e) => {
      const event: KeyEvent = { type: e.type, keyCrn: e.crn };
      if (e.keyVersion !== undefined) event.keyVersion = e.keyVersion;
      for (const l of this.listeners) {
        try {
          l(event);
        } catch {
          // a failing listener must not break the others
        }
      }
    });
  }

  /**
   * Creates the default instance and its default root key once; later calls (and
   * later starts on the same key store) return the same ones. If the default key
   * was purged, a new one is made (buckets on the old one are lost either way).
   */
  bootstrap(): Promise<{ instanceId: string; keyId: string; crn: string }> {
    if (!this.booted) {
      this.booted = this.doBootstrap();
      // A failed bootstrap (e.g. the store was closed) may be retried.
      this.booted.catch(() => (this.booted = undefined));
    }
    return this.booted;
  }

  private async doBootstrap(): Promise<{ instanceId: string; keyId: string; crn: string }> {
    const store = this.service.store;
    const saved = await store.getMeta('bootstrap');
    let instance = saved ? await store.getInstance(saved.instanceId) : undefined;
    if (!instance) {
      const d = this.opts.defaultInstance ?? {};
      instance = await this.service.createInstance({
        account: d.account ?? DEFAULT_KMS_ACCOUNT,
        region: d.region ?? 'local',
        name: d.name ?? 'coffer-default',
        ...(saved ? { id: saved.instanceId } : {}),
      });
    }
    let keyId = saved && saved.instanceId === instance.id ? saved.keyId : undefined;
    if (keyId === undefined || !(await this.service.hasKeyId(instance.id, keyId))) {
      const key = await this.service.createKey(instance.id, {
        name: this.opts.defaultKeyName ?? 'coffer-default-root-key',
        description: 'Provider-managed default root key (buckets created without ibm-sse-kp-customer-root-key-crn)',
        extractable: false,
      });
      keyId = key.id;
      await store.putMeta('bootstrap', { instanceId: instance.id, keyId });
    }
    return {
      instanceId: instance.id,
      keyId,
      crn: formatKeyCrn({ region: instance.region, account: instance.account, instanceId: instance.id, keyId }),
    };
  }

  async defaultRootKeyCrn(_caller: KeyCaller): Promise<string> {
    return (await this.bootstrap()).crn;
  }

  async generateDataKey(caller: KeyCaller, rootKeyCrn: string, aad: string[]): Promise<GeneratedDataKey> {
    const t = await this.resolve(caller, rootKeyCrn);
    const r = await this.call(rootKeyCrn, () => this.service.wrap(t.instanceId, t.keyId, { aad }));
    if (!r.plaintext) throw new KmsError('INTERNAL_ERR', 'wrap without plaintext returned no generated DEK');
    return { plaintext: r.plaintext, wrapped: r.ciphertext, keyVersion: r.keyVersion.id };
  }

  async unwrap(caller: KeyCaller, rootKeyCrn: string, wrapped: string, aad: string[]): Promise<UnwrappedDataKey> {
    const t = await this.resolve(caller, rootKeyCrn);
    const r = await this.call(rootKeyCrn, () =>
      this.service.unwrap(t.instanceId, t.keyId, { ciphertext: wrapped, aad }),
    );
    const out: UnwrappedDataKey = { plaintext: r.plaintext, keyVersion: r.keyVersion.id };
    if (r.ciphertext !== undefined && r.rewrappedKeyVersion !== undefined) {
      out.rewrapped = { wrapped: r.ciphertext, keyVersion: r.rewrappedKeyVersion.id };
    }
    return out;
  }

  async rewrap(
    caller: KeyCaller,
    rootKeyCrn: string,
    wrapped: string,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }> {
    const t = await this.resolve(caller, rootKeyCrn);
    const r = await this.call(rootKeyCrn, () =>
      this.service.rewrap(t.instanceId, t.keyId, { ciphertext: wrapped, aad }),
    );
    return { wrapped: r.ciphertext, keyVersion: r.rewrappedKeyVersion.id };
  }

  async wrapDataKey(
    caller: KeyCaller,
    rootKeyCrn: string,
    plaintext: Buffer,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }> {
    const t = await this.resolve(caller, rootKeyCrn);
    const r = await this.call(rootKeyCrn, () => this.service.wrap(t.instanceId, t.keyId, { plaintext, aad }));
    return { wrapped: r.ciphertext, keyVersion: r.keyVersion.id };
  }

  async getKeyState(caller: KeyCaller, rootKeyCrn: string): Promise<KeyState> {
    const t = await this.resolve(caller, rootKeyCrn);
    const k = await this.call(rootKeyCrn, () => this.service.getKeyMetadata(t.instanceId, t.keyId));
    return k.state;
  }

  async findKeyByAlias(caller: KeyCaller, instanceKeyCrn: string, alias: string): Promise<string> {
    const { instanceId } = parseKeyCrn(instanceKeyCrn);
    const key = await this.call(alias, () => this.service.getKeyMetadata(instanceId, alias));
    // A key id given as the "alias" is not an alias: SSE-KMS names ids without the prefix.
    if (key.id === alias || !key.aliases.includes(alias)) throw keyNotFound(alias);
    await this.resolve(caller, key.crn); // the same authorization as any use of the key
    return key.crn;
  }

  /** Creates or updates the registration of `reg.resourceCrn` on the key. */
  async register(caller: KeyCaller, rootKeyCrn: string, reg: RegistrationRequest): Promise<void> {
    const t = await this.resolve(caller, rootKeyCrn);
    const input: { description?: string; preventKeyDeletion?: boolean; keyVersion?: string } = {};
    if (reg.description !== undefined) input.description = reg.description;
    if (reg.preventKeyDeletion !== undefined) input.preventKeyDeletion = reg.preventKeyDeletion;
    if (reg.keyVersion !== undefined) input.keyVersion = reg.keyVersion;
    await this.call(rootKeyCrn, () =>
      this.service.createRegistration(t.instanceId, t.keyId, reg.resourceCrn, input, caller.tenant),
    );
  }

  /** Idempotent: a registration that does not exist is not an error. */
  async unregister(caller: KeyCaller, rootKeyCrn: string, resourceCrn: string): Promise<void> {
    const t = await this.resolve(caller, rootKeyCrn);
    await this.call(rootKeyCrn, () =>
      this.service.deleteRegistration(t.instanceId, t.keyId, resourceCrn, { ignoreMissing: true }),
    );
  }

  onKeyEvent(listener: (event: KeyEvent) => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.listeners.clear();
    if (this.opts.ownsService) await this.service.close();
  }

  /** CRN -> (instance, key id), or the uniform not-found error. */
  private async resolve(caller: KeyCaller, crn: string): Promise<KeyTarget> {
    const parsed = parseKeyCrn(crn);
    const instance = await this.service.findInstance(parsed.instanceId);
    if (!instance) throw keyNotFound(crn);
    // Only this KMS's exact CRN for the key: another cname, region or account, or
    // an alias in place of the key id, would dodge cache invalidation by CRN.
    const canonical = formatKeyCrn({
      region: instance.region,
      account: instance.account,
      instanceId: instance.id,
      keyId: parsed.keyId,
    });
    if (canonical !== crn || !(await this.service.hasKeyId(instance.id, parsed.keyId))) throw keyNotFound(crn);
    const isDefault = crn === (await this.bootstrap()).crn;
    if (
      !isDefault &&
      !(await this.authorizer.canUse(
        caller.tenant,
        { instanceId: instance.id, keyId: parsed.keyId, account: instance.account },
        'Reader',
      ))
    ) {
      throw keyNotFound(crn);
    }
    return { instanceId: instance.id, keyId: parsed.keyId };
  }

  /** Maps the service's 404s (e.g. purged meanwhile) to the uniform not-found error. */
  private async call<T>(crn: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof KmsError && e.status === 404) throw keyNotFound(crn);
      throw e;
    }
  }
}
