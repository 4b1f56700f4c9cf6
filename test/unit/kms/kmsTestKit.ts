/** Shared set-up for the KMS unit tests: temp dirs, a manual clock, an embedded KMS. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyAuthorizer } from '../../../src/identity/keyAuthorizer.js';
import { OwnerAuthorizer } from '../../../src/kms/authorizer.js';
import { KeyStore } from '../../../src/kms/keyStore.js';
import { KmsService } from '../../../src/kms/kmsService.js';
import { LocalKeyProvider } from '../../../src/kms/localKeyProvider.js';

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

export class ManualClock {
  constructor(public t: number = T0) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export async function tempDir(prefix = 'coffer-kms-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestKms {
  dir: string;
  master: Buffer;
  clock: ManualClock;
  store: KeyStore;
  service: KmsService;
  provider: LocalKeyProvider;
  instanceId: string;
  account: string;
  /** Close the store, keep the directory. */
  closeStore(): Promise<void>;
  /** Close everything and remove the directory. */
  close(): Promise<void>;
}

export async function openTestKms(
  opts: { master?: Buffer; clock?: ManualClock; authorizer?: KeyAuthorizer; dir?: string } = {},
): Promise<TestKms> {
  const tmp = opts.dir ? { dir: opts.dir, cleanup: async () => undefined } : await tempDir();
  const master = opts.master ?? randomBytes(32);
  const clock = opts.clock ?? new ManualClock();
  const store = await KeyStore.open(join(tmp.dir, 'keys'), master);
  const service = new KmsService({ store, now: clock.now });
  const provider = new LocalKeyProvider(service, {
    authorizer: opts.authorizer ?? new OwnerAuthorizer(),
    defaultInstance: { region: 'us-south' },
  });
  const account = 'acct-a';
  const inst =
    (await service.listInstances(account))[0] ??
    (await service.createInstance({ account, region: 'us-south', name: 'tenant-a' }));
  let closed = false;
  const closeStore = async () => {
    if (closed) return;
    closed = true;
    await provider.close();
    await service.close();
  };
  return {
    dir: tmp.dir,
    master,
    clock,
    store,
    service,
    provider,
    instanceId: inst.id,
    account,
    closeStore,
    close: async () => {
      await closeStore();
      await tmp.cleanup();
    },
  };
}
