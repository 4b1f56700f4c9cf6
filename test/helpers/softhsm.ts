/**
 * A SoftHSM2 token in a temp dir for the PKCS#11 tests: its own softhsm2.conf
 * (SOFTHSM2_CONF, tokens under the temp dir), one token initialised with a
 * known PIN. softhsmModule() is undefined when SoftHSM2 is not installed: the
 * tests then skip with that reason (scripts/install-test-deps.sh installs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

export function softhsmModule(): string | undefined {
  const fromEnv = process.env.SOFTHSM2_MODULE;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  try {
    const listed = execFileSync('dpkg', ['-L', 'libsofthsm2'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .find((l) => l.endsWith('/libsofthsm2.so'));
    return listed && existsSync(listed) ? listed : undefined;
  } catch {
    return undefined;
  }
}

export const SKIP_REASON = 'SoftHSM2 is not installed (run scripts/install-test-deps.sh): PKCS#11 tests skipped';

export interface SoftToken {
  module: string;
  tokenLabel: string;
  pin: string;
  dir: string;
  /** Environment for a child or for the config: SOFTHSM2_CONF and the COFFER_PKCS11_* settings. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * Initialises a fresh token. SOFTHSM2_CONF is read by the module when it is
 * loaded (C_Initialize), so it is set in this process too; every token of one
 * test file must therefore share one conf (one call per file).
 */
export async function createSoftToken(module: string, tokenLabel = 'coffer-test'): Promise<SoftToken> {
  const dir = await mkdtemp(join(tmpdir(), 'coffer-softhsm-'));
  const tokens = join(dir, 'tokens');
  await mkdir(tokens, { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  process.env.SOFTHSM2_CONF = conf;
  const pin = '1234';
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--pin', pin, '--so-pin', '5678'], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    stdio: 'ignore',
  });
  return {
    module,
    tokenLabel,
    pin,
    dir,
    env: {
      SOFTHSM2_CONF: conf,
      COFFER_PKCS11_MODULE: module,
      COFFER_PKCS11_TOKEN_LABEL: tokenLabel,
      COFFER_PKCS11_PIN: pin,
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
