/**
 * The fail-closed rule of a split-mode gateway: while it has not heard from the
 * KMS's event stream for longer than the DEK cache TTL (keyEventStream.ts), it
 * cannot know whether a key was disabled or an authorization revoked, so every
 * call that would yield a DEK answers 503 KMS_UNAVAILABLE (S3 ServiceUnavailable)
 * instead of trusting the KMS's per-call answer or the cache (which is gated
 * the same way, DekCache.setUsable). Key state, registrations and the default
 * key CRN pass through.
 */
import { keyNotFound, KmsError } from './errors.js';
import type {
  GeneratedDataKey,
  KeyCaller,
  KeyEvent,
  KeyProvider,
  KeyState,
  RegistrationRequest,
  UnwrappedDataKey,
} from './KeyProvider.js';

export class FailClosedKeyProvider implements KeyProvider {
  constructor(
    private readonly inner: KeyProvider,
    private readonly live: () => boolean,
  ) {}

  private check(): void {
    if (!this.live())
      throw new KmsError(
        'KMS_UNAVAILABLE',
        'The key management service has not been heard from within the DEK cache TTL: data keys are refused until it is back',
      );
  }

  defaultRootKeyCrn(caller: KeyCaller): Promise<string> {
    return this.inner.defaultRootKeyCrn(caller);
  }

  async generateDataKey(caller: KeyCaller, rootKeyCrn: string, aad: string[]): Promise<GeneratedDataKey> {
    this.check();
    return this.inner.generateDataKey(caller, rootKeyCrn, aad);
  }

  async unwrap(caller: KeyCaller, rootKeyCrn: string, wrapped: string, aad: string[]): Promise<UnwrappedDataKey> {
    this.check();
    return this.inner.unwrap(caller, rootKeyCrn, wrapped, aad);
  }

  async rewrap(
    caller: KeyCaller,
    rootKeyCrn: string,
    wrapped: string,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }> {
    this.check();
    return this.inner.rewrap(caller, rootKeyCrn, wrapped, aad);
  }

  async wrapDataKey(
    caller: KeyCaller,
    rootKeyCrn: string,
    plaintext: Buffer,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }> {
    this.check();
    if (!this.inner.wrapDataKey) throw new KmsError('INTERNAL_ERR', 'The key provider cannot wrap a given data key');
    return this.inner.wrapDataKey(caller, rootKeyCrn, plaintext, aad);
  }

  getKeyState(caller: KeyCaller, rootKeyCrn: string): Promise<KeyState> {
    return this.inner.getKeyState(caller, rootKeyCrn);
  }

  async findKeyByAlias(caller: KeyCaller, instanceKeyCrn: string, alias: string): Promise<string> {
    if (!this.inner.findKeyByAlias) throw keyNotFound(alias);
    return this.inner.findKeyByAlias(caller, instanceKeyCrn, alias);
  }

  register(caller: KeyCaller, rootKeyCrn: string, reg: RegistrationRequest): Promise<void> {
    return this.inner.register(caller, rootKeyCrn, reg);
  }

  unregister(caller: KeyCaller, rootKeyCrn: string, resourceCrn: string): Promise<void> {
    return this.inner.unregister(caller, rootKeyCrn, resourceCrn);
  }

  onKeyEvent(listener: (event: KeyEvent) => void): void {
    this.inner.onKeyEvent?.(listener);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
