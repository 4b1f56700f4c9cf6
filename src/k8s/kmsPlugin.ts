/**
 * The KMS v2 plugin: Status, Encrypt and Decrypt over a Coffer root key.
 *
 * The kube-apiserver already does envelope encryption with its own DEK and
 * only sends its DEK seed here, so Encrypt is a Key Protect wrap of the
 * plaintext under the root key and Decrypt an unwrap: nothing is cached, and
 * every use is authorized, audited and subject to the key's state at the KMS.
 *
 * - key_id is the root key's current version id (wrap reports it). Rotating
 *   the key changes it, which the API server takes as a rotation and starts
 *   a new DEK seed; older ciphertexts still unwrap (Key Protect keeps every
 *   version, and the ciphertext names its own).
 * - The annotation key-crn.kms.coffer.dev records which root key wrapped, so
 *   a plugin restarted with another --key (a key migration) still decrypts
 *   what the old key wrapped. Only keys of the same instance are accepted.
 * - Status probes with a wrap and unwrap of a fixed value, cached for
 *   statusCacheMs (the API server polls every minute, every 10 s when
 *   unhealthy); a failed Encrypt or Decrypt, or a new key version seen by
 *   Encrypt, drops the cache so the next Status looks again.
 */
import { status } from '@grpc/grpc-js';
import type { Logger } from '../util/logger.js';
import { grpcCodeOf, grpcError, toGrpcError } from './grpcErrors.js';
import {
  API_VERSION,
  type DecryptRequest,
  type EncryptResponse,
  type KeyManagementServiceHandlers,
  type StatusResponse,
} from './kmsApi.js';
import { KeyProtectError, type KeyProtectClient } from './keyProtectClient.js';
import { sameInstance, type KeyCrn } from './pluginCrn.js';

/**
 * The API server checks each annotation key with IsFullyQualifiedDomainName
 * (lowercase RFC 1123 labels, at least two): a Kubernetes-style `domain/name`
 * key would make it refuse every EncryptResponse.
 */
export const KEY_CRN_ANNOTATION = 'key-crn.kms.coffer.dev';
const PROBE = Buffer.from('coffer-k8s-kms-plugin-healthz');
/** The API server refuses a larger EncryptResponse.ciphertext (its encrypted DEK source limit). */
const MAX_CIPHERTEXT = 1024;
/** Key Protect wraps keys, not documents: the API server sends a 32-byte seed. */
const MAX_PLAINTEXT = 4096;

export interface KmsPluginOptions {
  client: KeyProtectClient;
  key: KeyCrn;
  clusterCrn: string;
  log: Logger;
  statusCacheMs?: number;
  now?: () => number;
}

interface Probe {
  at: number;
  healthz: string;
  keyId: string;
}

export class KmsPlugin {
  private probe?: Probe;
  private probing?: Promise<Probe>;
  private lastKeyId = '';
  private registered = false;
  private registering?: Promise<void>;
  private readonly now: () => number;
  private readonly cacheMs: number;

  constructor(private readonly o: KmsPluginOptions) {
    this.now = o.now ?? Date.now;
    this.cacheMs = o.statusCacheMs ?? 5_000;
  }

  get isRegistered(): boolean {
    return this.registered;
  }

  /**
   * Registers the cluster on the key. Refused credentials (401/403: for
   * instance a user's API key, as registrations are service-to-service only)
   * throw; a key that cannot take it now (disabled) or an unreachable KMS is
   * logged and retried after the next healthy Status.
   */
  async register(): Promise<void> {
    try {
      await this.o.client.register(
        this.o.key.keyId,
        this.o.clusterCrn,
        'Kubernetes secrets encryption (KMS v2 plugin)',
      );
      this.registered = true;
      this.o.log.info('registered the cluster on the root key', { key: this.o.key.crn, resource: this.o.clusterCrn });
    } catch (e) {
      if (e instanceof KeyProtectError && (e.status === 401 || e.status === 403)) throw e;
      this.o.log.warn('could not register the cluster on the root key yet; retrying after a healthy status', {
        key: this.o.key.crn,
        error: (e as Error).message,
      });
    }
  }

  async status(): Promise<StatusResponse> {
    const p = await this.currentProbe();
    return { version: API_VERSION, healthz: p.healthz, key_id: p.keyId };
  }

  async encrypt(plaintext: Buffer, uid: string): Promise<EncryptResponse> {
    if (plaintext.length === 0 || plaintext.length > MAX_PLAINTEXT)
      throw grpcError(status.INVALID_ARGUMENT, `plaintext must be 1 to ${MAX_PLAINTEXT} bytes`);
    try {
      const out = await this.o.client.wrap(this.o.key.keyId, plaintext);
      const ciphertext = Buffer.from(out.ciphertext, 'utf8');
      if (ciphertext.length > MAX_CIPHERTEXT)
        throw grpcError(
          status.INTERNAL,
          `the wrapped key is ${ciphertext.length} bytes, more than the API server accepts`,
        );
      if (out.keyVersion !== this.lastKeyId) this.probe = undefined;
      this.lastKeyId = out.keyVersion;
      this.o.log.debug('encrypt', { uid, keyVersion: out.keyVersion });
      return {
        ciphertext,
        key_id: out.keyVersion,
        annotations: { [KEY_CRN_ANNOTATION]: Buffer.from(this.o.key.crn, 'utf8') },
      };
    } catch (e) {
      throw this.failed(e, 'encrypt', uid);
    }
  }

  async decrypt(req: DecryptRequest): Promise<Buffer> {
    const keyId = this.keyFor(req.annotations);
    const ciphertext = req.ciphertext.toString('utf8');
    if (ciphertext.length === 0 || !/^[A-Za-z0-9+/=_-]+$/.test(ciphertext))
      throw grpcError(status.INVALID_ARGUMENT, 'the ciphertext is not one this plugin made');
    try {
      const out = await this.o.client.unwrap(keyId, ciphertext);
      this.o.log.debug('decrypt', { uid: req.uid, keyVersion: out.keyVersion });
      return out.plaintext;
    } catch (e) {
      throw this.failed(e, 'decrypt', req.uid);
    }
  }

  /** The handlers for the gRPC server. */
  handlers(): KeyManagementServiceHandlers {
    const unary =
      <Req, Res>(what: string, fn: (req: Req) => Promise<Res>) =>
      (call: { request: Req }, cb: (err: ReturnType<typeof toGrpcError> | null, res?: Res) => void) => {
        fn(call.request).then(
          (res) => cb(null, res),
          (e: unknown) => cb(toGrpcError(e, what)),
        );
      };
    return {
      Status: unary('status', () => this.status()),
      Encrypt: unary('encrypt', (r: { plaintext: Buffer; uid: string }) => this.encrypt(r.plaintext, r.uid)),
      Decrypt: unary('decrypt', async (r: DecryptRequest) => ({ plaintext: await this.decrypt(r) })),
    };
  }

  /** The key named by the annotation (same instance only), else the configured one. */
  private keyFor(annotations: Record<string, Buffer> | undefined): string {
    const named = annotations?.[KEY_CRN_ANNOTATION];
    if (named === undefined) return this.o.key.keyId;
    const other = sameInstance(this.o.key, named.toString('utf8'));
    if (!other)
      throw grpcError(
        status.INVALID_ARGUMENT,
        `the ${KEY_CRN_ANNOTATION} annotation does not name a root key of this plugin's KMS instance`,
      );
    return other.keyId;
  }

  private failed(e: unknown, what: string, uid: string): unknown {
    if (e instanceof KeyProtectError && grpcCodeOf(e) !== status.INVALID_ARGUMENT) this.probe = undefined;
    this.o.log.warn(`${what} failed`, { uid, error: (e as Error).message });
    return e;
  }

  private async currentProbe(): Promise<Probe> {
    if (this.probe && this.now() - this.probe.at < this.cacheMs) return this.probe;
    this.probing ??= this.runProbe().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async runProbe(): Promise<Probe> {
    let healthz = 'ok';
    try {
      const wrapped = await this.o.client.wrap(this.o.key.keyId, PROBE);
      const back = await this.o.client.unwrap(this.o.key.keyId, wrapped.ciphertext);
      if (!back.plaintext.equals(PROBE)) throw new Error('the probe did not unwrap to what was wrapped');
      if (wrapped.keyVersion !== this.lastKeyId && this.lastKeyId)
        this.o.log.info('the root key has a new version', { key: this.o.key.crn, keyVersion: wrapped.keyVersion });
      this.lastKeyId = wrapped.keyVersion;
    } catch (e) {
      healthz = `the root key cannot be used: ${(e as Error).message}`.slice(0, 512);
      this.o.log.warn('status: unhealthy', { key: this.o.key.crn, error: (e as Error).message });
    }
    const p = { at: this.now(), healthz, keyId: this.lastKeyId };
    this.probe = p;
    if (healthz === 'ok' && !this.registered) this.retryRegistration();
    return p;
  }

  private retryRegistration(): void {
    this.registering ??= this.register()
      .catch((e: unknown) =>
        this.o.log.error('registration refused', { key: this.o.key.crn, error: (e as Error).message }),
      )
      .finally(() => {
        this.registering = undefined;
      });
  }
}
