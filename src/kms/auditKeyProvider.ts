/**
 * The audit decorator of the embedded gateway's KeyProvider: every wrap,
 * unwrap, rewrap, state check and registration the gateway makes is audited
 * with the tenant, the key from the CRN, the version and the outcome, and its
 * answer waits for the entry to be durable. When the entry cannot be written
 * the call fails (503): an unaudited key use must not be acknowledged.
 */
import { parseKeyCrn } from '../keys/crn.js';
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
import type { AuditInput, AuditSink } from './auditEntry.js';

/** What a call answers when its audit entry could not be made durable. */
export function auditUnavailable(): KmsError {
  return new KmsError('KMS_UNAVAILABLE', 'The audit log is unavailable: the call was not acknowledged');
}

function failure(e: unknown): { status?: number; reason?: string } {
  return e instanceof KmsError ? { status: e.status, reason: e.reason } : { reason: 'INTERNAL_ERR' };
}

/**
 * A KeyProvider decorator that audits every call the gateway makes (embedded
 * mode): the tenant, the key from the CRN, the version, and the outcome.
 */
export class AuditingKeyProvider implements KeyProvider {
  constructor(
    private readonly inner: KeyProvider,
    private readonly audit: AuditSink,
  ) {}

  private async run<T>(
    caller: KeyCaller,
    crn: string | undefined,
    action: string,
    fn: () => Promise<T>,
    version: (r: T) => string | undefined,
  ): Promise<T> {
    const base: AuditInput = {
      identity: `tenant:${caller.tenant}`,
      tenant: caller.tenant,
      action,
      outcome: 'success',
      via: 'embedded',
    };
    if (caller.requestId !== undefined) base.correlationId = caller.requestId;
    if (crn !== undefined) {
      try {
        const p = parseKeyCrn(crn);
        base.instance = p.instanceId;
        base.key = p.keyId;
      } catch {
        // A malformed CRN is audited without instance and key.
      }
    }
    let r: T;
    try {
      r = await fn();
    } catch (e) {
      await this.durably({ ...base, outcome: 'failure', ...failure(e) });
      throw e;
    }
    const v = version(r);
    try {
      await this.durably(v === undefined ? base : { ...base, version: v });
    } catch (e) {
      // A DEK the caller will never get is not left in memory.
      const p = (r as { plaintext?: unknown } | undefined)?.plaintext;
      if (Buffer.isBuffer(p)) p.fill(0);
      throw e;
    }
    return r;
  }

  private async durably(e: AuditInput): Promise<void> {
    try {
      await this.audit.record(e);
    } catch {
      throw auditUnavailable();
    }
  }

  defaultRootKeyCrn(caller: KeyCaller): Promise<string> {
    return this.inner.defaultRootKeyCrn(caller);
  }

  generateDataKey(caller: KeyCaller, rootKeyCrn: string, aad: string[]): Promise<GeneratedDataKey> {
    return this.run(
      caller,
      rootKeyCrn,
      'wrap',
      () => this.inner.generateDataKey(caller, rootKeyCrn, aad),
      (r) => r.keyVersion,
    );
  }

  unwrap(caller: KeyCaller, rootKeyCrn: string, wrapped: string, aad: string[]): Promise<UnwrappedDataKey> {
    return this.run(
      caller,
      rootKeyCrn,
      'unwrap',
      () => this.inner.unwrap(caller, rootKeyCrn, wrapped, aad),
      (r) => r.keyVersion,
    );
  }

  rewrap(
    caller: KeyCaller,
    rootKeyCrn: string,
    wrapped: string,
    aad: string[],
  ): Promise<{ wrapped: string; keyVersion: string }> {
    return this.run(
      caller,
      rootKeyCrn,
      'rewrap',
      () => this.inner.rewrap(caller, rootKeyCrn, wrapped, aad),
      (r) => r.keyVersion,
    );
  }

  /** Forwarded only when the inner provider has it (an optional KeyProvider method). */
  get wrapDataKey(): KeyProvider['wrapDataKey'] {
    const inner = this.inner;
    if (!inner.wrapDataKey) return undefined;
    return (caller, rootKeyCrn, plaintext, aad) =>
      this.run(
        caller,
        rootKeyCrn,
        'wrap',
        () => inner.wrapDataKey!(caller, rootKeyCrn, plaintext, aad),
        (r) => r.keyVersion,
      );
  }

  getKeyState(caller: KeyCaller, rootKeyCrn: string): Promise<KeyState> {
    return this.run(
      caller,
      rootKeyCrn,
      'getKeyState',
      () => this.inner.getKeyState(caller, rootKeyCrn),
      () => undefined,
    );
  }

  async findKeyByAlias(caller: KeyCaller, instanceKeyCrn: string, alias: string): Promise<string> {
    const inner = this.inner;
    if (!inner.findKeyByAlias) throw keyNotFound(alias);
    // Audited under no key: the bucket key's CRN only names the instance searched.
    return this.run(
      caller,
      undefined,
      'getKeyMetadata',
      () => inner.findKeyByAlias!(caller, instanceKeyCrn, alias),
      () => undefined,
    );
  }

  register(caller: KeyCaller, rootKeyCrn: string, reg: RegistrationRequest): Promise<void> {
    return this.run(
      caller,
      rootKeyCrn,
      'createRegistration',
      () => this.inner.register(caller, rootKeyCrn, reg),
      () => reg.keyVersion,
    );
  }

  unregister(caller: KeyCaller, rootKeyCrn: string, resourceCrn: string): Promise<void> {
    return this.run(
      caller,
      rootKeyCrn,
      'deleteRegistration',
      () => this.inner.unregister(caller, rootKeyCrn, resourceCrn),
      () => undefined,
    );
  }

  onKeyEvent(listener: (event: KeyEvent) => void): void {
    this.inner.onKeyEvent?.(listener);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
