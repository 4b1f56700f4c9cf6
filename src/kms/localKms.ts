/**
 * Wiring of the embedded KMS (openLocalKms) for the composition root and tests: key store (its
 * own LevelDB directory) + KmsService + LocalKeyProvider, bootstrapped.
 */
import type { KeyAuthorizer } from '../identity/keyAuthorizer.js';
import { KeyStore } from './keyStore.js';
import type { MasterKeySealer } from './masterKeySealer.js';
import { KmsService } from './kmsService.js';
import { LocalKeyProvider } from './localKeyProvider.js';

export interface OpenLocalKmsOptions {
  /** LevelDB directory of the key store (not the object-metadata store). */
  dir: string;
  /** The 32-byte L0 file key (masterKey.ts; the store keeps its own copy), or a sealer the store takes over (masterKeySealer.ts). */
  masterKey: Buffer | MasterKeySealer;
  authorizer?: KeyAuthorizer;
  defaultInstance?: { account?: string; region?: string; name?: string };
  now?: () => number;
  randomBytes?: (n: number) => Buffer;
  newId?: () => string;
}

export interface LocalKms {
  service: KmsService;
  provider: LocalKeyProvider;
  /** The key store (for `coffer backup`'s snapshot; its material is sealed under the master key). */
  store: KeyStore;
  /** Closes the provider, the service and the key store. */
  close(): Promise<void>;
}

export async function openLocalKms(opts: OpenLocalKmsOptions): Promise<LocalKms> {
  const store = await KeyStore.open(
    opts.dir,
    opts.masterKey,
    opts.randomBytes ? { randomBytes: opts.randomBytes } : {},
  );
  const service = new KmsService({
    store,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.randomBytes ? { randomBytes: opts.randomBytes } : {}),
    ...(opts.newId ? { newId: opts.newId } : {}),
  });
  const provider = new LocalKeyProvider(service, {
    ownsService: true,
    ...(opts.authorizer ? { authorizer: opts.authorizer } : {}),
    ...(opts.defaultInstance ? { defaultInstance: opts.defaultInstance } : {}),
  });
  try {
    await provider.bootstrap();
  } catch (e) {
    await provider.close();
    throw e;
  }
  return { service, provider, store, close: () => provider.close() };
}
