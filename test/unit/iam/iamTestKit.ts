/** A temporary IAM (its own LevelDB dir) with a manual clock, for the IAM unit tests. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openIam, type Iam } from '../../../src/iam/openIam.js';

export interface TestIam {
  iam: Iam;
  dir: string;
  master: Buffer;
  clock: { t: number };
  reopen(opts?: { configuredRootApiKey?: string }): Promise<Iam>;
  close(): Promise<void>;
}

export const ROOT_ACCOUNT = 'a0000000000000000000000000000001';

export async function openTestIam(opts: { configuredRootApiKey?: string } = {}): Promise<TestIam> {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-iam-'));
  const master = randomBytes(32);
  const clock = { t: Date.UTC(2026, 0, 1) };
  const open = (o: { configuredRootApiKey?: string }) =>
    openIam({
      dir: join(dir, 'iam'),
      masterKey: master,
      rootAccountId: ROOT_ACCOUNT,
      now: () => clock.t,
      ...(o.configuredRootApiKey !== undefined ? { configuredRootApiKey: o.configuredRootApiKey } : {}),
    });
  const t: TestIam = {
    iam: await open(opts),
    dir,
    master,
    clock,
    async reopen(o = {}) {
      await t.iam.close();
      t.iam = await open(o);
      return t.iam;
    },
    async close() {
      await t.iam.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return t;
}
