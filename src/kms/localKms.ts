/**
 * Wiring of the embedded KMS (openLocalKms) for the composition root and tests: key store (its
 * own LevelDB directory) + KmsService + LocalKeyProvider, bootstrapped.
 */
import type { KeyAuthorizer } from '../identity/keyAuthorizer.js';
import { KeyStore } from './keyStore.js';
import type { JsonKv } from '../meta/kv/jsonKv.js';
import type { StoreFeed } from './keyEventStore.js';
import type { MasterKeySealer } from './masterKeySealer.js';
import { KmsService } from './kmsService.js';
import { LocalKeyProvider } from './localKeyProvider.js';

export interface OpenLocalKmsOptions {
  /** LevelDB directory of the key store (not the object-metadata store). */
  dir: string;
  /** The key store's records elsewhere than `dir` (the shared database), with its feed; owned from here on. */
  kv?: { kv: JsonKv; feed: (kv: JsonKv) => StoreFeed };
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
  const random = opts.randomBytes ? { randomBytes: opts.randomBytes } : {};
  const store = opts.kv
    ? await KeyStore.openOn(opts.kv.kv, opts.masterKey, { ...random, feed: opts.kv.feed, where: 'the shared database' })
    : await KeyStore.open(opts.dir, opts.masterKey, random);
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
    // On a shared store, the first process to start creates the default instance and key; the others find them.
    await store.locks.run('kms/bootstrap', () => provider.bootstrap());
  } catch (e) {
    await provider.close();
    throw e;
  }
  return { service, provider, store, close: () => provider.close() };
}
